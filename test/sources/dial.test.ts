// The HTTP/2 dial that precedes every gRPC client: it must answer within its timeout and never
// leave a socket behind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttp2Server, createSecureServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dialHttp2 } from '../../src/sources/etcd/dial.js';
import { eventually } from '../harness/eventually.js';
import { createCertificateAuthority, issueCertificate, type CertificateFiles } from '../harness/pki.js';

interface Listening {
  url: string;
  open: Set<Socket>;
  close(): Promise<void>;
}

const servers: Listening[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function listen(
  server: Server,
  onSocket: (socket: Socket) => void = () => undefined,
): Promise<Listening> {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listening = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(listening);
  return listening;
}

describe('dialHttp2', () => {
  it('succeeds once the server sends its HTTP/2 SETTINGS, and hangs up', async () => {
    const server = await listen(createHttp2Server());
    const result = await dialHttp2(server.url, undefined, 2_000);
    expect(result).toEqual({ ok: true, tookMs: expect.any(Number) });
    await eventually(() => server.open.size === 0, {
      timeoutMs: 2_000,
      intervalMs: 20,
      description: 'the socket to close',
    });
  });

  it('gives up on a server that accepts and says nothing, and closes the socket', async () => {
    const server = await listen(createServer(), (socket) => socket.resume());
    const result = await dialHttp2(server.url, undefined, 200);
    expect(result).toEqual({
      ok: false,
      error: 'dial: no HTTP/2 answer within 200ms',
      tookMs: expect.any(Number),
    });
    await eventually(() => server.open.size === 0, {
      timeoutMs: 2_000,
      intervalMs: 20,
      description: 'the socket to close',
    });
  });

  it('reports a server that hangs up at once', async () => {
    const server = await listen(createServer(), (socket) => socket.destroy());
    const result = await dialHttp2(server.url, undefined, 2_000);
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^dial: (connection closed before the HTTP\/2 handshake|.*ECONNRESET)/),
    });
  });

  it('reports a refused connection', async () => {
    const server = await listen(createServer());
    await server.close();
    const result = await dialHttp2(server.url, undefined, 2_000);
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^dial: connect ECONNREFUSED 127\.0\.0\.1:\d+$/),
    });
  });

  it('reports an endpoint that is no URL', async () => {
    const result = await dialHttp2('not a url', undefined, 2_000);
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^dial: Invalid URL/) });
  });
});

describe('dialHttp2 over TLS: the certificate the server presented', () => {
  let dir: string;
  let ca: CertificateFiles;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ehc-dial-'));
    ca = createCertificateAuthority(dir, 'dial-ca');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(certificate: CertificateFiles): Promise<Listening> {
    const server = await listen(
      createSecureServer({ cert: certificate.certPem, key: certificate.keyPem, allowHTTP1: false }),
    );
    return { ...server, url: server.url.replace('http://', 'https://') };
  }

  it('comes with a successful dial, as its subject and end of validity', async () => {
    const served = issueCertificate(ca, dir, 'member', {
      commonName: 'member-1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      days: 3,
    });
    const server = await serve(served);
    const result = await dialHttp2(server.url, { caPem: ca.certPem }, 2_000);
    expect(result).toEqual({
      ok: true,
      tookMs: expect.any(Number),
      certificate: {
        subject: 'CN=member-1',
        notAfter: new Date(new X509Certificate(served.certPem).validTo).toISOString(),
      },
    });
  });

  it('is told as expired when the handshake refuses it for that', async () => {
    const served = issueCertificate(ca, dir, 'expired', {
      commonName: 'member-2',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      expiredOn: new Date(Date.now() - 86_400_000),
    });
    const server = await serve(served);
    const result = await dialHttp2(server.url, { caPem: ca.certPem }, 2_000);
    expect(result).toEqual({
      ok: false,
      error: 'dial: certificate has expired (CERT_HAS_EXPIRED)',
      tookMs: expect.any(Number),
      certificate: { expired: true },
    });
  });

  it('is not claimed when the handshake fails for another reason', async () => {
    const other = createCertificateAuthority(dir, 'other-ca');
    const server = await serve(
      issueCertificate(other, dir, 'stranger', {
        commonName: 'stranger',
        ipAddresses: ['127.0.0.1'],
        usage: 'server',
      }),
    );
    const result = await dialHttp2(server.url, { caPem: ca.certPem }, 2_000);
    expect(result.ok).toBe(false);
    expect(result.certificate).toBeUndefined();
  });
});
