// The Prometheus client against a fake HTTP API: every malformed or failed answer becomes a
// readable error value, never an exception.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createPrometheusClient,
  interpretAnswer,
  parseSampleValue,
  queryEndpoint,
} from '../../src/sources/prometheus/client.js';
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
      /HTTP 503: <html><body>Service Unavailable/,
    ],
    ['HTTP 502 empty body', 502, '', /HTTP 502: \(empty body\)/],
    ['HTTP 200 garbage', 200, 'this is not json {', /not JSON: this is not json \{/],
    ['HTTP 200 JSON that is no API answer', 200, { hello: 'world' }, /not a Prometheus API response/],
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
    ['success with HTTP 500', 500, vector([]), /HTTP 500: \{"status":"success"/],
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
    expect(outcome).toEqual({
      ok: false,
      error: 'HTTP 302: redirect to http://elsewhere.example/api/v1/query not followed',
    });
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
      // The handshake failed before any request: the query and the token never crossed.
      expect(untrusted.requests).toEqual([]);
      // The same server, verified against its CA, answers: the refusal above was the verification.
      expect(await ask({ caPem: untrusted.caPem, insecureSkipTLSVerify: false })).toMatchObject({ ok: true });
      expect(untrusted.requests).toHaveLength(1);
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

  it('joins path prefixes without doubling slashes', () => {
    expect(queryEndpoint('https://thanos:9091')).toBe('https://thanos:9091/api/v1/query');
    expect(queryEndpoint('https://host/prefix//')).toBe('https://host/prefix/api/v1/query');
  });

  it('clips a long error body', () => {
    const outcome = interpretAnswer(500, 'x'.repeat(5_000));
    expect(!outcome.ok && outcome.error.length).toBeLessThan(300);
  });
});
