// EtcdHealthCheck objects on a real apiserver, for end-to-end tests: create, read, patch the
// spec, and look at a condition.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION, type EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { mergePatch } from './kube.js';

export interface Checks {
  create(namespace: string, name: string, spec: Record<string, unknown>): Promise<void>;
  get(namespace: string, name: string): Promise<EtcdHealthCheck>;
  patchSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<void>;
}

export function checksApi(kubeConfig: KubeConfig): Checks {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const where = (namespace: string) => ({ group: GROUP, version: VERSION, namespace, plural: PLURAL });
  return {
    async create(namespace, name, spec) {
      await api.createNamespacedCustomObject({
        ...where(namespace),
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name }, spec },
      });
    },
    async get(namespace, name) {
      return (await api.getNamespacedCustomObject({ ...where(namespace), name })) as EtcdHealthCheck;
    },
    async patchSpec(namespace, name, spec) {
      await api.patchNamespacedCustomObject({ ...where(namespace), name, body: { spec } }, mergePatch());
    },
  };
}

export function conditionOf(check: EtcdHealthCheck | undefined, type: string) {
  return check?.status?.conditions?.find((c) => c.type === type);
}
