// Quorum as etcd defines it, over voting members only, and how members and leaders show up.
import { describe, expect, it } from '@jest/globals';
import { failuresTolerated, isFaultTolerant, quorumSize } from '../../src/health/quorum.js';
import {
  conditionOf,
  findingOf,
  findingsOf,
  healthyCluster,
  killed,
  learner,
  memberId,
  notStarted,
  run,
  specWith,
  unhealthy,
  unreachable,
  withMember,
  withMetric,
  withMetricsEverywhere,
  withStatus,
  withStatusEverywhere,
  type Change,
} from './fixtures.js';

describe('quorum maths', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [7, 4],
  ])('%d voting members need %d for quorum', (voting, quorum) => expect(quorumSize(voting)).toBe(quorum));

  it.each([
    [1, 1, 0, false],
    [2, 2, 0, false],
    [2, 1, -1, false],
    [3, 3, 1, true],
    [3, 2, 0, false],
    [5, 5, 2, true],
    [5, 4, 1, true],
    [5, 3, 0, false],
  ])(
    '%d voting with %d healthy tolerate %d more failures (fault tolerant: %s)',
    (voting, healthy, tolerated, tolerant) => {
      expect(failuresTolerated(voting, healthy)).toBe(tolerated);
      expect(isFaultTolerant(voting, healthy)).toBe(tolerant);
    },
  );
});

describe('members and quorum in 1-, 2-, 3- and 5-member clusters', () => {
  it.each([
    // members, killed, Available, EtcdMembersDegraded, cluster finding
    [1, 0, 'True', 'False', 'Info'],
    [1, 1, 'False', 'True', 'Critical'],
    [2, 0, 'True', 'False', 'Info'],
    [2, 1, 'False', 'True', 'Critical'],
    [3, 0, 'True', 'False', 'OK'],
    [3, 1, 'True', 'False', 'Warning'],
    [3, 2, 'False', 'True', 'Critical'],
    [5, 2, 'True', 'False', 'Warning'],
    [5, 3, 'False', 'True', 'Critical'],
  ] as const)(
    '%d members with %d killed: Available=%s, EtcdMembersDegraded=%s',
    (n, down, available, degraded, severity) => {
      // Kill the last members, so the leader (etcd-0) survives as long as possible.
      const kills: Change[] = [...Array(down).keys()].map((k) => killed(n - 1 - k));
      const analysis = run(healthyCluster(n, ...kills));
      expect(conditionOf(analysis, 'EtcdMembersAvailable').status).toBe(available);
      expect(conditionOf(analysis, 'Available').status).toBe(available);
      expect(conditionOf(analysis, 'EtcdMembersDegraded').status).toBe(degraded);
      expect(findingOf(analysis, 'Quorum', 'cluster').severity).toBe(severity);
      expect(analysis.summary.members).toBe(`${n - down}/${n}`);
    },
  );

  it('words availability as cluster-etcd-operator does', () => {
    const analysis = run(healthyCluster(3, unreachable(1)));
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'True',
      reason: 'EtcdQuorate',
      message: '2 of 3 members are available, etcd-1 is unhealthy',
    });
    expect(conditionOf(analysis, 'EtcdMembersDegraded')).toMatchObject({
      status: 'False',
      reason: 'UnhealthyMembers',
    });
    expect(conditionOf(analysis, 'EtcdMembersDegraded').message).toContain(
      '2 of 3 members are available, etcd-1 is unhealthy; the cluster tolerates no further member failure',
    );
  });

  it('says a 2-member cluster tolerates no failure even when healthy', () => {
    const finding = findingOf(run(healthyCluster(2)), 'Quorum', 'cluster');
    expect(finding).toMatchObject({ severity: 'Info', reason: 'NotFaultTolerant' });
    expect(finding.message).toBe(
      '2 members are available; a 2-member cluster needs 2 for quorum and tolerates no member failure',
    );
  });

  it('reports lost quorum with the quorum it needs', () => {
    const analysis = run(healthyCluster(3, killed(1), killed(2)));
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'False',
      reason: 'NoQuorum',
      message:
        '1 of 3 members are available, etcd-1 is unhealthy, etcd-2 is unhealthy; quorum needs 2 of 3 voting members',
    });
    expect(conditionOf(analysis, 'Available').reason).toBe('EtcdMembers_NoQuorum');
  });

  it('is critical when members answer but none knows a leader', () => {
    const analysis = run(
      healthyCluster(3, withStatusEverywhere({ leaderId: '0' }), unhealthy(0), unhealthy(1), unhealthy(2)),
    );
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'False',
      reason: 'NoLeader',
    });
    expect(findingOf(analysis, 'Quorum', 'cluster').severity).toBe('Critical');
    expect(analysis.summary.leader).toBe('none');
  });

  it('counts a member that answers Status but fails the health read as unhealthy', () => {
    const analysis = run(healthyCluster(3, unhealthy(2)));
    expect(findingOf(analysis, 'Quorum', 'etcd-2')).toMatchObject({
      severity: 'Warning',
      reason: 'MemberUnhealthy',
    });
    expect(analysis.members.find((member) => member.name === 'etcd-2')).toMatchObject({
      reachable: true,
      healthy: false,
    });
  });
});

describe('a member cut off from its peers (isolated)', () => {
  // What a real partitioned member answers (test/faults/partition.it.ts): Status with leader 0,
  // a failed linearizable read; the others still follow etcd-0.
  const isolated = (index: number): Change[] => [withStatus(index, { leaderId: '0' }), unhealthy(index)];

  it('is Critical MemberIsolated, naming the member and the leader the quorum follows', () => {
    const analysis = run(healthyCluster(3, ...isolated(2)));
    const finding = findingOf(analysis, 'Quorum', 'etcd-2');
    expect(finding).toMatchObject({ severity: 'Critical', reason: 'MemberIsolated' });
    expect(finding.message).toMatch(
      /^Member etcd-2 is isolated: its client port answers Status but it has no leader, while the quorum follows etcd-0; its health read failed: etcdserver: request timed out/,
    );
    expect(finding.message).toContain('it advertises https://127.0.0.3:2380 to them');
  });

  it('keeps Available by quorum maths (2 of 3) and makes Degraded True', () => {
    // Degraded counts a critical check once it is older than degradedInertia (2m by default).
    const analysis = run(healthyCluster(3, ...isolated(2)), {
      spec: specWith({ thresholds: { degradedInertia: '0s' } }),
    });
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'True',
      reason: 'EtcdQuorate',
      message: '2 of 3 members are available, etcd-2 is isolated',
    });
    expect(conditionOf(analysis, 'Available').status).toBe('True');
    expect(conditionOf(analysis, 'EtcdMembersDegraded')).toMatchObject({
      status: 'True',
      reason: 'MemberIsolated',
    });
    expect(conditionOf(analysis, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'EtcdMembers_MemberIsolated',
    });
    expect(analysis.summary.members).toBe('2/3');
  });

  it('recommends the network between it and its peers, with pings to their peer addresses', () => {
    const analysis = run(healthyCluster(3, ...isolated(2)));
    const recommendation = analysis.recommendations.find((r) => r.target === 'etcd-2');
    expect(recommendation).toMatchObject({ type: 'InvestigateNetwork', reason: 'MemberIsolated' });
    expect(recommendation?.commands?.join('\n')).toContain('ping -c 10 127.0.0.1');
  });

  it('is unreachable, not isolated, when only its client port is cut', () => {
    // Prometheus scrapes through the same cut link (killed: no Status, no metrics either).
    const analysis = run(healthyCluster(3, killed(2)));
    expect(findingOf(analysis, 'Quorum', 'etcd-2')).toMatchObject({
      severity: 'Warning',
      reason: 'MemberUnreachable',
    });
    expect(conditionOf(analysis, 'EtcdMembersDegraded').status).toBe('False');
  });

  it('is merely unhealthy when it still names the leader (a slow member, not a partition)', () => {
    const analysis = run(healthyCluster(3, unhealthy(2)));
    expect(findingOf(analysis, 'Quorum', 'etcd-2').reason).toBe('MemberUnhealthy');
  });

  it('is nobody while no member names a leader: that is NoLeader', () => {
    const analysis = run(healthyCluster(3, withStatusEverywhere({ leaderId: '0' }), unhealthy(2)));
    expect(findingsOf(analysis, 'Quorum').map((f) => f.reason)).not.toContain('MemberIsolated');
  });
});

describe('learners', () => {
  it('are not counted in quorum or in the members column', () => {
    const analysis = run(healthyCluster(4, learner(3)));
    expect(analysis.summary.members).toBe('3/3');
    expect(findingOf(analysis, 'Quorum', 'cluster').severity).toBe('OK');
    expect(findingOf(analysis, 'Quorum', 'etcd-3').message).toBe(
      'Learner etcd-3 is healthy (serializable read took 3ms)',
    );
  });

  it('do not save quorum: 2 voting members with one down lose it even with a healthy learner', () => {
    const analysis = run(healthyCluster(3, learner(2), killed(1)));
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'False',
      reason: 'NoQuorum',
    });
  });

  it('that fail only warn, with their own reason', () => {
    const analysis = run(healthyCluster(4, learner(3), unreachable(3)));
    expect(conditionOf(analysis, 'EtcdMembersAvailable').status).toBe('True');
    expect(findingOf(analysis, 'Quorum', 'cluster')).toMatchObject({
      severity: 'Warning',
      reason: 'UnhealthyLearners',
    });
    expect(findingOf(analysis, 'Quorum', 'cluster').message).toBe(
      '3 members are available, learner etcd-3 is unhealthy',
    );
  });

  it('are never fragmentation targets: they reject Defragment', () => {
    const analysis = run(
      healthyCluster(3, learner(2), withStatus(2, { dbSize: 1 << 30, dbSizeInUse: 1 << 20 })),
    );
    expect(findingsOf(analysis, 'Fragmentation', 'etcd-2')).toEqual([]);
    expect(analysis.recommendations.filter((recommendation) => recommendation.type === 'Defragment')).toEqual(
      [],
    );
  });
});

describe('members that have not started', () => {
  it('are named after their peer URL host and make EtcdMembersProgressing True', () => {
    const analysis = run(healthyCluster(3, notStarted(2)));
    expect(conditionOf(analysis, 'EtcdMembersProgressing')).toMatchObject({
      status: 'True',
      reason: 'MembersNotStarted',
      message: 'Member 127.0.0.3 has not started',
    });
    expect(conditionOf(analysis, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'EtcdMembers_MembersNotStarted',
    });
    expect(findingOf(analysis, 'Quorum', 'cluster')).toMatchObject({
      severity: 'Warning',
      reason: 'MembersNotStarted',
      message:
        '2 of 3 members are available, 127.0.0.3 has not started; the cluster tolerates no further member failure',
    });
  });

  it('use the endpoint host when the name is empty but the endpoint is known', () => {
    const analysis = run(healthyCluster(3, withMember(1, { name: '' })));
    expect(analysis.members.map((member) => member.name)).toEqual(['127.0.0.2', 'etcd-0', 'etcd-2']);
  });

  it('are skipped by metric checks instead of making them Unknown', () => {
    const analysis = run(healthyCluster(3, notStarted(2)));
    expect(conditionOf(analysis, 'DiskLatencyDegraded').status).toBe('False');
  });
});

describe('leader', () => {
  it('is the member the others name', () => {
    const analysis = run(healthyCluster(3));
    expect(analysis.summary.leader).toBe('etcd-0');
    expect(analysis.members.map((member) => member.leader)).toEqual([true, false, false]);
  });

  it('goes to the claim with the highest raft term when members disagree, with a warning', () => {
    const analysis = run(healthyCluster(3, withStatus(2, { leaderId: memberId(2), raftTerm: '6' })));
    expect(analysis.summary.leader).toBe('etcd-2');
    const finding = analysis.findings.find((candidate) => candidate.reason === 'LeaderDisagreement');
    expect(finding).toMatchObject({ severity: 'Warning', target: 'cluster' });
    expect(finding!.message).toBe(
      'Members disagree on the leader: etcd-2 names etcd-2 (raft term 6), etcd-0 and etcd-1 name etcd-0 (raft term 5); trusting the highest raft term',
    );
    expect(analysis.recommendations.map((recommendation) => recommendation.type)).toContain(
      'InvestigateLeaderElection',
    );
  });

  it('goes to the majority claim when the terms are equal', () => {
    const analysis = run(healthyCluster(3, withStatus(2, { leaderId: memberId(2) })));
    expect(analysis.summary.leader).toBe('etcd-0');
  });

  it('may be a member outside the member list', () => {
    const analysis = run(healthyCluster(3, withStatusEverywhere({ leaderId: '42' })));
    expect(analysis.summary.leader).toBe('member-42');
  });
});

describe('a member the operator cannot reach', () => {
  it('with fresh metrics is reported as an operator-side problem, and its metrics are still judged', () => {
    const analysis = run(healthyCluster(3, unreachable(1), withMetric(1, { walFsyncP99: 0.02 })));
    const finding = findingOf(analysis, 'Quorum', 'etcd-1');
    expect(finding.reason).toBe('MemberUnreachableFromOperator');
    expect(finding.message).toContain('Prometheus scraped it 10s ago with a leader');
    expect(findingOf(analysis, 'WalFsync', 'etcd-1').severity).toBe('Warning');
  });

  it('when every member is unreachable but Prometheus just scraped them: Unknown, not a quorum loss', () => {
    const analysis = run(healthyCluster(3, unreachable(0), unreachable(1), unreachable(2)));
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'Unknown',
      reason: 'EtcdUnreachable',
    });
    expect(conditionOf(analysis, 'Available')).toMatchObject({
      status: 'Unknown',
      reason: 'EtcdMembers_EtcdUnreachable',
    });
  });

  it('when every member is unreachable and the last scrape is old: quorum is lost', () => {
    const analysis = run(
      healthyCluster(
        3,
        unreachable(0),
        unreachable(1),
        unreachable(2),
        withMetricsEverywhere({ scrapeAgeSeconds: 91 }),
      ),
    );
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'False',
      reason: 'NoQuorum',
    });
  });
});

describe('a member list that could not be read', () => {
  it('warns that only the configured endpoints were counted, and takes IDs from Status', () => {
    const analysis = run(
      healthyCluster(3, (observation) => {
        observation.etcd.memberListKnown = false;
        for (const member of observation.etcd.members) member.id = '';
      }),
    );
    expect(analysis.findings.find((finding) => finding.reason === 'MemberListUnavailable')?.severity).toBe(
      'Warning',
    );
    expect(analysis.members.map((member) => member.id)).toEqual([memberId(0), memberId(1), memberId(2)]);
    expect(findingOf(analysis, 'WalFsync', 'etcd-1').severity).toBe('OK');
  });
});

describe('no members at all', () => {
  it('is Unknown/NoData, never healthy', () => {
    const analysis = run(
      healthyCluster(3, (observation) => {
        observation.etcd.members = [];
        observation.etcd.source = {
          state: 'Error',
          message: 'dial tcp 127.0.0.1:2379: connect: connection refused',
        };
      }),
    );
    expect(conditionOf(analysis, 'EtcdMembersAvailable')).toMatchObject({
      status: 'Unknown',
      reason: 'NoData',
    });
    expect(conditionOf(analysis, 'Available').status).toBe('Unknown');
    expect(findingOf(analysis, 'Quorum', 'cluster').message).toBe(
      'No voting etcd members were observed: dial tcp 127.0.0.1:2379: connect: connection refused',
    );
    expect(analysis.summary.members).toBe('0/0');
  });
});
