// The HTTP/2 dial that precedes every gRPC client: it must answer within its timeout and never
// leave a socket behind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttp2Server, createSecureServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describeDialError, dialHttp2 } from '../../src/sources/etcd/dial.js';
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

  it('says in words that a name does not resolve, within the dial timeout', async () => {
    // .invalid never resolves (RFC 6761); a resolver that cannot be reached answers EAI_AGAIN.
    for (const secure of [false, true]) {
      const endpoint = `${secure ? 'https' : 'http'}://etcd-0.does-not-exist.invalid:2379`;
      const result = await dialHttp2(endpoint, undefined, 5_000);
      expect(result).toMatchObject({
        ok: false,
        error: expect.stringMatching(
          /^dial: the name etcd-0\.does-not-exist\.invalid (does not resolve \(getaddrinfo ENOTFOUND\)|could not be resolved: DNS did not answer \(getaddrinfo EAI_AGAIN\))$/,
        ),
      });
      expect(result.tookMs).toBeLessThan(5_000);
    }
  });

  it('says in words that DNS did not answer', () => {
    const error = Object.assign(new Error('getaddrinfo EAI_AGAIN etcd-0.example.com'), {
      code: 'EAI_AGAIN',
      syscall: 'getaddrinfo',
      hostname: 'etcd-0.example.com',
    });
    expect(describeDialError(error)).toBe(
      'the name etcd-0.example.com could not be resolved: DNS did not answer (getaddrinfo EAI_AGAIN)',
    );
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
      error: "dial: the member's certificate: certificate has expired (CERT_HAS_EXPIRED)",
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

describe('dialHttp2 over TLS: whose certificate failed, in words', () => {
  let dir: string;
  let ca: CertificateFiles;
  let member: CertificateFiles;
  let client: CertificateFiles;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ehc-dial-words-'));
    ca = createCertificateAuthority(dir, 'words-ca');
    member = issueCertificate(ca, dir, 'member', {
      commonName: 'member-1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    client = issueCertificate(ca, dir, 'client', { commonName: 'etcd-health-operator', usage: 'client' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A member that demands a client certificate signed by `ca`, as etcd with --client-cert-auth. */
  async function serveMutual(): Promise<string> {
    const server = await listen(
      createSecureServer({
        cert: member.certPem,
        key: member.keyPem,
        ca: ca.certPem,
        requestCert: true,
        rejectUnauthorized: true,
        allowHTTP1: false,
      }),
    );
    return server.url.replace('http://', 'https://');
  }

  // A Node server hangs up without a TLS alert where etcd (Go) sends one; these are OpenSSL's
  // errors for the alerts etcd 3.6 sends (test/faults/credentials.it.ts meets them for real).
  it.each([
    ['SSLV3_ALERT_CERTIFICATE_EXPIRED', 'sslv3 alert certificate expired'],
    ['TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'],
    ['SSLV3_ALERT_BAD_CERTIFICATE', 'sslv3 alert bad certificate'],
    ['TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'],
  ])('says the member refused the client certificate on its alert %s', (alert, reason) => {
    const error = Object.assign(
      new Error(
        `C0B7A1F9:error:0A000415:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 45\n`,
      ),
      { code: `ERR_SSL_${alert}` },
    );
    expect(describeDialError(error)).toBe(
      `the member refused the client certificate: ${reason} (ERR_SSL_${alert})`,
    );
  });

  it('leaves other TLS alerts unattributed', () => {
    const error = Object.assign(
      new Error('C0B7A1F9:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:x.c:1:'),
      { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' },
    );
    expect(describeDialError(error)).toBe(
      'sslv3 alert handshake failure (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)',
    );
  });

  it("says the member's certificate is not signed by the CA the check trusts", async () => {
    const other = createCertificateAuthority(dir, 'words-trusted-ca');
    const url = await serveMutual();
    const result = await dialHttp2(
      url,
      { caPem: other.certPem, certPem: client.certPem, keyPem: client.keyPem },
      5_000,
    );
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(
        /^dial: the member's certificate is not signed by the CA the check trusts: .* \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)$/,
      ),
    });
  });

  it("says the member's certificate does not name the endpoint dialled", async () => {
    const elsewhere = issueCertificate(ca, dir, 'member-elsewhere', {
      commonName: 'member-2',
      ipAddresses: ['127.0.0.2'],
      usage: 'server',
    });
    const server = await listen(
      createSecureServer({ cert: elsewhere.certPem, key: elsewhere.keyPem, allowHTTP1: false }),
    );
    const url = server.url.replace('http://', 'https://');
    const result = await dialHttp2(url, { caPem: ca.certPem }, 5_000);
    expect(result).toMatchObject({
      ok: false,
      error:
        "dial: the member's certificate does not name this endpoint: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: 127.0.0.2 (ERR_TLS_CERT_ALTNAME_INVALID)",
    });
  });
});
