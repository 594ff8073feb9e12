// Resolves the credentials a CR refers to. Two rules are enforced here and nowhere else:
// references resolve only in the CR's own namespace (the reference types carry no namespace), and
// the operator's own ServiceAccount token goes only to a Prometheus URL the cluster admin
// allowlisted by flag, with the TLS trust the admin configured; nothing in a CR can widen either.
// The admin's list of Prometheus URLs checks may use at all is enforced here too.
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import { urlIsAllowlisted } from './prometheus/url.js';

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
  /**
   * The CA bundle that connections carrying the token trust: the admin's (flag
   * --prometheus-sa-token-ca-file), or undefined for Node's default CAs. Never a CR's.
   */
  caPem(): Promise<string | undefined>;
}

/** Where a pod finds the service CA (OpenShift's service-serving CA; absent elsewhere). */
export const SERVICE_CA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt';

/**
 * The CA bundle for the operator's token, read on every use (CAs rotate): the admin's files when
 * given, else Node's default CAs plus the service CA when the pod has one, else Node's defaults.
 */
export function operatorTokenTrust(caFiles: readonly string[], serviceCaPath = SERVICE_CA_PATH) {
  return async (): Promise<string | undefined> => {
    if (caFiles.length > 0) return (await Promise.all(caFiles.map((f) => readFile(f, 'utf8')))).join('\n');
    const serviceCa = await readFile(serviceCaPath, 'utf8').catch(() => undefined);
    return serviceCa === undefined ? undefined : [...rootCertificates, serviceCa].join('\n');
  };
}

/** Which Prometheus URLs checks may use at all (flag --prometheus-url-allow); empty: any. */
export interface PrometheusUrlPolicy {
  allowedUrlPrefixes: string[];
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
  urlPolicy: PrometheusUrlPolicy = { allowedUrlPrefixes: [] },
): Promise<PrometheusCredentials> {
  const prometheus = spec.prometheus;
  const resolved: PrometheusCredentials = {};
  if (!prometheus) return resolved;
  const allowed = urlPolicy.allowedUrlPrefixes;
  if (allowed.length > 0 && !urlIsAllowlisted(prometheus.url, allowed)) {
    throw new CredentialError(
      'PrometheusUrlNotAllowed',
      `The operator's admin allows checks to query only Prometheus URLs under --prometheus-url-allow; ${prometheus.url} is not one of them`,
    );
  }
  if (prometheus.useOperatorServiceAccount) return operatorCredentials(prometheus, operatorToken);
  if (prometheus.bearerTokenSecretRef) {
    const ref = prometheus.bearerTokenSecretRef;
    const data = await requireSecret(reader, namespace, ref.name, 'Prometheus bearer token');
    resolved.bearerToken = requireKey(data, ref.key ?? 'token', namespace, ref.name).trim();
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

/**
 * The operator's token travels only to an allowlisted URL and only with the trust its admin
 * configured: a CR that brings its own CA or turns verification off would choose who receives it.
 */
async function operatorCredentials(
  prometheus: NonNullable<EtcdHealthCheckSpec['prometheus']>,
  operatorToken: OperatorToken | undefined,
): Promise<PrometheusCredentials> {
  if (!operatorToken || !urlIsAllowlisted(prometheus.url, operatorToken.allowedUrlPrefixes)) {
    throw new CredentialError(
      'OperatorTokenNotAllowed',
      `The operator sends its ServiceAccount token only to URLs its admin allowlisted (--prometheus-sa-token-url); ${prometheus.url} is not one of them`,
    );
  }
  const own = [
    prometheus.caSecretRef && 'caSecretRef',
    prometheus.caConfigMapRef && 'caConfigMapRef',
    prometheus.insecureSkipTLSVerify && 'insecureSkipTLSVerify',
  ].filter(Boolean);
  if (own.length > 0) {
    throw new CredentialError(
      'OperatorTokenTrust',
      `The operator sends its ServiceAccount token only with the TLS trust its admin configured (--prometheus-sa-token-ca-file); remove ${own.join(', ')} or stop using useOperatorServiceAccount`,
    );
  }
  const [token, caPem] = await Promise.all([operatorToken.read(), operatorToken.caPem()]);
  return { bearerToken: token.trim(), ...(caPem !== undefined ? { caPem } : {}) };
}

/** Both credentials of a check; a problem the CR author can fix arrives as the CredentialError. */
export interface CheckCredentials {
  etcd: EtcdCredentials | CredentialError | undefined;
  prometheus: PrometheusCredentials | CredentialError;
}

/**
 * The etcd and Prometheus credentials of a check in `namespace`, as the operator resolves them (and
 * `etcd-health check ehc/NAME` with the user's own permissions): one failing does not stop the
 * other, so that etcd is still checked when only the Prometheus token is missing.
 */
export async function resolveCredentials(
  namespace: string,
  spec: EtcdHealthCheckSpec,
  reader: ConfigReader,
  operatorToken?: OperatorToken,
  urlPolicy?: PrometheusUrlPolicy,
): Promise<CheckCredentials> {
  const [etcd, prometheus] = await Promise.all([
    captureCredentialError(() => resolveEtcdCredentials(namespace, spec, reader)),
    captureCredentialError(() =>
      resolvePrometheusCredentials(namespace, spec, reader, operatorToken, urlPolicy),
    ),
  ]);
  return { etcd, prometheus };
}

async function captureCredentialError<T>(resolve: () => Promise<T>): Promise<T | CredentialError> {
  try {
    return await resolve();
  } catch (error) {
    if (error instanceof CredentialError) return error;
    throw error;
  }
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
