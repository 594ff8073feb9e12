// PROTOTYPE of the proposed src/sources/prometheus/shared-cache.ts, measured by the benchmark
// (`npm run bench -- --operators real,real-cached`); not wired into the operator. When moved to
// src, the import below becomes './client.js'.
//
// Every EtcdHealthCheck that points at the same Prometheus with the same credentials sends the
// same ~23 instant queries (the PromQL depends only on labelMatchers, memberLabel, rateWindow and
// the growth horizon); today each check opens its own connection pool and asks them all again.
// This shares the work, safely:
//  - the key is (url, bearer token, CA, insecureSkipTLSVerify, timeout, PromQL): a check only ever
//    gets an answer fetched with exactly its own credentials from exactly its own URL, so nothing
//    crosses between tenants that could not already see it (the key holds a SHA-256, not the token);
//  - in-flight dedupe: a query already running for that key is awaited, not sent again;
//  - a short TTL (default 5 s): an answer evaluated at t0 serves a check at |t - t0| <= TTL. Metrics
//    move once per scrape (30 s in production), so a 5 s old answer is what the check would have
//    read anyway; failures are never cached beyond their own flight;
//  - one long-lived keep-alive connection pool per (url, credentials), instead of a pool (and up to
//    23 TCP connections) per check; idle pools are closed after a minute;
//  - bounded: at most `maxEntries` answers, oldest evicted first.
import { createHash } from 'node:crypto';
import {
  createPrometheusClient as createUncachedClient,
  type PrometheusClient,
  type PrometheusConnection,
  type QueryOutcome,
} from '../../src/sources/prometheus/client.js';

export interface SharedCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  idlePoolMs?: number;
  now?: () => number;
}

interface Entry {
  /** Evaluation time of the answer (ms), i.e. the `time` the first asker passed. */
  evaluatedAt: number;
  outcome: Promise<QueryOutcome>;
}

interface Pool {
  client: PrometheusClient;
  lastUsed: number;
}

export class SharedPrometheusCache {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly idlePoolMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly pools = new Map<string, Pool>();
  private sweeper?: NodeJS.Timeout;
  /** Counters for tests and metrics. */
  readonly stats = { hits: 0, inFlightHits: 0, misses: 0 };

  constructor(options: SharedCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.idlePoolMs = options.idlePoolMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** A client with the PrometheusClient interface; close() is a no-op (the pool is shared). */
  clientFor(connection: PrometheusConnection): PrometheusClient {
    const connectionKey = digest([
      connection.url,
      connection.bearerToken ?? '',
      connection.caPem ?? '',
      String(connection.insecureSkipTLSVerify),
      String(connection.timeoutMs),
    ]);
    return {
      query: (promql, time) => this.query(connectionKey, connection, promql, time),
      close: () => undefined,
    };
  }

  /** Closes every pool and forgets every answer (operator shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const pool of this.pools.values()) pool.client.close();
    this.pools.clear();
    this.entries.clear();
  }

  private query(
    connectionKey: string,
    connection: PrometheusConnection,
    promql: string,
    time: Date,
  ): Promise<QueryOutcome> {
    const key = `${connectionKey}\n${promql}`;
    const at = time.getTime();
    const entry = this.entries.get(key);
    if (entry && Math.abs(at - entry.evaluatedAt) <= this.ttlMs) {
      this.stats.hits++;
      return entry.outcome;
    }
    this.stats.misses++;
    const outcome = this.pool(connectionKey, connection).query(promql, time);
    const fresh: Entry = { evaluatedAt: at, outcome };
    this.entries.set(key, fresh);
    // A failure is shared with whoever asked while it was in flight, never cached after it.
    void outcome.then((answer) => {
      if (!answer.ok && this.entries.get(key) === fresh) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return outcome;
  }

  private pool(connectionKey: string, connection: PrometheusConnection): PrometheusClient {
    let pool = this.pools.get(connectionKey);
    if (!pool) {
      pool = { client: createUncachedClient(connection), lastUsed: 0 };
      this.pools.set(connectionKey, pool);
      this.startSweeper();
    }
    pool.lastUsed = this.now();
    return pool.client;
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const now = this.now();
      for (const [key, entry] of this.entries)
        if (now - entry.evaluatedAt > this.ttlMs) this.entries.delete(key);
      for (const [key, pool] of this.pools) {
        if (now - pool.lastUsed > this.idlePoolMs) {
          pool.client.close();
          this.pools.delete(key);
        }
      }
      if (this.pools.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, 10_000);
    this.sweeper.unref();
  }
}

function digest(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** The process-wide cache the operator would use. */
export const sharedPrometheusCache = new SharedPrometheusCache();

/**
 * Drop-in for createPrometheusClient, which is how the benchmark wires the prototype into a copy
 * of the compiled operator (src/sources/prometheus/source.js imports this instead of ./client.js).
 */
export function createPrometheusClient(connection: PrometheusConnection): PrometheusClient {
  return sharedPrometheusCache.clientFor(connection);
}
