// A keyed work queue with client-go's guarantees (util/workqueue doc.go):
//  - fair: keys are handed out in the order they were added, within one of two lanes: keys added
//    now (a new or changed object, a rotated Secret) go before keys whose delay ran out (periodic
//    re-checks, retries), so that under a backlog of re-checks a new object is not last in line;
//  - stingy: a key queued several times is processed once, and never by two workers at a time;
//  - a key added while it is being processed is marked dirty and queued again by done(key).
// Keys are `namespace/name` strings; a reconcile reads the current object from the informer.
import { defaultControllerRateLimiter } from './backoff.js';
import type { RateLimiter } from './backoff.js';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';

/** Hooks for metrics, named after client-go's workqueue metrics. All optional. */
export interface WorkQueueListener {
  /** A key was added that was not already waiting. */
  added?(key: string): void;
  /** The number of keys waiting to be handed out changed. */
  depthChanged?(depth: number): void;
  /** A key was handed out after waiting this long in the queue. */
  queueLatency?(seconds: number): void;
  /** A key was re-added through the rate limiter. */
  retried?(key: string): void;
}

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  clock?: Clock;
  listener?: WorkQueueListener;
}

interface DelayedAdd {
  readyAt: number;
  timer: NodeJS.Timeout;
}

type Getter = (key: string | null) => void;

/** `now`: added directly; `due`: a delayed add whose time came. `now` is served first. */
type Lane = 'now' | 'due';

export class WorkQueue {
  private readonly rateLimiter: RateLimiter;
  private readonly clock: Clock;
  private readonly listener: WorkQueueListener;
  /** Keys waiting to be handed out, in FIFO order per lane, with the time they were queued. */
  private readonly lanes: Record<Lane, Map<string, number>> = { now: new Map(), due: new Map() };
  /** Keys that need processing (every queued key, plus keys re-added while being processed), by lane. */
  private readonly dirty = new Map<string, Lane>();
  /** Keys a worker holds, with the time it got them. */
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, DelayedAdd>();
  /** Delayed keys that wait for the API server to be reachable again (park). */
  private readonly parked = new Set<string>();
  private readonly getters: Getter[] = [];
  private readonly drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.listener = options.listener ?? {};
  }

  add(key: string): void {
    this.enqueue(key, 'now');
  }

  /**
   * Adds `key` after `delayMs`. If the key is already waiting for a delayed add, the earlier
   * ready time wins (client-go delaying_queue `insert`).
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const readyAt = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.parked.delete(key);
      this.enqueue(key, 'due');
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { readyAt, timer });
  }

  /** Adds `key` after the rate limiter's delay for it; use after a failed reconcile. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.listener.retried?.(key);
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /**
   * The reconcile of `key` failed without reaching the API server (it is down or restarting): it
   * is retried once the server is reachable again (`retryParked`), or after `maxWaitMs`. Unlike
   * addRateLimited this is not a failure of the key: an outage costs each key one failed attempt,
   * not one per doubling of its backoff, and no key is left waiting after the server is back.
   */
  park(key: string, maxWaitMs: number): void {
    if (this.shuttingDown) return;
    this.listener.retried?.(key);
    const pending = this.delayed.get(key);
    // A sooner delayed add (a requeue) does the retry already.
    if (pending && pending.readyAt <= this.clock.now() + maxWaitMs) return;
    this.addAfter(key, maxWaitMs);
    this.parked.add(key);
  }

  /** The API server answers again: every parked key goes to the back of the queue now. */
  retryParked(): void {
    for (const key of this.parked) {
      clearTimeout(this.delayed.get(key)?.timer);
      this.delayed.delete(key);
      this.enqueue(key, 'due');
    }
    this.parked.clear();
  }

  /** Keys waiting for the API server to be reachable again. */
  parkedCount(): number {
    return this.parked.size;
  }

  /** Resets the key's failure count; use after a successful reconcile. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, or null once the queue is shut down and empty (or `signal` aborts
   * while waiting). The caller must call done(key) when finished with it.
   */
  get(signal?: AbortSignal): Promise<string | null> {
    if (signal?.aborted) return Promise.resolve(null);
    const next = this.lanes.now.keys().next().value ?? this.lanes.due.keys().next().value;
    if (next !== undefined) return Promise.resolve(this.take(next));
    if (this.shuttingDown) return Promise.resolve(null);
    return new Promise((resolve) => {
      const getter: Getter = (key) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(key);
      };
      const onAbort = (): void => {
        const index = this.getters.indexOf(getter);
        if (index >= 0) this.getters.splice(index, 1);
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.getters.push(getter);
    });
  }

  done(key: string): void {
    if (!this.processing.delete(key)) return;
    const lane = this.dirty.get(key);
    if (lane) this.push(key, lane);
    else this.notifyIfDrained();
  }

  /** Keys waiting to be handed out (not counting keys being processed or delayed). */
  len(): number {
    return this.lanes.now.size + this.lanes.due.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting keys and cancels delayed adds. Keys already queued are still handed out;
   * after that get() resolves null.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.parked.clear();
    // Getters only wait while the queue is empty, so all of them are told to stop.
    for (const getter of this.getters.splice(0)) getter(null);
    this.notifyIfDrained();
  }

  /**
   * shutDown(), then resolves once every queued and in-flight key is done. Workers must keep
   * calling get() for that to happen; pair it with a deadline.
   */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private enqueue(key: string, lane: Lane): void {
    if (this.shuttingDown) return;
    const waiting = this.dirty.get(key);
    if (waiting === 'due' && lane === 'now') {
      // Already waiting as a re-check, now wanted at once: it moves ahead.
      this.dirty.set(key, 'now');
      const queuedAt = this.lanes.due.get(key);
      if (queuedAt !== undefined) {
        // It keeps its queue time: the latency metric counts the whole wait.
        this.lanes.due.delete(key);
        this.lanes.now.set(key, queuedAt);
      }
      return;
    }
    if (waiting) return;
    this.listener.added?.(key);
    this.dirty.set(key, lane);
    if (!this.processing.has(key)) this.push(key, lane);
  }

  private push(key: string, lane: Lane): void {
    this.lanes[lane].set(key, this.clock.now());
    const getter = this.getters.shift();
    if (getter) getter(this.take(key));
    else this.listener.depthChanged?.(this.len());
  }

  private take(key: string): string {
    const now = this.clock.now();
    const queuedAt = this.lanes.now.get(key) ?? this.lanes.due.get(key) ?? now;
    this.lanes.now.delete(key);
    this.lanes.due.delete(key);
    this.dirty.delete(key);
    this.processing.add(key);
    this.listener.depthChanged?.(this.len());
    this.listener.queueLatency?.((now - queuedAt) / 1000);
    return key;
  }

  private isDrained(): boolean {
    return this.len() === 0 && this.processing.size === 0;
  }

  private notifyIfDrained(): void {
    if (this.shuttingDown && this.isDrained()) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
