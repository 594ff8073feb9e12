// The client-node reviewer against an API server that never answers (a real socket on loopback
// that accepts and stays silent): the review gives up at its deadline with a readable 500, and the
// scrape after it is asked again. test/observability/metrics-access.it.ts covers the answers of a
// real kube-apiserver.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server, type Socket } from 'node:net';
import { KubeAccessReviewer } from '../../src/observability/kube-access-reviewer.js';
import { MetricsAccess } from '../../src/observability/metrics-access.js';
import { describeError, withSignal } from '../../src/runtime/index.js';

let silent: Server;
let connections = 0;
const sockets = new Set<Socket>();
let kubeConfig: KubeConfig;

beforeAll(async () => {
  silent = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'operator-token' }],
    contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
    currentContext: 'c',
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe('KubeAccessReviewer', () => {
  it('gives up on a silent API server at the deadline: 500 with the reason, asked again next time', async () => {
    const access = new MetricsAccess(new KubeAccessReviewer(kubeConfig, { withSignal, describeError }), {
      timeoutMs: 300,
    });
    const expected = {
      status: 500,
      message: 'Authentication failed: TokenReview: no answer from the API server in time',
    };
    expect(await access.decide('Bearer scraper', 'GET', '/metrics')).toEqual(expected);
    expect(await access.decide('Bearer scraper', 'GET', '/metrics')).toEqual(expected);
    expect(connections).toBe(2);
  });

  it('a stopping server cancels the review in flight', async () => {
    const access = new MetricsAccess(new KubeAccessReviewer(kubeConfig, { withSignal, describeError }));
    const decision = access.decide('Bearer scraper', 'GET', '/metrics');
    access.close();
    expect(await decision).toEqual({
      status: 500,
      message: 'Authentication failed: TokenReview: the metrics server is stopping',
    });
  });
});
