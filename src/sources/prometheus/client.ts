// One instant query against the Prometheus HTTP API (`<url>/api/v1/query`), as a value: every
// failure (network, timeout, HTTP status, non-JSON, `status: "error"`, a malformed answer) comes
// back as `{ ok: false, error }` with a readable reason; nothing throws.
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { z } from 'zod';
import { errorText } from '../text.js';

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
  query(promql: string, time: Date): Promise<QueryOutcome>;
  /** Frees the connection pool. */
  close(): void;
}

// A larger answer than this is not what our queries return; refusing it bounds memory.
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

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

export function queryEndpoint(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v1/query`;
}

export function createPrometheusClient(connection: PrometheusConnection): PrometheusClient {
  const endpoint = queryEndpoint(connection.url);
  // One pool per client, destroyed by close(): a check's own client leaves no socket behind; the
  // shared sources keep one client per URL and credentials.
  const agent = endpoint.startsWith('https:')
    ? new HttpsAgent({
        keepAlive: true,
        ca: connection.caPem,
        rejectUnauthorized: !connection.insecureSkipTLSVerify,
      })
    : new HttpAgent({ keepAlive: true });
  const http: AxiosInstance = axios.create({
    httpAgent: agent,
    httpsAgent: agent,
    // The token must reach only the configured URL: a redirect is reported, never followed.
    maxRedirects: 0,
    maxContentLength: MAX_ANSWER_BYTES,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    headers: {
      Accept: 'application/json',
      // Answers are a few hundred bytes; inflating gzip cost ~10 % of the operator's CPU.
      'Accept-Encoding': 'identity',
      ...(connection.bearerToken ? { Authorization: `Bearer ${connection.bearerToken}` } : {}),
    },
  });

  return {
    async query(promql, time) {
      try {
        const response = await http.get<string>(endpoint, {
          params: { query: promql, time: (time.getTime() / 1000).toFixed(3) },
          // `timeout` alone is an idle timeout on the socket; the signal bounds the whole call.
          timeout: connection.timeoutMs,
          signal: AbortSignal.timeout(connection.timeoutMs),
        });
        if (response.status >= 300 && response.status < 400) {
          const location = String(response.headers.location ?? 'nowhere');
          return { ok: false, error: `HTTP ${response.status}: redirect to ${location} not followed` };
        }
        return interpretAnswer(response.status, String(response.data ?? ''));
      } catch (error) {
        return { ok: false, error: describeHttpError(error, connection.timeoutMs) };
      }
    },
    close() {
      agent.destroy();
    },
  };
}

/** Turns an HTTP status and body into an outcome; exported for the unit tests of odd answers. */
export function interpretAnswer(status: number, body: string): QueryOutcome {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const what = status >= 200 && status < 300 ? 'an answer that is not JSON' : `HTTP ${status}`;
    return { ok: false, error: `${what}: ${excerpt(body)}` };
  }
  const answer = AnswerSchema.safeParse(json);
  if (!answer.success) {
    return {
      ok: false,
      error: `HTTP ${status} with an answer that is not a Prometheus API response: ${excerpt(body)}`,
    };
  }
  if (answer.data.status === 'error') {
    const { errorType = 'error', error = 'no reason given' } = answer.data;
    return { ok: false, error: `HTTP ${status}: ${errorType}: ${error}` };
  }
  if (status < 200 || status >= 300) return { ok: false, error: `HTTP ${status}: ${excerpt(body)}` };
  const { resultType, result } = answer.data.data;
  if (resultType !== 'vector') return { ok: false, error: `expected an instant vector, got ${resultType}` };
  const vector = z.array(VectorSampleSchema).safeParse(result);
  if (!vector.success) {
    const issue = vector.error.issues[0];
    return {
      ok: false,
      error: `malformed vector at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`,
    };
  }
  return {
    ok: true,
    samples: vector.data.map((s) => ({ labels: s.metric, value: parseSampleValue(s.value[1])! })),
    warnings: answer.data.warnings ?? [],
  };
}

function describeHttpError(error: unknown, timeoutMs: number): string {
  if (error instanceof AxiosError) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') {
      return `no answer within ${timeoutMs}ms`;
    }
    if (error.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(error.message)) {
      return `answer larger than ${MAX_ANSWER_BYTES} bytes`;
    }
    const cause = error.cause?.message;
    return [error.code, cause ?? error.message].filter(Boolean).join(': ');
  }
  return errorText(error);
}

function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat.length === 0) return '(empty body)';
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
