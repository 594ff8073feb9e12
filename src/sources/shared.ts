// Work shared across EtcdHealthChecks. A hub may hold hundreds of checks of the same etcd cluster
// through the same Prometheus; without sharing, each check sends its own ~23 instant queries and
// dials every member again, and Prometheus is the first thing to saturate (BENCHMARKS.md).
//
// Safety of sharing:
//  - keys hold everything the answer depends on, credentials included (as a SHA-256, never the
//    secret): a check only ever gets an answer fetched from exactly its endpoints with exactly its
//    own credentials, so nothing crosses between tenants that could not already see it;
//  - an answer is reused only while younger than the TTL (default 5 s, far below any check
//    interval and below Prometheus' scrape interval), and failures are never reused;
//  - a check that may act on etcd (remediation mode Automatic) always observes etcd afresh;
//  - a check's AbortSignal ends only its own wait: a shared call goes on for the others, bounded
//    by its own timeouts.
import { createHash } from 'node:crypto';
import type { EtcdObservation } from '../health/observation.js';
import { cancelledObservation, observeEtcd, type EtcdSourceOptions } from './etcd/source.js';
import {
  createPrometheusClient,
  type PrometheusClient,
  type PrometheusConnection,
  type QueryOutcome,
} from './prometheus/client.js';
import { RecentAnswers } from './recent-answers.js';
import { CANCELLED, untilAborted } from './timeout.js';

export interface SharedSourcesOptions {
  /** 0 turns sharing off. */
  ttlMs: number;
  maxEntries?: number;
  /** A Prometheus connection pool unused this long is closed. */
  idlePoolMs?: number;
  /** Told about every lookup: whether it was served from a shared answer. */
  onLookup?(source: 'prometheus' | 'etcd', shared: boolean): void;
  now?: () => number;
}

interface Pool {
  client: PrometheusClient;
  lastUsed: number;
}

const SWEEP_INTERVAL_MS = 10_000;

export class SharedSources {
  private readonly queries: RecentAnswers<QueryOutcome>;
  private readonly etcdObservations: RecentAnswers<EtcdObservation>;
  private readonly pools = new Map<string, Pool>();
  private readonly idlePoolMs: number;
  private readonly now: () => number;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly options: SharedSourcesOptions) {
    const maxEntries = options.maxEntries ?? 10_000;
    this.idlePoolMs = options.idlePoolMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.queries = new RecentAnswers({
      ttlMs: options.ttlMs,
      maxEntries,
      isFailure: (outcome) => !outcome.ok,
      onLookup: (shared) => options.onLookup?.('prometheus', shared),
    });
    this.etcdObservations = new RecentAnswers({
      ttlMs: options.ttlMs,
      maxEntries,
      // An answer without a member list says only that this moment was bad.
      isFailure: (observation) => !observation.memberListKnown,
      onLookup: (shared) => options.onLookup?.('etcd', shared),
    });
  }

  /**
   * A Prometheus client whose queries share answers and one keep-alive pool per URL and
   * credentials; its close() leaves the pool open for the next check.
   */
  prometheusClient(connection: PrometheusConnection): PrometheusClient {
    const connectionKey = digest([
      connection.url,
      connection.bearerToken ?? '',
      connection.caPem ?? '',
      String(connection.insecureSkipTLSVerify),
      String(connection.timeoutMs),
    ]);
    return {
      query: (promql, time, signal) =>
        untilAborted(
          this.queries.get(`${connectionKey}\n${promql}`, time.getTime(), () =>
            this.pool(connectionKey, connection).query(promql, time),
          ),
          signal,
          () => ({ ok: false, error: CANCELLED }),
        ),
      close: () => undefined,
    };
  }

  /** The etcd observation of these options, shared unless `fresh`; `signal` ends this wait only. */
  observeEtcd(options: EtcdSourceOptions, fresh: boolean, signal?: AbortSignal): Promise<EtcdObservation> {
    if (fresh || this.options.ttlMs <= 0) {
      this.options.onLookup?.('etcd', false);
      return observeEtcd(options, signal);
    }
    const key = digest([
      JSON.stringify(options.endpoints ?? []),
      JSON.stringify(options.discovery ?? {}),
      options.tls?.caPem ?? '',
      options.tls?.certPem ?? '',
      options.tls?.keyPem ?? '',
      String(options.dialTimeoutMs),
      String(options.requestTimeoutMs),
    ]);
    this.startSweeper();
    return untilAborted(
      this.etcdObservations.get(key, this.now(), () => observeEtcd(options)),
      signal,
      cancelledObservation,
    );
  }

  /** Closes every pool and forgets every answer (operator shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const pool of this.pools.values()) pool.client.close();
    this.pools.clear();
    this.queries.clear();
    this.etcdObservations.clear();
  }

  private pool(connectionKey: string, connection: PrometheusConnection): PrometheusClient {
    let pool = this.pools.get(connectionKey);
    if (!pool) {
      pool = { client: createPrometheusClient(connection), lastUsed: 0 };
      this.pools.set(connectionKey, pool);
      this.startSweeper();
    }
    pool.lastUsed = this.now();
    return pool.client;
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Drops old answers and closes idle pools; stops itself once nothing is left. */
  sweep(): void {
    const now = this.now();
    this.queries.prune(now);
    this.etcdObservations.prune(now);
    for (const [key, pool] of this.pools) {
      if (now - pool.lastUsed > this.idlePoolMs) {
        pool.client.close();
        this.pools.delete(key);
      }
    }
    if (this.pools.size === 0 && this.queries.size === 0 && this.etcdObservations.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Open Prometheus pools (for tests). */
  get openPools(): number {
    return this.pools.size;
  }
}

function digest(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}
