import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsScraper } from '../../src/sources/metrics/scrape.js';

describe('metricsScraper against a loopback HTTP server', () => {
  let server: Server;
  let base: string;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/metrics')
        response.end('# TYPE etcd_server_has_leader gauge\netcd_server_has_leader 1\n');
      else if (request.url === '/broken') response.end('etcd_server_has_leader one\n');
      else if (request.url === '/hang') held.push(() => response.end());
      else {
        response.statusCode = 404;
        response.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const release of held) release();
    await new Promise((resolve) => server.close(resolve));
  });

  // Long enough for a loaded machine; the hanging answers use their own short timeout.
  const scrape = metricsScraper({ timeoutMs: 10_000 });
  const impatient = metricsScraper({ timeoutMs: 300 });

  it('reads the samples and when they were read', async () => {
    const before = Date.now();
    const outcome = await scrape(`${base}/metrics`);
    expect(outcome).toMatchObject({
      ok: true,
      samples: [{ name: 'etcd_server_has_leader', labels: {}, value: 1 }],
    });
    expect(outcome.ok && outcome.at).toBeGreaterThanOrEqual(before);
  });

  it('says which HTTP status came back', async () => {
    expect(await scrape(`${base}/nothing`)).toEqual({ ok: false, error: 'HTTP 404' });
  });

  it('says where the text is not the exposition format', async () => {
    expect(await scrape(`${base}/broken`)).toEqual({
      ok: false,
      error: 'not the Prometheus text format: line 1: etcd_server_has_leader: "one" is not a sample value',
    });
  });

  it('gives up after its timeout', async () => {
    expect(await impatient(`${base}/hang`)).toEqual({ ok: false, error: 'no answer within 300ms' });
  });

  it('says cancelled when its caller cancels', async () => {
    const cancel = new AbortController();
    const outcome = scrape(`${base}/hang`, cancel.signal);
    cancel.abort();
    expect(await outcome).toEqual({ ok: false, error: 'cancelled' });
  });

  it('names a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(outcome).toEqual({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
  });
});
