import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { V1MicroTime } from '@kubernetes/client-node';
import { LeaderElector } from '../../src/runtime/leader-election.js';
import type { LeaderCallbacks } from '../../src/runtime/leader-election.js';
import { FakeLeases } from './fake-leases.js';
import { RecordingLogger } from './helpers.js';

// Time is driven with jest's fake timers, which also drive performance.now(): the elector's clock.
beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

interface Candidate {
  elector: LeaderElector;
  started: jest.Mock<(signal: AbortSignal) => void>;
  stopped: jest.Mock<() => void>;
  newLeaders: string[];
  run: Promise<void>;
}

function candidate(identity: string, leases: FakeLeases): Candidate {
  const started = jest.fn<(signal: AbortSignal) => void>();
  const stopped = jest.fn<() => void>();
  const newLeaders: string[] = [];
  const callbacks: LeaderCallbacks = {
    onStartedLeading: started,
    onStoppedLeading: stopped,
    onNewLeader: (holder) => newLeaders.push(holder),
  };
  const elector = new LeaderElector({
    lease: leases.client(),
    identity,
    callbacks,
    log: new RecordingLogger(),
    random: () => 0.5,
  });
  return { elector, started, stopped, newLeaders, run: elector.run() };
}

const advance = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);

describe('LeaderElector', () => {
  it('creates a missing lease with MicroTime times and starts leading', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);

    expect(a.elector.isLeader()).toBe(true);
    expect(a.started).toHaveBeenCalledTimes(1);
    expect(a.newLeaders).toEqual(['a']);
    const spec = leases.written[0]!;
    expect(spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(spec.renewTime).toBeInstanceOf(V1MicroTime);
    expect(spec.acquireTime).toBeInstanceOf(V1MicroTime);
    // The apiserver parses MicroTime with 6 fraction digits; a plain Date would send 3.
    expect(JSON.stringify(spec.renewTime)).toMatch(/\.\d{6}Z"$/);
    await a.elector.stop();
  });

  it('renews every retryPeriod and keeps its acquireTime', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);
    await advance(2_000);
    await advance(2_000);

    expect(leases.written).toHaveLength(3);
    const [first, , third] = leases.written;
    expect(third!.acquireTime!.getTime()).toBe(first!.acquireTime!.getTime());
    expect(third!.renewTime!.getTime()).toBe(first!.renewTime!.getTime() + 4_000);
    expect(third!.holderIdentity).toBe('a');
    await a.elector.stop();
  });

  it.each([
    ['long past', '2000-01-01T00:00:00.000000Z'],
    ['far future', '2100-01-01T00:00:00.000000Z'],
  ])(
    'waits a full leaseDuration from its own observation, even when renewTime is in the %s (clock skew)',
    async (_when, renewTime) => {
      const leases = new FakeLeases();
      leases.seed({
        holderIdentity: 'other',
        leaseDurationSeconds: 15,
        renewTime,
        acquireTime: renewTime,
        leaseTransitions: 4,
      });
      const b = candidate('b', leases);

      await advance(14_000);
      expect(b.elector.isLeader()).toBe(false);
      expect(b.newLeaders).toEqual(['other']);

      // Expired at 15s by b's clock; b retries every 2s·(1 + 0.5·1.2) = 3.2s.
      await advance(4_000);
      expect(b.elector.isLeader()).toBe(true);
      expect(leases.stored?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
      expect(b.newLeaders).toEqual(['other', 'b']);
      await b.elector.stop();
    },
  );

  it('a candidate stays out while the leader renews, and takes over once renewals stop', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);
    const b = candidate('b', leases);

    await advance(60_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(leases.holder()).toBe('a');

    await a.elector.stop();
    await advance(20_000);

    expect(b.elector.isLeader()).toBe(true);
    expect(leases.holder()).toBe('b');
    expect(a.stopped).not.toHaveBeenCalled();
    expect(b.newLeaders).toEqual(['a', 'b']);
    await b.elector.stop();
  });

  it('gives up leadership when renewals fail for renewDeadline, and says so once', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);
    const leadingSignal = a.started.mock.calls[0]![0];

    leases.unavailable = true;
    // The failing renewal round starts at 2s; its deadline is 10s later.
    await advance(11_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.stopped).not.toHaveBeenCalled();

    await advance(2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(leadingSignal.aborted).toBe(true);
    expect(a.stopped).toHaveBeenCalledTimes(1);
    await a.run;
  });

  it('stops leading at once when a renewal finds another holder, without retrying for renewDeadline', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);
    const leadingSignal = a.started.mock.calls[0]![0];

    // Another replica took the lease over (as after a freeze longer than the lease).
    leases.seed({ holderIdentity: 'b', leaseDurationSeconds: 15, leaseTransitions: 1 });
    await advance(2_000);

    expect(a.elector.isLeader()).toBe(false);
    expect(leadingSignal.aborted).toBe(true);
    expect(a.stopped).toHaveBeenCalledTimes(1);
    expect(leases.holder()).toBe('b');
    await a.run;
  });

  it('is no leader once leaseDuration passed since its last renewal, before its loop runs again', async () => {
    // A frozen process: its clock jumps, its timers have not fired yet.
    let frozenMs = 0;
    const leases = new FakeLeases();
    const started = jest.fn<(signal: AbortSignal) => void>();
    const elector = new LeaderElector({
      lease: leases.client(),
      identity: 'a',
      callbacks: { onStartedLeading: started, onStoppedLeading: jest.fn() },
      log: new RecordingLogger(),
      clock: { now: () => performance.now() + frozenMs },
    });
    const run = elector.run();
    await advance(0);
    expect(elector.isLeader()).toBe(true);

    frozenMs = 14_999;
    expect(elector.isLeader()).toBe(true);
    frozenMs = 15_000;
    expect(elector.isLeader()).toBe(false);
    expect(started.mock.calls[0]![0].aborted).toBe(false);

    // Nobody took the lease over meanwhile: the next renewal succeeds and it leads again.
    await advance(2_000);
    expect(elector.isLeader()).toBe(true);
    expect(leases.holder()).toBe('a');
    await elector.stop();
    await run;
  });

  it('loses a write race with 409 Conflict and wins on a later attempt', async () => {
    const leases = new FakeLeases();
    leases.seed({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 });
    leases.conflictsToInject = 1;
    const a = candidate('a', leases);

    await advance(0);
    expect(a.elector.isLeader()).toBe(false);
    await advance(4_000);

    expect(a.elector.isLeader()).toBe(true);
    expect(leases.stored?.spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 3 });
    await a.elector.stop();
  });

  it('release() empties the holder with a 1s duration, so another candidate takes over at once', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);
    const b = candidate('b', leases);
    await advance(0);

    expect(await a.elector.release()).toBe(true);
    expect(leases.stored?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(a.elector.isLeader()).toBe(false);
    expect(a.stopped).not.toHaveBeenCalled();

    // One retry period, far less than the 15s lease the released holder had.
    await advance(4_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(leases.stored?.spec?.leaseTransitions).toBe(1);
    await b.elector.stop();
  });

  it('release() re-reads after a 409 and still releases a lease that is ours', async () => {
    const leases = new FakeLeases();
    const a = candidate('a', leases);
    await advance(0);
    leases.conflictsToInject = 1;

    expect(await a.elector.release()).toBe(true);
    expect(leases.stored?.spec?.holderIdentity).toBe('');
  });

  it('release() by a non-leader writes nothing', async () => {
    const leases = new FakeLeases();
    leases.seed({ holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const b = candidate('b', leases);
    await advance(0);

    expect(await b.elector.release()).toBe(true);
    expect(leases.written).toHaveLength(0);
    expect(leases.holder()).toBe('other');
  });

  it('rejects timings that client-go rejects', () => {
    const base = { lease: new FakeLeases().client(), identity: 'a', log: new RecordingLogger() };
    const callbacks = { onStartedLeading: () => {}, onStoppedLeading: () => {} };
    expect(
      () => new LeaderElector({ ...base, callbacks, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
    ).toThrow(/leaseDurationMs must be greater/);
    expect(
      () => new LeaderElector({ ...base, callbacks, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    ).toThrow(/renewDeadlineMs must be greater/);
    expect(() => new LeaderElector({ ...base, callbacks, identity: '' })).toThrow(/identity/);
  });
});
