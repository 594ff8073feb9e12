// Lease-based leader election with client-go's semantics (tools/leaderelection/leaderelection.go):
//  - expiry is judged only by the LOCAL time at which we last saw the lease record change, never
//    by the renewTime written by another node, so clock skew between nodes does not matter;
//  - writes carry the resourceVersion we last read, so a lost race is a 409 and we retry;
//  - a leader that cannot renew within renewDeadline stops leading (and the process should exit,
//    as controller-runtime does on "leader election lost").
// Two additions against split brain, for a leader that was frozen (SIGSTOP, a paused VM, a long GC)
// while another replica took over:
//  - isLeader() turns false as soon as leaseDuration has passed, on our own clock, since the last
//    renewal we sent: from then on another replica may hold the lease, whatever our loop thinks;
//  - a renewal that finds another holder in the lease stops leading at once, instead of retrying
//    for renewDeadline with the lease in someone else's hands.
import { V1MicroTime } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { sleep, systemClock, withDeadline } from './clock.js';
import type { Clock, Random } from './clock.js';
import { describeError, isConflict, isNotFound } from './k8s-errors.js';
import type { Logger } from './logger.js';
import { withSignal } from './request-options.js';

/** The three Lease calls the elector makes; a fake in tests, `leaseClient()` in production. */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<V1Lease | undefined>;
  create(spec: V1LeaseSpec, signal: AbortSignal): Promise<V1Lease>;
  /** Writes `spec` over `current`; must fail with 409 Conflict if current's resourceVersion is stale. */
  update(current: V1Lease, spec: V1LeaseSpec, signal: AbortSignal): Promise<V1Lease>;
}

/** A LeaseClient for coordination.k8s.io/v1 Lease `namespace/name`. */
export function leaseClient(api: CoordinationV1Api, namespace: string, name: string): LeaseClient {
  return {
    async get(signal) {
      try {
        return await api.readNamespacedLease({ name, namespace }, withSignal(signal));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: (spec, signal) =>
      api.createNamespacedLease(
        { namespace, body: { metadata: { name, namespace }, spec } },
        withSignal(signal),
      ),
    // A PUT of the object we read: its metadata.resourceVersion makes the write optimistic.
    update: (current, spec, signal) =>
      api.replaceNamespacedLease({ name, namespace, body: { ...current, spec } }, withSignal(signal)),
  };
}

export interface LeaderCallbacks {
  /** We lead now; `signal` aborts when we stop leading for any reason. */
  onStartedLeading(signal: AbortSignal): void;
  /**
   * Leadership was lost (renewal failed for renewDeadline, or another holder took the lease).
   * Not called after stop() or release(). Treat it as fatal: exit the process.
   */
  onStoppedLeading(): void;
  /** Another (or this) identity was observed as the holder. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionOptions {
  lease: LeaseClient;
  /** Unique per replica, usually the pod name. */
  identity: string;
  callbacks: LeaderCallbacks;
  log: Logger;
  /** How long a lease is valid after it was last seen to change (controller-runtime default 15s). */
  leaseDurationMs?: number;
  /** How long a leader keeps retrying a failed renewal before giving up (default 10s). */
  renewDeadlineMs?: number;
  /** Time between attempts (default 2s). */
  retryPeriodMs?: number;
  clock?: Clock;
  random?: Random;
}

// client-go leaderelection.JitterFactor: candidates retry every retryPeriod·[1, 2.2).
const JITTER_FACTOR = 1.2;
const RELEASE_ATTEMPTS = 3;

export class LeaderElector {
  private readonly lease: LeaseClient;
  private readonly identity: string;
  private readonly callbacks: LeaderCallbacks;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private leading: AbortController | undefined;
  /** The Lease as last read or written, with the resourceVersion for the next write. */
  private observedLease: V1Lease | undefined;
  private observedSpecJson = '';
  /** Local clock time at which the lease record last changed. */
  private observedAt = 0;
  /** Local clock time at which the last successful write of ours (create or renewal) was sent. */
  private renewedAt = -Infinity;
  private reportedLeader = '';

  constructor(options: LeaderElectionOptions) {
    this.lease = options.lease;
    this.identity = options.identity;
    this.callbacks = options.callbacks;
    this.log = options.log;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    // The same checks as client-go NewLeaderElector.
    if (this.identity === '') throw new Error('leader election identity must not be empty');
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      throw new Error('leaseDurationMs must be greater than renewDeadlineMs');
    }
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new Error(`renewDeadlineMs must be greater than ${JITTER_FACTOR} × retryPeriodMs`);
    }
    if (this.retryPeriodMs < 1) throw new Error('retryPeriodMs must be positive');
  }

  /** Campaigns, then renews while leading. Resolves when leadership is lost or stop() is called. */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /**
   * Whether this replica may act as the leader now: it leads, and its last renewal was sent less
   * than leaseDuration ago (later, another replica may already have taken the lease over).
   */
  isLeader(): boolean {
    return (
      this.leading !== undefined &&
      !this.leading.signal.aborted &&
      this.clock.now() - this.renewedAt < this.leaseDurationMs
    );
  }

  /** The holder last seen in the lease ('' when none). */
  leader(): string {
    return this.observedLease?.spec?.holderIdentity ?? '';
  }

  /** Stops campaigning and renewing, without touching the lease; onStoppedLeading is not called. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.leading?.abort();
    await this.running;
  }

  /**
   * stop(), then hand the lease back so another replica takes over at once instead of after
   * leaseDuration (client-go ReleaseOnCancel: holderIdentity '' and leaseDurationSeconds 1).
   * Call it only when all leader work has stopped. Resolves false if the write failed.
   */
  async release(): Promise<boolean> {
    await this.stop();
    // One deadline for the whole release: it runs inside the pod's termination grace period.
    return withDeadline(this.renewDeadlineMs, undefined, (signal) => this.releaseWithin(signal));
  }

  private async releaseWithin(signal: AbortSignal): Promise<boolean> {
    for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
      const current = this.observedLease;
      if (current?.spec?.holderIdentity !== this.identity) return true;
      const now = microTimeNow();
      const spec: V1LeaseSpec = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: current.spec.leaseTransitions ?? 0,
      };
      try {
        this.observe(await this.lease.update(current, spec, signal));
        this.log.info({ identity: this.identity }, 'released the leader lease');
        return true;
      } catch (error) {
        if (!isConflict(error)) {
          this.log.warn({ error: describeError(error) }, 'could not release the leader lease');
          return false;
        }
      }
      // Someone wrote the lease since we last saw it: re-read it, and release it if still ours.
      try {
        const latest = await this.lease.get(signal);
        if (!latest) return true;
        this.observe(latest);
      } catch (error) {
        this.log.warn({ error: describeError(error) }, 'could not re-read the leader lease to release it');
        return false;
      }
    }
    return false;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async campaign(): Promise<void> {
    if (!(await this.acquire())) return;
    const leading = new AbortController();
    this.leading = leading;
    this.log.info({ identity: this.identity }, 'became leader');
    this.invoke('onStartedLeading', () => this.callbacks.onStartedLeading(leading.signal));
    const outcome = await this.renewWhileLeading();
    leading.abort();
    if (outcome === 'lost') {
      this.log.error({ identity: this.identity }, 'leader election lost');
      this.invoke('onStoppedLeading', () => this.callbacks.onStoppedLeading());
    }
  }

  /** client-go acquire(): retry every retryPeriod with jitter until the lease is ours. */
  private async acquire(): Promise<boolean> {
    while (!this.stopped) {
      if (await this.attempt(this.renewDeadlineMs)) return true;
      await sleep(this.retryPeriodMs * (1 + this.random() * JITTER_FACTOR), this.stopController.signal);
    }
    return false;
  }

  /** client-go renew(): every retryPeriod, retry the renewal until it works or renewDeadline passes. */
  private async renewWhileLeading(): Promise<'lost' | 'stopped'> {
    for (;;) {
      await sleep(this.retryPeriodMs, this.stopController.signal);
      if (this.stopped) return 'stopped';
      const deadline = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!this.stopped && this.clock.now() < deadline) {
        renewed = await this.attempt(deadline - this.clock.now());
        if (renewed) break;
        // The lease names another holder: no retry can renew it before it expires.
        if (this.leader() !== '' && !this.observedHolderIsUs()) return 'lost';
        await sleep(Math.min(this.retryPeriodMs, deadline - this.clock.now()), this.stopController.signal);
      }
      if (this.stopped) return 'stopped';
      if (!renewed) return 'lost';
    }
  }

  private async attempt(timeoutMs: number): Promise<boolean> {
    const succeeded = await withDeadline(Math.max(1, timeoutMs), this.stopController.signal, (signal) =>
      this.tryAcquireOrRenew(signal),
    );
    this.reportNewLeader();
    return succeeded;
  }

  /** One round of client-go tryAcquireOrRenew. Never throws: a failed call is a failed round. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    // Before the call: the other replicas count the lease from when they see the write, later.
    const sentAt = this.clock.now();
    const written = (lease: V1Lease): true => {
      this.observe(lease);
      this.renewedAt = sentAt;
      return true;
    };
    const now = microTimeNow();
    const desired: V1LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.floor(this.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };

    // 1. Fast path: we hold a valid lease, so write over the version we last saw.
    if (this.observedLease && this.observedHolderIsUs() && this.isLeaseValid()) {
      try {
        return written(
          await this.lease.update(this.observedLease, keepTenure(desired, this.observedLease), signal),
        );
      } catch (error) {
        this.log.debug(
          { error: describeError(error) },
          'optimistic lease renewal failed; re-reading the lease',
        );
      }
    }

    // 2. Read the lease, or create it.
    let current: V1Lease | undefined;
    try {
      current = await this.lease.get(signal);
    } catch (error) {
      this.log.warn({ error: describeError(error) }, 'could not read the leader lease');
      return false;
    }
    if (!current) {
      try {
        return written(await this.lease.create(desired, signal));
      } catch (error) {
        this.log.info({ error: describeError(error) }, 'could not create the leader lease');
        return false;
      }
    }

    // 3. Someone else holds it and, by our own clock, it has not expired: wait.
    this.observe(current);
    if (!this.observedHolderIsUs() && this.leader() !== '' && this.isLeaseValid()) return false;

    // 4. Take it over (or keep it): a new holder counts one more transition.
    const spec = this.observedHolderIsUs()
      ? keepTenure(desired, current)
      : { ...desired, leaseTransitions: (current.spec?.leaseTransitions ?? 0) + 1 };
    try {
      return written(await this.lease.update(current, spec, signal));
    } catch (error) {
      const fields = { error: describeError(error) };
      if (isConflict(error)) this.log.debug(fields, 'lost a race for the leader lease');
      else this.log.warn(fields, 'could not update the leader lease');
      return false;
    }
  }

  /** Records the lease; its observation time moves only when the record itself changed. */
  private observe(lease: V1Lease): void {
    this.observedLease = lease;
    const specJson = JSON.stringify(lease.spec ?? {});
    if (specJson !== this.observedSpecJson) {
      this.observedSpecJson = specJson;
      this.observedAt = this.clock.now();
    }
  }

  private observedHolderIsUs(): boolean {
    return this.leader() === this.identity;
  }

  /** client-go isLeaseValid: our observation time plus the record's duration, on our clock. */
  private isLeaseValid(): boolean {
    const durationSeconds = this.observedLease?.spec?.leaseDurationSeconds ?? this.leaseDurationMs / 1000;
    return this.observedAt + durationSeconds * 1000 > this.clock.now();
  }

  private reportNewLeader(): void {
    const holder = this.leader();
    if (holder === '' || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    this.log.info({ leader: holder }, 'new leader observed');
    this.invoke('onNewLeader', () => this.callbacks.onNewLeader?.(holder));
  }

  private invoke(name: string, callback: () => unknown): void {
    const report = (error: unknown): void =>
      this.log.error({ callback: name, error: describeError(error) }, 'leader election callback failed');
    try {
      const result = callback();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  }
}

/** Keeps the acquire time and transition count of a lease we already hold. */
function keepTenure(desired: V1LeaseSpec, held: V1Lease): V1LeaseSpec {
  return {
    ...desired,
    acquireTime: toMicroTime(held.spec?.acquireTime) ?? desired.acquireTime,
    leaseTransitions: held.spec?.leaseTransitions ?? 0,
  };
}

/**
 * The current wall-clock time as a MicroTime: a plain Date serialises with 3 fraction digits,
 * which the apiserver rejects. Built from Date.now() so that fake timers in tests control it.
 */
function microTimeNow(): V1MicroTime {
  return new V1MicroTime(Date.now());
}

/** Lease times come back from the API as strings (client-node has no MicroTime deserializer). */
function toMicroTime(value: unknown): V1MicroTime | undefined {
  if (!(value instanceof Date) && typeof value !== 'string') return undefined;
  const time = new V1MicroTime(value instanceof Date ? value.getTime() : value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
