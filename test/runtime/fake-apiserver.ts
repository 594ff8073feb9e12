// A loopback HTTP server that plays one collection of a kube-apiserver, for the faults a real
// apiserver will not produce on demand: ERROR 410 mid-stream, HTTP 410/500 on a watch, silent or
// headerless watches, malformed lines, an expired continue token. LIST answers with `objects`, in
// pages when asked for a limit (the continue token is the next offset); each watch stays open
// until the test writes to it or ends it, unless a scripted reply is queued.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  isWatch: boolean;
  /** The client closed the connection, or the response was sent. */
  closed: boolean;
}

/** A queued answer for the next LIST or watch: a status with a body, or no answer at all. */
export type ScriptedReply = { status: number; body?: unknown } | 'no-response';

export class WatchStream {
  constructor(
    readonly request: RecordedRequest,
    private readonly response: http.ServerResponse,
  ) {}

  get closed(): boolean {
    return this.request.closed;
  }

  send(type: string, object: unknown): void {
    this.response.write(`${JSON.stringify({ type, object })}\n`);
  }

  sendLine(line: string): void {
    this.response.write(`${line}\n`);
  }

  end(): void {
    this.response.end();
  }
}

export function statusBody(code: number, reason: string, message = reason): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export const EXPIRED = statusBody(410, 'Expired', 'too old resource version: 1 (20)');

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Watches answered with 200, in order. */
  readonly watches: WatchStream[] = [];
  /** TCP connections accepted so far. */
  connections = 0;
  objects: object[] = [];
  listResourceVersion = '10';
  /** The next this many LISTs that carry a continue token are answered 410 Expired. */
  expiringContinues = 0;
  /** Runs when a continue token was refused: the collection may change before the next LIST. */
  onContinueExpired: () => void = () => {};
  private readonly listReplies: ScriptedReply[] = [];
  private readonly watchReplies: ScriptedReply[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(collectionPath: string): Promise<FakeApiServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeApiServer(server, `http://127.0.0.1:${port}`);
    server.on('connection', () => fake.connections++);
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      fake.handle(collectionPath, request, response),
    );
    return fake;
  }

  lists(): RecordedRequest[] {
    return this.requests.filter((request) => !request.isWatch);
  }

  replyToNextLists(...replies: ScriptedReply[]): void {
    this.listReplies.push(...replies);
  }

  replyToNextWatches(...replies: ScriptedReply[]): void {
    this.watchReplies.push(...replies);
  }

  kubeConfig(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromClusterAndUser(
      { name: 'c', server: this.url, skipTLSVerify: true },
      { name: 'u', token: 't' },
    );
    return kubeConfig;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Stops listening and drops every connection: a client now gets connection refused. */
  stopListening(): Promise<void> {
    return this.close();
  }

  /** Listens again on the same port, as a restarted API server would. */
  async listenAgain(): Promise<void> {
    const port = Number(new URL(this.url).port);
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
  }

  private handle(collectionPath: string, request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const isWatch = url.searchParams.get('watch') === 'true';
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      isWatch,
      closed: false,
    };
    this.requests.push(recorded);
    response.on('close', () => (recorded.closed = true));

    if (url.pathname !== collectionPath) return sendJson(response, 404, statusBody(404, 'NotFound'));
    const scripted = (isWatch ? this.watchReplies : this.listReplies).shift();
    if (scripted === 'no-response') return;
    if (scripted)
      return sendJson(response, scripted.status, scripted.body ?? statusBody(scripted.status, 'Scripted'));
    if (!isWatch) {
      const token = url.searchParams.get('continue');
      if (token !== null && this.expiringContinues > 0) {
        this.expiringContinues--;
        this.onContinueExpired();
        return sendJson(
          response,
          410,
          statusBody(410, 'Expired', 'The provided continue parameter is too old'),
        );
      }
      const from = Number(token ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const to = limit > 0 ? Math.min(from + limit, this.objects.length) : this.objects.length;
      return sendJson(response, 200, {
        apiVersion: 'etcdhealth.io/v1alpha1',
        kind: 'EtcdHealthCheckList',
        metadata: {
          resourceVersion: this.listResourceVersion,
          ...(to < this.objects.length ? { continue: String(to) } : {}),
        },
        items: this.objects.slice(from, to),
      });
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    this.watches.push(new WatchStream(recorded, response));
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(text);
}
