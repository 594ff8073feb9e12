// Every safety rule of the planner, one table row or scenario each: what it decides from one
// observation, status.remediation and the time.
import { describe, expect, it } from '@jest/globals';
import type { RemediationStatus } from '../../src/api/v1alpha1/status.js';
import {
  MAX_CONSECUTIVE_FAILURES,
  QUOTA_RECLAIM_MIN_PERCENT,
  type Decision,
} from '../../src/remediation/plan.js';
import {
  GiB,
  MiB,
  clientURL,
  healthyCluster,
  killed,
  learner,
  memberId,
  notStarted,
  unhealthy,
  unreachable,
  withAlarm,
  withMetricsEverywhere,
  withStatus,
  withStatusEverywhere,
  type Change,
} from '../health/fixtures.js';
import { NOW, at, automatic, decide, fragmented, record } from './support.js';

const allFragmented: Change[] = [fragmented(0), fragmented(1), fragmented(2)];

function step(decision: Decision) {
  if (decision.kind !== 'Act' && decision.kind !== 'DryRun' && decision.kind !== 'Ask') {
    throw new Error(`expected a step, got ${JSON.stringify(decision)}`);
  }
  return decision.step;
}

describe('mode and kill switch', () => {
  it('never acts in mode Recommend, however much qualifies', () => {
    const observation = healthyCluster(3, ...allFragmented, withAlarm('NOSPACE', 0));
    const decision = decide(observation, {
      spec: automatic({ mode: 'Recommend', compaction: { enabled: true } }),
    });
    expect(decision).toMatchObject({ kind: 'Idle', reason: 'RecommendOnly' });
  });

  it('is idle when nothing qualifies', () => {
    expect(decide(healthyCluster(3))).toMatchObject({ kind: 'Idle', reason: 'NothingToDo' });
  });

  it('stops at once when paused', () => {
    expect(decide(healthyCluster(3, ...allFragmented), { spec: automatic({ paused: true }) })).toMatchObject({
      kind: 'Defer',
      reason: 'Paused',
      inProgress: false,
    });
  });

  it('only says what it would do in dry-run mode', () => {
    const decision = decide(healthyCluster(3, ...allFragmented), { spec: automatic({ dryRun: true }) });
    expect(decision.kind).toBe('DryRun');
    expect(decision).toMatchObject({ message: expect.stringMatching(/^dry run: would defragment etcd-1/) });
  });
});

describe('health gate before every step', () => {
  it.each<[string, Change, RegExp]>([
    ['an unreachable member', killed(2), /etcd-2 is unreachable/],
    ['a member that answers Status but not a linearizable read', unhealthy(2), /etcd-2 is unhealthy/],
    ['a member that has not started', notStarted(2), /has not started/],
    ['an unreachable leader', unreachable(0), /etcd-0 is unreachable/],
  ])('defers with %s', (_name, change, message) => {
    const decision = decide(healthyCluster(3, fragmented(0), fragmented(1), change));
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'ClusterUnhealthy', inProgress: false });
    expect(decision).toMatchObject({ message: expect.stringMatching(message) });
    expect(decision).toMatchObject({ step: { action: 'Defragment' } });
  });

  it('defers with a member cut off from its peers, and says it is isolated', () => {
    // Answers Status, knows no leader, fails the linearizable read; the others follow etcd-0.
    const isolated = [withStatus(2, { leaderId: '0' }), unhealthy(2)];
    const decision = decide(healthyCluster(3, fragmented(0), fragmented(1), ...isolated));
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'MemberIsolated', inProgress: false });
    expect(decision).toMatchObject({ message: expect.stringMatching(/etcd-2 is isolated/) });
    expect(decision).toMatchObject({ step: { action: 'Defragment' } });
  });

  it('does not call a member isolated while no member names a leader (the leader rule defers)', () => {
    const decision = decide(
      healthyCluster(3, fragmented(0), withStatusEverywhere({ leaderId: '0' }), unhealthy(2)),
    );
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'NoLeader' });
  });

  it('ignores an unhealthy learner (learners do not vote)', () => {
    const decision = decide(healthyCluster(4, fragmented(1), learner(3), unhealthy(3)));
    expect(step(decision)).toMatchObject({ action: 'Defragment', member: { name: 'etcd-1' } });
  });

  it('never defragments a learner (it rejects the call)', () => {
    expect(decide(healthyCluster(4, fragmented(3), learner(3)))).toMatchObject({ kind: 'Idle' });
  });

  it('defers on a CORRUPT alarm, even with NOSPACE active and everything qualifying', () => {
    const observation = healthyCluster(3, ...allFragmented, withAlarm('CORRUPT', 1), withAlarm('NOSPACE', 0));
    expect(decide(observation)).toMatchObject({ kind: 'Defer', reason: 'CorruptAlarm' });
  });

  it('defers when the alarm list is unknown: CORRUPT cannot be ruled out', () => {
    const observation = healthyCluster(3, ...allFragmented, (o) => {
      o.etcd.alarmsKnown = false;
    });
    expect(decide(observation)).toMatchObject({ kind: 'Defer', reason: 'AlarmsUnknown' });
  });

  it('refuses a 2-member cluster: it is not fault tolerant', () => {
    const decision = decide(healthyCluster(2, fragmented(1)));
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'NotFaultTolerant' });
    expect(decision).toMatchObject({ message: expect.stringContaining('quorum needs 2') });
  });

  it('refuses a single-member cluster unless allowSingleMember', () => {
    const observation = healthyCluster(1, fragmented(0));
    expect(decide(observation)).toMatchObject({ kind: 'Defer', reason: 'SingleMember' });
    const allowed = decide(observation, { spec: automatic({ allowSingleMember: true }) });
    expect(step(allowed)).toMatchObject({ action: 'Defragment', member: { name: 'etcd-0' } });
    expect(step(allowed).summary).toContain('the only member');
  });

  it('defers when no member names a leader', () => {
    const observation = healthyCluster(3, ...allFragmented, withStatusEverywhere({ leaderId: '0' }));
    expect(decide(observation)).toMatchObject({ kind: 'Defer', reason: 'NoLeader' });
  });

  it(`stops after ${MAX_CONSECUTIVE_FAILURES} consecutive failures`, () => {
    const state: RemediationStatus = {
      consecutiveFailures: MAX_CONSECUTIVE_FAILURES,
      history: [record({ action: 'Defragment', member: 'etcd-1', phase: 'Failed', message: 'boom' })],
    };
    const decision = decide(healthyCluster(3, ...allFragmented), { state });
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'TooManyFailures' });
    expect(decision).toMatchObject({ message: expect.stringContaining('Defragment of etcd-1 failed: boom') });
    expect(
      decide(healthyCluster(3, ...allFragmented), { state: { ...state, consecutiveFailures: 2 } }).kind,
    ).toBe('Act');
  });
});

describe('defragmentation order', () => {
  it('starts with the most fragmented follower', () => {
    const decision = decide(healthyCluster(3, fragmented(0, 10), fragmented(1, 160), fragmented(2, 100)));
    expect(decision.kind).toBe('Act');
    expect(step(decision)).toMatchObject({
      action: 'Defragment',
      reason: 'HighFragmentation',
      member: { name: 'etcd-2', id: memberId(2), endpoint: clientURL(2) },
      endpoint: clientURL(2),
      dbSizeBefore: 300 * MiB,
    });
  });

  it('moves the leadership away before defragmenting the leader', () => {
    const decision = decide(healthyCluster(3, fragmented(0)));
    expect(step(decision)).toMatchObject({
      action: 'MoveLeader',
      member: { name: 'etcd-0' },
      transferee: { name: 'etcd-1', id: memberId(1) },
      endpoint: clientURL(0),
    });
  });

  it('prefers a transferee that does not need a defragmentation itself', () => {
    // etcd-1 is in its cooldown (still fragmented), etcd-2 is clean: etcd-2 takes over.
    const state = { lastDefragByMember: { 'etcd-1': at(-60) } };
    const decision = decide(healthyCluster(3, fragmented(0), fragmented(1)), { state });
    expect(step(decision)).toMatchObject({ action: 'MoveLeader', transferee: { name: 'etcd-2' } });
  });

  it('defragments the former leader once it follows', () => {
    const moved = healthyCluster(3, fragmented(0), withStatusEverywhere({ leaderId: memberId(1) }));
    expect(step(decide(moved))).toMatchObject({ action: 'Defragment', member: { name: 'etcd-0' } });
  });

  it('defragments the leader in place when moving the leadership failed', () => {
    const state = { history: [record({ action: 'MoveLeader', member: 'etcd-0', phase: 'Failed' })] };
    const decision = decide(healthyCluster(3, fragmented(0)), { state });
    expect(step(decision)).toMatchObject({ action: 'Defragment', member: { name: 'etcd-0' } });
    expect(step(decision).summary).toContain('in place');
  });

  it('uses spec.thresholds.fragmentation', () => {
    const small = healthyCluster(3, withStatus(1, { dbSize: 8 * MiB, dbSizeInUse: 1 * MiB }));
    expect(decide(small).kind).toBe('Idle');
    const spec = automatic({}, { thresholds: { fragmentation: { percent: 80, minDatabaseSize: '1Mi' } } });
    expect(step(decide(small, { spec }))).toMatchObject({ member: { name: 'etcd-1' } });
    const notEnough = healthyCluster(3, withStatus(1, { dbSize: 8 * MiB, dbSizeInUse: 4 * MiB }));
    expect(decide(notEnough, { spec }).kind).toBe('Idle');
  });
});

describe('pacing', () => {
  const observation = healthyCluster(3, ...allFragmented);

  it('waits for the settle time after the last step, in progress', () => {
    const state = { history: [record({ action: 'Defragment', member: 'etcd-1', finishedAt: at(-20) })] };
    const decision = decide(observation, { state, spec: automatic({ settleTime: '1m' }) });
    expect(decision).toMatchObject({
      kind: 'Defer',
      reason: 'Settling',
      inProgress: true,
      retryAfterMs: 40_000,
    });
    expect(decision).toMatchObject({
      message: `settling until ${at(40)}, then: ${step(decide(observation)).summary}`,
    });
    expect(decide(observation, { state, spec: automatic({ settleTime: '10s' }) }).kind).toBe('Act');
  });

  it('skips members in their cooldown and defers when all are', () => {
    const recent = { lastDefragByMember: { 'etcd-1': at(-600), 'etcd-2': at(-7200) } };
    expect(step(decide(observation, { state: recent }))).toMatchObject({ member: { name: 'etcd-2' } });
    const all = { lastDefragByMember: { 'etcd-0': at(-60), 'etcd-1': at(-600), 'etcd-2': at(-1200) } };
    const decision = decide(observation, { state: all });
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'Cooldown', retryAfterMs: 2400_000 });
    expect(decision).toMatchObject({ message: expect.stringContaining(`at ${at(2400)}`) });
  });

  it.each<[string, string, string, boolean]>([
    ['inside a window', '11:30', '1h', true],
    ['before a window', '13:00', '1h', false],
    ['after a window', '10:00', '1h', false],
    ['inside a window that started yesterday', '23:00', '14h', true],
    ['with a window of a whole day', '00:00', '24h', true],
  ])('acts only inside the maintenance window: %s', (_name, start, duration, open) => {
    const decision = decide(observation, { spec: automatic({ maintenanceWindow: { start, duration } }) });
    if (open) expect(decision.kind).toBe('Act');
    else expect(decision).toMatchObject({ kind: 'Defer', reason: 'OutsideWindow' });
  });

  it('names when the window opens next', () => {
    const decision = decide(observation, {
      spec: automatic({ maintenanceWindow: { start: '10:00', duration: '1h' } }),
    });
    expect(decision).toMatchObject({
      message: expect.stringContaining('next open at 2026-03-02T10:00:00.000Z'),
      retryAfterMs: 22 * 3600_000,
    });
  });
});

describe('NOSPACE recovery', () => {
  const nospace = (...changes: Change[]) =>
    healthyCluster(
      3,
      withAlarm('NOSPACE', 0),
      withAlarm('NOSPACE', 2),
      withStatus(1, { revision: '950' }),
      ...changes,
    );
  const compacted = record({ action: 'Compact', reason: 'NoSpaceRecovery', finishedAt: at(-300) });

  it('compacts to the current revision first, even outside the window', () => {
    const decision = decide(nospace(), {
      spec: automatic({ maintenanceWindow: { start: '02:00', duration: '1h' } }),
    });
    expect(decision.kind).toBe('Act');
    expect(step(decision)).toMatchObject({
      action: 'Compact',
      reason: 'NoSpaceRecovery',
      revision: '950',
      endpoint: clientURL(0),
    });
  });

  it('then defragments every member, followers first, ignoring the cooldown and the fragmentation threshold', () => {
    const state = { history: [compacted], lastDefragByMember: { 'etcd-1': at(-200), 'etcd-2': at(-400) } };
    // etcd-1 was defragmented after the compaction: done. etcd-2 before it: pending.
    expect(step(decide(nospace(), { state }))).toMatchObject({
      action: 'Defragment',
      member: { name: 'etcd-2' },
      reason: 'NoSpaceRecovery',
    });
    const followersDone = { ...state, lastDefragByMember: { 'etcd-1': at(-200), 'etcd-2': at(-100) } };
    expect(step(decide(nospace(), { state: followersDone }))).toMatchObject({
      action: 'MoveLeader',
      member: { name: 'etcd-0' },
    });
  });

  it('disarms only when every member is below the quota by the margin', () => {
    const state = {
      history: [compacted],
      lastDefragByMember: { 'etcd-0': at(-100), 'etcd-1': at(-200), 'etcd-2': at(-150) },
    };
    const disarm = decide(nospace(), { state });
    expect(step(disarm)).toMatchObject({
      action: 'DisarmNoSpace',
      alarmMemberIds: [memberId(0), memberId(2)],
      endpoint: clientURL(0),
    });
    // 8 GiB quota, margin 20%: 6.6 GiB is 82.5%, above 80%.
    const full = decide(nospace(withStatus(2, { dbSize: 6.6 * GiB, dbSizeInUse: 6.5 * GiB })), { state });
    expect(full).toMatchObject({ kind: 'Defer', reason: 'StillAboveQuota' });
    expect(full).toMatchObject({
      message: expect.stringContaining('etcd-2 uses 6.6 GiB of 8.0 GiB (82.5%)'),
    });
    const wider = automatic({ nospaceRecovery: { marginPercent: 10 } });
    expect(
      decide(nospace(withStatus(2, { dbSize: 6.6 * GiB, dbSizeInUse: 6.5 * GiB })), { state, spec: wider })
        .kind,
    ).toBe('Act');
  });

  it("reads the quota from the members' /metrics when neither Status nor Prometheus has it", () => {
    const state = {
      history: [compacted],
      lastDefragByMember: { 'etcd-0': at(-100), 'etcd-1': at(-200), 'etcd-2': at(-150) },
    };
    const observation = nospace(
      withStatusEverywhere({ dbSizeQuota: undefined }),
      withMetricsEverywhere({ quotaBackendBytes: undefined }),
    );
    const asked = decide(observation, { state });
    expect(asked).toMatchObject({ kind: 'Ask', question: { kind: 'quota' } });
    const quotas = { 'etcd-0': 2 * GiB, 'etcd-1': 2 * GiB, 'etcd-2': 2 * GiB };
    expect(step(decide(observation, { state, answers: { quotaBytes: quotas } }))).toMatchObject({
      action: 'DisarmNoSpace',
    });
    expect(decide(observation, { state, answers: { quotaBytes: { 'etcd-0': 2 * GiB } } })).toMatchObject({
      kind: 'Defer',
      reason: 'QuotaUnknown',
    });
  });

  it('starts over when the last episode ended with a disarm', () => {
    const state = { history: [compacted, record({ action: 'DisarmNoSpace', finishedAt: at(-60) })] };
    expect(step(decide(nospace(), { state }))).toMatchObject({ action: 'Compact' });
  });

  it('gives each step exactly the fields of its action, through a whole episode', () => {
    const ref = (i: number) => ({ name: `etcd-${i}`, id: memberId(i), endpoint: clientURL(i) });
    const basis = { reason: 'NoSpaceRecovery', summary: expect.any(String) };
    expect(step(decide(nospace()))).toEqual({
      ...basis,
      action: 'Compact',
      endpoint: clientURL(0),
      revision: '950',
    });
    const state = { history: [compacted], lastDefragByMember: { 'etcd-1': at(-200) } };
    expect(step(decide(nospace(), { state }))).toEqual({
      ...basis,
      action: 'Defragment',
      member: ref(2),
      endpoint: clientURL(2),
      dbSizeBefore: 200 * MiB,
    });
    const followersDone = { ...state, lastDefragByMember: { 'etcd-1': at(-200), 'etcd-2': at(-100) } };
    expect(step(decide(nospace(), { state: followersDone }))).toEqual({
      ...basis,
      action: 'MoveLeader',
      member: ref(0),
      transferee: ref(1),
      endpoint: clientURL(0),
    });
    const membersDone = {
      ...followersDone,
      lastDefragByMember: { ...followersDone.lastDefragByMember, 'etcd-0': at(-50) },
    };
    expect(step(decide(nospace(), { state: membersDone }))).toEqual({
      ...basis,
      action: 'DisarmNoSpace',
      endpoint: clientURL(0),
      alarmMemberIds: [memberId(0), memberId(2)],
    });
  });

  it('keeps every other safety rule', () => {
    expect(decide(nospace(killed(1)))).toMatchObject({ kind: 'Defer', reason: 'ClusterUnhealthy' });
    expect(decide(nospace(withAlarm('CORRUPT', 1)))).toMatchObject({ kind: 'Defer', reason: 'CorruptAlarm' });
    expect(decide(nospace(), { spec: automatic({ paused: true }) })).toMatchObject({
      kind: 'Defer',
      reason: 'Paused',
    });
  });

  it('is left to humans when disabled', () => {
    const decision = decide(nospace(), { spec: automatic({ nospaceRecovery: { enabled: false } }) });
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'NoSpaceRecoveryDisabled' });
  });
});

describe('compaction for clusters that do not compact themselves', () => {
  const busy = () => healthyCluster(3, withStatusEverywhere({ revision: '500000' }));
  const enabled = automatic({ compaction: { enabled: true, retainRevisions: 100000 } });

  it('is off unless enabled', () => {
    expect(decide(busy())).toMatchObject({ kind: 'Idle' });
  });

  it('asks whether history beyond the bound exists, then compacts to keep the bound', () => {
    expect(decide(busy(), { spec: enabled })).toMatchObject({
      kind: 'Ask',
      question: { kind: 'compaction', revision: '399999', endpoint: clientURL(0) },
    });
    const decision = decide(busy(), { spec: enabled, answers: { compactionUseful: true } });
    expect(step(decision)).toMatchObject({ action: 'Compact', reason: 'HistoryBound', revision: '400000' });
    expect(decide(busy(), { spec: enabled, answers: { compactionUseful: false } })).toMatchObject({
      kind: 'Idle',
    });
  });

  it('does nothing while history is within the bound, or right after a compaction', () => {
    const young = healthyCluster(3, withStatusEverywhere({ revision: '90000' }));
    expect(decide(young, { spec: enabled })).toMatchObject({ kind: 'Idle' });
    const state = { history: [record({ action: 'Compact', reason: 'HistoryBound', finishedAt: at(-120) })] };
    expect(decide(busy(), { spec: enabled, state })).toMatchObject({ kind: 'Idle' });
  });

  it('yields to defragmentation', () => {
    expect(
      step(
        decide(healthyCluster(3, withStatusEverywhere({ revision: '500000' }), fragmented(1)), {
          spec: enabled,
        }),
      ),
    ).toMatchObject({
      action: 'Defragment',
    });
  });

  it('runs while the members that qualify for defragmentation cool down', () => {
    const cooling = healthyCluster(3, withStatusEverywhere({ revision: '500000' }), fragmented(1));
    const state = { lastDefragByMember: { 'etcd-1': at(-60) } };
    const decision = decide(cooling, { spec: enabled, state, answers: { compactionUseful: true } });
    expect(step(decision)).toMatchObject({ action: 'Compact', reason: 'HistoryBound' });
    // Nothing to compact: the cooldown is what the status reports.
    expect(decide(cooling, { spec: enabled, state, answers: { compactionUseful: false } })).toMatchObject({
      kind: 'Defer',
      reason: 'Cooldown',
    });
  });
});

describe('a step that did not finish (operator restarted, or the call outlived its deadline)', () => {
  const running = (patch: Partial<NonNullable<RemediationStatus['current']>> = {}): RemediationStatus => ({
    current: {
      action: 'Defragment',
      member: 'etcd-1',
      phase: 'Running',
      reason: 'HighFragmentation',
      startedAt: at(-30),
      dbSizeBefore: 300 * MiB,
      ...patch,
    },
  });

  it('never starts another step while the member has not answered again', () => {
    const decision = decide(healthyCluster(3, ...allFragmented, unhealthy(1)), { state: running() });
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'AwaitingMember', inProgress: true });
  });

  it('finishes it as succeeded when the member is healthy and its DB shrank', () => {
    const decision = decide(healthyCluster(3, withStatus(1, { dbSize: 120 * MiB })), { state: running() });
    expect(decision).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Succeeded', reason: 'Verified', dbSizeAfter: 120 * MiB, member: 'etcd-1' },
    });
  });

  it('finishes it as failed when the DB did not shrink', () => {
    const decision = decide(healthyCluster(3, fragmented(1)), { state: running() });
    expect(decision).toMatchObject({ kind: 'Finish', record: { phase: 'Failed', reason: 'Interrupted' } });
  });

  it('fails it when the member does not come back within the deadline', () => {
    const decision = decide(healthyCluster(3, killed(1)), { state: running({ startedAt: at(-700) }) });
    expect(decision).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Failed', reason: 'MemberDidNotRecover' },
    });
  });

  it('finishes it whatever the mode and the kill switch say: it is bookkeeping, not an action', () => {
    const observation = healthyCluster(3, withStatus(1, { dbSize: 120 * MiB }));
    for (const spec of [automatic({ mode: 'Recommend' }), automatic({ paused: true })]) {
      expect(decide(observation, { state: running(), spec }).kind).toBe('Finish');
    }
  });

  it('verifies a leadership move by who leads now', () => {
    const state = running({ action: 'MoveLeader', member: 'etcd-0', dbSizeBefore: undefined });
    expect(
      decide(healthyCluster(3, withStatusEverywhere({ leaderId: memberId(2) })), { state }),
    ).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Succeeded' },
    });
    expect(decide(healthyCluster(3), { state })).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Failed' },
    });
  });

  it('verifies a disarm by the alarm list', () => {
    const state = running({ action: 'DisarmNoSpace', member: undefined, dbSizeBefore: undefined });
    expect(decide(healthyCluster(3), { state })).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Succeeded' },
    });
    expect(decide(healthyCluster(3, withAlarm('NOSPACE', 1)), { state })).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Failed' },
    });
  });

  it('counts an interrupted compaction as failed: it is repeated when still needed', () => {
    const state = running({ action: 'Compact', member: undefined, dbSizeBefore: undefined });
    expect(decide(healthyCluster(3), { state })).toMatchObject({
      kind: 'Finish',
      record: { phase: 'Failed', reason: 'Interrupted' },
    });
  });
});

it('plans from the observation only: the time comes from the caller', () => {
  const observation = healthyCluster(3, ...allFragmented);
  expect(decide(observation, { now: new Date(NOW.getTime() + 1) })).toEqual(
    decide(observation, { now: new Date(NOW.getTime() + 1) }),
  );
});

describe('defragmentation under quota pressure', () => {
  // Quota 100 MiB: the warning tier starts at 75 MiB, and a member qualifies when at least
  // QUOTA_RECLAIM_MIN_PERCENT (10 MiB) would be given back. None of these is fragmented enough
  // for the fragmentation rule (45% and 100 MiB).
  const nearQuota = (index: number, dbSizeMiB: number, inUseMiB: number): Change =>
    withStatus(index, { dbSize: dbSizeMiB * MiB, dbSizeInUse: inUseMiB * MiB, dbSizeQuota: 100 * MiB });

  it.each<[string, number, number, boolean]>([
    ['at the warning tier with 20 MiB to reclaim', 75, 55, true],
    ['just below the warning tier', 74.9, 54.9, false],
    ['at the critical tier', 90, 70, true],
    [`with exactly ${QUOTA_RECLAIM_MIN_PERCENT}% of the quota to reclaim`, 80, 70, true],
    [`with just under ${QUOTA_RECLAIM_MIN_PERCENT}% of the quota to reclaim`, 80, 70.01, false],
    ['with nothing to reclaim', 95, 95, false],
  ])('a member %s', (_name, dbSizeMiB, inUseMiB, qualifies) => {
    const decision = decide(healthyCluster(3, nearQuota(1, dbSizeMiB, inUseMiB)));
    if (qualifies) {
      expect(step(decision)).toMatchObject({
        action: 'Defragment',
        reason: 'QuotaPressure',
        member: { name: 'etcd-1' },
      });
      expect(step(decision).summary).toMatch(/of its quota, .* to reclaim/);
    } else {
      expect(decision).toMatchObject({ kind: 'Idle', reason: 'NothingToDo' });
    }
  });

  it('does not qualify a member whose quota is unknown', () => {
    const unknownQuota = withStatus(1, { dbSize: 90 * MiB, dbSizeInUse: 50 * MiB, dbSizeQuota: 0 });
    expect(decide(healthyCluster(3, unknownQuota))).toMatchObject({ kind: 'Idle' });
  });

  it('goes before fragmentation, the fullest member first', () => {
    const observation = healthyCluster(4, fragmented(1), nearQuota(2, 80, 60), nearQuota(3, 90, 60));
    expect(step(decide(observation))).toMatchObject({ reason: 'QuotaPressure', member: { name: 'etcd-3' } });
  });

  it('moves the leadership away before defragmenting a leader under pressure', () => {
    const decision = decide(healthyCluster(3, nearQuota(0, 90, 60)));
    expect(step(decision)).toMatchObject({ action: 'MoveLeader', reason: 'QuotaPressure' });
  });
});
