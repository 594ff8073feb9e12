// The whole analysis: determinism, members[], summary and the status schema.
import { describe, expect, it } from '@jest/globals';
import { EtcdHealthCheckStatusSchema } from '../../src/api/v1alpha1/status.js';
import {
  GiB,
  MiB,
  T0,
  healthyCluster,
  killed,
  memberId,
  run,
  unreachable,
  withAlarm,
  withMetric,
  withStatus,
} from './fixtures.js';

describe('determinism', () => {
  it.each([
    ['healthy', healthyCluster(3)],
    [
      'troubled',
      healthyCluster(
        5,
        killed(4),
        withAlarm('NOSPACE', 1),
        withMetric(2, { walFsyncP99: 0.3, backendCommitP99: 0.3 }),
      ),
    ],
  ])('%s: the same input twice gives the same output, and the input is not changed', (_name, observation) => {
    const before = structuredClone(observation);
    const first = run(observation);
    const second = run(structuredClone(observation));
    expect(second).toEqual(first);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(observation).toEqual(before);
  });

  it('does not depend on the order the members were probed in', () => {
    const observation = healthyCluster(3, withMetric(1, { walFsyncP99: 0.02 }));
    const reversed = structuredClone(observation);
    reversed.etcd.members.reverse();
    expect(run(reversed)).toEqual(run(observation));
  });
});

describe('a healthy 3-member cluster', () => {
  const analysis = run(healthyCluster(3));

  it('has the four unions at their defaults', () => {
    expect(
      analysis.conditions.slice(0, 4).map(({ type, status, reason }) => ({ type, status, reason })),
    ).toEqual([
      { type: 'Available', status: 'True', reason: 'AsExpected' },
      { type: 'Progressing', status: 'False', reason: 'AsExpected' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected' },
      { type: 'Upgradeable', status: 'True', reason: 'AsExpected' },
    ]);
  });

  it('summarises the columns', () => {
    expect(analysis.summary).toEqual({
      members: '3/3',
      leader: 'etcd-0',
      dbSize: '200 MiB',
      walFsyncP99: '2ms',
      backendCommitP99: '5ms',
      quotaUsage: '2%',
      recommendations: 'None',
      lastTransitionTime: T0.toISOString(),
    });
  });

  it('lists every member with IDs above 2^53 kept exact', () => {
    expect(analysis.members[1]).toEqual({
      name: 'etcd-1',
      id: memberId(1),
      endpoint: 'https://127.0.0.2:2379',
      reachable: true,
      healthy: true,
      leader: false,
      learner: false,
      version: '3.6.4',
      dbSize: 200 * MiB,
      dbSizeInUse: 180 * MiB,
      fragmentationPercent: 10,
      raftTerm: '5',
      raftIndex: '1000',
      raftAppliedIndex: '1000',
      walFsyncP99: '2ms',
      backendCommitP99: '5ms',
      peerRoundTripP99: '4ms',
    });
    expect(BigInt(analysis.members[1]!.id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

describe('members[] and summary under trouble', () => {
  it('shows the error of an unreachable member, its alarms, and the worst values in the summary', () => {
    const analysis = run(
      healthyCluster(
        3,
        unreachable(2, 'context deadline exceeded'),
        withAlarm('NOSPACE', 1),
        withStatus(1, { dbSize: 7 * GiB, dbSizeInUse: 7 * GiB }),
        withMetric(0, { walFsyncP99: 0.0123, backendCommitP99: 0.25 }),
      ),
    );
    const etcd2 = analysis.members.find((member) => member.name === 'etcd-2')!;
    expect(etcd2).toMatchObject({
      reachable: false,
      healthy: false,
      error: 'https://127.0.0.3:2379: context deadline exceeded',
    });
    expect(etcd2.raftTerm).toBeUndefined();
    expect(analysis.members.find((member) => member.name === 'etcd-1')!.alarms).toEqual(['NOSPACE']);
    expect(analysis.summary).toMatchObject({
      members: '2/3',
      dbSize: '7.0 GiB',
      walFsyncP99: '12.3ms',
      backendCommitP99: '250ms',
      quotaUsage: '87%',
    });
  });

  it.each([1, 2, 3, 5])('a healthy %d-member cluster counts all members healthy', (n) => {
    const analysis = run(healthyCluster(n));
    expect(analysis.summary.members).toBe(`${n}/${n}`);
    expect(analysis.members).toHaveLength(n);
  });
});

describe('the output fits the status schema', () => {
  it.each([
    ['healthy', healthyCluster(3)],
    [
      'troubled',
      healthyCluster(
        5,
        killed(3),
        unreachable(4),
        withAlarm('CORRUPT', 0),
        withStatus(1, { dbSize: 9 * GiB, dbSizeInUse: GiB }),
      ),
    ],
  ])('%s', (_name, observation) => {
    const analysis = run(observation);
    const status = {
      observedGeneration: 1,
      conditions: analysis.conditions,
      members: analysis.members,
      summary: analysis.summary,
      recommendations: analysis.recommendations,
    };
    expect(EtcdHealthCheckStatusSchema.safeParse(status).error).toBeUndefined();
  });
});
