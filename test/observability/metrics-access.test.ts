// The /metrics access decision and its caches, with a scripted reviewer and a hand-moved clock:
// which answers are cached and for how long, that errors are not, that the caches stay bounded,
// and what each refusal says. test/observability/metrics-access.it.ts asks the real API server.
import { describe, expect, it } from '@jest/globals';
import {
  MetricsAccess,
  type AccessReviewAnswer,
  type AccessReviewer,
  type ReviewedUser,
  type TokenReviewAnswer,
} from '../../src/observability/metrics-access.js';
import { TtlCache } from '../../src/observability/ttl-cache.js';

const READER: ReviewedUser = { username: 'system:serviceaccount:monitoring:prometheus', groups: ['g'] };
const STRANGER: ReviewedUser = { username: 'system:serviceaccount:team-a:default' };

/** Tokens "reader" and "stranger" authenticate; only READER may get /metrics. Counts the calls. */
class ScriptedReviewer implements AccessReviewer {
  tokenReviews = 0;
  accessReviews = 0;
  failing: 'token' | 'access' | undefined;
  /** Resolves the next review only when released, to hold calls in flight. */
  gate: Promise<void> | undefined;
  lastSignal: AbortSignal | undefined;

  async reviewToken(token: string, signal: AbortSignal): Promise<TokenReviewAnswer> {
    this.tokenReviews++;
    this.lastSignal = signal;
    await this.gate;
    if (this.failing === 'token')
      throw new Error('create tokenreviews.authentication.k8s.io: 503 ServiceUnavailable');
    if (token === 'reader') return { authenticated: true, user: READER };
    if (token === 'stranger') return { authenticated: true, user: STRANGER };
    return { authenticated: false };
  }

  async reviewAccess(
    user: ReviewedUser,
    request: { verb: string; path: string },
  ): Promise<AccessReviewAnswer> {
    this.accessReviews++;
    await this.gate;
    if (this.failing === 'access') throw new Error('no answer from the API server in time');
    const allowed =
      user.username === READER.username && request.verb === 'get' && request.path === '/metrics';
    return { allowed, reason: allowed ? 'RBAC: allowed by ClusterRoleBinding' : '' };
  }
}

function setUp(options: { maxEntries?: number } = {}) {
  const reviewer = new ScriptedReviewer();
  const clock = { now: 1_000_000 };
  const access = new MetricsAccess(reviewer, { now: () => clock.now, ...options });
  return { reviewer, clock, access };
}

describe('MetricsAccess decisions', () => {
  it('no token or a malformed header is 401 and costs no review', async () => {
    const { reviewer, access } = setUp();
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer ', 'Bearer a b']) {
      const decision = await access.decide(header, 'GET', '/metrics');
      expect(decision).toMatchObject({ status: 401 });
      expect(decision.status !== 200 && decision.message).toMatch(
        /needs a bearer token .* ClusterRole etcd-health-operator-metrics-reader/,
      );
    }
    expect(reviewer.tokenReviews).toBe(0);
  });

  it('a token the API server rejects is 401, without saying why', async () => {
    const { access } = setUp();
    expect(await access.decide('Bearer expired', 'GET', '/metrics')).toEqual({
      status: 401,
      message: 'Unauthorized: the API server does not accept this bearer token',
    });
  });

  it('a user without the role is 403 naming the user and the role; one with it is 200', async () => {
    const { access } = setUp();
    expect(await access.decide('Bearer stranger', 'GET', '/metrics')).toEqual({
      status: 403,
      user: STRANGER.username,
      message: `Forbidden: user ${STRANGER.username} may not get /metrics; bind it to the ClusterRole etcd-health-operator-metrics-reader`,
      detail: '',
    });
    expect(await access.decide('bearer reader', 'GET', '/metrics')).toEqual({
      status: 200,
      user: READER.username,
    });
  });

  it('the verb is the lower-case method, as for any non-resource request', async () => {
    const { access } = setUp();
    expect(await access.decide('Bearer reader', 'POST', '/metrics')).toMatchObject({
      status: 403,
      message: expect.stringContaining('may not post /metrics'),
    });
  });

  it('a failed review is 500 with the reason, and is asked again next time', async () => {
    const { reviewer, access } = setUp();
    reviewer.failing = 'token';
    expect(await access.decide('Bearer reader', 'GET', '/metrics')).toEqual({
      status: 500,
      message:
        'Authentication failed: TokenReview: create tokenreviews.authentication.k8s.io: 503 ServiceUnavailable',
    });
    reviewer.failing = 'access';
    expect(await access.decide('Bearer reader', 'GET', '/metrics')).toEqual({
      status: 500,
      user: READER.username,
      message: `Authorization of user ${READER.username} failed: SubjectAccessReview: no answer from the API server in time`,
    });
    reviewer.failing = undefined;
    expect(await access.decide('Bearer reader', 'GET', '/metrics')).toMatchObject({ status: 200 });
    // The failed TokenReview was asked again (the second call's answer is cached since); the
    // failed SubjectAccessReview too.
    expect([reviewer.tokenReviews, reviewer.accessReviews]).toEqual([2, 2]);
  });
});

describe('MetricsAccess caches', () => {
  it('a scrape every 30s costs one TokenReview a minute and one SubjectAccessReview in 5 minutes', async () => {
    const { reviewer, clock, access } = setUp();
    for (let scrape = 0; scrape < 10; scrape++) {
      expect(await access.decide('Bearer reader', 'GET', '/metrics')).toMatchObject({ status: 200 });
      clock.now += 30_000;
    }
    // 10 scrapes over 5 minutes: the token at 0, 60, 120, 180, 240 s; the access answer once.
    expect(reviewer.tokenReviews).toBe(5);
    expect(reviewer.accessReviews).toBe(1);
    // At 300 s the allowed answer has expired too.
    await access.decide('Bearer reader', 'GET', '/metrics');
    expect([reviewer.tokenReviews, reviewer.accessReviews]).toEqual([6, 2]);
  });

  it('a denial is cached for 30s only, so a new RoleBinding takes effect soon', async () => {
    const { reviewer, clock, access } = setUp();
    await access.decide('Bearer stranger', 'GET', '/metrics');
    clock.now += 29_000;
    await access.decide('Bearer stranger', 'GET', '/metrics');
    expect(reviewer.accessReviews).toBe(1);
    clock.now += 1_000;
    await access.decide('Bearer stranger', 'GET', '/metrics');
    expect(reviewer.accessReviews).toBe(2);
  });

  it('a rejected token is cached like an accepted one', async () => {
    const { reviewer, access } = setUp();
    await access.decide('Bearer nope', 'GET', '/metrics');
    await access.decide('Bearer nope', 'GET', '/metrics');
    expect(reviewer.tokenReviews).toBe(1);
  });

  it('concurrent scrapes with one token share one review', async () => {
    const { reviewer, access } = setUp();
    let release!: () => void;
    reviewer.gate = new Promise((resolve) => (release = resolve));
    const decisions = Promise.all([1, 2, 3].map(() => access.decide('Bearer reader', 'GET', '/metrics')));
    release();
    expect((await decisions).map((d) => d.status)).toEqual([200, 200, 200]);
    expect([reviewer.tokenReviews, reviewer.accessReviews]).toEqual([1, 1]);
  });

  it('many distinct tokens keep at most maxEntries answers', async () => {
    const { reviewer, access } = setUp({ maxEntries: 3 });
    for (const token of ['t1', 't2', 't3', 't4']) await access.decide(`Bearer ${token}`, 'GET', '/metrics');
    expect(reviewer.tokenReviews).toBe(4);
    // t4, t3, t2 are kept; t1 was the least recently used and is asked again.
    await access.decide('Bearer t4', 'GET', '/metrics');
    expect(reviewer.tokenReviews).toBe(4);
    await access.decide('Bearer t1', 'GET', '/metrics');
    expect(reviewer.tokenReviews).toBe(5);
  });

  it('close() aborts the reviews in flight', async () => {
    const { reviewer, access } = setUp();
    reviewer.gate = new Promise(() => undefined);
    void access.decide('Bearer reader', 'GET', '/metrics');
    await Promise.resolve();
    expect(reviewer.lastSignal?.aborted).toBe(false);
    access.close();
    expect(reviewer.lastSignal?.aborted).toBe(true);
  });
});

describe('TtlCache', () => {
  it('forgets an entry at its TTL and evicts the least recently used when full', () => {
    const clock = { now: 0 };
    const cache = new TtlCache<string>(2, () => clock.now);
    cache.set('a', 'A', 100);
    cache.set('b', 'B', 1_000);
    expect(cache.get('a')).toBe('A');
    cache.set('c', 'C', 1_000); // evicts b: a was used more recently
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['A', undefined, 'C']);
    clock.now = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.set('d', 'D', 0); // a TTL of zero caches nothing
    expect(cache.get('d')).toBeUndefined();
  });
});
