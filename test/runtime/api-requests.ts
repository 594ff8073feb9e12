// One client's requests to a kube-apiserver, from the apiserver's audit log: who asked is the
// username, so the client under test runs as its own ServiceAccount. Used by the restart test and
// by the benchmark to count what the operator sends to an apiserver that is coming back.
import { auditFiles, type AuditedRequest } from '../harness/audit.js';
import type { ControlPlane } from '../harness/controlplane.js';

export interface RequestAudit {
  /** kube-apiserver flags that turn the log on. */
  readonly apiServerArgs: string[];
  /** Every request of the user, once each (a watch is logged at its start and at its end). */
  requests(): AuditedRequest[];
}

/** An audit log of every request of `username` (Metadata level), and nothing else. */
export function requestAudit(dir: string, username: string): RequestAudit {
  const log = auditFiles<AuditedRequest>(dir, 'client-requests', {
    omitStages: ['RequestReceived'],
    rules: ['  - level: Metadata', `    users: [${JSON.stringify(username)}]`],
  });
  return {
    apiServerArgs: log.apiServerArgs,
    requests: () => {
      const first = new Map<string, AuditedRequest>();
      for (const event of log.events()) {
        if (event.user.username !== username) continue;
        const id = event.auditID ?? `${event.requestReceivedTimestamp}-${event.requestURI}`;
        if (!first.has(id)) first.set(id, event);
      }
      return [...first.values()];
    },
  };
}

export interface RequestCounts {
  /** Requests received from `fromMs` until `readyMs`. */
  beforeReady: number;
  /** Requests in each second of the `seconds` after `readyMs` (index = second). */
  perSecond: number[];
  total: number;
  peakPerSecond: number;
  /** `VERB resource[/subresource]` -> count after `readyMs`. */
  byVerb: Record<string, number>;
  /** HTTP status code -> count after `readyMs`. */
  byCode: Record<string, number>;
}

/** Counts requests received from `fromMs` on, and per second in the `seconds` after `readyMs`. */
export function countRequests(
  requests: AuditedRequest[],
  fromMs: number,
  readyMs: number,
  seconds = 60,
): RequestCounts {
  const perSecond = Array.from({ length: seconds }, () => 0);
  const byVerb: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  let beforeReady = 0;
  for (const request of requests) {
    const at = Date.parse(request.requestReceivedTimestamp ?? '');
    if (!Number.isFinite(at) || at < fromMs) continue;
    if (at < readyMs) {
      beforeReady++;
      continue;
    }
    const second = Math.floor((at - readyMs) / 1000);
    if (second >= seconds) continue;
    perSecond[second]!++;
    const ref = request.objectRef;
    const resource = ref?.resource
      ? `${ref.resource}${subresourceOf(request.requestURI)}`
      : request.requestURI;
    const verb = `${request.verb} ${resource}`;
    byVerb[verb] = (byVerb[verb] ?? 0) + 1;
    const code = String(request.responseStatus?.code ?? 'none');
    byCode[code] = (byCode[code] ?? 0) + 1;
  }
  const total = perSecond.reduce((sum, n) => sum + n, 0);
  return { beforeReady, perSecond, total, peakPerSecond: Math.max(0, ...perSecond), byVerb, byCode };
}

function subresourceOf(uri: string): string {
  const path = uri.split('?')[0] ?? '';
  return path.endsWith('/status') ? '/status' : '';
}

/**
 * A ServiceAccount `namespace/name` bound to cluster-admin, and a kubeconfig file with a token for
 * it: a client that runs with it is told apart from the test's own requests in the audit log.
 */
export async function clusterAdminServiceAccount(
  cp: ControlPlane,
  namespace: string,
  name: string,
  expirationSeconds = 6 * 3600,
): Promise<{ username: string; kubeconfigPath: string }> {
  await cp.createNamespace(namespace);
  const token = await cp.mintServiceAccountToken(namespace, name, expirationSeconds);
  const bound = await cp.kubectl([
    'create',
    'clusterrolebinding',
    `${namespace}-${name}`,
    '--clusterrole=cluster-admin',
    `--serviceaccount=${namespace}:${name}`,
  ]);
  if (bound.code !== 0 && !/already exists/.test(bound.stderr))
    throw new Error(`kubectl create clusterrolebinding: ${bound.stderr}`);
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    kubeconfigPath: cp.writeKubeconfigForToken(token, namespace),
  };
}
