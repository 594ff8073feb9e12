// Client URLs of the etcd members from their pods (OpenShift: namespace openshift-etcd, app=etcd,
// port 2379, https). The controller implements PodLister with client-node; this file only turns
// pod IPs into URLs.
import { isIP } from 'node:net';
import { CANCELLED, untilAborted, withTimeout } from '../timeout.js';
import { errorText } from '../text.js';

export interface PodIP {
  name: string;
  /** Empty while the pod has no IP yet. */
  ip: string;
  /** The pod's phase; only Running pods are dialed, the others are reported (absent: Running). */
  phase?: string;
}

export interface PodLister {
  /** Gives up when `signal` aborts. */
  listPodIPs(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<PodIP[]>;
}

export interface Discovery {
  namespace: string;
  labelSelector: string;
  port: number;
  scheme: 'http' | 'https';
}

export type DiscoveredEndpoints =
  { ok: true; endpoints: string[]; notes: string[] } | { ok: false; error: string };

export async function discoverEndpoints(
  discovery: Discovery,
  pods: PodLister,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DiscoveredEndpoints> {
  const what = `pods ${JSON.stringify(discovery.labelSelector)} in namespace ${discovery.namespace}`;
  if (signal?.aborted) return { ok: false, error: `listing ${what}: ${CANCELLED}` };
  let listed: PodIP[];
  try {
    // A lister that ignores the signal is not waited for either.
    const result = await withTimeout<PodIP[] | typeof CANCELLED | undefined>(
      untilAborted<PodIP[] | typeof CANCELLED>(
        pods.listPodIPs(discovery.namespace, discovery.labelSelector, signal),
        signal,
        () => CANCELLED,
      ),
      timeoutMs,
      () => undefined,
    );
    if (result === CANCELLED) return { ok: false, error: `listing ${what}: ${CANCELLED}` };
    if (!result) return { ok: false, error: `listing ${what}: no answer within ${timeoutMs}ms` };
    listed = result;
  } catch (error) {
    return { ok: false, error: `listing ${what}: ${errorText(error)}` };
  }
  const notes: string[] = [];
  const endpoints = new Set<string>();
  for (const pod of [...listed].sort((a, b) => a.name.localeCompare(b.name))) {
    // A member whose pod is not Running is down, not absent: say so rather than drop it.
    if (pod.phase !== undefined && pod.phase !== 'Running') {
      notes.push(`pod ${pod.name} is ${pod.phase}, not Running`);
      continue;
    }
    const family = isIP(pod.ip);
    if (family === 0) {
      notes.push(`pod ${pod.name} has ${pod.ip ? `an invalid IP ${JSON.stringify(pod.ip)}` : 'no IP yet'}`);
      continue;
    }
    const host = family === 6 ? `[${pod.ip}]` : pod.ip;
    endpoints.add(`${discovery.scheme}://${host}:${discovery.port}`);
  }
  if (endpoints.size === 0) {
    return {
      ok: false,
      error: `no running ${what} with an IP${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`,
    };
  }
  return { ok: true, endpoints: [...endpoints], notes };
}
