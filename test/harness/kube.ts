// Small helpers for talking to a test API server with @kubernetes/client-node 1.4.
import {
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The Kubernetes Status carried by a failed API call, from client-node's ApiException or any error. */
export interface ApiErrorStatus {
  /** HTTP status code, when the error came from a response. */
  code?: number;
  /** Status.reason, e.g. Invalid, NotFound, AlreadyExists. */
  reason?: string;
  /** Status.message, or the error's message when there was no Status body. */
  message: string;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/**
 * client-node 1.4's ApiException has `code` and a `body` that is the raw JSON string of the
 * Status for non-2xx responses; this decodes it.
 */
export function apiErrorStatus(error: unknown): ApiErrorStatus {
  const e = error as { code?: unknown; body?: unknown; message?: unknown };
  const code = typeof e?.code === 'number' ? e.code : undefined;
  let body: unknown = e?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: keep the text
    }
  }
  if (body && typeof body === 'object') {
    const status = body as {
      reason?: string;
      message?: string;
      code?: number;
      details?: ApiErrorStatus['details'];
    };
    return {
      code: code ?? status.code,
      reason: status.reason,
      message: status.message ?? JSON.stringify(body),
      details: status.details,
    };
  }
  const message =
    typeof body === 'string' && body ? body : typeof e?.message === 'string' ? e.message : String(error);
  return { code, message };
}

export const isNotFound = (error: unknown): boolean => apiErrorStatus(error).code === 404;
export const isAlreadyExists = (error: unknown): boolean => apiErrorStatus(error).code === 409;

/** Call options that make a client-node patch call send a JSON merge patch (its default is JSON Patch). */
export function mergePatch(): ConfigurationOptions<ObservableMiddleware> {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}

export interface GetOptions {
  /** CA to trust for https URLs (nothing else is trusted). */
  caPem?: string;
  /** Client certificate and key for https URLs. */
  certPem?: string;
  keyPem?: string;
  timeoutMs?: number;
}

/** One GET without connection reuse (no keep-alive sockets outlive it); resolves with status and body. */
export function httpGet(url: string, options: GetOptions = {}): Promise<{ status: number; body: string }> {
  const https = url.startsWith('https:');
  const request = https ? httpsRequest : httpRequest;
  const tls = https ? { ca: options.caPem, cert: options.certPem, key: options.keyPem } : {};
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', ...tls, timeout: options.timeoutMs ?? 5_000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
