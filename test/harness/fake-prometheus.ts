// A fake Prometheus HTTP API for faults a real one cannot produce on demand: garbage, HTTP 500,
// `status: "error"`, warnings, NaN/Inf values, answers that never come. Each request is handed to
// the current handler with its parsed query. With `tls` it serves HTTPS with a certificate from a
// throwaway CA, for the verification tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from './pki.js';

export interface FakeRequest {
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
}

export interface FakeTransport {
  /** TCP connections accepted. */
  connections: number;
  /** With `tls`: handshakes the server completed. */
  handshakes: number;
  /** With `tls`: why handshakes failed on the server's side (e.g. the client's alert). */
  handshakeErrors: string[];
}

export type FakeHandler = (request: FakeRequest, response: ServerResponse) => void;

export interface FakePrometheus {
  /** Base URL, with `pathPrefix` when one was given. */
  readonly url: string;
  readonly requests: FakeRequest[];
  /** With `tls`: the PEM of the CA that signed the server's certificate. */
  readonly caPem?: string;
  /** What reached the server below HTTP: proof that a refused client really dialled and shook hands. */
  readonly transport: FakeTransport;
  handle(handler: FakeHandler): void;
  close(): Promise<void>;
}

/** Answers with a JSON body. */
export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A successful instant-vector answer. */
export function vector(samples: { metric: Record<string, string>; value: string }[], warnings?: string[]) {
  return {
    status: 'success',
    data: {
      resultType: 'vector',
      result: samples.map((s) => ({ metric: s.metric, value: [Date.now() / 1000, s.value] })),
    },
    ...(warnings ? { warnings } : {}),
  };
}

export async function startFakePrometheus(
  options: { host?: string; pathPrefix?: string; tls?: boolean } = {},
): Promise<FakePrometheus> {
  const host = options.host ?? '127.0.0.1';
  let handler: FakeHandler = (_request, response) => json(response, 200, vector([]));
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const transport: FakeTransport = { connections: 0, handshakes: 0, handshakeErrors: [] };
  const listener: RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const request = { path: url.pathname, query: url.searchParams.get('query') ?? '', headers: req.headers };
    requests.push(request);
    handler(request, res);
  };
  const certificates = options.tls ? serverCertificate(host) : undefined;
  const server = certificates
    ? createTlsServer({ cert: certificates.certPem, key: certificates.keyPem }, listener)
    : createServer(listener);
  server.on('connection', (socket: Socket) => {
    transport.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => transport.handshakes++);
  server.on('tlsClientError', (error: Error) => transport.handshakeErrors.push(error.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${certificates ? 'https' : 'http'}://${host}:${port}${options.pathPrefix ?? ''}`,
    requests,
    caPem: certificates?.caPem,
    transport,
    handle: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging answers hold their sockets open; close() would wait for them forever.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A server certificate for `host` (an IP address) and the PEM of the CA that signed it. */
function serverCertificate(host: string): { certPem: string; keyPem: string; caPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ehc-fake-prometheus-'));
  try {
    const ca = createCertificateAuthority(dir, 'fake-prometheus-ca');
    const server = issueCertificate(ca, dir, 'fake-prometheus', {
      commonName: host,
      ipAddresses: [host],
      usage: 'server',
    });
    return { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
