// Credential faults for a TLS etcd test cluster: the Secrets and ConfigMaps a check refers to,
// written (created or replaced) as a user or cert-manager would, and a rotation of the cluster's
// CA: every member restarted on certificates of a new CA that it alone trusts.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { copyFileSync, writeFileSync } from 'node:fs';
import type { EtcdCluster } from './etcd-cluster.js';
import { apiErrorStatus } from './kube.js';
import { createCertificateAuthority, issueCertificate, type CertificateFiles } from './pki.js';

/** A Secret with these keys, created or replaced. */
export async function putSecret(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  stringData: Record<string, string>,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const body = { metadata: { name }, stringData };
  await core.createNamespacedSecret({ namespace, body }).catch(async (error: unknown) => {
    if (apiErrorStatus(error).code !== 409) throw error;
    await core.replaceNamespacedSecret({ namespace, name, body });
  });
}

/** A ConfigMap with these keys, created or replaced. */
export async function putConfigMap(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const body = { metadata: { name }, data };
  await core.createNamespacedConfigMap({ namespace, body }).catch(async (error: unknown) => {
    if (apiErrorStatus(error).code !== 409) throw error;
    await core.replaceNamespacedConfigMap({ namespace, name, body });
  });
}

/** The keys of an etcd TLS Secret (kubernetes.io/tls plus ca.crt). */
export function tlsSecretData(client: CertificateFiles, ca?: CertificateFiles): Record<string, string> {
  return { 'tls.crt': client.certPem, 'tls.key': client.keyPem, ...(ca ? { 'ca.crt': ca.certPem } : {}) };
}

/**
 * A new CA, certificates from it for every member (same SANs) and a client certificate, written
 * over the files the members start with; then every member is killed and started again, so that
 * the cluster serves and trusts (clients and peers) the new CA only. The cluster's `tls` then
 * describes the new PKI, so the harness's own clients keep working. Returns the new CA.
 */
export async function rotateClusterCa(cluster: EtcdCluster, name: string): Promise<CertificateFiles> {
  const tls = cluster.tls;
  if (!tls) throw new Error('rotateClusterCa needs a TLS cluster');
  const ca = createCertificateAuthority(cluster.dir, name);
  for (const member of cluster.members) {
    const issued = issueCertificate(ca, cluster.dir, `${member.name}-${name}`, {
      commonName: member.name,
      usage: 'peer',
      // As certs.ts: etcd checks a peer's SANs against its source address, 127.0.0.1 on Linux.
      ipAddresses: [member.ip, '127.0.0.1'],
      days: 365,
    });
    const files = tls.member(member.name);
    copyFileSync(issued.certPath, files.certPath);
    copyFileSync(issued.keyPath, files.keyPath);
    Object.assign(files, { certPem: issued.certPem, keyPem: issued.keyPem });
  }
  writeFileSync(tls.ca.certPath, ca.certPem);
  Object.assign(tls.ca, { certPem: ca.certPem, keyPem: ca.keyPem, keyPath: ca.keyPath });
  tls.client = issueCertificate(ca, cluster.dir, `client-${name}`, {
    commonName: 'etcd-health-operator',
    usage: 'client',
    days: 365,
  });
  // All at once: a member on the new CA and one on the old cannot talk to each other.
  await Promise.all(cluster.members.map((m) => cluster.killMember(m.name)));
  await Promise.all(cluster.members.map((m) => cluster.restartMember(m.name)));
  await cluster.waitForLeader();
  return ca;
}
