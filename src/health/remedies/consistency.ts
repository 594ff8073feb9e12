// Members that disagree on what the cluster is, or do not keep up with it.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember } from '../cluster.js';
import { etcdctlCluster, etcdLogs } from '../commands.js';
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

const ADVICE: Readonly<Record<string, string>> = {
  ClusterIdMismatch:
    'An endpoint answers for another cluster: a member was re-bootstrapped with a new data directory, or an endpoint points at the wrong etcd. Do not remediate or remove members until every endpoint is confirmed; fix the endpoint, or remove the stray member and add it back with an empty data directory.',
  MemberListMismatch:
    'An endpoint answers as a member other than the one the member list places there: the member list and the endpoints disagree. Confirm which member runs behind each endpoint before any member is replaced or removed.',
  VersionSkew:
    'Mixed minor versions are supported only while a rolling upgrade (or downgrade) is under way: finish it, one member at a time, and do not leave the cluster mixed.',
  ApplyBacklog:
    'The member commits faster than it applies: its disk or CPU is too slow for the write load, or a large transaction or compaction is running. It refuses requests until the backlog shrinks.',
  BehindLeader:
    'The member does not receive the log as fast as the leader writes it: check the network to it, its disk (WAL fsync) and whether it is restarting; a member far enough behind gets a snapshot from the leader.',
  LearnerNotCatchingUp:
    'The learner receives nothing from the leader: check the network between it and the leader (peer port) and its disk. Do not promote it (etcd refuses a learner that is not in sync anyway); if it does not move once the network is fixed, remove it and add it again.',
  LearnerCatchingUp:
    'A learner just added receives the log and a snapshot before it can be promoted. If it stays this far behind, check its network and disk, or remove it and add it again.',
};

export const consistencyRemedies: RemedyBuilder = (context, findings) => {
  const { view, style } = context;
  return byReason(actionable(findings, ['Consistency'])).map((group): Recommendation => {
    const reason = group[0]!.reason;
    const members = group.flatMap((finding) => {
      const member = findMember(view, finding.target);
      return member === undefined ? [] : [member];
    });
    const logs = members.map((member) => etcdLogs(style, member, 'too many requests|apply|snapshot|slow'));
    return {
      type: typeOf(reason),
      severity: mostSevere(group.map(severityOf)),
      ...coverage(group),
      reason,
      message: `${evidence(group)} ${ADVICE[reason] ?? ''}`.trim(),
      commands: commandList(
        etcdctlCluster(style, 'endpoint status -w table'),
        etcdctlCluster(style, 'member list -w table'),
        ...logs,
      ),
    };
  });
};

function typeOf(reason: string): string {
  if (reason === 'VersionSkew') return 'CompleteUpgrade';
  if (reason === 'ClusterIdMismatch' || reason === 'MemberListMismatch') return 'InvestigateMembership';
  return 'InvestigateMemberLag';
}
