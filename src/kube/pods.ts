// The pod list of spec.etcd.discovery, with a timeout (client-node 1.4 has none by default: a
// per-call middleware sets an AbortSignal) that the reconcile's own signal can cut short.
import { CoreV1Api, type KubeConfig, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import type { MemberPod, PodContainer } from '../sources/etcd/discovery.js';
import { DEFAULT_API_TIMEOUT_MS, withDeadline, withSignal } from '../runtime/index.js';
import { CANCELLED } from '../sources/timeout.js';
import { denialOf, describeFailure, type Denial } from './failures.js';

const DISCOVERY_ROLE = 'etcd-health-operator-discovery';

/**
 * Lists the etcd pods for spec.etcd.discovery, running or not, with what their status says. Only
 * in namespaces the reach policy allowed (the reconciler asks it first); RBAC grants the list only
 * where the admin bound the ClusterRole etcd-health-operator-discovery.
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
  async listPods(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<MemberPod[]> {
    const pods = await withDeadline(this.timeoutMs, signal, (deadline) =>
      this.api.listNamespacedPod({ namespace, labelSelector }, withSignal(deadline)),
    ).catch((error: unknown) => {
      const denial = denialOf(error, { verb: 'list', resource: 'pods', namespace });
      if (denial) this.onDenied?.(denial);
      throw new Error(signal?.aborted ? CANCELLED : listFailure(error, namespace, denial));
    });
    return pods.items.flatMap((pod) => (pod.metadata?.name ? [memberPod(pod, pod.metadata.name)] : []));
  }
}

function memberPod(pod: V1Pod, name: string): MemberPod {
  const status = pod.status;
  const ready = status?.conditions?.find((condition) => condition.type === 'Ready')?.status;
  return {
    name,
    ip: status?.podIP ?? '',
    phase: status?.phase ?? '',
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(ready === 'True' || ready === 'False' ? { ready: ready === 'True' } : {}),
    ...(pod.metadata?.deletionTimestamp ? { deleting: true } : {}),
    containers: (status?.containerStatuses ?? []).map(podContainer),
  };
}

function podContainer(container: V1ContainerStatus): PodContainer {
  const waiting = container.state?.waiting?.reason;
  const last = container.lastState?.terminated;
  return {
    name: container.name,
    ready: container.ready,
    restartCount: container.restartCount,
    ...(waiting ? { waitingReason: waiting } : {}),
    ...(last
      ? {
          lastTermination: {
            reason: last.reason ?? `exit code ${last.exitCode}`,
            exitCode: last.exitCode,
            ...(validTime(last.finishedAt) ? { finishedAt: validTime(last.finishedAt) } : {}),
          },
        }
      : {}),
  };
}

/** The time as RFC 3339, or undefined when the API server sent none or one that does not parse. */
function validTime(time: Date | undefined): string | undefined {
  const date = time === undefined ? undefined : new Date(time);
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** A failed pod list in words, without the response's headers or body (client-node puts both in its message). */
function listFailure(error: unknown, namespace: string, denial: Denial | undefined): string {
  if (denial) {
    return `the operator may not list pods in namespace ${namespace}; its admin grants that by binding the ClusterRole ${DISCOVERY_ROLE} there with a RoleBinding`;
  }
  return describeFailure(error);
}
