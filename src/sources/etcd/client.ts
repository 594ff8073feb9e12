// A gRPC client bound to exactly one etcd member (etcd3 pools across `hosts`, so asking one member
// means a client whose hosts is only that member). Every call carries a gRPC deadline and answers
// with a value, never a rejection, so that one dead or hanging member cannot stall the others.
import { Etcd3, EtcdPermissionDeniedError, type IOptions } from 'etcd3';
import { withTimeout } from '../timeout.js';
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
// next 5s and multiplies a deadline. An observation wants each call's own answer, once.
const callOnce = {
  execute: (fn: (context: { signal: AbortSignal }) => unknown) =>
    Promise.resolve(fn({ signal: new AbortController().signal })),
} as unknown as FaultPolicy;

export function connectMember(endpoint: string, options: EtcdCallOptions): MemberClient {
  const secure = endpoint.startsWith('https://');
  const client = new Etcd3({
    hosts: endpoint,
    credentials:
      secure && options.tls
        ? {
            rootCertificate: Buffer.from(options.tls.caPem),
            ...(options.tls.certPem && options.tls.keyPem
              ? { certChain: Buffer.from(options.tls.certPem), privateKey: Buffer.from(options.tls.keyPem) }
              : {}),
          }
        : undefined,
    faultHandling: { global: callOnce, host: () => callOnce },
  });
  // etcd3 1.1.2 ignores its dialTimeout option: connecting happens inside the first call, so every
  // call's deadline covers a dial and a request.
  const budgetMs = options.dialTimeoutMs + options.requestTimeoutMs;
  const deadline = () => ({ deadline: new Date(Date.now() + budgetMs) });

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<CallResult<T>> => {
    const started = Date.now();
    const outcome = await withTimeout(
      fn().then(
        (value): CallResult<T> => ({ ok: true, value, tookMs: Date.now() - started }),
        (error: unknown): CallResult<T> => ({
          ok: false,
          error: `${what}: ${describeGrpcError(error, budgetMs)}`,
          tookMs: Date.now() - started,
        }),
      ),
      budgetMs + 1_000,
      (): CallResult<T> => ({
        ok: false,
        error: `${what}: no answer within ${budgetMs}ms`,
        tookMs: Date.now() - started,
      }),
    );
    return outcome;
  };

  return {
    endpoint,
    memberList: () =>
      call('member list', () => client.cluster.memberList({ linearizable: true }, deadline())),
    status: () => call('status', () => client.maintenance.status(deadline())),
    healthRead: (serializable) =>
      call(serializable ? 'serializable read' : 'linearizable read', async () => {
        try {
          await client.get('health').serializable(serializable).options(deadline()).exec();
        } catch (error) {
          // etcdctl endpoint health counts "permission denied" as healthy: the member answered.
          if (!(error instanceof EtcdPermissionDeniedError)) throw error;
        }
      }),
    alarms: () =>
      call('alarm list', () =>
        client.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' }, deadline()),
      ),
    close: () => client.close(),
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
