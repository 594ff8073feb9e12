// The Prometheus client against a fake HTTP API: every malformed or failed answer becomes a
// readable error value, never an exception.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createPrometheusClient,
  type ClientLimits,
  interpretAnswer,
  MAX_ANSWER_BYTES,
  parseSampleValue,
} from '../../src/sources/prometheus/client.js';
import { ByteBudget } from '../../src/sources/prometheus/budget.js';
import { sanitizedLine } from '../../src/sources/text.js';
import { eventually } from '../harness/eventually.js';
import { json, startFakePrometheus, vector, type FakePrometheus } from '../harness/fake-prometheus.js';

describe('Prometheus client', () => {
  let fake: FakePrometheus;
  beforeAll(async () => {
    fake = await startFakePrometheus({ pathPrefix: '/thanos/prefix' });
  });
  afterAll(() => fake.close());

  const client = (options: { timeoutMs?: number; bearerToken?: string } = {}) =>
    createPrometheusClient({
      url: `${fake.url}/`,
      insecureSkipTLSVerify: false,
      timeoutMs: options.timeoutMs ?? 2_000,
      ...options,
    });
  const query = async (promql = 'up', options?: { timeoutMs?: number; bearerToken?: string }) => {
    const c = client(options);
    try {
      return await c.query(promql, new Date(1_700_000_000_123));
    } finally {
      c.close();
    }
  };

  it('queries <url>/api/v1/query under a path prefix, with the time and the bearer token', async () => {
    fake.handle((_req, res) => json(res, 200, vector([{ metric: { instance: 'a:2379' }, value: '1.5' }])));
    const outcome = await query('sum(up{job="etcd"})', { bearerToken: 's3cret' });
    expect(outcome).toEqual({
      ok: true,
      samples: [{ labels: { instance: 'a:2379' }, value: 1.5 }],
      warnings: [],
    });
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/thanos/prefix/api/v1/query');
    expect(request.query).toBe('sum(up{job="etcd"})');
    expect(request.headers.authorization).toBe('Bearer s3cret');
    expect(request.headers['accept-encoding']).toBe('identity');
  });

  it('sends no Authorization header without a token', async () => {
    await query();
    expect(fake.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it.each([
    [
      'HTTP 500 with a Prometheus error body',
      500,
      { status: 'error', errorType: 'internal', error: 'boom' },
      /^HTTP 500: internal: boom$/,
    ],
    [
      'HTTP 422 execution error',
      422,
      { status: 'error', errorType: 'execution', error: 'query timed out' },
      /HTTP 422: execution: query timed out/,
    ],
    [
      'HTTP 400 bad_data',
      400,
      { status: 'error', errorType: 'bad_data', error: 'parse error' },
      /HTTP 400: bad_data: parse error/,
    ],
    [
      'HTTP 503 HTML',
      503,
      '<html><body>Service Unavailable</body></html>',
      /^HTTP 503 \(45 bytes, not shown\)$/,
    ],
    ['HTTP 502 empty body', 502, '', /^HTTP 502 \(empty body\)$/],
    ['HTTP 200 garbage', 200, 'this is not json {', /^an answer that is not JSON \(18 bytes, not shown\)$/],
    [
      'HTTP 200 JSON that is no API answer',
      200,
      { hello: 'world' },
      /^HTTP 200 with an answer that is not a Prometheus API response \(17 bytes, not shown\)$/,
    ],
    [
      'status error with HTTP 200',
      200,
      { status: 'error', errorType: 'timeout', error: 'too slow' },
      /HTTP 200: timeout: too slow/,
    ],
    [
      'a scalar instead of a vector',
      200,
      { status: 'success', data: { resultType: 'scalar', result: [1, '1'] } },
      /expected an instant vector, got scalar/,
    ],
    [
      'a sample without a value',
      200,
      { status: 'success', data: { resultType: 'vector', result: [{ metric: {} }] } },
      /malformed vector at 0.value/,
    ],
    [
      'a non-numeric value',
      200,
      vector([{ metric: {}, value: 'twelve' }]),
      /malformed vector at 0.value.1: not a number/,
    ],
    ['success with HTTP 500', 500, vector([]), /^HTTP 500 with a success answer \(\d+ bytes, not shown\)$/],
  ])('%s is an error value', async (_name, status, body, message) => {
    fake.handle((_req, res) => json(res, status, body));
    const outcome = await query();
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(message);
  });

  it('reads NaN, +Inf and -Inf sample strings as numbers', async () => {
    fake.handle((_req, res) =>
      json(
        res,
        200,
        vector([
          { metric: { i: 'a' }, value: 'NaN' },
          { metric: { i: 'b' }, value: '+Inf' },
          { metric: { i: 'c' }, value: '-Inf' },
          { metric: { i: 'd' }, value: '1e-3' },
        ]),
      ),
    );
    const outcome = await query();
    expect(outcome.ok && outcome.samples.map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, 0.001]);
  });

  it('passes warnings on', async () => {
    fake.handle((_req, res) => json(res, 200, vector([], ['store 10.0.0.1:10901 unavailable'])));
    expect(await query()).toEqual({ ok: true, samples: [], warnings: ['store 10.0.0.1:10901 unavailable'] });
  });

  it('gives up on an answer that never comes, after the timeout', async () => {
    fake.handle(() => undefined);
    const started = Date.now();
    const outcome = await query('up', { timeoutMs: 300 });
    expect(outcome).toEqual({ ok: false, error: 'no answer within 300ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up on an answer that trickles in forever', async () => {
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const outcome = await query('up', { timeoutMs: 400 });
    expect(outcome).toEqual({ ok: false, error: 'no answer within 400ms' });
  });

  it('does not follow a redirect (the token must stay with the configured URL)', async () => {
    fake.handle((_req, res) => {
      res.writeHead(302, { Location: 'http://elsewhere.example/api/v1/query' });
      res.end();
    });
    const outcome = await query('up', { bearerToken: 't' });
    // The Location header is the server's text: not quoted.
    expect(outcome).toEqual({ ok: false, error: 'HTTP 302: a redirect, not followed' });
  });

  it('reports a refused connection', async () => {
    const closed = await startFakePrometheus();
    const url = closed.url;
    await closed.close();
    const c = createPrometheusClient({ url, insecureSkipTLSVerify: false, timeoutMs: 2_000 });
    const outcome = await c.query('up', new Date());
    c.close();
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(/ECONNREFUSED/);
  });

  // Its certificates come from openssl processes: more than jest's 5 s default on a loaded machine.
  it('refuses TLS to a server it cannot verify', async () => {
    // A real TLS server whose certificate comes from a CA the client is not given.
    const untrusted = await startFakePrometheus({ tls: true });
    untrusted.handle((_req, res) => json(res, 200, vector([{ metric: {}, value: '1' }])));
    const ask = async (tls: { caPem?: string; insecureSkipTLSVerify: boolean }) => {
      const c = createPrometheusClient({
        url: untrusted.url,
        bearerToken: 's3cret',
        timeoutMs: 5_000,
        ...tls,
      });
      try {
        return await c.query('up', new Date());
      } finally {
        c.close();
      }
    };
    try {
      expect(untrusted.url).toMatch(/^https:/);
      const refused = await ask({ insecureSkipTLSVerify: false });
      expect(refused).toEqual({
        ok: false,
        error: expect.stringMatching(
          /UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate/,
        ),
      });
      // The client dialled and a TLS handshake began, which the client broke off: the server saw
      // the connection and a failed handshake (its 'tlsClientError'), never a completed one.
      await eventually(() => untrusted.transport.handshakeErrors.length > 0, {
        timeoutMs: 5_000,
        description: 'the server to see the handshake fail',
      });
      expect(untrusted.transport).toMatchObject({ connections: 1, handshakes: 0 });
      expect(untrusted.transport.handshakeErrors).toHaveLength(1);
      // The handshake failed before any request: the query and the token never crossed.
      expect(untrusted.requests).toEqual([]);
      // The same server, verified against its CA, answers: the refusal above was the verification.
      expect(await ask({ caPem: untrusted.caPem, insecureSkipTLSVerify: false })).toMatchObject({ ok: true });
      expect(untrusted.requests).toHaveLength(1);
      expect(untrusted.transport).toMatchObject({ connections: 2, handshakes: 1 });
      expect(untrusted.transport.handshakeErrors).toHaveLength(1);
    } finally {
      await untrusted.close();
    }
  }, 30_000);
});

describe('answer details', () => {
  it.each([
    ['0', 0],
    ['-1.5', -1.5],
    ['3.2e+09', 3.2e9],
    ['.5', 0.5],
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
  ])('parses sample value %s', (text, value) => expect(parseSampleValue(text)).toBe(value));

  it.each(['', 'nan', 'Infinity', '0x10', '1,5', ' 1'])('refuses sample value %j', (text) =>
    expect(parseSampleValue(text)).toBeUndefined(),
  );

  it('never quotes a body, however long', () => {
    const outcome = interpretAnswer(500, 'x'.repeat(5_000));
    expect(outcome).toEqual({ ok: false, error: 'HTTP 500 (5000 bytes, not shown)' });
  });

  it('reduces a server error text to one short sanitised line without the token', () => {
    const error = `line one\nAuthorization: Bearer s3cret-token\r\n${'y'.repeat(1_000)} s3cret-token`;
    const outcome = interpretAnswer(400, JSON.stringify({ status: 'error', errorType: 'bad_data', error }), [
      's3cret-token',
    ]);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).not.toContain('s3cret');
    expect(outcome.error).not.toMatch(/[\r\n]/);
    expect(outcome.error.length).toBeLessThan(220);
    expect(outcome.error).toMatch(/^HTTP 400: bad_data: line one Authorization: \[redacted\]/);
  });

  it('passes on at most three warnings, each sanitised', () => {
    const body = JSON.stringify(vector([], ['a\nb', 'x'.repeat(500), 'c', 'd']));
    const outcome = interpretAnswer(200, body);
    expect(outcome.ok && outcome.warnings.map((w) => w.length)).toEqual([3, 160, 1]);
    expect(outcome.ok && outcome.warnings[0]).toBe('a b');
  });
});

describe('sanitizedLine', () => {
  it.each([
    ['plain text', [], 'plain text'],
    ['two\nlines\tand\u0000nul', [], 'two lines and nul'],
    ['Authorization: Bearer abc.def', [], 'Authorization: [redacted]'],
    ['got bearer abc.def from x', [], 'got bearer [redacted] from x'],
    ['Basic dXNlcjpwYXNz', [], 'Basic [redacted]'],
    ['GET /x?token=abc&y=1', [], 'GET /x?token=[redacted]&y=1'],
    ['the secret is hunter2', ['hunter2'], 'the secret is [redacted]'],
    ['', [], '(empty)'],
  ])('%j -> %j', (text, secrets, expected) => expect(sanitizedLine(text, secrets)).toBe(expected));

  it('clips to the given length', () => {
    expect(sanitizedLine('z'.repeat(500))).toHaveLength(160);
    expect(sanitizedLine('z'.repeat(500), [], 20)).toBe(`${'z'.repeat(19)}…`);
  });
});

describe('Prometheus client limits', () => {
  let fake: FakePrometheus;
  beforeAll(async () => {
    fake = await startFakePrometheus();
  });
  afterAll(() => fake.close());

  const queryWith = async (limits: ClientLimits, timeoutMs = 2_000) => {
    const c = createPrometheusClient({ url: fake.url, insecureSkipTLSVerify: false, timeoutMs }, limits);
    try {
      return await c.query('up', new Date());
    } finally {
      c.close();
    }
  };

  it('caps each answer, declared or streamed, and gives its bytes back', async () => {
    expect(MAX_ANSWER_BYTES).toBe(2 * 1024 * 1024);
    const budget = new ByteBudget(1024 * 1024);
    fake.handle((_req, res) => json(res, 200, { status: 'success', padding: 'p'.repeat(5_000) }));
    expect(await queryWith({ budget, maxAnswerBytes: 4_096 })).toEqual({
      ok: false,
      error: 'answer larger than 4096 bytes, not read',
    });
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < 10; i++) res.write('x'.repeat(1_000));
      res.end();
    });
    expect(await queryWith({ budget, maxAnswerBytes: 4_096 })).toEqual({
      ok: false,
      error: 'answer larger than 4096 bytes, not read',
    });
    expect(budget.inUse).toBe(0);
  });

  it('fails with a clear error when the budget of bytes in flight stays used up', async () => {
    const budget = new ByteBudget(64 * 1024);
    await budget.take(64 * 1024, 0);
    fake.handle((_req, res) => json(res, 200, vector([])));
    // A deadline longer than the budget's wait (2s), so that the wait is what ends it.
    const outcome = await queryWith({ budget }, 10_000);
    expect(outcome).toEqual({
      ok: false,
      error: `the memory budget for answers in flight, all checks' share (65536 bytes), stayed used up; the next check retries`,
    });
    budget.give(64 * 1024);
    expect(await queryWith({ budget })).toMatchObject({ ok: true });
    expect(budget.inUse).toBe(0);
  });

  it('holds one client to its share, leaving the rest to the others', async () => {
    const budget = new ByteBudget(1024 * 1024);
    fake.handle((_req, res) => json(res, 200, { status: 'success', padding: 'p'.repeat(40_000) }));
    const outcome = await queryWith({ budget, clientBytes: 16 * 1024 }, 10_000);
    expect(outcome).toEqual({
      ok: false,
      error: `the memory budget for answers in flight, this Prometheus' share (16384 bytes), stayed used up; the next check retries`,
    });
    expect(budget.inUse).toBe(0);
  });

  it('refuses more series than a check can use', () => {
    const samples = Array.from({ length: 10_001 }, (_, i) => ({ metric: { i: String(i) }, value: '1' }));
    expect(interpretAnswer(200, JSON.stringify(vector(samples)))).toEqual({
      ok: false,
      error: '10001 series, more than the 10000 this check can use',
    });
  });

  it('gives the bytes of a trickled answer back when the deadline cuts it', async () => {
    const budget = new ByteBudget(1024 * 1024);
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write('{"status":'), 20);
      res.on('close', () => clearInterval(timer));
    });
    expect(await queryWith({ budget }, 300)).toEqual({ ok: false, error: 'no answer within 300ms' });
    expect(budget.inUse).toBe(0);
  });

  it('ignores HTTP(S)_PROXY: the token goes to the configured URL only', async () => {
    let proxied = 0;
    const proxy = createServer((_req, res) => {
      proxied++;
      res.end();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const saved = { http: process.env.HTTP_PROXY, https: process.env.HTTPS_PROXY, no: process.env.NO_PROXY };
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    process.env.HTTP_PROXY = proxyUrl;
    process.env.HTTPS_PROXY = proxyUrl;
    delete process.env.NO_PROXY;
    try {
      fake.handle((_req, res) => json(res, 200, vector([])));
      const before = fake.requests.length;
      const c = createPrometheusClient({
        url: fake.url,
        insecureSkipTLSVerify: false,
        timeoutMs: 2_000,
        bearerToken: 'not-for-the-proxy',
      });
      expect(await c.query('up', new Date())).toMatchObject({ ok: true });
      c.close();
      expect(proxied).toBe(0);
      expect(fake.requests.length).toBe(before + 1);
    } finally {
      for (const [key, value] of [
        ['HTTP_PROXY', saved.http],
        ['HTTPS_PROXY', saved.https],
        ['NO_PROXY', saved.no],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('reports a URL the rules refuse without sending anything', async () => {
    const before = fake.requests.length;
    const c = createPrometheusClient({
      url: `${fake.url}/api/v1/query?query=secret#`,
      insecureSkipTLSVerify: false,
      timeoutMs: 2_000,
      bearerToken: 't',
    });
    expect(await c.query('up', new Date())).toEqual({
      ok: false,
      error: 'Prometheus URL must not have a query or fragment',
    });
    expect(fake.requests.length).toBe(before);
  });
});
