// The remediator with its edges replaced by recorders: a status store with real optimistic
// concurrency (resourceVersion preconditions), and a spy executor. Proves the order "lock in the
// API, then etcd, then the outcome in the API", that mode Recommend never reaches the executor,
// and that an interrupted step is verified instead of repeated.
import { describe, expect, it, jest } from '@jest/globals';
import { pino } from 'pino';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/resource.js';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import { EtcdHealthCheckReconciler } from '../../src/controller/reconciler.js';
import { analyze, assess } from '../../src/health/analyze.js';
import { remediationConditions } from '../../src/health/conditions.js';
import type { Observation } from '../../src/health/observation.js';
import type { ExecResult, ReadResult, RemediationExecutor } from '../../src/remediation/executor.js';
import {
  Remediator,
  type RemediationMetrics,
  type RemediationOutcome,
} from '../../src/remediation/remediator.js';
import {
  fenced,
  type ObjectKey,
  type PatchOutcome,
  type StatusPatch,
  type StatusStore,
} from '../../src/remediation/status-store.js';
import {
  MiB,
  clientURL,
  healthyCluster,
  killed,
  memberId,
  specWith,
  unhealthy,
  withAlarm,
  withStatus,
  withStatusEverywhere,
  type Change,
} from '../health/fixtures.js';
import { NOW, automatic, fragmented, type RemediationInputSpec } from './support.js';

const log = pino({ level: 'silent' });

class FakeStore implements StatusStore {
  readonly writes: StatusPatch[] = [];
  conflicts = 0;
  private version = 1;

  constructor(
    private readonly timeline: string[],
    public object: EtcdHealthCheck,
  ) {
    object.metadata.resourceVersion = '1';
  }

  patch(_key: ObjectKey, resourceVersion: string | undefined, patch: StatusPatch): Promise<PatchOutcome> {
    this.timeline.push(`patch ${patch.remediation?.current ? patch.remediation.current.phase : 'done'}`);
    if (this.conflicts > 0 || resourceVersion !== String(this.version)) {
      this.conflicts = Math.max(0, this.conflicts - 1);
      return Promise.resolve({ ok: false, conflict: true });
    }
    this.writes.push(structuredClone(patch));
    const remediation = { ...patch.remediation } as Record<string, unknown>;
    if (remediation.current === null) delete remediation.current;
    this.object = {
      ...this.object,
      metadata: { ...this.object.metadata, resourceVersion: String(++this.version) },
      status: {
        ...this.object.status,
        remediation,
        ...(patch.conditions ? { conditions: patch.conditions } : {}),
      },
    };
    return Promise.resolve({ ok: true, resourceVersion: String(this.version) });
  }

  get(): Promise<EtcdHealthCheck | undefined> {
    return Promise.resolve(structuredClone(this.object));
  }

  /** Someone else writes the object (the spec, another replica). */
  touch(status?: EtcdHealthCheckStatus): void {
    this.object = {
      ...this.object,
      metadata: { ...this.object.metadata, resourceVersion: String(++this.version) },
      ...(status ? { status } : {}),
    };
  }
}

type Answers = Partial<{
  defragment: ExecResult;
  moveLeader: ExecResult;
  compact: ExecResult;
  disarmNoSpace: ExecResult;
  verifyWrite: ExecResult;
  dbSize: ReadResult<number>;
  revisionAvailable: ReadResult<boolean>;
  quotaBytes: ReadResult<number>;
}>;

const OK: ExecResult = { ok: true, tookMs: 40 };

function spyExecutor(timeline: string[], answers: () => Answers) {
  const calls: string[] = [];
  /** The calls that were handed an AbortSignal, by name. */
  const signalled: string[] = [];
  const answer =
    <K extends keyof Answers>(name: K, fallback: NonNullable<Answers[K]>) =>
    (...args: unknown[]) => {
      if (args.some((arg) => arg instanceof AbortSignal)) signalled.push(name);
      const shown = args.filter((arg) => arg !== undefined && !(arg instanceof AbortSignal));
      const entry = `${name} ${shown.map(String).join(' ')}`.trim();
      calls.push(entry);
      timeline.push(entry);
      return Promise.resolve(answers()[name] ?? fallback);
    };
  const executor: RemediationExecutor = {
    defragment: jest.fn(answer('defragment', OK)),
    moveLeader: jest.fn(answer('moveLeader', OK)),
    compact: jest.fn(answer('compact', { ok: true, tookMs: 40, detail: 'compacted to revision 950' })),
    disarmNoSpace: jest.fn(answer('disarmNoSpace', OK)),
    verifyWrite: jest.fn(answer('verifyWrite', OK)),
    dbSize: jest.fn(answer('dbSize', { ok: true, value: 20 * MiB })),
    revisionAvailable: jest.fn(answer('revisionAvailable', { ok: true, value: true })),
    quotaBytes: jest.fn(answer('quotaBytes', { ok: true, value: 8 * 2 ** 30 })),
    close: jest.fn(),
  };
  return { executor, calls, signalled };
}

function checkObject(spec: ReturnType<typeof specWith>): EtcdHealthCheck {
  return {
    apiVersion: 'etcdhealth.io/v1alpha1',
    kind: 'EtcdHealthCheck',
    metadata: { name: 'etcd', namespace: 'ops', generation: 1 },
    spec,
  };
}

/** A remediator on a store and a spy executor, with a clock the test moves. */
function harness(
  remediation: RemediationInputSpec = {},
  options: {
    state?: EtcdHealthCheckStatus['remediation'];
    /** Whether this replica holds the leader Lease; the store is fenced on it when given. */
    leading?: () => boolean;
  } = {},
) {
  const timeline: string[] = [];
  let answers: Answers = {};
  const spy = spyExecutor(timeline, () => answers);
  const executorFor = jest.fn(() => spy.executor);
  let spec = automatic({ settleTime: '10s', ...remediation });
  const store = new FakeStore(timeline, {
    ...checkObject(spec),
    ...(options.state ? { status: { remediation: options.state } } : {}),
  });
  const events: { type: string; reason: string; note: string; action?: string }[] = [];
  const metrics = {
    steps: [] as string[],
    deferred: [] as string[],
    running: [] as boolean[],
  };
  const metricsSink: RemediationMetrics = {
    step: (action, result) => metrics.steps.push(`${action}/${result}`),
    deferred: (reason) => metrics.deferred.push(reason),
    inProgress: (_ns, _name, running) => metrics.running.push(running),
  };
  let now = NOW;
  const make = () =>
    new Remediator({
      executorFor,
      store: options.leading ? fenced(store, options.leading) : store,
      events: {
        record: (_o, type, reason, note, action) => events.push({ type, reason, note, action }),
      },
      metrics: metricsSink,
      clock: () => now,
    });
  let remediator = make();
  return {
    timeline,
    store,
    events,
    metrics,
    executorFor,
    calls: spy.calls,
    signalled: spy.signalled,
    answer(next: Answers) {
      answers = next;
    },
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
    setSpec(next: RemediationInputSpec) {
      spec = automatic({ settleTime: '10s', ...next });
    },
    /** A fresh process: nothing in memory, only what the status says. */
    restart() {
      remediator = make();
    },
    /** One reconcile on an up-to-date cache (the store's object). */
    reconcile(
      observation: Observation,
      object: EtcdHealthCheck = store.object,
      signal?: AbortSignal,
    ): Promise<RemediationOutcome> {
      const current = { ...structuredClone(object), spec };
      const stamped = { ...observation, time: now };
      return remediator.reconcile({
        object: current,
        spec,
        assessment: assess(stamped, spec),
        etcdCredentials: undefined,
        log,
        ...(signal ? { signal } : {}),
      });
    },
  };
}

const fragmentedCluster = (...changes: Change[]) =>
  healthyCluster(3, fragmented(0), fragmented(1), fragmented(2), ...changes);

describe('mode Recommend', () => {
  it('never obtains an executor and never writes, whatever qualifies', async () => {
    const h = harness({ mode: 'Recommend', compaction: { enabled: true } });
    const everything = fragmentedCluster(
      withAlarm('NOSPACE', 1),
      withStatusEverywhere({ revision: '900000' }),
    );
    for (let i = 0; i < 3; i++) {
      const outcome = await h.reconcile(everything);
      expect(outcome.run).toBeUndefined();
      h.advance(60);
    }
    expect(h.executorFor).not.toHaveBeenCalled();
    expect(h.store.writes).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('never reaches the executor through the reconciler either', async () => {
    const executorFor = jest.fn<() => RemediationExecutor>();
    const patch = jest.fn<StatusStore['patch']>();
    const spec = specWith({
      remediation: { mode: 'Recommend' },
      thresholds: { fragmentation: { minDatabaseSize: '1Mi' } },
    });
    let stored: EtcdHealthCheck = checkObject(spec);
    const written: EtcdHealthCheckStatus[] = [];
    const reconciler = new EtcdHealthCheckReconciler({
      get: () => stored,
      configReader: {
        secretData: () => Promise.resolve(undefined),
        configMapData: () => Promise.resolve(undefined),
      },
      observe: () => Promise.resolve(fragmentedCluster(withAlarm('NOSPACE', 2))),
      status: {
        patch: (_key, _resourceVersion, status) => {
          written.push(status as EtcdHealthCheckStatus);
          stored = { ...stored, status: { ...stored.status, ...(status as EtcdHealthCheckStatus) } };
          return Promise.resolve({ ok: true, resourceVersion: String(written.length + 1) });
        },
      },
      events: { record: () => undefined },
      policy: { relativeTolerance: 0.1, heartbeatMs: 300_000 },
      remediator: new Remediator({
        executorFor,
        store: { patch, get: jest.fn<StatusStore['get']>() },
        events: { record: () => undefined },
      }),
    });
    await reconciler.reconcile('ops/etcd', log);
    await reconciler.reconcile('ops/etcd', log);
    expect(executorFor).not.toHaveBeenCalled();
    expect(patch).not.toHaveBeenCalled();
    // The first write is the Reconciling mark (kstatus); the check's own write carries the verdict.
    const checked = written.find((status) => status.recommendations !== undefined);
    const progressing = checked?.conditions?.find((c) => c.type === 'RemediationProgressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'RecommendOnly' });
    // The fragmentation is folded into the NOSPACE recovery, which defragments every member.
    expect(checked?.recommendations?.map((r) => r.type)).toEqual(
      expect.arrayContaining(['RecoverFromNoSpace']),
    );
    expect(checked?.recommendations?.[0]?.message).toMatch(/This also settles Defragment on /);
  });
});

describe('one step', () => {
  it('takes the lock in the API before calling etcd, then records the outcome', async () => {
    const h = harness();
    const outcome = await h.reconcile(fragmentedCluster());
    expect(h.timeline).toEqual([
      'patch Running',
      `defragment ${clientURL(1)}`,
      `dbSize ${clientURL(1)}`,
      'patch done',
    ]);
    const lock = h.store.writes[0]!;
    expect(lock.remediation?.current).toMatchObject({
      action: 'Defragment',
      member: 'etcd-1',
      phase: 'Running',
      startedAt: NOW.toISOString(),
      dbSizeBefore: 300 * MiB,
    });
    // The lock write shows Progressing at once, while the defragmentation runs.
    expect(lock.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True' });
    const stored = h.store.object.status!.remediation!;
    expect(stored.current).toBeUndefined();
    expect(stored.history).toEqual([
      expect.objectContaining({
        action: 'Defragment',
        member: 'etcd-1',
        phase: 'Succeeded',
        dbSizeAfter: 20 * MiB,
      }),
    ]);
    expect(stored.lastDefragByMember).toEqual({ 'etcd-1': NOW.toISOString() });
    expect(stored.consecutiveFailures).toBe(0);
    expect(outcome).toMatchObject({ status: stored, run: { inProgress: true }, requeueAfterMs: 10_500 });
    expect(h.events.map((e) => e.reason)).toEqual(['DefragmentAttempt', 'DefragmentSucceeded']);
    expect(h.events.map((e) => e.action)).toEqual(['Defragment', 'Defragment']);
    expect(h.events[1]!.note).toMatch(/^Defragmented etcd-1 in 40ms: DB 300 MiB -> 20.0 MiB$/);
    expect(h.metrics.steps).toEqual(['Defragment/success']);
  });

  it("hands the reconcile's signal to the reads, never to the step itself", async () => {
    const h = harness();
    await h.reconcile(fragmentedCluster(), h.store.object, new AbortController().signal);
    expect(h.calls).toEqual([`defragment ${clientURL(1)}`, `dbSize ${clientURL(1)}`]);
    expect(h.signalled).toEqual(['dbSize']);
  });

  it('sends nothing to etcd when the lock write conflicts (someone else acted, or the spec changed)', async () => {
    const h = harness();
    const cached = structuredClone(h.store.object);
    h.store.touch(); // e.g. paused was just set: the cache is behind
    h.store.object.metadata.generation = 2;
    const outcome = await h.reconcile(fragmentedCluster(), cached);
    expect(outcome.conflict).toMatch(/^ops\/etcd changed since it was read; not starting: defragment etcd-1/);
    expect(outcome.conditions).toEqual([]);
    expect(h.calls).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('writes the lock on the fresh version when only the condition of another writer changed, and keeps that condition', async () => {
    const h = harness();
    const cached = structuredClone(h.store.object);
    const foreign = {
      type: 'ExternalAudit',
      status: 'True' as const,
      reason: 'Audited',
      message: 'pass 7',
      lastTransitionTime: NOW.toISOString(),
      observedGeneration: 1,
    };
    h.store.touch({ ...h.store.object.status, conditions: [foreign] }); // same spec, same remediation
    const outcome = await h.reconcile(fragmentedCluster(), cached);
    expect(outcome.conflict).toBeUndefined();
    expect(h.calls[0]).toBe(`defragment ${clientURL(1)}`);
    expect(h.store.writes[0]!.conditions).toEqual(expect.arrayContaining([foreign]));
    expect(h.store.object.status?.remediation?.history).toHaveLength(1);
  });

  it('keeps the outcome when the result write meets a concurrent write, as long as the lock is ours', async () => {
    const h = harness();
    h.answer({ defragment: OK });
    const original = h.store.patch.bind(h.store);
    let writes = 0;
    h.store.patch = (key, version, patch) => {
      if (++writes === 2) h.store.touch(h.store.object.status); // the reconciler's own status write
      return original(key, version, patch);
    };
    await h.reconcile(fragmentedCluster());
    expect(h.store.object.status?.remediation?.history).toHaveLength(1);
    expect(h.store.object.status?.remediation?.current).toBeUndefined();
  });

  it('does not overwrite the story when another replica finished the step meanwhile', async () => {
    const h = harness();
    const original = h.store.patch.bind(h.store);
    let writes = 0;
    const theirs = {
      history: [
        { action: 'Defragment' as const, member: 'etcd-1', phase: 'Succeeded' as const, startedAt: 'x' },
      ],
    };
    h.store.patch = (key, version, patch) => {
      if (++writes === 2) h.store.touch({ remediation: theirs });
      return original(key, version, patch);
    };
    const outcome = await h.reconcile(fragmentedCluster());
    expect(outcome.status).toEqual(theirs);
    expect(h.store.object.status?.remediation).toEqual(theirs);
    // Their record, their Event: no second DefragmentSucceeded for the same step.
    expect(h.events.map((e) => e.reason)).toEqual(['DefragmentAttempt']);
    expect(h.metrics.steps).toEqual([]);
  });
});

describe('a watch cache behind our own writes', () => {
  it('can neither repeat a step nor lose history: a write from it conflicts and is a requeue', async () => {
    const h = harness();
    const stale = structuredClone(h.store.object);
    await h.reconcile(fragmentedCluster());
    h.advance(11);
    // The stale cache shows no history, so the plan picks etcd-1 again: its lock write conflicts.
    const repeated = await h.reconcile(fragmentedCluster(), stale);
    expect(repeated.conflict).toContain('not starting: defragment etcd-1');
    // A deferral from it writes nothing at all: status.remediation has one writer, the remediator.
    const writes = h.store.writes.length;
    const deferred = await h.reconcile(fragmentedCluster(killed(2)), stale);
    expect(deferred.conflict).toBeUndefined();
    expect(h.store.writes).toHaveLength(writes);
    await h.reconcile(fragmentedCluster());
    expect(h.calls.filter((c) => c.startsWith('defragment'))).toEqual([
      `defragment ${clientURL(1)}`,
      `defragment ${clientURL(2)}`,
    ]);
    expect(h.store.object.status?.remediation?.history).toHaveLength(2);
  });
});

describe('a step whose outcome is unknown', () => {
  it('keeps the lock, then verifies the member instead of starting another defragmentation', async () => {
    const h = harness();
    h.answer({
      defragment: {
        ok: false,
        tookMs: 300_000,
        error: 'defragment: no answer within 300000ms',
        ambiguous: true,
      },
    });
    const first = await h.reconcile(fragmentedCluster());
    expect(h.store.object.status?.remediation?.current).toMatchObject({ phase: 'Running', member: 'etcd-1' });
    expect(first.run).toMatchObject({ inProgress: true });
    expect(h.events.map((e) => e.reason)).toEqual(['DefragmentAttempt', 'DefragmentUnconfirmed']);

    h.restart(); // also across a restart: only the status counts
    h.advance(30);
    const waiting = await h.reconcile(fragmentedCluster(unhealthy(1)));
    expect(waiting.run).toMatchObject({
      inProgress: true,
      message: expect.stringContaining('waiting for etcd-1'),
    });
    h.advance(30);
    const finished = await h.reconcile(
      fragmentedCluster(withStatus(1, { dbSize: 30 * MiB, dbSizeInUse: 29 * MiB })),
    );
    expect(h.calls.filter((c) => c.startsWith('defragment'))).toHaveLength(1);
    expect(finished.status?.history?.at(-1)).toMatchObject({
      phase: 'Succeeded',
      reason: 'Verified',
      dbSizeAfter: 30 * MiB,
    });
    expect(finished.status?.lastDefragByMember?.['etcd-1']).toBe(
      new Date(NOW.getTime() + 60_000).toISOString(),
    );
    expect(h.events.at(-1)).toMatchObject({ type: 'Normal', reason: 'DefragmentSucceeded' });
  });
});

describe('failures', () => {
  it('stops after three consecutive failures with a degraded message, and pausing resets the count', async () => {
    const h = harness();
    h.answer({
      defragment: {
        ok: false,
        tookMs: 3,
        error: 'defragment: 7 PERMISSION_DENIED: permission denied',
        ambiguous: false,
      },
    });
    for (let i = 0; i < 3; i++) {
      await h.reconcile(fragmentedCluster());
      h.advance(11);
    }
    expect(h.store.object.status?.remediation?.consecutiveFailures).toBe(3);
    const stopped = await h.reconcile(fragmentedCluster());
    expect(stopped.run).toMatchObject({
      inProgress: false,
      degradedMessage: expect.stringContaining('3 consecutive failed steps'),
    });
    expect(h.calls.filter((c) => c.startsWith('defragment'))).toHaveLength(3);
    expect(h.events.filter((e) => e.reason === 'DefragmentFailed')).toHaveLength(3);
    expect(h.events.at(-1)).toMatchObject({
      type: 'Warning',
      reason: 'TooManyFailures',
      action: 'Remediate',
    });

    const analysis = analyze({
      observation: fragmentedCluster(),
      spec: automatic(),
      previousConditions: [],
      generation: 1,
      remediation: remediationConditions(automatic(), stopped.run),
    });
    expect(analysis.conditions.find((c) => c.type === 'RemediationDegraded')).toMatchObject({
      status: 'True',
      reason: 'RemediationFailed',
    });

    h.setSpec({ paused: true });
    const paused = await h.reconcile(fragmentedCluster());
    expect(h.store.object.status?.remediation?.consecutiveFailures).toBe(0);
    expect(paused.run).toEqual({ inProgress: false });
    h.setSpec({});
    h.answer({});
    await h.reconcile(fragmentedCluster());
    expect(h.calls.filter((c) => c.startsWith('defragment'))).toHaveLength(4);
  });
});

describe('deferrals', () => {
  it('are reported once per change, as Events and metrics', async () => {
    const h = harness();
    await h.reconcile(fragmentedCluster(killed(2)));
    await h.reconcile(fragmentedCluster(killed(2)));
    await h.reconcile(fragmentedCluster(withAlarm('CORRUPT', 0)));
    expect(h.events.map((e) => `${e.type}/${e.reason}`)).toEqual([
      'Warning/ClusterUnhealthy',
      'Warning/CorruptAlarm',
    ]);
    expect(h.metrics.deferred).toEqual(['ClusterUnhealthy', 'CorruptAlarm']);
    expect(h.calls).toEqual([]);
    expect(h.store.writes).toEqual([]);
  });

  it('tell the analysis why nothing happens', async () => {
    const h = harness();
    const outcome = await h.reconcile(fragmentedCluster(killed(2)));
    expect(outcome.run).toEqual({
      inProgress: false,
      blockedReason: expect.stringMatching(/etcd-2 is unreachable.*\(ClusterUnhealthy\)$/),
    });
    expect(h.metrics.running).toEqual([false]);
  });

  it('dry run: says what it would do once, calls nothing', async () => {
    const h = harness({ dryRun: true });
    await h.reconcile(fragmentedCluster());
    const outcome = await h.reconcile(fragmentedCluster());
    expect(h.calls).toEqual([]);
    expect(h.store.writes).toEqual([]);
    expect(h.events.map((e) => e.reason)).toEqual(['DefragmentDryRun']);
    expect(outcome.run).toMatchObject({
      inProgress: false,
      blockedReason: expect.stringContaining('would defragment etcd-1'),
    });
  });
});

describe('NOSPACE recovery', () => {
  it('runs compact, defragment each member leader last, disarm and verify, one step per reconcile', async () => {
    const h = harness({ settleTime: '5s' });
    const sizes: Record<number, number> = { 0: 300 * MiB, 1: 300 * MiB, 2: 300 * MiB };
    let leader = 0;
    const observe = () =>
      healthyCluster(
        3,
        withAlarm('NOSPACE', 0),
        withStatusEverywhere({ leaderId: memberId(leader), revision: '950' }),
        ...[0, 1, 2].map((i) => withStatus(i, { dbSize: sizes[i]!, dbSizeInUse: 10 * MiB })),
      );
    const actions: string[] = [];
    for (let i = 0; i < 8 && !h.calls.some((c) => c.startsWith('verifyWrite')); i++) {
      const before = h.calls.length;
      await h.reconcile(observe());
      for (const call of h.calls.slice(before)) {
        actions.push(call.split(' ')[0]!);
        const match = /^defragment https:\/\/127\.0\.0\.(\d+):2379$/.exec(call);
        if (match) sizes[Number(match[1]) - 1] = 20 * MiB;
        if (call.startsWith('moveLeader')) leader = 1;
      }
      h.advance(6);
    }
    expect(actions).toEqual([
      'compact',
      'defragment',
      'dbSize',
      'defragment',
      'dbSize',
      'moveLeader',
      'defragment',
      'dbSize',
      'disarmNoSpace',
      'verifyWrite',
    ]);
    expect(h.calls[0]).toBe(`compact ${clientURL(0)} 950`);
    const history = h.store.object.status!.remediation!.history!;
    expect(history.map((r) => `${r.action}${r.member ? ` ${r.member}` : ''} ${r.phase}`)).toEqual([
      'Compact Succeeded',
      'Defragment etcd-1 Succeeded',
      'Defragment etcd-2 Succeeded',
      'MoveLeader etcd-0 Succeeded',
      'Defragment etcd-0 Succeeded',
      'DisarmNoSpace Succeeded',
      'VerifyWrite Succeeded',
    ]);
    expect(h.calls).toContain(`disarmNoSpace ${clientURL(1)} ${memberId(0)}`);
  });
});

describe('a restarted process', () => {
  it('finds the lock of the dead one and finishes it before doing anything else', async () => {
    const running = {
      current: {
        action: 'Defragment' as const,
        member: 'etcd-1',
        phase: 'Running' as const,
        reason: 'HighFragmentation',
        startedAt: new Date(NOW.getTime() - 20_000).toISOString(),
        dbSizeBefore: 300 * MiB,
      },
    };
    const h = harness({}, { state: running });
    const outcome = await h.reconcile(
      fragmentedCluster(withStatus(1, { dbSize: 20 * MiB, dbSizeInUse: 19 * MiB })),
    );
    expect(h.executorFor).not.toHaveBeenCalled();
    expect(outcome.status?.current).toBeUndefined();
    expect(outcome.status?.history?.[0]).toMatchObject({ phase: 'Succeeded', reason: 'Verified' });
    // The next step waits for the settle time, counted from when the record was finished.
    const next = await h.reconcile(
      fragmentedCluster(withStatus(1, { dbSize: 20 * MiB, dbSizeInUse: 19 * MiB })),
    );
    expect(next.run).toMatchObject({
      inProgress: true,
      message: expect.stringContaining('settling until'),
    });
    expect(h.calls).toEqual([]);
  });
});

describe('a replica that lost its Lease (frozen past it, another replica leads now)', () => {
  it('writes nothing and sends nothing to etcd', async () => {
    const h = harness({}, { leading: () => false });
    const outcome = await h.reconcile(fragmentedCluster());
    expect(outcome.conflict).toMatch(
      /^this replica no longer holds the leader Lease; not starting: defragment etcd-1 /,
    );
    expect(h.timeline).toEqual([]);
    expect(h.store.writes).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('mid-step: records and announces nothing, and the lock stays for the leader to verify', async () => {
    const h = harness({}, { leading: () => !h.calls.some((call) => call.startsWith('defragment')) });
    const outcome = await h.reconcile(fragmentedCluster());
    expect(h.timeline).toEqual(['patch Running', `defragment ${clientURL(1)}`, `dbSize ${clientURL(1)}`]);
    expect(outcome.conflict).toMatch(
      /^this replica no longer holds the leader Lease; not recording Defragmented etcd-1 in 40ms/,
    );
    const lock = h.store.object.status!.remediation!;
    expect(lock.current).toMatchObject({ action: 'Defragment', member: 'etcd-1', phase: 'Running' });
    expect(lock.history).toBeUndefined();
    expect(h.events.map((e) => e.reason)).toEqual(['DefragmentAttempt']);
    expect(h.metrics.steps).toEqual([]);

    // The leader (a fresh remediator on the same status) verifies the member: one record, one Event.
    const leader = harness({}, { state: lock });
    const verified = await leader.reconcile(
      fragmentedCluster(withStatus(1, { dbSize: 20 * MiB, dbSizeInUse: 19 * MiB })),
    );
    expect(leader.calls).toEqual([]);
    expect(verified.status?.history).toEqual([
      expect.objectContaining({ member: 'etcd-1', phase: 'Succeeded', reason: 'Verified' }),
    ]);
    expect(leader.events.map((e) => e.reason)).toEqual(['DefragmentSucceeded']);
  });
});
