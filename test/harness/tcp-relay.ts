// A loopback TCP relay the test can cut: in front of the kube-apiserver it takes the API away from
// the operators only (an outage as the operators see it) while the test keeps its own direct
// connection; in front of an etcd member it shows when the operator dials it. Bytes pass through
// unchanged, so TLS stays end to end (the apiserver's serving certificate names 127.0.0.1, where
// the relay listens).
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';

export interface TcpRelay {
  /** 127.0.0.1:<port> */
  readonly address: string;
  readonly port: number;
  /** Resets every relayed connection, and each new one until resume(). */
  cut(): void;
  resume(): void;
  /** Time (ms since the epoch) of each connection accepted, during a cut or not. */
  connections(): number[];
  close(): Promise<void>;
}

export async function startTcpRelay(upstream: { host: string; port: number }): Promise<TcpRelay> {
  const open = new Set<Socket>();
  const accepted: number[] = [];
  let isCut = false;

  const server = createServer((client) => {
    accepted.push(Date.now());
    if (isCut) {
      // An RST, as from a host whose server is gone: the client fails at once.
      client.resetAndDestroy();
      return;
    }
    const target = connect(upstream.port, upstream.host);
    open.add(client).add(target);
    const close = (): void => {
      client.destroy();
      target.destroy();
      open.delete(client);
      open.delete(target);
    };
    client.on('error', close).on('close', close);
    target.on('error', close).on('close', close);
    client.pipe(target);
    target.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const bound = server.address();
  if (typeof bound !== 'object' || bound === null) throw new Error('the relay has no address');

  return {
    address: `127.0.0.1:${bound.port}`,
    port: bound.port,
    cut: () => {
      isCut = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    resume: () => {
      isCut = false;
    },
    connections: () => [...accepted],
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A copy of a harness kubeconfig (JSON, controlplane.ts) whose server is the relay; written beside it. */
export function kubeconfigThroughRelay(kubeconfigPath: string, relay: TcpRelay): string {
  const config = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as {
    clusters: Array<{ cluster: { server: string } }>;
  };
  for (const { cluster } of config.clusters) cluster.server = `https://${relay.address}`;
  const path = join(dirname(kubeconfigPath), `relay-${relay.port}.kubeconfig`);
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}
