import { describe, expect, it } from '@jest/globals';
import {
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  JitteredBackoff,
  TokenBucketRateLimiter,
} from '../../src/runtime/backoff.js';

/** A clock the test moves by hand. */
function manualClock(): { now(): number; advance(ms: number): void } {
  let now = 0;
  return { now: () => now, advance: (ms) => (now += ms) };
}

describe('JitteredBackoff', () => {
  it('doubles from 800ms up to the 30s cap (client-go reflector defaults)', () => {
    const backoff = new JitteredBackoff({ clock: manualClock(), random: () => 0 });
    const delays = Array.from({ length: 8 }, () => backoff.next());
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('adds up to one base delay of jitter', () => {
    const delays = (random: number): number =>
      new JitteredBackoff({ clock: manualClock(), random: () => random }).next();
    expect(delays(0.5)).toBe(1200);
    expect(delays(0.999)).toBeCloseTo(1599.2);
  });

  it('starts over after two minutes without a retry', () => {
    const clock = manualClock();
    const backoff = new JitteredBackoff({ clock, random: () => 0 });
    backoff.next();
    backoff.next();
    clock.advance(119_000);
    expect(backoff.next()).toBe(3200);
    clock.advance(121_000);
    expect(backoff.next()).toBe(800);
  });

  it('reset() starts over from the initial delay at once', () => {
    const backoff = new JitteredBackoff({ clock: manualClock(), random: () => 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect([backoff.next(), backoff.next()]).toEqual([800, 1600]);
  });
});

describe('ItemExponentialRateLimiter', () => {
  it('waits 5ms·2^failures per key, up to 1000s', () => {
    const limiter = new ItemExponentialRateLimiter();
    expect([1, 2, 3, 4].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40]);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(4);
    for (let i = 0; i < 40; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1_000_000);
  });

  it('forget() resets one key only', () => {
    const limiter = new ItemExponentialRateLimiter();
    limiter.when('a');
    limiter.when('a');
    limiter.when('b');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('b')).toBe(10);
  });
});

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through, then spaces retries at the rate', () => {
    const clock = manualClock();
    const bucket = new TokenBucketRateLimiter(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => bucket.when(`k${i}`));
    expect(burst.every((delay) => delay === 0)).toBe(true);
    expect(bucket.when('x')).toBeCloseTo(100);
    expect(bucket.when('y')).toBeCloseTo(200);
  });

  it('refills at qps tokens per second', () => {
    const clock = manualClock();
    const bucket = new TokenBucketRateLimiter(10, 100, clock);
    for (let i = 0; i < 100; i++) bucket.when('k');
    clock.advance(1000);
    const delays = Array.from({ length: 11 }, () => bucket.when('k'));
    expect(delays.slice(0, 10).every((delay) => delay === 0)).toBe(true);
    expect(delays[10]).toBeCloseTo(100);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('is the larger of the per-key backoff and the shared bucket', () => {
    const limiter = defaultControllerRateLimiter(manualClock());
    const firstFailures = Array.from({ length: 100 }, (_, i) => limiter.when(`key-${i}`));
    expect(firstFailures.every((delay) => delay === 5)).toBe(true);
    // The bucket is empty now: a first failure waits for a token, not 5ms.
    expect(limiter.when('another')).toBeCloseTo(100);
    expect(limiter.numRequeues('another')).toBe(1);
    limiter.forget('another');
    expect(limiter.numRequeues('another')).toBe(0);
  });
});
