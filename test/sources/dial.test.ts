// The HTTP/2 dial that precedes every gRPC client: it must answer within its timeout and never
// leave a socket behind.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dialHttp2 } from '../../src/sources/etcd/dial.js';
import { eventually } from '../harness/eventually.js';

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
