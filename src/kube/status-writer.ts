// The one writer of EtcdHealthCheck status: a JSON merge patch to /status (client-node 1.4 defaults
// to JSON Patch, so the Content-Type is set per call), with a timeout, optionally preconditioned on
// a resourceVersion. The reconciler writes the health fields through it, the remediator
// status.remediation and its lock.
import { CustomObjectsApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { ObjectKey, PatchOutcome, StatusPatch, StatusStore } from '../remediation/status-store.js';
import { isConflict, isNotFound } from '../runtime/k8s-errors.js';
import { callOptions, DEFAULT_API_TIMEOUT_MS, FIELD_MANAGER } from '../runtime/request-options.js';

export class KubeStatusWriter implements StatusStore {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async patch(
    key: ObjectKey,
    resourceVersion: string | undefined,
    patch: StatusPatch,
  ): Promise<PatchOutcome> {
    try {
      const updated = (await this.api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: key.namespace,
          plural: PLURAL,
          name: key.name,
          body: {
            ...(resourceVersion !== undefined ? { metadata: { resourceVersion } } : {}),
            status: patch,
          },
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
