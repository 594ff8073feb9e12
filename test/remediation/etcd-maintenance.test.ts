// EtcdMaintenance's reads take the caller's signal, without a real etcd: a member whose gRPC calls
// hang and a /metrics that never answers (a real etcd cannot be made to hang on demand).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { EtcdMaintenance } from '../../src/remediation/etcd-maintenance.js';
import { eventually } from '../harness/eventually.js';
import { silentHttp2Server, silentServer } from '../harness/silent.js';

const LONG_MS = 30_000;
const FAST_MS = 3_000;

describe('EtcdMaintenance reads with a signal', () => {
  let hung: Awaited<ReturnType<typeof silentHttp2Server>>;
  let maintenance: EtcdMaintenance;
  beforeEach(async () => {
    hung = await silentHttp2Server();
    maintenance = new EtcdMaintenance({ dialTimeoutMs: LONG_MS, requestTimeoutMs: LONG_MS });
  });
  afterEach(async () => {
    maintenance.close();
    await hung.close();
  });

  it.each([
    ['dbSize', 'status', (signal: AbortSignal) => maintenance.dbSize(hung.url, signal)],
    [
      'revisionAvailable',
      'range at a revision',
      (signal: AbortSignal) => maintenance.revisionAvailable(hung.url, '5', signal),
    ],
  ])('%s answers "cancelled" at once and cancels only its own call', async (_name, what, read) => {
    const controller = new AbortController();
    const started = Date.now();
    const answer = read(controller.signal);
    await eventually(() => hung.openStreams() > 0, { timeoutMs: FAST_MS, description: 'the call in flight' });
    controller.abort();
    expect(await answer).toEqual({ ok: false, error: `${what}: cancelled` });
    expect(Date.now() - started).toBeLessThan(FAST_MS);
    await eventually(() => hung.openStreams() === 0, { timeoutMs: FAST_MS, description: 'the call ended' });
    // The member's client stays open for the actions that may share it: the next call reaches etcd.
    const next = new AbortController();
    const again = maintenance.dbSize(hung.url, next.signal);
    await eventually(() => hung.openStreams() > 0, { timeoutMs: FAST_MS, description: 'the next call' });
    next.abort();
    expect(await again).toEqual({ ok: false, error: 'status: cancelled' });
  });

  it('asks nothing when the signal aborted before', async () => {
    expect(await maintenance.dbSize(hung.url, AbortSignal.abort())).toEqual({
      ok: false,
      error: 'status: cancelled',
    });
    expect(hung.streams()).toBe(0);
  });

  it('quotaBytes answers "cancelled" at once and hangs up on /metrics', async () => {
    const metrics = await silentServer();
    try {
      const controller = new AbortController();
      const answer = maintenance.quotaBytes(metrics.url, controller.signal);
      await eventually(() => metrics.accepted() > 0, { timeoutMs: FAST_MS, description: 'the request' });
      controller.abort();
      expect(await answer).toEqual({ ok: false, error: 'metrics: cancelled' });
      await eventually(() => metrics.openConnections() === 0, {
        timeoutMs: FAST_MS,
        description: 'the connection closed',
      });
    } finally {
      await metrics.close();
    }
  });
});
