// The metrics and health endpoints. /healthz answers whether the control loop is alive (it ticked
// recently); /readyz whether the caches are synced and the replica is either leading or a ready
// standby. Probes must never call out: they only read state the loop keeps.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthState {
  /** Why the loop is not alive, or undefined when it is. */
  liveness(): string | undefined;
  /** Why the replica is not ready, or undefined when it is. */
  readiness(): string | undefined;
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
  routes: { registry?: Registry; health?: HealthState },
): Promise<ServedEndpoints> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(code, { 'Content-Type': type });
      response.end(body);
    };
    if (path === '/metrics' && routes.registry) {
      routes.registry.metrics().then(
        (text) => reply(200, text, routes.registry!.contentType),
        (error: Error) => reply(500, `metrics: ${error.message}\n`),
      );
      return;
    }
    if ((path === '/healthz' || path === '/readyz') && routes.health) {
      const problem = path === '/healthz' ? routes.health.liveness() : routes.health.readiness();
      reply(problem ? 503 : 200, problem ? `${problem}\n` : 'ok\n');
      return;
    }
    reply(404, 'not found\n');
  });
  const { host, port } = parseBindAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
