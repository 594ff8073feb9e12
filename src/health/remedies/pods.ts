// The pods of the members: what their status says, the events and the previous run's log. One
// recommendation per state, listing every member (or pod) in it, with each pod's commands.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import type { CommandStyle } from '../commands.js';
import type { MemberPod } from '../observation.js';
import { podsOfMembers } from '../pods.js';
import {
  actionable,
  byReason,
  commandList,
  coverage,
  evidence,
  mostSevere,
  severityOf,
  type RemedyBuilder,
} from './context.js';

const ADVICE: Record<string, string> = {
  PodNotRunning:
    'The pod events say why it is not running: scheduling, volumes, the image or the node. While it is not running its member is down.',
  PodTerminating:
    'A member pod that is being deleted takes its member down; one that stays in deletion is held by a finalizer or an unreachable node.',
  OOMKilled:
    "The container used up its memory limit. etcd's memory grows with its database, watchers and leases: raise the limit, or shrink the data (see the database size checks).",
  CrashLoopBackOff:
    "The previous run's log says why etcd exits: a full or corrupt data directory, certificates, or a member that was removed or replaced.",
  ContainerWaiting:
    'The pod events say why the container does not start: the image, its configuration or volumes.',
  PodNotReady:
    'The readiness probe fails: the member may not reach a leader, may still catch up, or may not answer at all.',
  Restarted:
    "Each restart takes the member out and back in, and can cost a leader election: the previous run's log says why it ended.",
};

export const podRemedies: RemedyBuilder = (context, findings) => {
  const pods = podsOfMembers(context.view) ?? [];
  const podOf = (target: string) =>
    pods.find((entry) => (entry.member?.name ?? entry.pod.name) === target)?.pod;
  const namespace = context.view.spec.etcd.discovery?.namespace ?? '';
  // A member without a pod (a bootstrap member, say) has no pod to look at.
  const withPods = actionable(findings, ['MemberPods']).filter((finding) => finding.reason !== 'NoPod');
  return byReason(withPods).map((group): Recommendation => {
    const first = group[0]!;
    return {
      type: 'InvestigateMemberPod',
      severity: mostSevere(group.map(severityOf)),
      ...coverage(group),
      reason: first.reason,
      message: `${evidence(group)}${ADVICE[first.reason] ? ` ${ADVICE[first.reason]}` : ''}`,
      commands: commandList(
        ...group.flatMap((finding) => {
          const pod = podOf(finding.target);
          return pod ? podCommands(context.style, namespace, pod, first.reason) : [];
        }),
      ),
    };
  });
};

function podCommands(style: CommandStyle, namespace: string, pod: MemberPod, reason: string): string[] {
  const cli = `${style.kubectl} -n ${namespace}`;
  const previous = pod.containers
    .filter((container) => container.lastTermination !== undefined || container.waitingReason === reason)
    .map((container) => `${cli} logs ${pod.name} -c ${container.name} --previous`);
  return [`${cli} describe pod ${pod.name}`, ...(reason === 'PodNotRunning' ? [] : previous)];
}
