// Who may read /metrics: the bearer token is authenticated with a TokenReview and the user it names
// is authorised with a SubjectAccessReview for the non-resource URL (verb get, path /metrics), as
// controller-runtime's WithAuthenticationAndAuthorization does. Answers are cached as it caches them
// (token 1m, allowed 5m, denied 30s), so a 30s scrape does not cost two API calls each time; errors
// are never cached. No token or a rejected one is 401, a user without the role is 403, a review
// that fails is 500, each with a body a person can act on.
import { createHash } from 'node:crypto';
import { TtlCache } from './ttl-cache.js';

/** The ClusterRole that grants get on /metrics (deploy/base/rbac.yaml). */
export const METRICS_READER_ROLE = 'etcd-health-operator-metrics-reader';

export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type TokenReviewAnswer = { authenticated: true; user: ReviewedUser } | { authenticated: false };

export interface AccessReviewAnswer {
  allowed: boolean;
  /** The authorizer's words, for the log; may be empty. */
  reason: string;
}

/** The API server's reviews; a failed call rejects with an Error whose message is readable. */
export interface AccessReviewer {
  reviewToken(token: string, signal: AbortSignal): Promise<TokenReviewAnswer>;
  reviewAccess(
    user: ReviewedUser,
    request: { verb: string; path: string },
    signal: AbortSignal,
  ): Promise<AccessReviewAnswer>;
}

export type AccessDecision =
  | { status: 200; user: string }
  | { status: 401 | 403 | 500; user?: string; message: string; detail?: string };

export interface MetricsAccessOptions {
  /** Deadline of one review call. */
  timeoutMs?: number;
  tokenTtlMs?: number;
  allowTtlMs?: number;
  denyTtlMs?: number;
  /** Bound of each cache (tokens, access answers). */
  maxEntries?: number;
  now?: () => number;
}

export class MetricsAccess {
  private readonly timeoutMs: number;
  private readonly tokenTtlMs: number;
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;
  private readonly tokens: TtlCache<TokenReviewAnswer>;
  private readonly access: TtlCache<AccessReviewAnswer>;
  /** Reviews in flight by cache key: concurrent scrapes with one token share one call. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Aborts every review in flight when the server stops. */
  private readonly lifetime = new AbortController();

  constructor(
    private readonly reviewer: AccessReviewer,
    options: MetricsAccessOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.tokenTtlMs = options.tokenTtlMs ?? 60_000;
    this.allowTtlMs = options.allowTtlMs ?? 300_000;
    this.denyTtlMs = options.denyTtlMs ?? 30_000;
    const maxEntries = options.maxEntries ?? 1024;
    this.tokens = new TtlCache(maxEntries, options.now);
    this.access = new TtlCache(maxEntries, options.now);
  }

  /** Decides one request from its Authorization header, HTTP method and path. Never rejects. */
  async decide(authorization: string | undefined, method: string, path: string): Promise<AccessDecision> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) {
      return {
        status: 401,
        message: `Unauthorized: ${path} needs a bearer token (Authorization: Bearer <token>) of a user bound to the ClusterRole ${METRICS_READER_ROLE}`,
      };
    }
    let identity: TokenReviewAnswer;
    try {
      identity = await this.cached(this.tokens, `token:${hash(token)}`, (signal) =>
        this.reviewer.reviewToken(token, signal).then((answer) => ({ answer, ttlMs: this.tokenTtlMs })),
      );
    } catch (error) {
      return { status: 500, message: `Authentication failed: TokenReview: ${messageOf(error)}` };
    }
    if (!identity.authenticated) {
      return { status: 401, message: 'Unauthorized: the API server does not accept this bearer token' };
    }
    const user = identity.user;
    // Non-resource requests are authorised with the lower-case HTTP method as the verb.
    const request = { verb: method.toLowerCase(), path };
    let answer: AccessReviewAnswer;
    try {
      answer = await this.cached(this.access, `access:${hash(JSON.stringify([user, request]))}`, (signal) =>
        this.reviewer
          .reviewAccess(user, request, signal)
          .then((a) => ({ answer: a, ttlMs: a.allowed ? this.allowTtlMs : this.denyTtlMs })),
      );
    } catch (error) {
      return {
        status: 500,
        user: user.username,
        message: `Authorization of user ${user.username} failed: SubjectAccessReview: ${messageOf(error)}`,
      };
    }
    if (!answer.allowed) {
      return {
        status: 403,
        user: user.username,
        message: `Forbidden: user ${user.username} may not ${request.verb} ${path}; bind it to the ClusterRole ${METRICS_READER_ROLE}`,
        detail: answer.reason,
      };
    }
    return { status: 200, user: user.username };
  }

  /** Aborts the reviews in flight; later decisions fail with 500. */
  close(): void {
    this.lifetime.abort(new Error('the metrics server is stopping'));
  }

  private async cached<V>(
    cache: TtlCache<V>,
    key: string,
    review: (signal: AbortSignal) => Promise<{ answer: V; ttlMs: number }>,
  ): Promise<V> {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const pending = this.inFlight.get(key) as Promise<V> | undefined;
    if (pending) return pending;
    const signal = AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(this.timeoutMs)]);
    const call = review(signal)
      .then(({ answer, ttlMs }) => {
        cache.set(key, answer, ttlMs);
        return answer;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
