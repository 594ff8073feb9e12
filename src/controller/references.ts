// Which Secrets and ConfigMaps an EtcdHealthCheck refers to, so that a rotated certificate
// re-reconciles exactly the CRs that use it. References carry no namespace: they resolve in the
// CR's own.
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { ConfigKind, ConfigRef } from '../kube/config-informers.js';

/** Names of the Secrets or ConfigMaps an EtcdHealthCheck refers to. */
export function referencedNames(object: EtcdHealthCheck, kind: ConfigKind): string[] {
  const { etcd, prometheus } = object.spec ?? {};
  const names =
    kind === 'Secret'
      ? [etcd?.tlsSecretRef?.name, prometheus?.bearerTokenSecretRef?.name, prometheus?.caSecretRef?.name]
      : [etcd?.caConfigMapRef?.name, prometheus?.caConfigMapRef?.name];
  return names.filter((n): n is string => typeof n === 'string');
}

/** Every Secret and ConfigMap an EtcdHealthCheck refers to, in its own namespace. */
export function referencesOf(object: EtcdHealthCheck): ConfigRef[] {
  const namespace = object.metadata.namespace;
  return (['Secret', 'ConfigMap'] as const).flatMap((kind) =>
    referencedNames(object, kind).map((name) => ({ kind, namespace, name })),
  );
}

/** Keys of the EtcdHealthChecks in `namespace` that refer to the named Secret or ConfigMap. */
export function checksReferring(
  checks: Iterable<EtcdHealthCheck>,
  kind: ConfigKind,
  namespace: string,
  name: string,
): string[] {
  const keys: string[] = [];
  for (const check of checks) {
    if (check.metadata.namespace === namespace && referencedNames(check, kind).includes(name)) {
      keys.push(`${namespace}/${check.metadata.name}`);
    }
  }
  return keys;
}
