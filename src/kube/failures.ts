// Failed Kubernetes API calls in words. A request that RBAC refused is plain data (a Denial): the
// CLI reads the cluster with the user's own permissions and names exactly the read that was refused.
import { isAbortError, statusOf } from '../runtime/index.js';
import { sanitizedLine } from '../sources/text.js';

export interface Denial {
  verb: 'get' | 'list';
  /** The plural resource, e.g. "secrets" or "etcdhealthchecks.etcdhealth.io". */
  resource: string;
  namespace: string;
  /** The object's name; absent for a list. */
  name?: string;
  /** The API server's words (they name the user), one sanitised line. */
  detail?: string;
}

/** A Denial when `error` is a 403 Forbidden answer to the request described, else undefined. */
export function denialOf(error: unknown, request: Omit<Denial, 'detail'>): Denial | undefined {
  const { code, message } = statusOf(error);
  if (code !== 403) return undefined;
  return { ...request, ...(message ? { detail: sanitizedLine(message, [], 300) } : {}) };
}

/** `RBAC denies get on secrets "etcd-client" in namespace "etcd": <server's words>`. */
export function describeDenial(denial: Denial): string {
  const what =
    denial.name === undefined ? denial.resource : `${denial.resource} ${JSON.stringify(denial.name)}`;
  const detail = denial.detail ? ` (the API server: ${denial.detail})` : '';
  return `RBAC denies ${denial.verb} on ${what} in namespace ${JSON.stringify(denial.namespace)}${detail}`;
}

/** A failed read in words, without the response's headers or body (client-node puts both in its message). */
export function describeFailure(error: unknown): string {
  if (isAbortError(error)) return 'no answer from the API server within the timeout';
  const { code, reason } = statusOf(error);
  if (code !== undefined) return `the API server answered ${code}${reason ? ` (${reason})` : ''}`;
  const cause = (error as { code?: unknown } | null)?.code;
  return `the API server could not be reached${typeof cause === 'string' ? ` (${cause})` : ''}`;
}
