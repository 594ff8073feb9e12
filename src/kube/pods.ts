// The pod list of spec.etcd.discovery, with a timeout (client-node 1.4 has none by default: a
// per-call middleware sets an AbortSignal) that the reconcile's own signal can cut short.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_API_TIMEOUT_MS, withDeadline, withSignal } from '../runtime/index.js';
import { CANCELLED } from '../sources/timeout.js';
import { denialOf, describeFailure, type Denial } from './failures.js';

export interface PodAddress {
  name: string;
  ip: string;
  node?: string;
}

const DISCOVERY_ROLE = 'etcd-health-operator-discovery';

/**
 * Lists the running etcd pods for spec.etcd.discovery. Only in namespaces the reach policy
 * allowed (the reconciler asks it first); RBAC grants the list only where the admin bound the
 * ClusterRole etcd-health-operator-discovery.
 */
export class KubePodLister {
  private readonly api: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
    /** Told of a list RBAC refused (the CLI stops there and names it). */
    private readonly onDenied?: (denial: Denial) => void,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Gives up after the timeout or when `signal` aborts, whichever comes first. */
  async listPodIPs(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<PodAddress[]> {
    const pods = await withDeadline(this.timeoutMs, signal, (deadline) =>
      this.api.listNamespacedPod({ namespace, labelSelector }, withSignal(deadline)),
    ).catch((error: unknown) => {
      const denial = denialOf(error, { verb: 'list', resource: 'pods', namespace });
      if (denial) this.onDenied?.(denial);
      throw new Error(signal?.aborted ? CANCELLED : listFailure(error, namespace, denial));
    });
    return pods.items
      .filter((pod) => pod.status?.phase === 'Running' && pod.status.podIP && pod.metadata?.name)
      .map((pod) => ({
        name: pod.metadata!.name!,
        ip: pod.status!.podIP!,
        ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      }));
  }
}

/** A failed pod list in words, without the response's headers or body (client-node puts both in its message). */
function listFailure(error: unknown, namespace: string, denial: Denial | undefined): string {
  if (denial) {
    return `the operator may not list pods in namespace ${namespace}; its admin grants that by binding the ClusterRole ${DISCOVERY_ROLE} there with a RoleBinding`;
  }
  return describeFailure(error);
}
