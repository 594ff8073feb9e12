// One GET of a member's /metrics, as a value: every failure (network, TLS, timeout, HTTP status,
// an answer too large or not in the text format) comes back as `{ ok: false, error }` with a
// readable reason; nothing throws. https URLs use the etcd client's TLS material.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { withDeadline } from '../../runtime/clock.js';
import type { EtcdTls } from '../etcd/client.js';
import { errorText, sanitizedLine } from '../text.js';
import { CANCELLED } from '../timeout.js';
import { parseExposition, type MetricSample } from './exposition.js';

export type ScrapeOutcome =
  | { ok: true; samples: MetricSample[]; /** When the answer was read, ms since the epoch. */ at: number }
  | { ok: false; error: string };

export type Scraper = (url: string, signal?: AbortSignal) => Promise<ScrapeOutcome>;

// etcd 3.5's /metrics of a busy member is about 150 KiB (most of it gRPC method series); a
// metrics listener of a much larger answer is not an etcd member.
export const MAX_SCRAPE_BYTES = 8 * 1024 * 1024;

export function metricsScraper(options: { tls?: EtcdTls; timeoutMs: number }): Scraper {
  return (url, cancel) =>
    withDeadline(options.timeoutMs, cancel, async (signal) => {
      try {
        const response = await get(url, options.tls, signal);
        const body = await readText(response, signal);
        if (response.statusCode !== 200) return { ok: false, error: `HTTP ${response.statusCode}` };
        const parsed = parseExposition(body);
        if (!parsed.ok) return { ok: false, error: `not the Prometheus text format: ${parsed.error}` };
        return { ok: true, samples: parsed.samples, at: Date.now() };
      } catch (error) {
        if (cancel?.aborted) return { ok: false, error: CANCELLED };
        if (signal.aborted) return { ok: false, error: `no answer within ${options.timeoutMs}ms` };
        return { ok: false, error: sanitizedLine(errorText(error)) };
      }
    });
}

function get(url: string, tls: EtcdTls | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers = { Accept: 'text/plain', 'Accept-Encoding': 'identity' };
    const request =
      target.protocol === 'https:'
        ? httpsRequest(target, {
            headers,
            signal,
            ca: tls?.caPem,
            cert: tls?.certPem,
            key: tls?.keyPem,
          })
        : httpRequest(target, { headers, signal });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

async function readText(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  const abort = () => response.destroy(new Error('aborted'));
  signal.addEventListener('abort', abort, { once: true });
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > MAX_SCRAPE_BYTES) throw new Error(`answer larger than ${MAX_SCRAPE_BYTES} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    signal.removeEventListener('abort', abort);
    response.destroy();
  }
}
