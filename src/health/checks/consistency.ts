// Consistency: whether the members describe one cluster and keep up with it, from Maintenance.Status
// and the member list alone.
// - Cluster ID: every member's Status header and the member list must name the same cluster; two
//   IDs mean an endpoint belongs to another cluster (or a member was re-bootstrapped). Critical.
// - Member list: only one member list is read (each member's would be a call per member). What it
//   is compared with is each member's own Status: the member ID behind each listed endpoint must be
//   the ID the list gives it.
// - Apply backlog: etcd refuses proposals ("etcdserver: too many requests") once
//   raft_index - raft_applied_index > 5000 (etcd server/etcdserver/v3_server.go
//   maxGapBetweenApplyAndCommitIndex). Warning above 5000.
// - Lag behind the leader: the leader's raft_index - the member's raft_index, Warning above the same
//   5000 entries; the revision lag is reported beside it. Learners that lag are catching up: Info.
// - A learner that does not catch up: its raft index is where the previous check of this CR had
//   it, although the leader was already ahead then. Warning, at any lag: a
//   learner must not be promoted before it has caught up. (A snapshot still in transfer looks the
//   same for its duration.)
// - Version skew: members on different minor versions are allowed only during a rolling upgrade
//   (etcd docs, upgrades: "upgrade one member at a time"). Warning.
// Statuses are read at slightly different moments, so small lags and a lag of a few entries in the
// other direction are noise, not evidence.
import type { MemberStatus } from '../../api/v1alpha1/status.js';
import type { ClusterView, MemberView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { formatCount, listing, plural, unique } from '../text.js';

/** etcd server/etcdserver/v3_server.go maxGapBetweenApplyAndCommitIndex. */
export const MAX_APPLY_BACKLOG = 5000;
/** Entries a member may be behind the leader's raft index before it is reported; the same bound as the apply backlog. */
export const MAX_LEADER_LAG = 5000;

const CHECK = 'Consistency' as const;

export function checkConsistency(view: ClusterView): Finding[] {
  const answered = view.members.filter((member) => member.observation.status !== undefined);
  const leader = leaderIndex(view);
  // Without the leader's index, one finding says so instead of one per member.
  const leaderUnknown =
    'why' in leader && answered.length > 0
      ? [noData(CHECK, CLUSTER_TARGET, `Lag behind the leader is not checked: ${leader.why}`)]
      : [];
  return [
    clusterIdFinding(view, answered),
    ...memberListFindings(view, answered),
    versionFinding(answered),
    ...leaderUnknown,
    ...view.members.flatMap((member) => progressFindings(member, leader, view.previousMembers)),
  ];
}

function clusterIdFinding(view: ClusterView, answered: readonly MemberView[]): Finding {
  const claims = answered.flatMap((member) => {
    const id = member.observation.status?.clusterId;
    return id === undefined ? [] : [{ who: member.name, id }];
  });
  const listId = view.observation.etcd.memberListKnown ? view.observation.etcd.clusterId : undefined;
  if (listId !== undefined) claims.push({ who: 'the member list', id: listId });
  const ids = unique(claims.map((claim) => claim.id));
  if (ids.length === 0) {
    return noData(
      CHECK,
      CLUSTER_TARGET,
      'Cluster ID agreement is not checked: no member reported a cluster ID',
    );
  }
  if (ids.length > 1) {
    const groups = ids.map(
      (id) => `${listing(claims.filter((claim) => claim.id === id).map((claim) => claim.who))} ${id}`,
    );
    return {
      check: CHECK,
      severity: 'Critical',
      target: CLUSTER_TARGET,
      reason: 'ClusterIdMismatch',
      message: `Members report different cluster IDs: ${groups.join('; ')}`,
      value: ids.length,
      threshold: 1,
    };
  }
  const silent = view.members.length - answered.length;
  return {
    check: CHECK,
    severity: 'OK',
    target: CLUSTER_TARGET,
    reason: 'ClusterIdAgrees',
    message: `${listing(claims.map((claim) => claim.who))} report cluster ID ${ids[0]!}${silent > 0 ? ` (${plural(silent, 'member')} did not answer Status)` : ''}`,
  };
}

function memberListFindings(view: ClusterView, answered: readonly MemberView[]): Finding[] {
  if (!view.observation.etcd.memberListKnown) {
    return [
      noData(
        CHECK,
        CLUSTER_TARGET,
        'Member list agreement is not checked: the member list could not be read',
      ),
    ];
  }
  const listed = new Set(view.observation.etcd.members.map((member) => member.id));
  const mismatched = answered.flatMap((member) => {
    const answeredAs = member.observation.status!.memberId;
    if (answeredAs === member.observation.id) return [];
    const known = listed.has(answeredAs) ? 'another member of the list' : 'not in the member list';
    return [`${member.name} (listed as ${member.observation.id}) answers as member ${answeredAs}, ${known}`];
  });
  if (mismatched.length > 0) {
    return [
      {
        check: CHECK,
        severity: 'Critical',
        target: CLUSTER_TARGET,
        reason: 'MemberListMismatch',
        message: `The member list does not match what its endpoints answer: ${mismatched.join('; ')}`,
        value: mismatched.length,
        threshold: 0,
      },
    ];
  }
  return [
    {
      check: CHECK,
      severity: 'OK',
      target: CLUSTER_TARGET,
      reason: 'MemberListAgrees',
      message: `Every member that answered Status (${answered.length} of ${view.members.length}) is the member the member list names at its endpoint; one member list was read`,
    },
  ];
}

function versionFinding(answered: readonly MemberView[]): Finding {
  const versions = answered.map((member) => ({
    who: member.name,
    version: member.observation.status!.version,
  }));
  if (versions.length === 0) {
    return noData(CHECK, CLUSTER_TARGET, 'Version skew is not checked: no member answered Status');
  }
  const unparsed = versions.filter((entry) => minorOf(entry.version) === undefined);
  if (unparsed.length > 0) {
    return {
      check: CHECK,
      severity: 'Unknown',
      target: CLUSTER_TARGET,
      reason: 'UnparsedVersion',
      message: `Version skew is not judged: ${listing(unparsed.map((entry) => `${entry.who} reports version "${entry.version}"`))}`,
    };
  }
  const minors = unique(versions.map((entry) => minorOf(entry.version)!));
  const byVersion = unique(versions.map((entry) => entry.version))
    .sort()
    .map(
      (version) =>
        `${listing(versions.filter((entry) => entry.version === version).map((entry) => entry.who))} on ${version}`,
    )
    .join('; ');
  if (minors.length > 1) {
    return {
      check: CHECK,
      severity: 'Warning',
      target: CLUSTER_TARGET,
      reason: 'VersionSkew',
      message: `Members run different minor versions (${byVersion}); this is allowed only during a rolling upgrade`,
      value: minors.length,
      threshold: 1,
    };
  }
  return {
    check: CHECK,
    severity: 'OK',
    target: CLUSTER_TARGET,
    reason: 'VersionsAgree',
    message: `Members run one minor version: ${byVersion}`,
  };
}

function progressFindings(
  member: MemberView,
  leader: LeaderIndex | { why: string },
  previous: readonly MemberStatus[],
): Finding[] {
  const status = member.observation.status;
  // A member that answered nothing is reported by the quorum check; its lag is no separate news.
  if (status === undefined) return [];
  const base = { check: CHECK, target: member.name };
  const committed = uint(status.raftIndex);
  const applied = uint(status.raftAppliedIndex);
  const findings: Finding[] = [];
  if (committed === undefined || applied === undefined) {
    findings.push(
      noData(
        CHECK,
        member.name,
        `Apply backlog of ${member.name} is not checked: ${status.raftAppliedIndex === undefined ? 'its Status has no raft applied index (etcd < 3.4)' : 'its raft indexes are not numbers'}`,
      ),
    );
  } else {
    const backlog = committed - applied;
    const evidence = `${member.name} has applied ${formatCount(applied)} of ${formatCount(committed)} committed entries: ${formatCount(Math.max(backlog, 0))} behind`;
    findings.push(
      backlog > MAX_APPLY_BACKLOG
        ? {
            ...base,
            severity: 'Warning',
            reason: 'ApplyBacklog',
            message: `${evidence}, above ${formatCount(MAX_APPLY_BACKLOG)} at which etcd refuses requests ("too many requests")`,
            value: backlog,
            threshold: MAX_APPLY_BACKLOG,
          }
        : {
            ...base,
            severity: 'OK',
            reason: 'ApplyKeepsUp',
            message: `${evidence}, at most ${formatCount(MAX_APPLY_BACKLOG)}`,
            value: backlog,
            threshold: MAX_APPLY_BACKLOG,
          },
    );
  }
  if ('leader' in leader) findings.push(leaderLagFinding(member, committed, leader, previous));
  return findings;
}

interface LeaderIndex {
  leader: MemberView;
  raftIndex: number;
}

/** The leader and its raft index, or why lags behind it cannot be measured. */
function leaderIndex(view: ClusterView): LeaderIndex | { why: string } {
  const leader = view.members.find((member) => member.id !== '' && member.id === view.leader.id);
  if (leader === undefined) return { why: `no member is known as the leader (${view.leader.name})` };
  const raftIndex = uint(leader.observation.status?.raftIndex);
  if (raftIndex === undefined) return { why: `the leader ${leader.name} did not answer Status` };
  return { leader, raftIndex };
}

function leaderLagFinding(
  member: MemberView,
  committed: number | undefined,
  from: LeaderIndex,
  previous: readonly MemberStatus[],
): Finding {
  const base = { check: CHECK, target: member.name };
  const { leader } = from;
  if (leader === member) {
    return { ...base, severity: 'OK', reason: 'Leader', message: `${member.name} is the leader` };
  }
  if (committed === undefined) {
    return noData(
      CHECK,
      member.name,
      `Lag of ${member.name} behind the leader is not checked: its raft index is unknown`,
    );
  }
  const lag = from.raftIndex - committed;
  const revisionLag = difference(leader.observation.status?.revision, member.observation.status?.revision);
  const evidence = `${member.learner ? 'Learner' : 'Member'} ${member.name} is ${formatCount(Math.max(lag, 0))} raft entries behind the leader ${leader.name}${revisionLag === undefined ? '' : ` (${formatCount(Math.max(revisionLag, 0))} revisions)`}`;
  const measured = { ...base, value: lag, threshold: MAX_LEADER_LAG };
  const stuckSince = member.learner ? stuckAt(member, committed, from, previous) : undefined;
  if (stuckSince !== undefined) {
    return {
      ...base,
      severity: 'Warning',
      reason: 'LearnerNotCatchingUp',
      message: `${evidence}, and not catching up: its raft index is still ${formatCount(committed)}, as at the previous check, when the leader was already at ${formatCount(stuckSince)}; do not promote it`,
      value: lag,
      threshold: 0,
    };
  }
  if (lag <= MAX_LEADER_LAG) {
    return {
      ...measured,
      severity: 'OK',
      reason: 'KeepsUpWithLeader',
      message: `${evidence}, at most ${formatCount(MAX_LEADER_LAG)}`,
    };
  }
  if (member.learner) {
    return {
      ...measured,
      severity: 'Info',
      reason: 'LearnerCatchingUp',
      message: `${evidence}, above ${formatCount(MAX_LEADER_LAG)}; it cannot be promoted until it catches up`,
    };
  }
  return {
    ...measured,
    severity: 'Warning',
    reason: 'BehindLeader',
    message: `${evidence}, above ${formatCount(MAX_LEADER_LAG)}`,
  };
}

/**
 * The leader's raft index at the previous check, when the member has not moved since then
 * although that leader index was already ahead of it (and still is): it had entries to receive.
 */
function stuckAt(
  member: MemberView,
  committed: number,
  from: LeaderIndex,
  previous: readonly MemberStatus[],
): number | undefined {
  const before = uint(previous.find((entry) => entry.id === member.id)?.raftIndex);
  const leaderBefore = uint(previous.find((entry) => entry.leader)?.raftIndex);
  if (before === undefined || leaderBefore === undefined) return undefined;
  return before === committed && leaderBefore > committed && from.raftIndex > committed
    ? leaderBefore
    : undefined;
}

/** "3.5.17" -> "3.5"; undefined for anything that is not a version. */
function minorOf(version: string): string | undefined {
  return /^v?([0-9]+\.[0-9]+)(\.[0-9]+)?/.exec(version.trim())?.[1];
}

/** A uint64 decimal string as a number; raft indexes stay far below 2^53 in practice. */
function uint(text: string | undefined): number | undefined {
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

function difference(minuend: string | undefined, subtrahend: string | undefined): number | undefined {
  const a = uint(minuend);
  const b = uint(subtrahend);
  return a === undefined || b === undefined ? undefined : a - b;
}
