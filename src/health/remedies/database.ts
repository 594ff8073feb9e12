// DB size, quota, growth and fragmentation. Quota counts the physical size, so only compaction
// followed by defragmentation gives space back (etcd-io/etcd#16779).
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember } from '../cluster.js';
import { etcdctlCluster, etcdctlOn, hexId } from '../commands.js';
import { formatCount } from '../text.js';
import {
  actionable,
  automationHint,
  byReason,
  commandList,
  coverage,
  evidence,
  mostSevere,
  sentence,
  severityOf,
  type RemedyBuilder,
  type RemedyContext,
} from './context.js';

/**
 * Where the data is, largest first. With a kube-apiserver scraped: its per-resource object counts,
 * which cost etcd nothing. Otherwise keys per resource from a keys-only scan of every key
 * (Kubernetes keys are /registry/<resource>/..., OpenShift adds /kubernetes.io and /openshift.io).
 */
function largestResources(context: RemedyContext): { note: string; command: string | undefined } {
  const stored = context.view.observation.metrics.apiTopStoredObjects ?? [];
  if (stored.length > 0) {
    const top = stored.slice(0, 5).map((entry) => `${entry.resource} ${formatCount(entry.objects)}`);
    return {
      note: ` Largest resources by stored objects: ${top.join(', ')}.`,
      command: `${context.style.kubectl} get --raw /metrics | grep -E '^apiserver_resource_objects' | sort -k2 -rn | head -20`,
    };
  }
  const list = etcdctlCluster(context.style, 'get / --prefix --keys-only');
  return {
    note: '',
    command: list && `${list} | grep -v '^$' | cut -d/ -f2,3 | sort | uniq -c | sort -rn | head -20`,
  };
}

export const defragmentRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['Fragmentation']).map((finding): Recommendation => {
    const { view, style } = context;
    const member = findMember(view, finding.target);
    const isLeader = member !== undefined && member.id !== '' && member.id === view.leader.id;
    const transferee = isLeader
      ? view.voting.find((other) => other !== member && other.state === 'Healthy' && other.id !== '')
      : undefined;
    const only = view.voting.length === 1;
    return {
      type: 'Defragment',
      severity: severityOf(finding),
      target: finding.target,
      reason: finding.reason,
      message:
        sentence(finding.message) +
        " Defragmentation returns the free pages to the filesystem. It blocks the member's reads and writes while it runs: defragment one member at a time, the leader last, and wait until the member is healthy again (at least a minute) before the next." +
        (transferee ? ` ${finding.target} is the leader: move leadership to ${transferee.name} first.` : '') +
        (only
          ? ' This is the only member: the whole cluster is blocked while it runs, so choose a quiet window.'
          : '') +
        automationHint(context, 'defragments fragmented members'),
      commands:
        member === undefined || member.clientURL === ''
          ? undefined
          : commandList(
              etcdctlOn(style, member, 'endpoint status -w table'),
              transferee ? etcdctlOn(style, member, `move-leader ${hexId(transferee.id)}`) : undefined,
              etcdctlOn(style, member, '--command-timeout=60s defrag'),
              etcdctlOn(style, member, 'endpoint health'),
            ),
    };
  });

export const quotaRemedies: RemedyBuilder = (context, findings) =>
  byReason(actionable(findings, ['QuotaUsage'])).map((group): Recommendation => {
    const { view, style } = context;
    const covered = coverage(group);
    const member = covered.members === undefined ? findMember(view, covered.target) : undefined;
    const largest = largestResources(context);
    return {
      type: 'RelieveQuotaPressure',
      severity: mostSevere(group.map(severityOf)),
      ...covered,
      reason: group[0]!.reason,
      message:
        evidence(group) +
        ' When a member reaches its quota, etcd raises NOSPACE and the whole cluster stops accepting writes. The quota counts the physical DB size: compact, then defragment each member to give space back, remove the data that grows, or raise --quota-backend-bytes (8 GiB is the suggested maximum; OpenShift: spec.backendQuotaGiB of etcd/cluster).' +
        largest.note,
      commands: commandList(
        covered.members !== undefined
          ? etcdctlCluster(style, 'endpoint status -w table')
          : member && member.clientURL !== ''
            ? etcdctlOn(style, member, 'endpoint status -w table')
            : undefined,
        largest.command,
      ),
    };
  });

export const sizeRemedies: RemedyBuilder = (context, findings) =>
  byReason(actionable(findings, ['DatabaseSize'])).map((group): Recommendation => {
    const largest = largestResources(context);
    return {
      type: 'ReduceDatabaseSize',
      severity: mostSevere(group.map(severityOf)),
      ...coverage(group),
      reason: group[0]!.reason,
      message:
        evidence(group) +
        ' Large databases slow down defragmentation, snapshots and member restarts. Find which resources hold the most keys and clean them up (old events, leaked objects, large ConfigMaps or Secrets); compaction and defragmentation then return the space.' +
        largest.note,
      commands: commandList(largest.command),
    };
  });

export const growthRemedies: RemedyBuilder = (context, findings) =>
  byReason(actionable(findings, ['Growth'])).map((group): Recommendation => {
    const largest = largestResources(context);
    return {
      type: 'InvestigateDatabaseGrowth',
      severity: mostSevere(group.map(severityOf)),
      ...coverage(group),
      reason: group[0]!.reason,
      message:
        evidence(group) +
        ' Find what writes the new data and stop it before the quota is reached and etcd refuses writes (NOSPACE).' +
        largest.note,
      commands: commandList(largest.command),
    };
  });
