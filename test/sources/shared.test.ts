// Answers shared across checks: one request per question in flight, reuse only within the TTL and
// only for the same URL and credentials, failures never reused.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RecentAnswers } from '../../src/sources/recent-answers.js';
import { SharedSources } from '../../src/sources/shared.js';
import { json, startFakePrometheus, vector, type FakePrometheus } from '../harness/fake-prometheus.js';

type Answer = { ok: boolean; n: number };

function answers(options: { ttlMs?: number; maxEntries?: number } = {}) {
  const lookups: boolean[] = [];
  let fetches = 0;
  const cache = new RecentAnswers<Answer>({
    ttlMs: options.ttlMs ?? 5_000,
    maxEntries: options.maxEntries ?? 100,
    isFailure: (a) => !a.ok,
    onLookup: (shared) => lookups.push(shared),
  });
  const fetch = (ok = true) => {
    fetches++;
    return Promise.resolve({ ok, n: fetches });
  };
  return { cache, lookups, fetch };
}

describe('RecentAnswers', () => {
  it('sends one request for questions asked while it is in flight', async () => {
    const { cache, lookups } = answers();
    let release!: (a: Answer) => void;
    let sent = 0;
    const slow = () => {
      sent++;
      return new Promise<Answer>((resolve) => (release = resolve));
    };
    const first = cache.get('q', 1_000, slow);
    const second = cache.get('q', 1_000, slow);
    release({ ok: true, n: 1 });
    expect(await first).toBe(await second);
    expect(lookups).toEqual([false, true]);
    expect(sent).toBe(1);
  });

  it.each<[string, number, boolean]>([
    ['at the same time', 10_000, true],
    ['within the TTL after', 14_999, true],
    ['exactly at the TTL', 15_000, true],
    ['beyond the TTL', 15_001, false],
    ['for an earlier time beyond the TTL', 4_999, false],
  ])('reuses a successful answer %s', async (_name, at, shared) => {
    const { cache, fetch } = answers({ ttlMs: 5_000 });
    const first = await cache.get('q', 10_000, () => fetch());
    const later = await cache.get('q', at, () => fetch());
    expect(later === first).toBe(shared);
  });

  it('never reuses a failure or a rejection after its flight', async () => {
    const { cache, fetch } = answers();
    expect(await cache.get('q', 0, () => fetch(false))).toEqual({ ok: false, n: 1 });
    expect(await cache.get('q', 0, () => fetch(false))).toEqual({ ok: false, n: 2 });
    await expect(cache.get('r', 0, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.get('r', 0, () => fetch())).toEqual({ ok: true, n: 3 });
  });

  it('keeps answers of different keys apart', async () => {
    const { cache, fetch } = answers();
    const a = await cache.get('a', 0, () => fetch());
    const b = await cache.get('b', 0, () => fetch());
    expect(a).not.toBe(b);
    expect(await cache.get('a', 0, () => fetch())).toBe(a);
  });

  it('holds at most maxEntries answers, dropping the oldest, and prunes expired ones', async () => {
    const { cache, fetch } = answers({ maxEntries: 2, ttlMs: 1_000 });
    const a = await cache.get('a', 0, () => fetch());
    await cache.get('b', 500, () => fetch());
    await cache.get('c', 600, () => fetch());
    expect(cache.size).toBe(2);
    expect(await cache.get('a', 0, () => fetch())).not.toBe(a);
    cache.prune(1_550);
    // 'b' was dropped for the refetched 'a'; 'a' (about time 0) is older than the TTL, 'c' is not.
    expect(cache.size).toBe(1);
  });
});

describe('SharedSources with Prometheus', () => {
  let fake: FakePrometheus;
  beforeAll(async () => {
    fake = await startFakePrometheus();
    fake.handle((_req, res) => json(res, 200, vector([{ metric: { instance: 'a:2379' }, value: '1' }])));
  });
  afterAll(() => fake.close());

  const connection = (bearerToken?: string) => ({
    url: fake.url,
    insecureSkipTLSVerify: false,
    timeoutMs: 2_000,
    ...(bearerToken ? { bearerToken } : {}),
  });
  const at = new Date(1_700_000_000_000);

  it('serves a second check with the same URL and credentials from the first answer', async () => {
    let now = at.getTime();
    const lookups: string[] = [];
    const shared = new SharedSources({
      ttlMs: 5_000,
      now: () => now,
      onLookup: (source, hit) => lookups.push(`${source}:${hit}`),
    });
    try {
      const before = fake.requests.length;
      const one = shared.prometheusClient(connection('token-a'));
      const two = shared.prometheusClient(connection('token-a'));
      const [a, b] = await Promise.all([one.query('up', at), two.query('up', at)]);
      expect(a).toEqual(b);
      expect(fake.requests.length - before).toBe(1);
      expect(lookups).toEqual(['prometheus:false', 'prometheus:true']);
      // close() of a check's client leaves the shared pool open for the next check.
      one.close();
      expect(shared.openPools).toBe(1);
      await two.query('up', new Date(at.getTime() + 6_000));
      expect(fake.requests.length - before).toBe(2);
      now += 61_000;
      shared.sweep();
      expect(shared.openPools).toBe(0);
    } finally {
      shared.close();
    }
  });

  it('never serves an answer fetched with other credentials', async () => {
    const shared = new SharedSources({ ttlMs: 5_000 });
    try {
      const before = fake.requests.length;
      await shared.prometheusClient(connection('token-a')).query('up', at);
      await shared.prometheusClient(connection('token-b')).query('up', at);
      await shared.prometheusClient(connection()).query('up', at);
      const sent = fake.requests.slice(before).map((r) => r.headers.authorization);
      expect(sent).toEqual(['Bearer token-a', 'Bearer token-b', undefined]);
    } finally {
      shared.close();
    }
  });

  it('asks again after a failed answer', async () => {
    const shared = new SharedSources({ ttlMs: 5_000 });
    try {
      fake.handle((_req, res) => json(res, 500, 'overloaded'));
      const client = shared.prometheusClient(connection());
      expect(await client.query('up', at)).toMatchObject({ ok: false });
      fake.handle((_req, res) => json(res, 200, vector([])));
      expect(await client.query('up', at)).toEqual({ ok: true, samples: [], warnings: [] });
    } finally {
      shared.close();
    }
  });

  it('observes etcd afresh when asked to, and never reuses a failed observation', async () => {
    const lookups: string[] = [];
    const shared = new SharedSources({ ttlMs: 5_000, onLookup: (s, hit) => lookups.push(`${s}:${hit}`) });
    // Nothing listens on port 1: a failed observation without a member list.
    const options = { endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 500, requestTimeoutMs: 500 };
    const first = await shared.observeEtcd(options, false);
    expect(first.memberListKnown).toBe(false);
    expect(await shared.observeEtcd(options, false)).not.toBe(first);
    await shared.observeEtcd(options, true);
    expect(lookups).toEqual(['etcd:false', 'etcd:false', 'etcd:false']);
    shared.close();
  });
});
