import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import { decideStatusWrite, findDifference } from '../../src/controller/status-change.js';

const policy = { relativeTolerance: 0.1, heartbeatMs: 5 * 60_000 };
const t0 = new Date('2026-11-21T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

function status(overrides: Partial<EtcdHealthCheckStatus> = {}, checkTime = t0): EtcdHealthCheckStatus {
  return {
    observedGeneration: 1,
    conditions: [
      {
        type: 'Degraded',
        status: 'False',
        reason: 'AsExpected',
        message: 'All is well',
        lastTransitionTime: t0.toISOString(),
        observedGeneration: 1,
      },
    ],
    summary: {
      members: '3/3',
      leader: 'member-1',
      dbSize: '100 MiB',
      walFsyncP99: '4.1ms',
      backendCommitP99: '8ms',
      quotaUsage: '5%',
      recommendations: 'None',
    },
    members: [
      {
        name: 'member-1',
        id: '1',
        endpoint: 'http://127.0.0.2:2379',
        reachable: true,
        healthy: true,
        leader: true,
        learner: false,
        dbSize: 104857600,
        raftTerm: '7',
        raftIndex: '1000',
        raftAppliedIndex: '1000',
      },
    ],
    lastCheck: {
      time: checkTime.toISOString(),
      durationMilliseconds: 20,
      etcd: { state: 'OK' },
      prometheus: { state: 'OK' },
    },
    ...overrides,
  };
}

describe('decideStatusWrite', () => {
  it('writes the first status', () => {
    expect(decideStatusWrite(undefined, status(), t0, policy)).toEqual({ write: true, why: 'first status' });
  });

  it('skips a write when only lastCheck moved within the heartbeat', () => {
    expect(decideStatusWrite(status(), status({}, at(30_000)), at(30_000), policy)).toEqual({ write: false });
  });

  it('writes at the heartbeat even when nothing changed', () => {
    expect(decideStatusWrite(status(), status({}, at(300_000)), at(300_000), policy)).toEqual({
      write: true,
      why: 'heartbeat',
    });
  });

  it('writes on a new generation', () => {
    expect(decideStatusWrite(status(), status({ observedGeneration: 2 }), t0, policy)).toMatchObject({
      write: true,
      why: 'new generation',
    });
  });

  it('writes when a source state changes', () => {
    const next = status();
    next.lastCheck!.prometheus = { state: 'Error', message: 'connection refused' };
    expect(decideStatusWrite(status(), next, t0, policy)).toMatchObject({ write: true });
  });

  it.each([
    ['a condition status flip', (s: EtcdHealthCheckStatus) => (s.conditions![0]!.status = 'True')],
    ['a member losing health', (s: EtcdHealthCheckStatus) => (s.members![0]!.reachable = false)],
    [
      'a new recommendation',
      (s: EtcdHealthCheckStatus) =>
        (s.recommendations = [
          { type: 'Defragment', severity: 'Info', target: 'member-1', reason: 'Fragmented', message: 'x' },
        ]),
    ],
    ['fsync p99 tripling', (s: EtcdHealthCheckStatus) => (s.summary!.walFsyncP99 = '12.3ms')],
    ['fsync p99 crossing from ms to s', (s: EtcdHealthCheckStatus) => (s.summary!.walFsyncP99 = '4.1s')],
    ['fsync p99 rising to 60ms', (s: EtcdHealthCheckStatus) => (s.summary!.walFsyncP99 = '60ms')],
    [
      'a backend commit p99 more than doubling (8ms -> 17ms)',
      (s: EtcdHealthCheckStatus) => (s.summary!.backendCommitP99 = '17ms'),
    ],
    ['quota use moving by 5 points', (s: EtcdHealthCheckStatus) => (s.summary!.quotaUsage = '10%')],
    ['a word in a message', (s: EtcdHealthCheckStatus) => (s.conditions![0]!.message = 'All is not well')],
    ['a db size moving by 20%', (s: EtcdHealthCheckStatus) => (s.members![0]!.dbSize = 125829120)],
    ['a new raft term (an election)', (s: EtcdHealthCheckStatus) => (s.members![0]!.raftTerm = '8')],
  ])('writes on %s', (_name, mutate) => {
    const next = status();
    mutate(next);
    expect(decideStatusWrite(status(), next, t0, policy)).toMatchObject({ write: true });
  });

  it.each([
    ['fsync p99 moving by 5%', (s: EtcdHealthCheckStatus) => (s.summary!.walFsyncP99 = '4.3ms')],
    [
      'a backend commit p99 moving within a histogram bucket (8ms -> 15ms)',
      (s: EtcdHealthCheckStatus) => (s.summary!.backendCommitP99 = '15ms'),
    ],
    [
      'fsync p99 doubling below the 5ms noise floor',
      (s: EtcdHealthCheckStatus) => (s.summary!.walFsyncP99 = '8.2ms'),
    ],
    [
      'fsync p99 changing unit without moving',
      (s: EtcdHealthCheckStatus) => (s.summary!.walFsyncP99 = '4100µs'),
    ],
    ['db size moving by less than 1 MiB', (s: EtcdHealthCheckStatus) => (s.summary!.dbSize = '100.5 MiB')],
    [
      'a small db doubling by less than 1 MiB',
      (s: EtcdHealthCheckStatus) => (s.members![0]!.dbSize = 104857600 + 500_000),
    ],
    [
      'raft indexes moving with writes',
      (s: EtcdHealthCheckStatus) =>
        Object.assign(s.members![0]!, { raftIndex: '90000', raftAppliedIndex: '90000' }),
    ],
    ['a db size moving by 1%', (s: EtcdHealthCheckStatus) => (s.members![0]!.dbSize = 105906176)],
  ])('does not write on %s', (_name, mutate) => {
    const next = status();
    mutate(next);
    expect(decideStatusWrite(status(), next, t0, policy)).toEqual({ write: false });
  });
});

describe('findDifference', () => {
  it('names the path of the first difference', () => {
    expect(findDifference({ a: [{ b: 'x' }] }, { a: [{ b: 'y' }] }, 0.1, 'status')).toBe(
      'status.a[0].b changed',
    );
  });
  it('treats a moved timestamp as a change', () => {
    expect(findDifference('2026-11-21T10:00:00Z', '2026-11-21T10:00:01Z', 0.5, 't')).toBe('t changed');
  });
  it('treats a missing field as a change', () => {
    expect(findDifference({ a: 1 }, {}, 0.1, 's')).toBe('s.a changed');
  });
});
