// The one etcd3 client builder (observation and remediation both use it) and the member client's
// cancellation, without a real etcd: a refused port and an HTTP/2 server that never answers a call.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connectMember, etcdClient } from '../../src/sources/etcd/client.js';
import { eventually } from '../harness/eventually.js';
import { refusingUrl, silentHttp2Server, type SilentServer } from '../harness/silent.js';

const deadline = () => ({ deadline: new Date(Date.now() + 2_000) });

describe('etcdClient', () => {
  it('makes every call once: each of several failed calls reports its own error, never an open circuit breaker', async () => {
    const refused = await refusingUrl();
    const client = etcdClient(refused);
    try {
      const errors: string[] = [];
      for (let call = 0; call < 4; call++) {
        const started = Date.now();
        const error = await client.maintenance.status(deadline()).then(
          () => 'answered',
          (e: unknown) => String(e),
        );
        // etcd3's default policy would retry with backoff, then fail fast with "circuit breaker is open".
        expect(Date.now() - started).toBeLessThan(1_000);
        errors.push(error);
      }
      for (const error of errors) {
        expect(error).toMatch(/ECONNREFUSED|UNAVAILABLE/);
        expect(error).not.toMatch(/circuit/i);
      }
    } finally {
      client.close();
    }
  });

  it('reaches only its one endpoint', async () => {
    const hung = await silentHttp2Server();
    const client = etcdClient(hung.url);
    try {
      void client.maintenance.status(deadline()).catch(() => undefined);
      await eventually(() => hung.streams() === 1, {
        timeoutMs: 2_000,
        description: 'the call reached the server',
      });
    } finally {
      client.close();
      await hung.close();
    }
  });
});

describe('connectMember with a signal', () => {
  let hung: SilentServer & { streams(): number };
  beforeEach(async () => {
    hung = await silentHttp2Server();
  });
  afterEach(() => hung.close());

  it('answers "cancelled" as soon as the signal aborts, not at the call deadline', async () => {
    const controller = new AbortController();
    const member = connectMember(
      hung.url,
      { dialTimeoutMs: 10_000, requestTimeoutMs: 10_000 },
      controller.signal,
    );
    try {
      const started = Date.now();
      const status = member.status();
      await eventually(() => hung.streams() > 0, { timeoutMs: 2_000, description: 'the call is in flight' });
      controller.abort();
      expect(await status).toMatchObject({ ok: false, error: 'status: cancelled' });
      expect(Date.now() - started).toBeLessThan(3_000);
      // Later calls do not even start.
      const streams = hung.streams();
      expect(await member.alarms()).toMatchObject({ ok: false, error: 'alarm list: cancelled' });
      expect(hung.streams()).toBe(streams);
    } finally {
      member.close();
    }
  });

  it('closes its connection when the signal aborts', async () => {
    const controller = new AbortController();
    const member = connectMember(
      hung.url,
      { dialTimeoutMs: 10_000, requestTimeoutMs: 10_000 },
      controller.signal,
    );
    const read = member.healthRead(false);
    await eventually(() => hung.streams() > 0, { timeoutMs: 2_000, description: 'the call is in flight' });
    expect(hung.openConnections()).toBe(1);
    controller.abort();
    expect(await read).toMatchObject({ ok: false, error: 'linearizable read: cancelled' });
    await eventually(() => hung.openConnections() === 0, {
      timeoutMs: 5_000,
      description: 'the connection closed',
    });
    member.close();
  });
});
