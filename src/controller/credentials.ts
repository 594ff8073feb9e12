// Resolves the credentials a CR refers to. Two rules are enforced here and nowhere else:
// references resolve only in the CR's own namespace (the reference types carry no namespace), and
// the operator's own ServiceAccount token goes only to a Prometheus URL the cluster admin
// allowlisted by flag; nothing in a CR can widen that list.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';

/** Read access to Secret and ConfigMap data, scoped by the caller to one namespace at a time. */
export interface ConfigReader {
  secretData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface EtcdCredentials {
  caPem: string;
  /** The client certificate and key, when the spec names a TLS Secret. */
  certPem?: string;
  keyPem?: string;
}

export interface PrometheusCredentials {
  bearerToken?: string;
  caPem?: string;
}

/** A credential problem the user can fix in the CR or its Secrets; never contains secret data. */
export class CredentialError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export interface OperatorToken {
  /** URL prefixes the admin allowlisted for the operator's token (flag --prometheus-sa-token-url). */
  allowedUrlPrefixes: string[];
  /** Reads the current projected token; it rotates, so it is read on every use. */
  read(): Promise<string>;
}

/**
 * Whether `url` falls under one of the allowlisted prefixes: same scheme, host and port, and a
 * path under the prefix's path at a segment boundary, so "https://thanos:9091" does not admit
 * "https://thanos:9091.evil.example" or "https://thanos:9091evil".
 */
export function urlIsAllowlisted(url: string, prefixes: string[]): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  return prefixes.some((prefix) => {
    let allowed: URL;
    try {
      allowed = new URL(prefix);
    } catch {
      return false;
    }
    if (target.protocol !== allowed.protocol || target.host !== allowed.host) return false;
    if (target.username || target.password) return false;
    const base = allowed.pathname.replace(/\/+$/, '');
    return target.pathname === base || target.pathname.startsWith(`${base}/`) || base === '';
  });
}

/**
 * The etcd CA and client certificate, or undefined when the spec asks for no TLS material. The CA
 * comes from caConfigMapRef when set (OpenShift keeps it apart from the client certificate),
 * otherwise from ca.crt in the TLS Secret.
 */
export async function resolveEtcdCredentials(
  namespace: string,
  spec: EtcdHealthCheckSpec,
  reader: ConfigReader,
): Promise<EtcdCredentials | undefined> {
  const { tlsSecretRef: secretRef, caConfigMapRef: caRef } = spec.etcd;
  if (!secretRef && !caRef) return undefined;
  const secret = secretRef ? await requireSecret(reader, namespace, secretRef.name, 'etcd TLS') : undefined;
  let caPem: string;
  if (caRef) {
    const data = await reader.configMapData(namespace, caRef.name);
    if (!data)
      throw new CredentialError(
        'ConfigMapNotFound',
        `ConfigMap ${namespace}/${caRef.name} (etcd CA) not found`,
      );
    caPem = requireKey(data, caRef.key ?? 'ca-bundle.crt', namespace, caRef.name, 'ConfigMap');
  } else {
    caPem = requireKey(secret!, 'ca.crt', namespace, secretRef!.name);
  }
  if (!secret || !secretRef) return { caPem };
  return {
    caPem,
    certPem: requireKey(secret, 'tls.crt', namespace, secretRef.name),
    keyPem: requireKey(secret, 'tls.key', namespace, secretRef.name),
  };
}

export async function resolvePrometheusCredentials(
  namespace: string,
  spec: EtcdHealthCheckSpec,
  reader: ConfigReader,
  operatorToken: OperatorToken | undefined,
): Promise<PrometheusCredentials> {
  const prometheus = spec.prometheus;
  const resolved: PrometheusCredentials = {};
  if (!prometheus) return resolved;
  if (prometheus.bearerTokenSecretRef) {
    const ref = prometheus.bearerTokenSecretRef;
    const data = await requireSecret(reader, namespace, ref.name, 'Prometheus bearer token');
    resolved.bearerToken = requireKey(data, ref.key ?? 'token', namespace, ref.name).trim();
  }
  if (prometheus.useOperatorServiceAccount) {
    if (!operatorToken || !urlIsAllowlisted(prometheus.url, operatorToken.allowedUrlPrefixes)) {
      throw new CredentialError(
        'OperatorTokenNotAllowed',
        `The operator sends its ServiceAccount token only to URLs its admin allowlisted (--prometheus-sa-token-url); ${prometheus.url} is not one of them`,
      );
    }
    resolved.bearerToken = (await operatorToken.read()).trim();
  }
  if (prometheus.caSecretRef) {
    const ref = prometheus.caSecretRef;
    const data = await requireSecret(reader, namespace, ref.name, 'Prometheus CA');
    resolved.caPem = requireKey(data, ref.key ?? 'ca.crt', namespace, ref.name);
  }
  if (prometheus.caConfigMapRef) {
    const ref = prometheus.caConfigMapRef;
    const data = await reader.configMapData(namespace, ref.name);
    if (!data) {
      throw new CredentialError(
        'ConfigMapNotFound',
        `ConfigMap ${namespace}/${ref.name} (Prometheus CA) not found`,
      );
    }
    resolved.caPem = requireKey(data, ref.key ?? 'ca.crt', namespace, ref.name, 'ConfigMap');
  }
  return resolved;
}

async function requireSecret(reader: ConfigReader, namespace: string, name: string, purpose: string) {
  const data = await reader.secretData(namespace, name);
  if (!data)
    throw new CredentialError('SecretNotFound', `Secret ${namespace}/${name} (${purpose}) not found`);
  return data;
}

function requireKey(
  data: Record<string, string>,
  key: string,
  namespace: string,
  name: string,
  kind = 'Secret',
) {
  const value = data[key];
  if (value === undefined || value.length === 0) {
    throw new CredentialError('MissingKey', `${kind} ${namespace}/${name} has no key ${JSON.stringify(key)}`);
  }
  return value;
}
