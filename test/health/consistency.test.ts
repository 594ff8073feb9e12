// The consistency check: cluster ID and member-list agreement, apply backlog, lag behind the
// leader, version skew. Every threshold at, just below and just above its value.
import { describe, expect, it } from '@jest/globals';
import type { Analysis } from '../../src/health/analyze.js';
import type { Finding, FindingSeverity } from '../../src/health/findings.js';
import {
  CLUSTER_ID,
  conditionOf,
  findingsOf,
  healthyCluster,
  killed,
  learner,
  memberId,
  run,
  withMember,
  withStatus,
  withStatusEverywhere,
  type Change,
} from './fixtures.js';

const APPLY_REASONS = ['ApplyKeepsUp', 'ApplyBacklog'];
const LAG_REASONS = ['Leader', 'KeepsUpWithLeader', 'BehindLeader', 'LearnerCatchingUp'];

function consistency(analysis: Analysis, target: string, reasons?: readonly string[]): Finding {
  const found = findingsOf(analysis, 'Consistency', target).filter(
    (finding) => reasons === undefined || reasons.includes(finding.reason),
  );
  if (found.length !== 1)
    throw new Error(`expected one Consistency finding for ${target}, got ${found.length}`);
  return found[0]!;
}

function conditionStatus(severity: FindingSeverity): string {
  return severity === 'Critical' ? 'True' : severity === 'Unknown' ? 'Unknown' : 'False';
}

/** Member 1 has committed `committed` entries and applied `committed - backlog`. */
const applyBacklog =
  (backlog: number): Change =>
  (observation) => {
    const committed = 100_000;
    withStatusEverywhere({ raftIndex: String(committed), raftAppliedIndex: String(committed) })(observation);
    withStatus(1, { raftAppliedIndex: String(committed - backlog) })(observation);
  };

/** The leader etcd-0 is `lag` entries ahead of member 2 (both applied everything they committed). */
const behindLeader =
  (lag: number, revisions = 0): Change =>
  (observation) => {
    const follower = 100_000;
    withStatusEverywhere({
      raftIndex: String(follower),
      raftAppliedIndex: String(follower),
      revision: '900',
    })(observation);
    const leader = String(follower + lag);
    withStatus(0, { raftIndex: leader, raftAppliedIndex: leader, revision: String(900 + revisions) })(
      observation,
    );
  };

describe('a healthy cluster', () => {
  const analysis = run(healthyCluster(3));

  it('reports agreement and no lag, and ConsistencyDegraded False', () => {
    expect(consistency(analysis, 'cluster', ['ClusterIdAgrees']).message).toContain(CLUSTER_ID);
    expect(consistency(analysis, 'cluster', ['MemberListAgrees']).message).toContain(
      'one member list was read',
    );
    expect(consistency(analysis, 'cluster', ['VersionsAgree']).message).toContain('3.6.4');
    expect(consistency(analysis, 'etcd-0', LAG_REASONS).reason).toBe('Leader');
    for (const target of ['etcd-1', 'etcd-2']) {
      expect(consistency(analysis, target, LAG_REASONS)).toMatchObject({
        severity: 'OK',
        reason: 'KeepsUpWithLeader',
      });
      expect(consistency(analysis, target, APPLY_REASONS)).toMatchObject({
        severity: 'OK',
        reason: 'ApplyKeepsUp',
      });
    }
    expect(conditionOf(analysis, 'ConsistencyDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
    expect(analysis.recommendations.filter((r) => r.type === 'InvestigateMemberLag')).toEqual([]);
  });
});

describe('apply backlog: raft_index - raft_applied_index above 5000 warns (etcd maxGapBetweenApplyAndCommitIndex)', () => {
  it.each<[number, FindingSeverity, string]>([
    [4999, 'OK', 'ApplyKeepsUp'],
    [5000, 'OK', 'ApplyKeepsUp'],
    [5001, 'Warning', 'ApplyBacklog'],
  ])('a backlog of %d is %s', (backlog, severity, reason) => {
    const analysis = run(healthyCluster(3, applyBacklog(backlog)));
    expect(consistency(analysis, 'etcd-1', APPLY_REASONS)).toMatchObject({
      severity,
      reason,
      value: backlog,
      threshold: 5000,
    });
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe(conditionStatus(severity));
  });

  it('recommends looking at the lagging member with exact commands', () => {
    const analysis = run(healthyCluster(3, applyBacklog(20_000)));
    const recommendation = analysis.recommendations.find((r) => r.type === 'InvestigateMemberLag');
    expect(recommendation).toMatchObject({ severity: 'Warning', target: 'etcd-1', reason: 'ApplyBacklog' });
    expect(recommendation?.message).toContain('too many requests');
    expect(recommendation?.commands).toContain(
      'etcdctl --endpoints=https://127.0.0.1:2379,https://127.0.0.2:2379,https://127.0.0.3:2379 endpoint status -w table',
    );
  });

  it('is Unknown, not healthy, when Status has no applied index (etcd < 3.4)', () => {
    const analysis = run(healthyCluster(3, withStatus(1, { raftAppliedIndex: undefined })));
    const found = findingsOf(analysis, 'Consistency', 'etcd-1').filter(
      (finding) => finding.reason === 'NoData',
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain('raft applied index');
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe('Unknown');
  });

  it('is Unknown when a raft index is not a number', () => {
    const analysis = run(healthyCluster(3, withStatus(1, { raftIndex: 'NaN' })));
    const messages = findingsOf(analysis, 'Consistency', 'etcd-1').map((f) => `${f.severity} ${f.message}`);
    expect(messages).toEqual([
      'Unknown Apply backlog of etcd-1 is not checked: its raft indexes are not numbers',
      'Unknown Lag of etcd-1 behind the leader is not checked: its raft index is unknown',
    ]);
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe('Unknown');
  });
});

describe('lag behind the leader: above 5000 entries warns', () => {
  it.each<[number, FindingSeverity, string]>([
    [4999, 'OK', 'KeepsUpWithLeader'],
    [5000, 'OK', 'KeepsUpWithLeader'],
    [5001, 'Warning', 'BehindLeader'],
  ])('a lag of %d entries is %s', (lag, severity, reason) => {
    const analysis = run(healthyCluster(3, behindLeader(lag, 42)));
    const finding = consistency(analysis, 'etcd-2', LAG_REASONS);
    expect(finding).toMatchObject({ severity, reason, value: lag, threshold: 5000 });
    expect(finding.message).toContain('(42 revisions)');
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe(conditionStatus(severity));
  });

  it('calls a learner that lags as far only catching up (Info)', () => {
    const analysis = run(healthyCluster(3, behindLeader(50_000), learner(2)));
    expect(consistency(analysis, 'etcd-2', LAG_REASONS)).toMatchObject({
      severity: 'Info',
      reason: 'LearnerCatchingUp',
    });
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe('False');
    expect(analysis.recommendations.find((r) => r.reason === 'LearnerCatchingUp')).toMatchObject({
      type: 'InvestigateMemberLag',
      severity: 'Info',
      target: 'etcd-2',
    });
  });

  describe('a learner that does not catch up (history: status.members of the previous check)', () => {
    /** The learner etcd-2 at 100,000; the leader `lag` ahead. */
    const learnerBehind = (lag: number, ...changes: Change[]) =>
      healthyCluster(3, behindLeader(lag), learner(2), ...changes);
    const before = run(learnerBehind(50_000)).members;

    it('warns when its raft index did not move while the leader was already ahead', () => {
      const analysis = run(learnerBehind(60_000), { previousMembers: before });
      const finding = consistency(analysis, 'etcd-2', [...LAG_REASONS, 'LearnerNotCatchingUp']);
      expect(finding).toMatchObject({ severity: 'Warning', reason: 'LearnerNotCatchingUp', value: 60_000 });
      expect(finding.message).toContain('its raft index is still 100000, as at the previous check');
      expect(finding.message).toContain('the leader was already at 150000; do not promote it');
      // A Warning: etcd-1 (voting, as far behind) is BehindLeader beside it.
      const condition = conditionOf(analysis, 'ConsistencyDegraded');
      expect(condition.status).toBe('False');
      expect(condition.message).toContain('Learner etcd-2 is 60000 raft entries behind the leader etcd-0');
      expect(analysis.recommendations.find((r) => r.reason === 'LearnerNotCatchingUp')).toMatchObject({
        type: 'InvestigateMemberLag',
        severity: 'Warning',
        message: expect.stringContaining('Do not promote it'),
      });
    });

    it('warns at a small lag too, and while nothing is written (the leader does not move either)', () => {
      const small = run(learnerBehind(10), { previousMembers: run(learnerBehind(10)).members });
      expect(consistency(small, 'etcd-2', [...LAG_REASONS, 'LearnerNotCatchingUp']).reason).toBe(
        'LearnerNotCatchingUp',
      );
    });

    it('is catching up (Info) once its raft index moved', () => {
      const moved = run(learnerBehind(50_000, withStatus(2, { raftIndex: '100500' })), {
        previousMembers: before,
      });
      expect(consistency(moved, 'etcd-2', [...LAG_REASONS, 'LearnerNotCatchingUp']).reason).toBe(
        'LearnerCatchingUp',
      );
    });

    it('is not stuck when the leader was not ahead of it at the previous check', () => {
      const inSync = run(learnerBehind(0)).members;
      const analysis = run(learnerBehind(10), { previousMembers: inSync });
      expect(consistency(analysis, 'etcd-2', [...LAG_REASONS, 'LearnerNotCatchingUp']).reason).toBe(
        'KeepsUpWithLeader',
      );
    });

    it('needs history: without a previous status it is only catching up', () => {
      const analysis = run(learnerBehind(60_000));
      expect(consistency(analysis, 'etcd-2', [...LAG_REASONS, 'LearnerNotCatchingUp']).reason).toBe(
        'LearnerCatchingUp',
      );
    });

    it('is for learners only: a voting member that lags is BehindLeader', () => {
      const voting = run(healthyCluster(3, behindLeader(60_000)), {
        previousMembers: run(healthyCluster(3, behindLeader(50_000))).members,
      });
      expect(consistency(voting, 'etcd-2', [...LAG_REASONS, 'LearnerNotCatchingUp']).reason).toBe(
        'BehindLeader',
      );
    });
  });

  it('stays quiet about a member that is down: the quorum check reports it', () => {
    const analysis = run(healthyCluster(3, killed(2)));
    expect(findingsOf(analysis, 'Consistency', 'etcd-2')).toEqual([]);
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe('False');
  });

  it('says once, not per member, that lag is unknown when the leader did not answer Status', () => {
    const analysis = run(healthyCluster(3, killed(0)));
    const unknown = findingsOf(analysis, 'Consistency', 'cluster').filter(
      (finding) => finding.reason === 'NoData',
    );
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.message).toContain('the leader etcd-0 did not answer Status');
    for (const target of ['etcd-1', 'etcd-2']) {
      expect(findingsOf(analysis, 'Consistency', target).map((finding) => finding.reason)).toEqual([
        'ApplyKeepsUp',
      ]);
    }
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe('Unknown');
  });
});

describe('cluster ID agreement', () => {
  it('is Critical when a member answers for another cluster', () => {
    const analysis = run(healthyCluster(3, withStatus(2, { clusterId: '7' })));
    const finding = consistency(analysis, 'cluster', ['ClusterIdMismatch', 'ClusterIdAgrees']);
    expect(finding).toMatchObject({
      severity: 'Critical',
      reason: 'ClusterIdMismatch',
      value: 2,
      threshold: 1,
    });
    expect(finding.message).toContain('etcd-2 7');
    expect(finding.message).toContain(`etcd-0, etcd-1 and the member list ${CLUSTER_ID}`);
    expect(conditionOf(analysis, 'ConsistencyDegraded')).toMatchObject({
      status: 'True',
      reason: 'ClusterIdMismatch',
    });
    const recommendation = analysis.recommendations.find((r) => r.reason === 'ClusterIdMismatch');
    expect(recommendation).toMatchObject({
      type: 'InvestigateMembership',
      severity: 'Critical',
      target: 'cluster',
    });
    expect(recommendation?.commands?.some((command) => command.endsWith(' member list -w table'))).toBe(true);
  });

  it('is Critical when the member list names another cluster than every member', () => {
    const analysis = run(healthyCluster(3, (observation) => (observation.etcd.clusterId = '7')));
    expect(consistency(analysis, 'cluster', ['ClusterIdMismatch', 'ClusterIdAgrees']).severity).toBe(
      'Critical',
    );
  });

  it('is Unknown when no member answered Status', () => {
    const analysis = run(
      healthyCluster(3, killed(0), killed(1), killed(2), (observation) => {
        observation.etcd.memberListKnown = false;
      }),
    );
    const messages = findingsOf(analysis, 'Consistency').map(
      (finding) => `${finding.severity} ${finding.message}`,
    );
    expect(messages).toEqual([
      'Unknown Cluster ID agreement is not checked: no member reported a cluster ID',
      'Unknown Member list agreement is not checked: the member list could not be read',
      'Unknown Version skew is not checked: no member answered Status',
    ]);
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe('Unknown');
  });
});

describe('member-list agreement (one member list, compared with each member own Status)', () => {
  it.each([
    ['a member ID the list does not have', memberId(7), 'not in the member list'],
    ['the ID of another listed member', memberId(2), 'another member of the list'],
  ])('is Critical when an endpoint answers with %s', (_label, answeredAs, words) => {
    const analysis = run(healthyCluster(3, withStatus(1, { memberId: answeredAs })));
    const finding = consistency(analysis, 'cluster', ['MemberListMismatch', 'MemberListAgrees']);
    expect(finding).toMatchObject({
      severity: 'Critical',
      reason: 'MemberListMismatch',
      value: 1,
      threshold: 0,
    });
    expect(finding.message).toContain(
      `etcd-1 (listed as ${memberId(1)}) answers as member ${answeredAs}, ${words}`,
    );
    expect(analysis.recommendations.find((r) => r.reason === 'MemberListMismatch')?.type).toBe(
      'InvestigateMembership',
    );
  });

  it('counts the members that answered', () => {
    const analysis = run(healthyCluster(3, killed(2)));
    expect(consistency(analysis, 'cluster', ['MemberListAgrees']).message).toContain('(2 of 3)');
  });

  it('is Unknown when the member list could not be read', () => {
    const analysis = run(
      healthyCluster(3, (observation) => {
        observation.etcd.memberListKnown = false;
      }),
    );
    expect(
      findingsOf(analysis, 'Consistency', 'cluster').find((f) => f.message.startsWith('Member list')),
    ).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
  });
});

describe('version skew: different minor versions warn', () => {
  it.each<[string, FindingSeverity, string]>([
    ['3.6.4', 'OK', 'VersionsAgree'],
    ['3.6.5', 'OK', 'VersionsAgree'],
    ['3.5.17', 'Warning', 'VersionSkew'],
    ['3.7.0', 'Warning', 'VersionSkew'],
    ['not-a-version', 'Unknown', 'UnparsedVersion'],
  ])('one member on %s is %s', (version, severity, reason) => {
    const analysis = run(healthyCluster(3, withStatus(2, { version })));
    const finding = consistency(analysis, 'cluster', ['VersionsAgree', 'VersionSkew', 'UnparsedVersion']);
    expect(finding).toMatchObject({ severity, reason });
    expect(finding.message).toContain(version);
    expect(conditionOf(analysis, 'ConsistencyDegraded').status).toBe(conditionStatus(severity));
  });

  it('recommends finishing the upgrade', () => {
    const analysis = run(healthyCluster(3, withStatus(2, { version: '3.5.17' })));
    expect(analysis.recommendations.find((r) => r.reason === 'VersionSkew')).toMatchObject({
      type: 'CompleteUpgrade',
      severity: 'Warning',
      target: 'cluster',
    });
  });

  it('ignores members that did not answer Status', () => {
    const analysis = run(healthyCluster(3, withMember(2, { status: undefined })));
    expect(consistency(analysis, 'cluster', ['VersionsAgree']).message).toBe(
      'Members run one minor version: etcd-0 and etcd-1 on 3.6.4',
    );
  });
});
