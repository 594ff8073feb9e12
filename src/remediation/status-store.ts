// Writes status.remediation with optimistic concurrency: a JSON merge patch to /status that carries
// metadata.resourceVersion, which the API server checks as a precondition (409 Conflict when the
// object changed since it was read: another replica acted, or the spec changed, e.g. paused).
// This, not memory, is what keeps two replicas or a restarted process from running two steps.
import { CustomObjectsApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { Condition } from '../api/v1alpha1/status.js';
import { isConflict, isNotFound } from '../runtime/k8s-errors.js';
import { callOptions, DEFAULT_API_TIMEOUT_MS, FIELD_MANAGER } from '../runtime/request-options.js';
import type { RemediationStatusPatch } from './state.js';

export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface RemediationPatch {
  remediation: RemediationStatusPatch;
  /** The whole condition list, when the write should show Progressing at once. */
  conditions?: Condition[];
}

export type PatchOutcome = { ok: true; resourceVersion: string } | { ok: false; conflict: true };

export interface RemediationStatusStore {
  /** Applies the patch only if the object still has `resourceVersion`. */
  patch(key: ObjectKey, resourceVersion: string, patch: RemediationPatch): Promise<PatchOutcome>;
  /** A fresh read (not the cache), after a conflict. */
  get(key: ObjectKey): Promise<EtcdHealthCheck | undefined>;
}

export class KubeRemediationStatusStore implements RemediationStatusStore {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async patch(key: ObjectKey, resourceVersion: string, patch: RemediationPatch): Promise<PatchOutcome> {
    try {
      const updated = (await this.api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: key.namespace,
          plural: PLURAL,
          name: key.name,
          body: { metadata: { resourceVersion }, status: patch },
          fieldManager: FIELD_MANAGER,
        },
        callOptions(this.timeoutMs, PatchStrategy.MergePatch),
      )) as EtcdHealthCheck;
      return { ok: true, resourceVersion: updated.metadata.resourceVersion ?? '' };
    } catch (error) {
      if (isConflict(error)) return { ok: false, conflict: true };
      throw error;
    }
  }

  async get(key: ObjectKey): Promise<EtcdHealthCheck | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: key.namespace, plural: PLURAL, name: key.name },
        callOptions(this.timeoutMs),
      )) as EtcdHealthCheck;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
