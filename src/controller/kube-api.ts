// Kubernetes calls the reconciler makes, each with a timeout (client-node 1.4 has none by default:
// a per-call middleware sets an AbortSignal) and the right patch Content-Type (1.4 defaults to
// JSON Patch; a merge patch needs the header set per call).
import { CoreV1Api, CustomObjectsApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckStatus } from '../api/v1alpha1/status.js';
import {
  DEFAULT_API_TIMEOUT_MS,
  FIELD_MANAGER,
  callOptions,
  isAbortError,
  statusOf,
  withDeadline,
  withSignal,
} from '../runtime/index.js';
import { CANCELLED } from '../sources/timeout.js';
import type { StatusClient } from './reconciler.js';

/** Writes the whole status with a JSON merge patch to /status (lists are replaced wholesale). */
export class StatusPatcher implements StatusClient {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async patchStatus(namespace: string, name: string, status: EtcdHealthCheckStatus): Promise<void> {
    await this.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
        body: { status },
        fieldManager: FIELD_MANAGER,
      },
      callOptions(this.timeoutMs, PatchStrategy.MergePatch),
    );
  }
}

export interface PodAddress {
  name: string;
  ip: string;
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
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Gives up after the timeout or when `signal` aborts, whichever comes first. */
  async listPodIPs(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<PodAddress[]> {
    const pods = await withDeadline(this.timeoutMs, signal, (deadline) =>
      this.api.listNamespacedPod({ namespace, labelSelector }, withSignal(deadline)),
    ).catch((error: unknown) => {
      throw new Error(signal?.aborted ? CANCELLED : listFailure(error, namespace));
    });
    return pods.items
      .filter((pod) => pod.status?.phase === 'Running' && pod.status.podIP && pod.metadata?.name)
      .map((pod) => ({ name: pod.metadata!.name!, ip: pod.status!.podIP! }));
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
