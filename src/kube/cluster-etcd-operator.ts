// OpenShift's cluster-etcd-operator, as far as a check of its etcd needs it: the conditions of
// clusteroperator/etcd (shown beside this operator's own) and whether its defragmentation
// controller runs (then this operator must not defragment the same members: two controllers
// defragmenting at once could block two members together).
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ClusterEtcdOperatorObservation, OperatorCondition } from '../health/observation.js';
import {
  DEFAULT_API_TIMEOUT_MS,
  isAbortError,
  statusOf,
  withDeadline,
  withSignal,
} from '../runtime/index.js';
import { CANCELLED } from '../sources/timeout.js';

/** Condition messages come from another operator: bounded, so one cannot bloat the status. */
const MAX_MESSAGE_LENGTH = 512;
const CLUSTER_OPERATOR = {
  group: 'config.openshift.io',
  version: 'v1',
  plural: 'clusteroperators',
  name: 'etcd',
};
const ETCD_OPERATOR = { group: 'operator.openshift.io', version: 'v1', plural: 'etcds', name: 'cluster' };
/** cluster-etcd-operator's defrag controller sets it False while it runs, True when disabled. */
const DEFRAG_DISABLED = 'DefragControllerDisabled';

export type ClusterEtcdOperatorReader = (signal?: AbortSignal) => Promise<ClusterEtcdOperatorObservation>;

export function clusterEtcdOperatorReader(
  kubeConfig: KubeConfig,
  timeoutMs = DEFAULT_API_TIMEOUT_MS,
): ClusterEtcdOperatorReader {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const conditionsOf = async (
    object: typeof CLUSTER_OPERATOR,
    signal: AbortSignal | undefined,
  ): Promise<OperatorCondition[] | string> => {
    try {
      const found = (await withDeadline(timeoutMs, signal, (deadline) =>
        api.getClusterCustomObject(object, withSignal(deadline)),
      )) as { status?: { conditions?: unknown } };
      return operatorConditions(found.status?.conditions);
    } catch (error) {
      return signal?.aborted ? CANCELLED : readFailure(error, object);
    }
  };
  return async (signal) => {
    const [clusterOperator, etcd] = await Promise.all([
      conditionsOf(CLUSTER_OPERATOR, signal),
      conditionsOf(ETCD_OPERATOR, signal),
    ]);
    const errors = [clusterOperator, etcd].filter((answer) => typeof answer === 'string');
    return {
      ...(typeof clusterOperator === 'string' ? {} : { conditions: clusterOperator }),
      defragController: typeof etcd === 'string' ? 'Unknown' : defragController(etcd),
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    };
  };
}

function defragController(
  conditions: OperatorCondition[],
): ClusterEtcdOperatorObservation['defragController'] {
  const disabled = conditions.find((condition) => condition.type === DEFRAG_DISABLED)?.status;
  if (disabled === 'True') return 'Disabled';
  if (disabled === 'False') return 'Enabled';
  return 'Unknown';
}

/** Only well-formed conditions, with bounded text: the object is another operator's, not ours. */
export function operatorConditions(raw: unknown): OperatorCondition[] {
  if (!Array.isArray(raw)) return [];
  const text = (value: unknown) =>
    typeof value === 'string' && value !== '' ? value.slice(0, MAX_MESSAGE_LENGTH) : undefined;
  return raw.flatMap((entry: unknown): OperatorCondition[] => {
    const { type, status, reason, message } = (entry ?? {}) as Record<string, unknown>;
    const name = text(type);
    const state = text(status);
    if (name === undefined || state === undefined) return [];
    const because = text(reason);
    const says = text(message);
    return [
      {
        type: name,
        status: state,
        ...(because ? { reason: because } : {}),
        ...(says ? { message: says } : {}),
      },
    ];
  });
}

function readFailure(error: unknown, object: typeof CLUSTER_OPERATOR): string {
  const what = `${object.plural}.${object.group}/${object.name}`;
  if (isAbortError(error)) return `${what}: no answer from the API server within the timeout`;
  const { code } = statusOf(error);
  if (code === 404) return `${what} does not exist`;
  if (code === 403)
    return `${what}: the operator may not read it (the openshift overlay grants get on it by name)`;
  if (code !== undefined) return `${what}: the API server answered ${code}`;
  return `${what}: the API server could not be reached`;
}
