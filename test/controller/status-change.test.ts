import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheckStatus, Recommendation } from '../../src/api/v1alpha1/status.js';
import { decideStatusWrite } from '../../src/controller/status-change.js';

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
        walFsyncP99: '4.1ms',
        backendCommitP99: '8ms',
        peerRoundTripP99: '10ms',
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

/** A member latency and the summary column rendering it, moved together as the analysis does. */
function setLatency(s: EtcdHealthCheckStatus, field: 'walFsyncP99' | 'backendCommitP99', value: string) {
  s.members![0]![field] = value;
  s.summary![field] = value;
}

function recommendation(overrides: Partial<Recommendation> = {}): Recommendation {
  return {
    type: 'Defragment',
    severity: 'Info',
    target: 'member-1',
    reason: 'Fragmented',
    message: 'DB of member-1 is 40% fragmented (40 MiB of 100 MiB)',
    commands: ['etcdctl defrag --endpoints=http://127.0.0.2:2379'],
    ...overrides,
  };
}

const writes = (mutate: (s: EtcdHealthCheckStatus) => void, current = status()) => {
  const next = status();
  mutate(next);
  return decideStatusWrite(current, next, t0, policy);
};

describe('decideStatusWrite', () => {
  it('writes the first status', () => {
    expect(decideStatusWrite(undefined, status(), t0, policy)).toEqual({ write: true, why: 'first status' });
  });

  it('writes the first check after the Reconciling mark as the first status (the mark has no observedGeneration)', () => {
    const mark = { conditions: status().conditions } as EtcdHealthCheckStatus;
    expect(decideStatusWrite(mark, status(), t0, policy)).toEqual({ write: true, why: 'first status' });
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

  it('refreshes a reworded message at the heartbeat', () => {
    const next = status({}, at(300_000));
    next.conditions![0]!.message = 'All is not well';
    expect(decideStatusWrite(status(), next, at(300_000), policy)).toEqual({ write: true, why: 'heartbeat' });
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
    ['a condition reason change', (s: EtcdHealthCheckStatus) => (s.conditions![0]!.reason = 'Recovering')],
    [
      'a condition observed at a new generation',
      (s: EtcdHealthCheckStatus) => (s.conditions![0]!.observedGeneration = 2),
    ],
    [
      'a condition transition time moving',
      (s: EtcdHealthCheckStatus) => (s.conditions![0]!.lastTransitionTime = '2026-11-21T10:00:01.000Z'),
    ],
    [
      'a new condition',
      (s: EtcdHealthCheckStatus) =>
        s.conditions!.push({ ...s.conditions![0]!, type: 'Available', status: 'True', reason: 'AsExpected' }),
    ],
    ['a condition gone', (s: EtcdHealthCheckStatus) => (s.conditions = [])],
    ['a member losing health', (s: EtcdHealthCheckStatus) => (s.members![0]!.reachable = false)],
    ['a member alarm', (s: EtcdHealthCheckStatus) => (s.members![0]!.alarms = ['NOSPACE'])],
    [
      'a member error',
      (s: EtcdHealthCheckStatus) => (s.members![0]!.error = 'status: no answer within 2000ms'),
    ],
    ['a member field gone', (s: EtcdHealthCheckStatus) => delete s.members![0]!.dbSize],
    ['a new member', (s: EtcdHealthCheckStatus) => s.members!.push({ ...s.members![0]!, name: 'member-2' })],
    ['a new recommendation', (s: EtcdHealthCheckStatus) => (s.recommendations = [recommendation()])],
    ['a new leader in the summary', (s: EtcdHealthCheckStatus) => (s.summary!.leader = 'member-2')],
    ['fsync p99 tripling', (s: EtcdHealthCheckStatus) => setLatency(s, 'walFsyncP99', '12.3ms')],
    ['fsync p99 crossing from ms to s', (s: EtcdHealthCheckStatus) => setLatency(s, 'walFsyncP99', '4.1s')],
    ['fsync p99 rising to 60ms', (s: EtcdHealthCheckStatus) => setLatency(s, 'walFsyncP99', '60ms')],
    [
      'a backend commit p99 more than doubling (8ms -> 17ms)',
      (s: EtcdHealthCheckStatus) => setLatency(s, 'backendCommitP99', '17ms'),
    ],
    [
      'a peer round trip p99 more than doubling (10ms -> 25ms)',
      (s: EtcdHealthCheckStatus) => (s.members![0]!.peerRoundTripP99 = '25ms'),
    ],
    [
      'a peer round trip p99 more than halving (10ms -> 4ms)',
      (s: EtcdHealthCheckStatus) => (s.members![0]!.peerRoundTripP99 = '4ms'),
    ],
    ['quota use moving by 5 points', (s: EtcdHealthCheckStatus) => (s.summary!.quotaUsage = '10%')],
    ['a db size moving by 20%', (s: EtcdHealthCheckStatus) => (s.members![0]!.dbSize = 125829120)],
    ['a new raft term (an election)', (s: EtcdHealthCheckStatus) => (s.members![0]!.raftTerm = '8')],
  ])('writes on %s', (_name, mutate) => {
    expect(writes(mutate)).toMatchObject({ write: true });
  });

  it.each([
    [
      'a reworded condition message',
      (s: EtcdHealthCheckStatus) => (s.conditions![0]!.message = 'All is not well'),
    ],
    ['fsync p99 moving by 5%', (s: EtcdHealthCheckStatus) => setLatency(s, 'walFsyncP99', '4.3ms')],
    [
      'a backend commit p99 moving within a histogram bucket (8ms -> 15ms)',
      (s: EtcdHealthCheckStatus) => setLatency(s, 'backendCommitP99', '15ms'),
    ],
    [
      'fsync p99 doubling below the 5ms noise floor',
      (s: EtcdHealthCheckStatus) => setLatency(s, 'walFsyncP99', '8.2ms'),
    ],
    [
      'fsync p99 changing unit without moving',
      (s: EtcdHealthCheckStatus) => setLatency(s, 'walFsyncP99', '4100µs'),
    ],
    [
      'db size moving by less than 1 MiB',
      (s: EtcdHealthCheckStatus) => {
        s.members![0]!.dbSize = 104857600 + 2 ** 19;
        s.summary!.dbSize = '100.5 MiB';
      },
    ],
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
    [
      'a remediation step recorded',
      (s: EtcdHealthCheckStatus) =>
        (s.remediation = {
          current: {
            action: 'Defragment',
            member: 'member-1',
            phase: 'Running',
            startedAt: t0.toISOString(),
          },
        }),
    ],
  ])('does not write on %s', (_name, mutate) => {
    expect(writes(mutate)).toEqual({ write: false });
  });

  it('does not write when a number inside a condition message moves', () => {
    const current = status();
    current.conditions![0]!.message = 'WAL fsync p99 is 12ms (warning at 10ms)';
    expect(
      writes((s) => (s.conditions![0]!.message = 'WAL fsync p99 is 60ms (warning at 10ms)'), current),
    ).toEqual({
      write: false,
    });
  });

  it('does not write when a recommendation is reworded or its numbers move', () => {
    const current = status({ recommendations: [recommendation()] });
    const next = status({
      recommendations: [
        recommendation({
          message: 'member-1 is 45% fragmented: 45 MiB of 100 MiB are free pages',
          commands: ['etcdctl defrag --endpoints=http://127.0.0.2:2379 --command-timeout=60s'],
        }),
      ],
    });
    expect(decideStatusWrite(current, next, t0, policy)).toEqual({ write: false });
  });

  it('does not write when a differing remediation is the only change', () => {
    const current = status({ remediation: { consecutiveFailures: 0, lastDefragByMember: {} } });
    const next = status({
      remediation: {
        consecutiveFailures: 2,
        lastDefragByMember: { 'member-1': t0.toISOString() },
        history: [
          {
            action: 'Defragment',
            member: 'member-1',
            phase: 'Failed',
            startedAt: t0.toISOString(),
            message: 'defragment: no answer within 60000ms',
          },
        ],
      },
    });
    expect(decideStatusWrite(current, next, t0, policy)).toEqual({ write: false });
  });

  it.each<[string, Partial<Recommendation>, string]>([
    [
      'a severity',
      { severity: 'Warning' },
      'status.recommendations: added Defragment Warning member-1 Fragmented',
    ],
    ['a target', { target: 'member-2' }, 'status.recommendations: added Defragment Info member-2 Fragmented'],
    ['a reason', { reason: 'Oversized' }, 'status.recommendations: added Defragment Info member-1 Oversized'],
    [
      'the members it covers',
      { members: ['member-1', 'member-2'] },
      'status.recommendations: added Defragment Info member-1 member-1,member-2 Fragmented',
    ],
  ])('writes when a recommendation changes %s', (_name, change, why) => {
    const current = status({ recommendations: [recommendation()] });
    const next = status({ recommendations: [recommendation(change)] });
    expect(decideStatusWrite(current, next, t0, policy)).toEqual({ write: true, why });
  });

  it('writes when a recommendation is gone', () => {
    const current = status({ recommendations: [recommendation()] });
    expect(decideStatusWrite(current, status(), t0, policy)).toEqual({
      write: true,
      why: 'status.recommendations: removed Defragment Info member-1 Fragmented',
    });
  });
});

describe('why a status is written', () => {
  it('names the path of the first difference', () => {
    expect(writes((s) => (s.members![0]!.healthy = false))).toEqual({
      write: true,
      why: 'status.members[0].healthy changed',
    });
  });

  it('names a condition by its type', () => {
    expect(writes((s) => (s.conditions![0]!.reason = 'Recovering'))).toEqual({
      write: true,
      why: 'status.conditions[Degraded].reason changed',
    });
  });

  it('treats a moved timestamp as a change', () => {
    expect(writes((s) => (s.summary!.lastTransitionTime = '2026-11-21T10:00:01Z'))).toEqual({
      write: true,
      why: 'status.summary.lastTransitionTime added',
    });
    const current = status();
    current.summary!.lastTransitionTime = '2026-11-21T10:00:00Z';
    expect(writes((s) => (s.summary!.lastTransitionTime = '2026-11-21T10:00:01Z'), current)).toEqual({
      write: true,
      why: 'status.summary.lastTransitionTime changed',
    });
  });

  it('treats a missing field as a change', () => {
    const current = status();
    current.members![0]!.version = '3.5.17';
    expect(writes(() => undefined, current)).toEqual({
      write: true,
      why: 'status.members[0].version removed',
    });
  });

  it('shows a quantity that moved with its values', () => {
    expect(writes((s) => setLatency(s, 'walFsyncP99', '60ms'))).toEqual({
      write: true,
      why: 'status.members[0].walFsyncP99: 4.1ms -> 60ms',
    });
  });
});
