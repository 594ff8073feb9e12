// Retry delays copied from client-go: the reflector's jittered exponential backoff and the
// workqueue's DefaultControllerRateLimiter.
import { systemClock } from './clock.js';
import type { Clock, Random } from './clock.js';

export interface JitteredBackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Each delay is base + random·jitter·base, so 1.0 spreads retries over [base, 2·base). */
  jitter?: number;
  /** After this long without a retry the next delay starts from `initialMs` again. */
  resetAfterMs?: number;
  clock?: Clock;
  random?: Random;
}

/**
 * Delays between attempts of a failing loop, as client-go's reflector
 * (`wait.NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)`): the base doubles per retry up
 * to the cap, jitter is added on top, and two quiet minutes reset it.
 */
export class JitteredBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly resetAfterMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private baseMs: number;
  private lastRetryAt: number | undefined;

  constructor(options: JitteredBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 800;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 1.0;
    this.resetAfterMs = options.resetAfterMs ?? 120_000;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.baseMs = this.initialMs;
  }

  /** The delay before the next attempt; every call counts as one more retry. */
  next(): number {
    const now = this.clock.now();
    if (this.lastRetryAt !== undefined && now - this.lastRetryAt > this.resetAfterMs)
      this.baseMs = this.initialMs;
    this.lastRetryAt = now;
    const base = this.baseMs;
    this.baseMs = Math.min(base * this.factor, this.maxMs);
    return base + this.random() * this.jitter * base;
  }

  /** The loop is healthy again: the next failure waits `initialMs`, not the delay it had grown to. */
  reset(): void {
    this.baseMs = this.initialMs;
    this.lastRetryAt = undefined;
  }
}

/** Decides how long a key waits before it is retried (client-go workqueue.RateLimiter). */
export interface RateLimiter {
  /** The delay for this retry of `key`; counts the retry. */
  when(key: string): number;
  /** The key succeeded: forget its failures. */
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: base·2^failures, capped (client-go ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return Math.min(this.baseMs * 2 ** failures, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * One token bucket shared by all keys (client-go BucketRateLimiter over golang.org/x/time/rate):
 * bursts of up to `burst` retries go out at once, beyond that retries are spaced at `qps`.
 * Like `rate.Limiter.Reserve`, a retry that finds no token borrows one and waits for it.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = burst;
    this.refilledAt = clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.qps) / 1000);
    this.refilledAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

/**
 * client-go's DefaultControllerRateLimiter: per-key 5ms → 1000s, and overall at most 10 retries
 * per second after a burst of 100.
 */
export function defaultControllerRateLimiter(clock: Clock = systemClock): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialRateLimiter(5, 1_000_000),
    new TokenBucketRateLimiter(10, 100, clock),
  );
}
