// Quorum as etcd defines it: a majority of the VOTING members (learners do not vote). A 2-member
// cluster has a quorum of 2, so it tolerates no failure; a cluster is fault tolerant when it could
// lose one more member and keep quorum (cluster-etcd-operator IsQuorumFaultTolerant).
import type { MemberView } from './cluster.js';
import { isIsolated, type LeaderResolution } from './leader.js';
import { ALIVE_WITHIN_SECONDS, finite } from './metrics.js';
import { plural } from './text.js';

export function quorumSize(votingMembers: number): number {
  return Math.floor(votingMembers / 2) + 1;
}

/** How many more voting members may fail before quorum is lost; negative when it already is. */
export function failuresTolerated(votingMembers: number, healthyVoting: number): number {
  return healthyVoting - quorumSize(votingMembers);
}

export function isFaultTolerant(votingMembers: number, healthyVoting: number): boolean {
  return failuresTolerated(votingMembers, healthyVoting) >= 1;
}

export type QuorumState = 'Quorate' | 'NoQuorum' | 'NoLeader' | 'Unknown';

export interface QuorumAssessment {
  state: QuorumState;
  /** CamelCase reason for EtcdMembersAvailable. */
  reason: string;
  voting: number;
  healthy: number;
  quorum: number;
  /** "2 of 3 members are available, etcd-1 is unhealthy" (cluster-etcd-operator's wording). */
  availability: string;
  /** Why the state is what it is, when the availability line alone does not say it. */
  detail?: string;
}

export function assessQuorum(
  voting: readonly MemberView[],
  members: readonly MemberView[],
  leader: LeaderResolution,
  metricsUsable: boolean,
): QuorumAssessment {
  const healthy = voting.filter((member) => member.state === 'Healthy').length;
  const quorum = quorumSize(voting.length);
  const base = {
    voting: voting.length,
    healthy,
    quorum,
    availability: availability(voting, members, leader),
  };
  if (voting.length === 0) {
    return { ...base, state: 'Unknown', reason: 'NoData', detail: 'No voting etcd members were observed' };
  }
  const anyAnswer = voting.some((member) => member.state === 'Healthy' || member.state === 'Unhealthy');
  const aliveByMetrics = metricsUsable ? voting.filter(scrapedRecentlyWithLeader).length : 0;
  if (!anyAnswer && aliveByMetrics >= quorum) {
    // Nothing answered the operator, yet Prometheus just scraped a quorum of members that have a
    // leader: the operator's own path to etcd is broken, not etcd. Do not claim a quorum loss.
    return {
      ...base,
      state: 'Unknown',
      reason: 'EtcdUnreachable',
      detail: `No member answered the operator, but Prometheus scraped ${aliveByMetrics} of ${voting.length} voting members with a leader in the last ${ALIVE_WITHIN_SECONDS}s: check the network, TLS and endpoints between the operator and etcd`,
    };
  }
  if (leader.state === 'None') {
    return { ...base, state: 'NoLeader', reason: 'NoLeader', detail: 'No member knows a leader' };
  }
  if (healthy < quorum) {
    return {
      ...base,
      state: 'NoQuorum',
      reason: 'NoQuorum',
      detail: `quorum needs ${quorum} of ${plural(voting.length, 'voting member')}`,
    };
  }
  return { ...base, state: 'Quorate', reason: 'EtcdQuorate' };
}

export function scrapedRecentlyWithLeader(member: MemberView): boolean {
  if (member.metrics.kind !== 'fresh') return false;
  const age = finite(member.metrics.metrics.scrapeAgeSeconds);
  return age !== undefined && age <= ALIVE_WITHIN_SECONDS && member.metrics.metrics.hasLeader === 1;
}

function availability(
  voting: readonly MemberView[],
  members: readonly MemberView[],
  leader: LeaderResolution,
): string {
  const healthy = voting.filter((member) => member.state === 'Healthy').length;
  const head =
    healthy === voting.length
      ? `${plural(voting.length, 'member')} ${voting.length === 1 ? 'is' : 'are'} available`
      : `${healthy} of ${plural(voting.length, 'member')} are available`;
  const problems = members.flatMap((member) => {
    const who = member.learner ? `learner ${member.name}` : member.name;
    if (member.state === 'NotStarted') return [`${who} has not started`];
    if (isIsolated(member, leader)) return [`${who} is isolated`];
    if (member.state !== 'Healthy') return [`${who} is unhealthy`];
    return [];
  });
  return [head, ...problems].join(', ');
}
