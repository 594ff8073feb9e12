// One EtcdHealthCheck read by name with the permissions of whoever's kubeconfig this is (the CLI's
// `etcd-health check ehc/NAME`), with a timeout and the caller's signal. A failure is a value that
// says what was asked and why it failed; the object's spec is still untrusted input.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION, type EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import { DEFAULT_API_TIMEOUT_MS, isNotFound, withDeadline, withSignal } from '../runtime/index.js';
import { denialOf, describeDenial, describeFailure, type Denial } from './failures.js';

export type CheckRead = { ok: true; object: EtcdHealthCheck } | { ok: false; error: string; denial?: Denial };

export async function readEtcdHealthCheck(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  { timeoutMs = DEFAULT_API_TIMEOUT_MS, signal }: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<CheckRead> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  let object: unknown;
  try {
    object = await withDeadline(timeoutMs, signal, (deadline) =>
      api.getNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name },
        withSignal(deadline),
      ),
    );
  } catch (error) {
    if (isNotFound(error)) return { ok: false, error: `${KIND} ${namespace}/${name} not found` };
    const denial = denialOf(error, { verb: 'get', resource: `${PLURAL}.${GROUP}`, namespace, name });
    if (denial) return { ok: false, error: describeDenial(denial), denial };
    return { ok: false, error: `get ${PLURAL}.${GROUP} ${namespace}/${name}: ${describeFailure(error)}` };
  }
  if (!isCheck(object)) {
    return {
      ok: false,
      error: `${namespace}/${name}: the API server answered with something that is not an ${KIND}`,
    };
  }
  return { ok: true, object };
}

function isCheck(value: unknown): value is EtcdHealthCheck {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, metadata } = value as { kind?: unknown; metadata?: unknown };
  return kind === KIND && typeof metadata === 'object' && metadata !== null;
}
