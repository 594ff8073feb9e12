// Turns a resource description into the watch path and LIST function a Reflector needs, so the
// two always agree on the collection.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ListFunction, ObjectList } from './reflector.js';

export interface ResourceRef {
  /** '' for the core group (Secrets, ConfigMaps, ...). */
  group: string;
  version: string;
  plural: string;
  /** Omit to watch all namespaces (or a cluster-scoped resource). */
  namespace?: string;
}

export function collectionPath(ref: ResourceRef): string {
  const prefix = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  return ref.namespace ? `${prefix}/namespaces/${ref.namespace}/${ref.plural}` : `${prefix}/${ref.plural}`;
}

/**
 * Path and LIST function for a custom resource (any non-core group), via CustomObjectsApi.
 * For core resources pass a list function from CoreV1Api with `collectionPath`.
 */
export function customResourceSource<T>(
  kubeConfig: KubeConfig,
  ref: ResourceRef,
): { path: string; list: ListFunction<T> } {
  if (ref.group === '')
    throw new Error(`customResourceSource needs an API group, got core resource ${ref.plural}`);
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace } = ref;
  const list: ListFunction<T> = async ({
    labelSelector,
    fieldSelector,
    limit,
    continue: _continue,
    options,
  }) =>
    (namespace
      ? await api.listNamespacedCustomObject(
          { group, version, namespace, plural, labelSelector, fieldSelector, limit, _continue },
          options,
        )
      : await api.listClusterCustomObject(
          { group, version, plural, labelSelector, fieldSelector, limit, _continue },
          options,
        )) as ObjectList<T>;
  return { path: collectionPath(ref), list };
}
