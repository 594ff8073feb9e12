// A gRPC client bound to exactly one etcd member (etcd3 pools across `hosts`, so asking one member
// means a client whose hosts is only that member). Every call carries a gRPC deadline and answers
// with a value, never a rejection, so that one dead or hanging member cannot stall the others.
import { Etcd3, EtcdPermissionDeniedError, type IOptions } from 'etcd3';
import { CANCELLED, untilAborted, withTimeout } from '../timeout.js';
import { errorText, oneLine } from '../text.js';

/** PEMs of a client certificate, its key and the CA that signed the members' certificates. */
export interface EtcdTls {
  caPem: string;
  /** The client certificate and key; without them the connection is server-authenticated only. */
  certPem?: string;
  keyPem?: string;
}

export interface EtcdCallOptions {
  tls?: EtcdTls;
  dialTimeoutMs: number;
  requestTimeoutMs: number;
}

export type CallResult<T> =
  { ok: true; value: T; tookMs: number } | { ok: false; error: string; tookMs: number };

export interface MemberClient {
  readonly endpoint: string;
  memberList(): Promise<CallResult<unknown>>;
  status(): Promise<CallResult<unknown>>;
  /** `Get("health")` as cluster-etcd-operator does: linearizable, or serializable for learners. */
  healthRead(serializable: boolean): Promise<CallResult<void>>;
  alarms(): Promise<CallResult<unknown>>;
  close(): void;
}

type FaultPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

// etcd3's default policies retry "recoverable" errors three times and open a per-host circuit
// breaker after three failures, which turns one refused call into "circuit breaker is open" for the
// next 5s and multiplies a deadline. An observation wants each call's own answer, once, and a
// maintenance call must happen at most once (a retried Defragment or MoveLeader is a second action).
const callOnce = {
  execute: (fn: (context: { signal: AbortSignal }) => unknown) =>
    Promise.resolve(fn({ signal: new AbortController().signal })),
} as unknown as FaultPolicy;

/**
 * An etcd3 client of exactly `endpoint` that makes every call once. TLS applies to https
 * endpoints only. The caller closes it.
 */
export function etcdClient(endpoint: string, tls?: EtcdTls): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    credentials:
      endpoint.startsWith('https://') && tls
        ? {
            rootCertificate: Buffer.from(tls.caPem),
            ...(tls.certPem && tls.keyPem
              ? { certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) }
              : {}),
          }
        : undefined,
    faultHandling: { global: callOnce, host: () => callOnce },
  });
}

/** The gRPC call options etcd3's calls take. */
export type GrpcCallOptions = NonNullable<Parameters<Etcd3['maintenance']['status']>[0]>;

type Interceptor = NonNullable<GrpcCallOptions['interceptors']>[number];

/** gRPC's status code CANCELLED. */
const GRPC_CANCELLED = 1;

/**
 * Options for one gRPC call: a deadline `ms` from now and, with `signal`, the call's cancellation
 * when it aborts. etcd3 1.1.2 takes no AbortSignal and never hands out the gRPC call, but a
 * per-call interceptor sees it. `release()` removes the listener on `signal`: call it once the call
 * ended (a reconcile's signal outlives many calls).
 */
export function grpcCallOptions(
  ms: number,
  signal?: AbortSignal,
): { options: GrpcCallOptions; release: () => void } {
  const deadline = new Date(Date.now() + ms);
  if (!signal) return { options: { deadline }, release: () => undefined };
  let started: { cancelWithStatus(code: number, details: string): void } | undefined;
  const onAbort = (): void => started?.cancelWithStatus(GRPC_CANCELLED, CANCELLED);
  signal.addEventListener('abort', onAbort, { once: true });
  // The next call is passed on as it is: grpc-js uses only its InterceptingCallInterface (typed as
  // the InterceptingCall class, which only grpc-js, not a direct dependency, could construct).
  const interceptor: Interceptor = (options, nextCall) =>
    (started = nextCall(options)) as ReturnType<Interceptor>;
  return {
    options: { deadline, interceptors: [interceptor] },
    release: () => signal.removeEventListener('abort', onAbort),
  };
}

/**
 * The member's client for one check. When `signal` aborts, every call answers "cancelled" at
 * once, the calls in flight are cancelled and the client is closed.
 */
export function connectMember(
  endpoint: string,
  options: EtcdCallOptions,
  signal?: AbortSignal,
): MemberClient {
  const client = etcdClient(endpoint, options.tls);
  const close = (): void => client.close();
  signal?.addEventListener('abort', close, { once: true });
  // etcd3 1.1.2 ignores its dialTimeout option: connecting happens inside the first call, so every
  // call's deadline covers a dial and a request.
  const budgetMs = options.dialTimeoutMs + options.requestTimeoutMs;

  const call = async <T>(
    what: string,
    fn: (callOptions: GrpcCallOptions) => Promise<T>,
  ): Promise<CallResult<T>> => {
    const started = Date.now();
    const cancelled = (): CallResult<T> => ({
      ok: false,
      error: `${what}: ${CANCELLED}`,
      tookMs: Date.now() - started,
    });
    if (signal?.aborted) return cancelled();
    const { options: callOptions, release } = grpcCallOptions(budgetMs, signal);
    const answer = fn(callOptions).then(
      (value): CallResult<T> => ({ ok: true, value, tookMs: Date.now() - started }),
      (error: unknown): CallResult<T> => ({
        ok: false,
        error: `${what}: ${describeGrpcError(error, budgetMs)}`,
        tookMs: Date.now() - started,
      }),
    );
    try {
      // The abort inside the timeout: an abort ends the wait and clears the timer too.
      return await withTimeout(
        untilAborted(answer, signal, cancelled),
        budgetMs + 1_000,
        (): CallResult<T> => ({
          ok: false,
          error: `${what}: no answer within ${budgetMs}ms`,
          tookMs: Date.now() - started,
        }),
      );
    } finally {
      release();
    }
  };

  return {
    endpoint,
    memberList: () =>
      call('member list', (callOptions) => client.cluster.memberList({ linearizable: true }, callOptions)),
    status: () => call('status', (callOptions) => client.maintenance.status(callOptions)),
    healthRead: (serializable) =>
      call(serializable ? 'serializable read' : 'linearizable read', async (callOptions) => {
        try {
          await client.get('health').serializable(serializable).options(callOptions).exec();
        } catch (error) {
          // etcdctl endpoint health counts "permission denied" as healthy: the member answered.
          if (!(error instanceof EtcdPermissionDeniedError)) throw error;
        }
      }),
    alarms: () =>
      call('alarm list', (callOptions) =>
        client.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' }, callOptions),
      ),
    close: () => {
      signal?.removeEventListener('abort', close);
      close();
    },
  };
}

/**
 * gRPC errors in words: "no answer within 7000ms", "14 UNAVAILABLE: connect ECONNREFUSED ...".
 * One short line: a gRPC status message is the peer's text, and the peer may be anything.
 */
export function describeGrpcError(error: unknown, budgetMs: number): string {
  const text = oneLine(
    errorText(error)
      .replace(/^\w+Error: /, '')
      .replace(/\s*Resolution note:.*$/s, '')
      .replace(/No connection established\. Last error: (Error: )?/, '')
      .replace(/\.$/, '')
      .trim(),
  );
  if (/DEADLINE_EXCEEDED|Deadline exceeded/i.test(text)) return `no answer within ${budgetMs}ms (${text})`;
  return text;
}
