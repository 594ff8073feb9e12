// Members, quorum and leader. A member down is a warning while quorum holds; no leader or fewer
// healthy voting members than quorum is critical (etcd mixin etcdNoLeader/etcdInsufficientMembers,
// cluster-etcd-operator EtcdMembersAvailable).
import type { ClusterView, MemberView } from '../cluster.js';
import { CLUSTER_TARGET, type Finding } from '../findings.js';
import { scrapedRecentlyWithLeader, failuresTolerated, isFaultTolerant } from '../quorum.js';
import { isIsolated, type LeaderResolution } from '../leader.js';
import { finite } from '../metrics.js';

export function checkQuorum(view: ClusterView): Finding[] {
  return [
    clusterFinding(view),
    ...(view.leader.disagreement ? [leaderDisagreement(view.leader.disagreement)] : []),
    ...(view.observation.etcd.memberListKnown || view.members.length === 0 ? [] : [memberListUnknown(view)]),
    ...view.members.map((member) => memberFinding(member, view.leader)),
  ];
}

function clusterFinding(view: ClusterView): Finding {
  const q = view.quorum;
  const base = { check: 'Quorum' as const, target: CLUSTER_TARGET, value: q.healthy, threshold: q.quorum };
  switch (q.state) {
    case 'Unknown': {
      const etcdNote = view.observation.etcd.source.message
        ? `: ${view.observation.etcd.source.message}`
        : '';
      return {
        check: 'Quorum',
        target: CLUSTER_TARGET,
        severity: 'Unknown',
        reason: q.reason,
        message: `${q.detail}${etcdNote}`,
      };
    }
    case 'NoLeader':
      return { ...base, severity: 'Critical', reason: q.reason, message: `${q.detail}: ${q.availability}` };
    case 'NoQuorum':
      return { ...base, severity: 'Critical', reason: q.reason, message: `${q.availability}; ${q.detail}` };
    case 'Quorate':
      break;
  }
  const problems = view.members.filter((member) => member.state !== 'Healthy');
  if (problems.length > 0) {
    const votingProblems = problems.filter((member) => !member.learner);
    const reason =
      votingProblems.length === 0
        ? 'UnhealthyLearners'
        : votingProblems.every((member) => member.state === 'NotStarted')
          ? 'MembersNotStarted'
          : 'UnhealthyMembers';
    const tolerance =
      failuresTolerated(q.voting, q.healthy) < 1 ? '; the cluster tolerates no further member failure' : '';
    return { ...base, severity: 'Warning', reason, message: `${q.availability}${tolerance}` };
  }
  if (!isFaultTolerant(q.voting, q.healthy)) {
    return {
      ...base,
      severity: 'Info',
      reason: 'NotFaultTolerant',
      message: `${q.availability}; a ${q.voting}-member cluster needs ${q.quorum} for quorum and tolerates no member failure`,
    };
  }
  return { ...base, severity: 'OK', reason: 'EtcdQuorate', message: q.availability };
}

function leaderDisagreement(message: string): Finding {
  return {
    check: 'Quorum',
    severity: 'Warning',
    target: CLUSTER_TARGET,
    reason: 'LeaderDisagreement',
    message,
  };
}

function memberListUnknown(view: ClusterView): Finding {
  const why = view.observation.etcd.source.message ? `: ${view.observation.etcd.source.message}` : '';
  return {
    check: 'Quorum',
    severity: 'Warning',
    target: CLUSTER_TARGET,
    reason: 'MemberListUnavailable',
    message: `The member list could not be read${why}; only the ${view.members.length} configured endpoints were counted`,
  };
}

function memberFinding(member: MemberView, leader: LeaderResolution): Finding {
  const base = { check: 'Quorum' as const, target: member.name };
  const who = `${member.learner ? 'Learner' : 'Member'} ${member.name}`;
  const error = member.observation.error ?? member.observation.health?.error;
  const because = error ? `: ${error}` : '';
  if (isIsolated(member, leader)) {
    // Critical although quorum holds, unlike a member that is down: clients connected to it are
    // not failed over, they wait out a timeout on every request that needs the leader.
    const read = member.observation.health?.healthy
      ? `its ${member.learner ? 'serializable' : 'linearizable'} read still answered`
      : `its health read failed${because}`;
    const peers = member.observation.peerURLs.join(', ');
    return {
      ...base,
      severity: 'Critical',
      reason: 'MemberIsolated',
      message: `${who} is isolated: its client port answers Status but it has no leader, while the quorum follows ${leader.name}; ${read}. Check the network between ${member.name} and its peers${peers ? ` (it advertises ${peers} to them)` : ''}`,
    };
  }
  // The sources' error text already names the endpoint.
  const where = error ? `: ${error}` : ` at ${member.clientURL}`;
  switch (member.state) {
    case 'Healthy': {
      const took = finite(member.observation.health?.tookMs);
      const read = member.learner ? 'serializable' : 'linearizable';
      return {
        ...base,
        severity: 'OK',
        reason: 'MemberHealthy',
        message: `${who} is healthy${took !== undefined ? ` (${read} read took ${Math.round(took)}ms)` : ''}`,
      };
    }
    case 'NotStarted':
      return {
        ...base,
        severity: 'Warning',
        reason: 'MemberNotStarted',
        message: `${who} has not started: it is in the member list without a client URL`,
      };
    case 'Unhealthy':
      return {
        ...base,
        severity: 'Warning',
        reason: 'MemberUnhealthy',
        message: `${who} answered Status but failed the health read${because}`,
      };
    case 'Unreachable':
      if (scrapedRecentlyWithLeader(member)) {
        const age = Math.round(
          member.metrics.kind === 'fresh' ? (member.metrics.metrics.scrapeAgeSeconds ?? 0) : 0,
        );
        return {
          ...base,
          severity: 'Warning',
          reason: 'MemberUnreachableFromOperator',
          message: `${who} is unreachable${where}; yet Prometheus scraped it ${age}s ago with a leader, so the member is likely up and the operator cannot reach it (network policy, TLS or a wrong endpoint)`,
        };
      }
      return {
        ...base,
        severity: 'Warning',
        reason: 'MemberUnreachable',
        message: `${who} is unreachable${where}`,
      };
  }
}
