// Servers that accept and then never answer: a hung etcd member, a hung Prometheus or API server.
// Real ones cannot be made to hang on demand, and a hang is exactly what a cancellation must cut.
import { createServer as createHttp2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface SilentServer {
  url: string;
  /** Connections still open: a client that gave up must have closed its own. */
  openConnections(): number;
  accepted(): number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    // Read (and drop) what the client sends, so that its hang-up is seen.
    socket.resume();
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    openConnections: () => sockets.size,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * An HTTP/2 server that completes the handshake (so a dial succeeds) and then never answers a
 * stream: a member whose gRPC calls hang.
 */
export async function silentHttp2Server(): Promise<
  SilentServer & { streams(): number; openStreams(): number }
> {
  const sessions = new Set<Http2Session>();
  let accepted = 0;
  let streams = 0;
  let openStreams = 0;
  const server = createHttp2Server();
  server.on('session', (session: Http2Session) => {
    accepted++;
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream) => {
    streams++;
    openStreams++;
    stream.on('close', () => openStreams--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    openConnections: () => sessions.size,
    accepted: () => accepted,
    streams: () => streams,
    /** Calls not yet ended by either side: a cancelled call ends its stream. */
    openStreams: () => openStreams,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nobody listens on. */
export async function refusingUrl(): Promise<string> {
  const server = await silentServer();
  await server.close();
  return server.url;
}
