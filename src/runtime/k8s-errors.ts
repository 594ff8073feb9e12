// Classifies failed Kubernetes API calls the way apimachinery's errors package does (IsNotFound,
// IsConflict, ...). In client-node 1.4 an ApiException's `body` is the raw JSON response text, so
// the metav1.Status `reason` has to be parsed out of it.
import { ApiException } from '@kubernetes/client-node';

/** The fields of a metav1.Status that decide how to react to a failure. */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
}

/**
 * The Status behind an error: an ApiException (generated API calls), an Error with `statusCode`
 * (a Watch whose request was answered with a non-200 status), or a Status object itself (the
 * object of a watch ERROR event).
 */
export function statusOf(err: unknown): ApiStatus {
  if (err instanceof ApiException) return { ...parseStatus(err.body), code: err.code };
  if (!isRecord(err)) return {};
  if (typeof err.statusCode === 'number') {
    return { code: err.statusCode, message: typeof err.message === 'string' ? err.message : undefined };
  }
  return parseStatus(err);
}

export function reasonOf(err: unknown): string | undefined {
  return statusOf(err).reason;
}

// apimachinery falls back to the HTTP code only when the Status carries no reason.
function hasReasonOrCode(err: unknown, reason: string, code: number): boolean {
  const status = statusOf(err);
  return status.reason !== undefined && status.reason !== ''
    ? status.reason === reason
    : status.code === code;
}

export function isNotFound(err: unknown): boolean {
  return hasReasonOrCode(err, 'NotFound', 404);
}

/** A write lost an optimistic-concurrency race (stale resourceVersion). */
export function isConflict(err: unknown): boolean {
  return hasReasonOrCode(err, 'Conflict', 409);
}

/** The resourceVersion is too old (410 Gone / reason Expired): the client must LIST again. */
export function isGone(err: unknown): boolean {
  const status = statusOf(err);
  return status.code === 410 || status.reason === 'Gone' || status.reason === 'Expired';
}

/** The request was cancelled by our own AbortSignal (node-fetch AbortError or DOM AbortError). */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * Connection errors that mean no connection was made: nothing listens (the API server is down or
 * restarting) or there is no route. Such an attempt costs the server nothing.
 */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * The request never reached a server (node-fetch's FetchError carries the socket error's code,
 * possibly as the cause of another error).
 */
export function isUnreachable(err: unknown): boolean {
  for (let cause = err, depth = 0; isRecord(cause) && depth < 4; cause = cause.cause, depth++) {
    if (typeof cause.code === 'string' && NOT_CONNECTED_CODES.has(cause.code)) return true;
  }
  return false;
}

/** One readable line for logs and conditions, e.g. `409 Conflict: the object has been modified`. */
export function describeError(err: unknown): string {
  const status = statusOf(err);
  if (status.code !== undefined) {
    const reason = status.reason ? ` ${status.reason}` : '';
    const message = status.message ? `: ${status.message}` : '';
    return `${status.code}${reason}${message}`;
  }
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function parseStatus(body: unknown): ApiStatus {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return body === '' ? {} : { message: body };
    }
  }
  if (!isRecord(value)) return {};
  return {
    code: typeof value.code === 'number' ? value.code : undefined,
    reason: typeof value.reason === 'string' ? value.reason : undefined,
    message: typeof value.message === 'string' ? value.message : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
