// The metrics and health endpoints. /healthz answers whether the control loop is alive (it ticked
// recently); /readyz whether the caches are synced and the replica is either leading or a ready
// standby. Probes must never call out: they only read state the loop keeps, over plain HTTP on
// their own port. /metrics is served over HTTPS to authenticated, authorised users when protected
// (--metrics-secure, the default), else over plain HTTP to anyone.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MetricsAccess } from './metrics-access.js';
import type { ServingCertificate } from './metrics-tls.js';

export interface HealthState {
  /** Why the loop is not alive, or undefined when it is. */
  liveness(): string | undefined;
  /** Why the replica is not ready, or undefined when it is. */
  readiness(): string | undefined;
}

/** TLS and bearer-token access for /metrics. */
export interface MetricsProtection {
  certificate: ServingCertificate;
  access: MetricsAccess;
  log: Logger;
}

export interface ServedEndpoints {
  url: string;
  close(): Promise<void>;
}

/** Parses ":8080", "127.0.0.1:8080" or "[::1]:8080"; an empty host means all interfaces. */
export function parseBindAddress(address: string): { host: string | undefined; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port: Number(address.slice(at + 1)) };
}

export async function serve(
  address: string,
  routes: { registry?: Registry; health?: HealthState; protection?: MetricsProtection },
): Promise<ServedEndpoints> {
  const { protection } = routes;
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(code, { 'Content-Type': type });
      response.end(body);
    };
    if (path === '/metrics' && routes.registry) {
      const registry = routes.registry;
      const sendMetrics = () =>
        registry.metrics().then(
          (text) => reply(200, text, registry.contentType),
          (error: Error) => reply(500, `metrics: ${error.message}\n`),
        );
      if (!protection) {
        void sendMetrics();
        return;
      }
      void protection.access
        .decide(request.headers.authorization, request.method ?? 'GET', path)
        .then((decision) => {
          if (decision.status === 200) return sendMetrics();
          const fields = { status: decision.status, user: decision.user, detail: decision.detail };
          // A failed review is the operator's problem; a refused scraper is the scraper's.
          if (decision.status === 500) protection.log.warn(fields, decision.message);
          else protection.log.debug(fields, decision.message);
          reply(decision.status, `${decision.message}\n`);
        });
      return;
    }
    if ((path === '/healthz' || path === '/readyz') && routes.health) {
      const problem = path === '/healthz' ? routes.health.liveness() : routes.health.readiness();
      reply(problem ? 503 : 200, problem ? `${problem}\n` : 'ok\n');
      return;
    }
    reply(404, 'not found\n');
  };
  const server = protection
    ? httpsServer(protection, handle)
    : { server: createServer(handle), stop: () => undefined };
  const { host, port } = parseBindAddress(address);
  try {
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, host, () => resolve());
    });
  } catch (error) {
    server.stop();
    throw error;
  }
  const bound = server.server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `${protection ? 'https' : 'http'}://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.stop();
        server.server.close(() => resolve());
        server.server.closeAllConnections();
      }),
  };
}

/** An HTTPS server whose certificate follows the serving certificate's changes until stopped. */
function httpsServer(
  protection: MetricsProtection,
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): { server: Server; stop: () => void } {
  const { certificate, access, log } = protection;
  const server = createHttpsServer(
    { cert: certificate.current.certPem, key: certificate.current.keyPem },
    handle,
  );
  const stopWatching = certificate.watch(
    (pair) => {
      try {
        server.setSecureContext({ cert: pair.certPem, key: pair.keyPem });
        log.info({ origin: certificate.origin }, 'metrics serving certificate reloaded');
      } catch (error) {
        log.warn({ err: error }, 'metrics serving certificate not usable; serving the previous one');
      }
    },
    (reason) => log.warn({ reason }, 'metrics serving certificate not re-read; serving the previous one'),
  );
  return {
    server,
    stop: () => {
      stopWatching();
      access.close();
    },
  };
}
