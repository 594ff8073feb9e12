// Client URLs of the etcd members from their pods (OpenShift: namespace openshift-etcd, app=etcd,
// port 2379, https). The controller implements PodLister with client-node; this file only turns
// the IPs of running pods into URLs, and hands every pod on, running or not, to the analysis.
import { isIP } from 'node:net';
import type { MemberPod } from '../../health/observation.js';

// What a PodLister gives; the Kubernetes adapter implements it without reaching into the analysis.
export type { MemberPod, PodContainer } from '../../health/observation.js';
import { CANCELLED, untilAborted, withTimeout } from '../timeout.js';
import { errorText } from '../text.js';

export interface PodLister {
  /** Every pod the selector matches, whatever its phase. Gives up when `signal` aborts. */
  listPods(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<MemberPod[]>;
}

export interface Discovery {
  namespace: string;
  labelSelector: string;
  port: number;
  scheme: 'http' | 'https';
}

/** A listed pod that gives no endpoint, and why in words ("is Pending", "has no IP yet"). */
export interface PodWithoutEndpoint {
  pod: string;
  why: string;
}

/** `pods`, in name order, whenever the list answered, even when no pod gives an endpoint. */
export type DiscoveredEndpoints =
  | {
      ok: true;
      endpoints: string[];
      /** The node of each endpoint's pod, by endpoint; where commands on a member's host go. */
      nodes: Record<string, string>;
      withoutEndpoint: PodWithoutEndpoint[];
      pods: MemberPod[];
    }
  | { ok: false; error: string; pods?: MemberPod[] };

export async function discoverEndpoints(
  discovery: Discovery,
  pods: PodLister,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DiscoveredEndpoints> {
  const what = `pods ${JSON.stringify(discovery.labelSelector)} in namespace ${discovery.namespace}`;
  if (signal?.aborted) return { ok: false, error: `listing ${what}: ${CANCELLED}` };
  let listed: MemberPod[];
  try {
    // A lister that ignores the signal is not waited for either.
    const result = await withTimeout<MemberPod[] | typeof CANCELLED | undefined>(
      untilAborted<MemberPod[] | typeof CANCELLED>(
        pods.listPods(discovery.namespace, discovery.labelSelector, signal),
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
  const sorted = [...listed].sort((a, b) => a.name.localeCompare(b.name));
  const withoutEndpoint: PodWithoutEndpoint[] = [];
  const endpoints = new Set<string>();
  const nodes: Record<string, string> = {};
  for (const pod of sorted) {
    const family = isIP(pod.ip);
    // The IP of a pod that does not run may already belong to another pod.
    if (pod.phase !== 'Running') {
      withoutEndpoint.push({ pod: pod.name, why: `is ${pod.phase || 'in no phase yet'}` });
    } else if (family === 0) {
      const why = pod.ip ? `has an invalid IP ${JSON.stringify(pod.ip)}` : 'has no IP yet';
      withoutEndpoint.push({ pod: pod.name, why });
    } else {
      const endpoint = `${discovery.scheme}://${family === 6 ? `[${pod.ip}]` : pod.ip}:${discovery.port}`;
      endpoints.add(endpoint);
      if (pod.nodeName) nodes[endpoint] = pod.nodeName;
    }
  }
  if (endpoints.size === 0) {
    const notes = withoutEndpoint.map(({ pod, why }) => `pod ${pod} ${why}`);
    return {
      ok: false,
      error: `no ${what} with an IP${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`,
      pods: sorted,
    };
  }
  return { ok: true, endpoints: [...endpoints], nodes, withoutEndpoint, pods: sorted };
}
