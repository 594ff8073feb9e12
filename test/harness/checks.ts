// EtcdHealthCheck objects on a real apiserver, for end-to-end tests: create, read, patch the
// spec, and look at a condition.
import { CustomObjectsApi, EventsV1Api, type EventsV1Event, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION, type EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { mergePatch } from './kube.js';

export interface Checks {
  create(namespace: string, name: string, spec: Record<string, unknown>): Promise<void>;
  get(namespace: string, name: string): Promise<EtcdHealthCheck>;
  patchSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<void>;
  /** The Events regarding the named check. */
  eventsOf(namespace: string, name: string): Promise<EventsV1Event[]>;
}

/** The same calls, bound to one namespace. */
export interface NamespacedChecks {
  create(name: string, spec: Record<string, unknown>): Promise<void>;
  get(name: string): Promise<EtcdHealthCheck>;
  patchSpec(name: string, spec: Record<string, unknown>): Promise<void>;
  eventsOf(name: string): Promise<EventsV1Event[]>;
}

export function checksApi(kubeConfig: KubeConfig): Checks {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const events = kubeConfig.makeApiClient(EventsV1Api);
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
    async eventsOf(namespace, name) {
      const list = await events.listNamespacedEvent({ namespace });
      return list.items.filter((event) => event.regarding?.name === name);
    },
  };
}

export function checksIn(kubeConfig: KubeConfig, namespace: string): NamespacedChecks {
  const checks = checksApi(kubeConfig);
  return {
    create: (name, spec) => checks.create(namespace, name, spec),
    get: (name) => checks.get(namespace, name),
    patchSpec: (name, spec) => checks.patchSpec(namespace, name, spec),
    eventsOf: (name) => checks.eventsOf(namespace, name),
  };
}

export function conditionOf(check: EtcdHealthCheck | undefined, type: string) {
  return check?.status?.conditions?.find((c) => c.type === type);
}
