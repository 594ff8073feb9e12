// One instant query against the Prometheus HTTP API (`<url>/api/v1/query`), as a value: every
// failure (network, timeout, HTTP status, non-JSON, `status: "error"`, a malformed answer) comes
// back as `{ ok: false, error }` with a readable reason; nothing throws.
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { z } from 'zod';
import { errorText, sanitizedLine } from '../text.js';
import { withDeadline } from '../../runtime/clock.js';
import { CANCELLED } from '../timeout.js';
import { ByteBudget } from './budget.js';
import { queryEndpoint } from './url.js';

export interface PrometheusConnection {
  /** Base URL, path prefix allowed (Thanos querier behind a proxy): queries go to <url>/api/v1/query. */
  url: string;
  bearerToken?: string;
  caPem?: string;
  insecureSkipTLSVerify: boolean;
  timeoutMs: number;
}

export interface Sample {
  labels: Record<string, string>;
  /** May be NaN, +Infinity or -Infinity: Prometheus sends them as the strings "NaN", "+Inf", "-Inf". */
  value: number;
}

export type QueryOutcome = { ok: true; samples: Sample[]; warnings: string[] } | { ok: false; error: string };

export interface PrometheusClient {
  /** Ends with the outcome "cancelled" as soon as `signal` aborts. */
  query(promql: string, time: Date, signal?: AbortSignal): Promise<QueryOutcome>;
  /** Frees the connection pool. */
  close(): void;
}

// Answers of a real cluster are about 100 bytes per series (test/security/prometheus-boundary.it.ts
// measures every query against a real Prometheus: at most 505 bytes for 5 members). The largest
// are the node queries, one series per node: 5000 nodes (Kubernetes' largest supported cluster)
// with long instance names make ~600 KB. 2 MiB leaves a margin over that and bounds what one
// hostile answer can cost.
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

// Answer bytes held at once by every check of the process together (the heap is bounded at
// 128 MiB; a parsed answer costs a few times its text). A query that cannot get room within
// BUDGET_WAIT_MS fails with a clear error instead of growing the heap.
export const ANSWER_BYTES_IN_FLIGHT = 16 * 1024 * 1024;
// One client (one URL and credentials) may hold a quarter of that: a single hostile Prometheus
// then leaves the rest to every other check.
export const CLIENT_BYTES_IN_FLIGHT = ANSWER_BYTES_IN_FLIGHT / 4;
const BUDGET_WAIT_MS = 2_000;
const answerBudget = new ByteBudget(ANSWER_BYTES_IN_FLIGHT);

// Our queries return one series per member, top-churn entry or node: at most a few thousand.
// Parsed samples live until the check ends, so their number is bounded too, not only the bytes.
export const MAX_SAMPLES = 10_000;

// Warnings are passed on to the status; a hostile server could send thousands.
const MAX_WARNINGS = 3;

const SampleValueSchema = z.string().refine((text) => parseSampleValue(text) !== undefined, {
  message: 'not a number',
});

const VectorSampleSchema = z.object({
  metric: z.record(z.string(), z.string()),
  value: z.tuple([z.number(), SampleValueSchema]),
});

const AnswerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({ resultType: z.string(), result: z.unknown() }),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({
    status: z.literal('error'),
    errorType: z.string().optional(),
    error: z.string().optional(),
  }),
]);

/** Prometheus' float text: a decimal, or NaN, +Inf, -Inf. Undefined for anything else. */
export function parseSampleValue(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

export interface ClientLimits {
  /** Shared by the clients that must not exceed a common budget; the process-wide one by default. */
  budget?: ByteBudget;
  /** What this client alone may hold of it. */
  clientBytes?: number;
  maxAnswerBytes?: number;
}

export function createPrometheusClient(
  connection: PrometheusConnection,
  {
    budget = answerBudget,
    clientBytes = CLIENT_BYTES_IN_FLIGHT,
    maxAnswerBytes = MAX_ANSWER_BYTES,
  }: ClientLimits = {},
): PrometheusClient {
  let endpoint: URL;
  try {
    endpoint = queryEndpoint(connection.url);
  } catch (error) {
    return { query: () => Promise.resolve({ ok: false, error: errorText(error) }), close: () => undefined };
  }
  const secrets = connection.bearerToken ? [connection.bearerToken] : [];
  const own = new ByteBudget(clientBytes);
  // One pool per client, destroyed by close(): a check's own client leaves no socket behind; the
  // shared sources keep one client per URL and credentials.
  const agent =
    endpoint.protocol === 'https:'
      ? new HttpsAgent({
          keepAlive: true,
          ca: connection.caPem,
          rejectUnauthorized: !connection.insecureSkipTLSVerify,
        })
      : new HttpAgent({ keepAlive: true });
  const http: AxiosInstance = axios.create({
    httpAgent: agent,
    httpsAgent: agent,
    // HTTP(S)_PROXY in the operator's environment must not receive the token or the queries.
    proxy: false,
    // The token must reach only the configured URL: a redirect is reported, never followed.
    maxRedirects: 0,
    // The body is read below, counted against the caps as it arrives.
    responseType: 'stream',
    decompress: false,
    validateStatus: () => true,
    headers: {
      Accept: 'application/json',
      // Answers are a few KiB; inflating gzip cost ~10 % of the operator's CPU, and a compressed
      // answer could inflate far beyond the cap.
      'Accept-Encoding': 'identity',
      ...(connection.bearerToken ? { Authorization: `Bearer ${connection.bearerToken}` } : {}),
    },
  });

  return {
    query(promql, time, cancel) {
      // One deadline for the whole call, the body included: a trickled body is cut by it too.
      return withDeadline(connection.timeoutMs, cancel, async (signal): Promise<QueryOutcome> => {
        let held = 0;
        try {
          const response = await http.get<IncomingMessage>(endpoint.href, {
            params: { query: promql, time: (time.getTime() / 1000).toFixed(3) },
            timeout: connection.timeoutMs,
            signal,
          });
          if (response.status >= 300 && response.status < 400) {
            response.data.destroy();
            return { ok: false, error: `HTTP ${response.status}: a redirect, not followed` };
          }
          const body = await readBody(response.data, {
            maxBytes: maxAnswerBytes,
            budgets: [own, budget],
            signal,
            onTaken: (bytes) => (held += bytes),
          });
          if (!body.ok) return { ok: false, error: body.error };
          return interpretAnswer(response.status, body.text, secrets);
        } catch (error) {
          if (cancel?.aborted) return { ok: false, error: CANCELLED };
          return { ok: false, error: describeHttpError(error, connection.timeoutMs, signal, secrets) };
        } finally {
          own.give(held);
          budget.give(held);
        }
      });
    },
    close() {
      agent.destroy();
    },
  };
}

const usedUp = (share: string) => ({
  ok: false as const,
  error: `the memory budget for answers in flight, ${share}, stayed used up; the next check retries`,
});

interface BodyLimits {
  maxBytes: number;
  /** The client's own budget, then the process-wide one: a chunk is kept only when both have room. */
  budgets: [ByteBudget, ByteBudget];
  signal: AbortSignal;
  onTaken: (bytes: number) => void;
}

/** The body as text, or why it was not read to the end; the stream is destroyed on every exit. */
async function readBody(
  stream: IncomingMessage,
  { maxBytes, budgets: [own, shared], signal, onTaken }: BodyLimits,
): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  const tooLarge = { ok: false as const, error: `answer larger than ${maxBytes} bytes, not read` };
  const declared = Number(stream.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    stream.destroy();
    return tooLarge;
  }
  const abort = () => stream.destroy(new Error('aborted'));
  signal.addEventListener('abort', abort, { once: true });
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) return tooLarge;
      if (!(await own.take(chunk.length, BUDGET_WAIT_MS, signal))) {
        if (signal.aborted) throw signal.reason;
        return usedUp(`this Prometheus' share (${own.limit} bytes)`);
      }
      if (!(await shared.take(chunk.length, BUDGET_WAIT_MS, signal))) {
        own.give(chunk.length);
        if (signal.aborted) throw signal.reason;
        return usedUp(`all checks' share (${shared.limit} bytes)`);
      }
      onTaken(chunk.length);
      chunks.push(chunk);
    }
    return { ok: true, text: Buffer.concat(chunks, length).toString('utf8') };
  } finally {
    signal.removeEventListener('abort', abort);
    stream.destroy();
  }
}

/**
 * Turns an HTTP status and body into an outcome; exported for the unit tests of odd answers. The
 * body itself is never quoted: what a server says reaches the status only as Prometheus' own
 * error and warning fields, each one short sanitised line.
 */
export function interpretAnswer(status: number, body: string, secrets: readonly string[] = []): QueryOutcome {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const what = status >= 200 && status < 300 ? 'an answer that is not JSON' : `HTTP ${status}`;
    return { ok: false, error: `${what} (${sizeOf(body)})` };
  }
  const answer = AnswerSchema.safeParse(json);
  if (!answer.success) {
    return {
      ok: false,
      error: `HTTP ${status} with an answer that is not a Prometheus API response (${sizeOf(body)})`,
    };
  }
  if (answer.data.status === 'error') {
    const { errorType = 'error', error = 'no reason given' } = answer.data;
    return {
      ok: false,
      error: `HTTP ${status}: ${sanitizedLine(errorType, secrets, 32)}: ${sanitizedLine(error, secrets)}`,
    };
  }
  if (status < 200 || status >= 300)
    return { ok: false, error: `HTTP ${status} with a success answer (${sizeOf(body)})` };
  const { resultType, result } = answer.data.data;
  if (resultType !== 'vector')
    return { ok: false, error: `expected an instant vector, got ${sanitizedLine(resultType, secrets, 32)}` };
  if (Array.isArray(result) && result.length > MAX_SAMPLES)
    return { ok: false, error: `${result.length} series, more than the ${MAX_SAMPLES} this check can use` };
  const vector = z.array(VectorSampleSchema).safeParse(result);
  if (!vector.success) {
    const issue = vector.error.issues[0];
    // The path may hold a label name from the answer: it is sanitised like any text from outside.
    const where = sanitizedLine(issue?.path.join('.') ?? '?', secrets, 64);
    return { ok: false, error: `malformed vector at ${where}: ${issue?.message ?? ''}` };
  }
  return {
    ok: true,
    samples: vector.data.map((s) => ({ labels: s.metric, value: parseSampleValue(s.value[1])! })),
    warnings: (answer.data.warnings ?? []).slice(0, MAX_WARNINGS).map((w) => sanitizedLine(w, secrets)),
  };
}

function describeHttpError(
  error: unknown,
  timeoutMs: number,
  signal: AbortSignal,
  secrets: readonly string[],
): string {
  if (signal.aborted) return `no answer within ${timeoutMs}ms`;
  if (error instanceof AxiosError) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') {
      return `no answer within ${timeoutMs}ms`;
    }
    // Only the code and the cause's message: an AxiosError also carries the request and its
    // headers, the token among them.
    const cause = error.cause?.message;
    return sanitizedLine([error.code, cause ?? error.message].filter(Boolean).join(': '), secrets);
  }
  return sanitizedLine(errorText(error), secrets);
}

function sizeOf(body: string): string {
  return body.length === 0 ? 'empty body' : `${Buffer.byteLength(body)} bytes, not shown`;
}
