// The pod list of spec.etcd.discovery, with a timeout (client-node 1.4 has none by default: a
// per-call middleware sets an AbortSignal) that the reconcile's own signal can cut short.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  DEFAULT_API_TIMEOUT_MS,
  isAbortError,
  statusOf,
  withDeadline,
  withSignal,
} from '../runtime/index.js';
import { CANCELLED } from '../sources/timeout.js';

export interface PodAddress {
  name: string;
  /** Empty while the pod has no IP. */
  ip: string;
  phase: string;
}

const DISCOVERY_ROLE = 'etcd-health-operator-discovery';

/**
 * Lists the etcd pods for spec.etcd.discovery. Only in namespaces the reach policy
 * allowed (the reconciler asks it first); RBAC grants the list only where the admin bound the
 * ClusterRole etcd-health-operator-discovery.
 */
export class KubePodLister {
  private readonly api: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Every matching pod with its phase. Gives up after the timeout or when `signal` aborts, whichever comes first. */
  async listPodIPs(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<PodAddress[]> {
    const pods = await withDeadline(this.timeoutMs, signal, (deadline) =>
      this.api.listNamespacedPod({ namespace, labelSelector }, withSignal(deadline)),
    ).catch((error: unknown) => {
      throw new Error(signal?.aborted ? CANCELLED : listFailure(error, namespace));
    });
    // Every pod, with its phase: discovery dials the Running ones and reports the others.
    return pods.items
      .filter((pod) => pod.metadata?.name)
      .map((pod) => ({
        name: pod.metadata!.name!,
        ip: pod.status?.podIP ?? '',
        phase: pod.status?.phase ?? 'Unknown',
      }));
  }
}

/** A failed pod list in words, without the response's headers or body (client-node puts both in its message). */
function listFailure(error: unknown, namespace: string): string {
  if (isAbortError(error)) return 'no answer from the API server within the timeout';
  const { code, reason } = statusOf(error);
  if (code === 403) {
    return `the operator may not list pods in namespace ${namespace}; its admin grants that by binding the ClusterRole ${DISCOVERY_ROLE} there with a RoleBinding`;
  }
  if (code !== undefined) return `the API server answered ${code}${reason ? ` (${reason})` : ''}`;
  const cause = (error as { code?: unknown } | null)?.code;
  return `the API server could not be reached${typeof cause === 'string' ? ` (${cause})` : ''}`;
}
