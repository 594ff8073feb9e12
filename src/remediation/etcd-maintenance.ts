// The etcd side of automated remediation: one etcd3 client per member (etcd3 pools across its
// hosts, and a defragmentation must reach exactly one member), every call once (no retries: a
// retried Defragment or MoveLeader is a second action) and with a deadline.
//
// The reads take the caller's AbortSignal; the actions (defragment, compact, move leader, disarm,
// the verification write) deliberately do not: an action cancelled client-side keeps running in
// etcd (a defragmentation does not stop when its client hangs up), so giving up on it would only
// lose its outcome. The remediation keeps its lock and the next check verifies what happened.
import type { Etcd3 } from 'etcd3';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  describeGrpcError,
  etcdClient,
  grpcCallOptions,
  type EtcdCallOptions,
  type GrpcCallOptions,
} from '../sources/etcd/client.js';
import { dialHttp2 } from '../sources/etcd/dial.js';
import { errorText } from '../sources/text.js';
import { CANCELLED, untilAborted, withTimeout } from '../sources/timeout.js';
import { VERIFY_WRITE_KEY, type ExecResult, type ReadResult, type RemediationExecutor } from './executor.js';

/**
 * Deadline of one Defragment call. Defragmentation time grows with the DB: cluster-etcd-operator
 * allows 60s (questioned in openshift/cluster-etcd-operator#1618), etcd-backup-restore 8m
 * (DefaultDefragConnectionTimeout). The server finishes a defragmentation even after the client
 * gave up, so an expired deadline leaves the step Running and the next check verifies it.
 */
export const DEFAULT_DEFRAG_TIMEOUT_MS = 5 * 60_000;

export interface MaintenanceOptions extends EtcdCallOptions {
  defragTimeoutMs?: number;
}

/** Errors that prove the request never took effect; anything else may have reached etcd. */
const DEFINITE_ERROR =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|UNAUTHENTICATED|PERMISSION_DENIED|permission denied|UNIMPLEMENTED|INVALID_ARGUMENT|FAILED_PRECONDITION|not leader|learner|not supported|database space exceeded|NOT_FOUND/i;

export class EtcdMaintenance implements RemediationExecutor {
  private readonly clients = new Map<string, Etcd3>();
  private readonly budgetMs: number;
  private readonly defragTimeoutMs: number;

  constructor(private readonly options: MaintenanceOptions) {
    // etcd3 connects inside the first call: the deadline covers a dial and a request.
    this.budgetMs = options.dialTimeoutMs + options.requestTimeoutMs;
    this.defragTimeoutMs = options.defragTimeoutMs ?? DEFAULT_DEFRAG_TIMEOUT_MS;
  }

  defragment(endpoint: string): Promise<ExecResult> {
    return this.exec('defragment', endpoint, this.defragTimeoutMs, () =>
      this.client(endpoint).maintenance.defragment(this.deadline(this.defragTimeoutMs)),
    );
  }

  moveLeader(leaderEndpoint: string, targetMemberId: string): Promise<ExecResult> {
    // MoveLeader waits for the transfer (up to an election timeout); allow a few.
    const budget = this.budgetMs + 15_000;
    return this.exec('move leader', leaderEndpoint, budget, () =>
      this.client(leaderEndpoint).maintenance.moveLeader({ targetID: targetMemberId }, this.deadline(budget)),
    );
  }

  compact(endpoint: string, revision: string): Promise<ExecResult> {
    // A physical compaction waits until the member deleted the old revisions: as slow as a defrag.
    return this.exec('compact', endpoint, this.defragTimeoutMs, async () => {
      try {
        await this.client(endpoint).kv.compact(
          { revision, physical: true },
          this.deadline(this.defragTimeoutMs),
        );
        return `compacted to revision ${revision}`;
      } catch (error) {
        if (/required revision has been compacted/.test(errorText(error))) {
          return `already compacted at or beyond revision ${revision}`;
        }
        throw error;
      }
    });
  }

  disarmNoSpace(endpoint: string, memberIds: readonly string[]): Promise<ExecResult> {
    return this.exec('alarm disarm', endpoint, this.budgetMs * Math.max(1, memberIds.length), async () => {
      const client = this.client(endpoint);
      // memberID 0 would mean "all members"; etcdctl alarm disarm deactivates each listed alarm.
      for (const memberID of memberIds.length > 0 ? memberIds : ['0']) {
        await client.maintenance.alarm(
          { action: 'Deactivate', memberID, alarm: 'Nospace' },
          this.deadline(this.budgetMs),
        );
      }
      return `NOSPACE disarmed for ${memberIds.length || 'all'} member(s)`;
    });
  }

  verifyWrite(endpoint: string): Promise<ExecResult> {
    return this.exec('verification write', endpoint, 2 * this.budgetMs, async () => {
      const client = this.client(endpoint);
      await client
        .put(VERIFY_WRITE_KEY)
        .value(new Date().toISOString())
        .options(this.deadline(this.budgetMs))
        .exec();
      await client.delete().key(VERIFY_WRITE_KEY).options(this.deadline(this.budgetMs)).exec();
      return `put and deleted ${VERIFY_WRITE_KEY}`;
    });
  }

  async dbSize(endpoint: string, signal?: AbortSignal): Promise<ReadResult<number>> {
    return this.read('status', signal, async (callOptions) => {
      const status = await this.client(endpoint).maintenance.status(callOptions);
      return Number(status.dbSize);
    });
  }

  async revisionAvailable(
    endpoint: string,
    revision: string,
    signal?: AbortSignal,
  ): Promise<ReadResult<boolean>> {
    return this.read('range at a revision', signal, async (callOptions) => {
      try {
        await this.client(endpoint).get(VERIFY_WRITE_KEY).revision(revision).options(callOptions).exec();
        return true;
      } catch (error) {
        if (/required revision has been compacted/.test(errorText(error))) return false;
        throw error;
      }
    });
  }

  async quotaBytes(endpoint: string, signal?: AbortSignal): Promise<ReadResult<number>> {
    return this.read('metrics', signal, async () => {
      const text = await this.httpGet(`${endpoint.replace(/\/+$/, '')}/metrics`, signal);
      const match = /^etcd_server_quota_backend_bytes(?:\{[^}]*\})?\s+(\S+)/m.exec(text);
      const value = match ? Number(match[1]) : NaN;
      if (!Number.isFinite(value) || value <= 0)
        throw new Error('etcd_server_quota_backend_bytes is not in /metrics');
      return value;
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(endpoint: string): Etcd3 {
    let client = this.clients.get(endpoint);
    if (!client) {
      client = etcdClient(endpoint, this.options.tls);
      this.clients.set(endpoint, client);
    }
    return client;
  }

  private deadline(ms: number) {
    return { deadline: new Date(Date.now() + ms) };
  }

  private async exec(
    what: string,
    endpoint: string,
    budgetMs: number,
    fn: () => Promise<unknown>,
  ): Promise<ExecResult> {
    const started = Date.now();
    const took = () => Date.now() - started;
    // Our own dial first: a member that refuses or never answers is then a definite "nothing ran".
    // gRPC alone cannot tell: a request written on a cached connection the member just dropped
    // fails with a reset that may or may not have been processed.
    const dial = await dialHttp2(endpoint, this.options.tls, this.options.dialTimeoutMs);
    if (!dial.ok) return { ok: false, tookMs: took(), error: `${what}: ${dial.error}`, ambiguous: false };
    return withTimeout(
      fn().then(
        (detail): ExecResult => ({
          ok: true,
          tookMs: took(),
          ...(typeof detail === 'string' ? { detail } : {}),
        }),
        (error: unknown): ExecResult => {
          const text = `${what}: ${describeGrpcError(error, budgetMs)}`;
          return { ok: false, tookMs: took(), error: text, ambiguous: !DEFINITE_ERROR.test(text) };
        },
      ),
      budgetMs + 2_000,
      (): ExecResult => ({
        ok: false,
        tookMs: took(),
        error: `${what}: no answer within ${budgetMs}ms`,
        ambiguous: true,
      }),
    );
  }

  /**
   * An aborted read answers "cancelled" at once and only its own gRPC call is cancelled: the
   * member's client stays open, since closing it would also cut an action in flight on it.
   */
  private async read<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (callOptions: GrpcCallOptions) => Promise<T>,
  ): Promise<ReadResult<T>> {
    const cancelled = (): ReadResult<T> => ({ ok: false, error: `${what}: ${CANCELLED}` });
    if (signal?.aborted) return cancelled();
    const { options: callOptions, release } = grpcCallOptions(this.budgetMs, signal);
    const answer = fn(callOptions).then(
      (value): ReadResult<T> => ({ ok: true, value }),
      (error: unknown): ReadResult<T> => ({
        ok: false,
        error: `${what}: ${describeGrpcError(error, this.budgetMs)}`,
      }),
    );
    try {
      return await withTimeout(
        untilAborted(answer, signal, cancelled),
        this.budgetMs + 1_000,
        (): ReadResult<T> => ({ ok: false, error: `${what}: no answer within ${this.budgetMs}ms` }),
      );
    } finally {
      release();
    }
  }

  private httpGet(url: string, signal: AbortSignal | undefined): Promise<string> {
    const secure = url.startsWith('https:');
    const tls = this.options.tls;
    const request = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          agent: false,
          timeout: this.budgetMs,
          signal,
          ...(secure && tls ? { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Buffer.concat(chunks).toString('utf8'))
              : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }
}
