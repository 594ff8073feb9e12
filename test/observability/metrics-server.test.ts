// The protected /metrics listener over real HTTPS on loopback, with a scripted reviewer: the
// self-signed certificate verifies for localhost and 127.0.0.1, a certificate directory is served
// and re-read when it changes, refusals carry their status and words, and the health endpoints
// stay plain HTTP. The flags that turn it on are parsed as the entry point parses them.
import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry, Gauge } from 'prom-client';
import { parseOperatorOptions } from '../../src/cli/options.js';
import { serve, type ServedEndpoints } from '../../src/observability/http-server.js';
import { MetricsAccess, type AccessReviewer } from '../../src/observability/metrics-access.js';
import { servingCertificate } from '../../src/observability/metrics-tls.js';
import { selfSignedCertificate } from '../../src/observability/self-signed.js';
import { eventually } from '../harness/eventually.js';
import { httpsGet } from './https-get.js';
import { makeTempDir, removeTempDir } from '../harness/process.js';

const reviewer: AccessReviewer = {
  reviewToken: (token) =>
    Promise.resolve(
      token === 'good' || token === 'other'
        ? { authenticated: true, user: { username: token === 'good' ? 'reader' : 'someone' } }
        : { authenticated: false },
    ),
  reviewAccess: (user) => Promise.resolve({ allowed: user.username === 'reader', reason: '' }),
};

function registry(): Registry {
  const r = new Registry();
  new Gauge({ name: 'ehc_test_gauge', help: 'a test gauge', registers: [r] }).set(7);
  return r;
}

const log = pino({ level: 'silent' });
const servers: ServedEndpoints[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) removeTempDir(dir);
});

describe('protected /metrics', () => {
  it('serves HTTPS with a self-signed certificate and answers 401, 403, 200 and 404', async () => {
    const certificate = await servingCertificate(undefined);
    const served = await serve('127.0.0.1:0', {
      registry: registry(),
      protection: { certificate, access: new MetricsAccess(reviewer), log },
    });
    servers.push(served);
    expect(served.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = certificate.current.certPem;
    const noToken = await httpsGet(`${served.url}/metrics`, ca);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatch(/^Unauthorized: \/metrics needs a bearer token/);
    expect(await httpsGet(`${served.url}/metrics`, ca, 'bad')).toMatchObject({ status: 401 });
    expect(await httpsGet(`${served.url}/metrics`, ca, 'other')).toMatchObject({
      status: 403,
      body: 'Forbidden: user someone may not get /metrics; bind it to the ClusterRole etcd-health-operator-metrics-reader\n',
    });
    const ok = await httpsGet(`${served.url}/metrics?x=1`, ca, 'good');
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('ehc_test_gauge 7');
    expect((await httpsGet(`${served.url}/other`, ca, 'good')).status).toBe(404);
    // Verified against the name too: localhost is in the certificate.
    const port = new URL(served.url).port;
    expect((await httpsGet(`https://localhost:${port}/metrics`, ca, 'good')).status).toBe(200);
    // Plain HTTP to the TLS port gets no metrics.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.status)).rejects.toThrow();
  });

  it('serves the certificate of --metrics-cert-dir and the new one after the files change', async () => {
    const dir = makeTempDir('metrics-tls');
    dirs.push(dir);
    const write = (pair: { certPem: string; keyPem: string }) => {
      writeFileSync(join(dir, 'tls.crt'), pair.certPem);
      writeFileSync(join(dir, 'tls.key'), pair.keyPem);
    };
    const first = selfSignedCertificate('first', ['127.0.0.1']);
    const second = selfSignedCertificate('second', ['127.0.0.1']);
    write(first);
    const certificate = await servingCertificate(dir, 100);
    expect(certificate.origin).toBe(dir);
    const served = await serve('127.0.0.1:0', {
      registry: registry(),
      protection: { certificate, access: new MetricsAccess(reviewer), log },
    });
    servers.push(served);
    const firstAnswer = await httpsGet(`${served.url}/metrics`, first.certPem, 'good');
    expect(firstAnswer.status).toBe(200);
    expect(firstAnswer.certificate).toBe(new X509Certificate(first.certPem).toString());

    write(second);
    const secondAnswer = await eventually(
      () => httpsGet(`${served.url}/metrics`, second.certPem, 'good').catch(() => undefined),
      { timeoutMs: 20_000, intervalMs: 100, description: 'the second certificate served' },
    );
    expect(secondAnswer.certificate).toBe(new X509Certificate(second.certPem).toString());
  });

  it('a missing certificate directory is a readable error at start-up', async () => {
    await expect(servingCertificate('/nonexistent/metrics-tls')).rejects.toThrow(
      /cannot read \/nonexistent\/metrics-tls\/tls\.(crt|key): ENOENT/,
    );
  });

  it('health endpoints stay plain HTTP', async () => {
    const served = await serve('127.0.0.1:0', {
      health: { liveness: () => undefined, readiness: () => 'caches not synced' },
    });
    servers.push(served);
    expect(served.url).toMatch(/^http:\/\//);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${served.url}/readyz`)).status).toBe(503);
  });
});

describe('the --metrics-* flags', () => {
  const env = { POD_NAMESPACE: 'ns', POD_NAME: 'op' };

  it('default to HTTPS on :8443 with a self-signed certificate', () => {
    expect(parseOperatorOptions([], env)).toMatchObject({
      ok: true,
      options: { metricsSecure: true, metricsBindAddress: ':8443', metricsCertDir: undefined },
    });
  });

  it('--metrics-secure=false is plain HTTP on :8080; a later flag wins', () => {
    expect(parseOperatorOptions(['--metrics-secure=false'], env)).toMatchObject({
      ok: true,
      options: { metricsSecure: false, metricsBindAddress: ':8080' },
    });
    expect(parseOperatorOptions(['--metrics-secure=false', '--metrics-secure=true'], env)).toMatchObject({
      ok: true,
      options: { metricsSecure: true },
    });
  });

  it('take a certificate directory, only when secure', () => {
    expect(parseOperatorOptions(['--metrics-cert-dir=/etc/tls'], env)).toMatchObject({
      ok: true,
      options: { metricsCertDir: '/etc/tls' },
    });
    expect(parseOperatorOptions(['--metrics-cert-dir=/etc/tls', '--metrics-secure=false'], env)).toEqual({
      ok: false,
      error: '--metrics-cert-dir: a serving certificate is only used with --metrics-secure=true',
    });
    expect(parseOperatorOptions(['--metrics-secure=yes'], env)).toEqual({
      ok: false,
      error: '--metrics-secure: must be true or false',
    });
  });
});

describe('selfSignedCertificate', () => {
  it('is a verifiable serving certificate for its names and addresses, valid from an hour ago', () => {
    const now = new Date('2026-12-07T06:00:00Z');
    const pair = selfSignedCertificate('metrics', ['localhost', '10.1.2.3', '::1', 'svc.ns.svc'], 365, now);
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subject).toBe('CN=metrics');
    expect(cert.issuer).toBe('CN=metrics');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1, DNS:svc.ns.svc',
    );
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.ca).toBe(false);
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-12-07T05:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2027-12-07T06:00:00.000Z');
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
  });
});
