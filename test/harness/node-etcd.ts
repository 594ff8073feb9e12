// etcd as pods on the test node (harness/node.ts), as platforms run it: a 3-member StatefulSet in
// the platform's namespace with its labels, TLS from Secrets (a CA of its own per platform), the
// control plane's etcd binary in a one-file image (harness/node-images.ts); and what the node
// suites share to wait for pods and explain a failure (pod states, the kubelet's log files).
import { AppsV1Api, type CoreV1Api, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from './controlplane.js';
import { eventually } from './eventually.js';
import type { Node } from './node.js';
import { createCertificateAuthority, issueCertificate } from './pki.js';

/** A control plane with a node, and the suite's temp dir. */
export interface NodeCluster {
  cp: ControlPlane;
  node: Node;
  core: CoreV1Api;
  dir: string;
}

/** Where a platform runs its etcd pods, how it labels them, and where their client TLS lives. */
export interface EtcdPlatform {
  namespace: string;
  labels: Record<string, string>;
  /** A kubernetes.io/tls Secret with the client pair, and ca.crt unless caConfigMap is set. */
  clientSecret: string;
  /** A ConfigMap with the CA as ca-bundle.crt, as OpenShift keeps it (etcd-ca-bundle). */
  caConfigMap?: string;
}

/** kubeadm's static pods: `component=etcd,tier=control-plane` in kube-system. */
export const KUBEADM: EtcdPlatform = {
  namespace: 'kube-system',
  labels: { component: 'etcd', tier: 'control-plane' },
  clientSecret: 'etcd-client',
};
export const selectorOf = (platform: EtcdPlatform) =>
  Object.entries(platform.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

export const podsOf = async (core: CoreV1Api, namespace: string, labelSelector: string) =>
  (await core.listNamespacedPod({ namespace, labelSelector })).items;

export const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** What the kubelet saw, for a failure message. */
export const kubeletTail = (node: Node) => `\n--- kubelet ---\n${node.logTail('kubelet', 30)}`;

/** The states and log tails (the kubelet's files) of the operator's pods, for a failure message. */
export async function operatorDiagnosis(
  { core, node }: NodeCluster,
  namespace: string,
  selector: string,
): Promise<string> {
  const lines: string[] = [];
  for (const pod of await podsOf(core, namespace, selector)) {
    lines.push(
      `--- pod ${pod.metadata?.name}: ${pod.status?.phase} ${JSON.stringify(pod.status?.conditions?.map((c) => `${c.type}=${c.status}`))} ${JSON.stringify(pod.status?.containerStatuses?.map((c) => c.state))}`,
    );
    lines.push(...containerLog(node, pod, 'operator').slice(-15));
  }
  return lines.join('\n');
}

/** The lines the kubelet logged for `container` of `pod` (CRI format: time, stream, tag, text). */
export function containerLog(node: Node, pod: V1Pod, container: string): string[] {
  const { namespace, name, uid } = pod.metadata ?? {};
  const logDir = join(node.dir, 'pod-logs', `${namespace}_${name}_${uid}`, container);
  return (existsSync(logDir) ? readdirSync(logDir).sort() : []).flatMap((file) =>
    readFileSync(join(logDir, file), 'utf8').trimEnd().split('\n'),
  );
}

/** The pod's IPs in the cert: every address host-local may hand out (.2 to .250). */
const podAddresses = (subnet: string) =>
  Array.from({ length: 249 }, (_, i) => `${subnet.replace(/0\/24$/, '')}${i + 2}`);

function etcdStatefulSet(platform: EtcdPlatform, image: string): V1StatefulSet {
  const tls = '/etc/etcd/tls';
  const env = (name: string, value: string) => ({ name, value });
  return {
    metadata: { name: 'etcd', namespace: platform.namespace, labels: platform.labels },
    spec: {
      serviceName: 'etcd',
      replicas: 3,
      // All three at once: each must exist (with its IP) before any can start, see below.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: platform.labels },
      template: {
        metadata: { labels: platform.labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'etcd',
              image,
              imagePullPolicy: 'Never',
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                env('ETCD_NAME', '$(POD_NAME)'),
                env('ETCD_DATA_DIR', '/var/lib/etcd'),
                env('ETCD_LISTEN_CLIENT_URLS', 'https://$(POD_IP):2379'),
                env('ETCD_ADVERTISE_CLIENT_URLS', 'https://$(POD_IP):2379'),
                env('ETCD_LISTEN_PEER_URLS', 'https://$(POD_IP):2380'),
                env('ETCD_INITIAL_ADVERTISE_PEER_URLS', 'https://$(POD_IP):2380'),
                // Pod IPs exist only once the pods do: the kubelet holds each container in
                // CreateContainerConfigError until the test writes this ConfigMap from them.
                {
                  name: 'ETCD_INITIAL_CLUSTER',
                  valueFrom: { configMapKeyRef: { name: 'etcd-cluster', key: 'initial-cluster' } },
                },
                env('ETCD_INITIAL_CLUSTER_STATE', 'new'),
                env('ETCD_CERT_FILE', `${tls}/tls.crt`),
                env('ETCD_KEY_FILE', `${tls}/tls.key`),
                env('ETCD_TRUSTED_CA_FILE', `${tls}/ca.crt`),
                env('ETCD_CLIENT_CERT_AUTH', 'true'),
                env('ETCD_PEER_CERT_FILE', `${tls}/tls.crt`),
                env('ETCD_PEER_KEY_FILE', `${tls}/tls.key`),
                env('ETCD_PEER_TRUSTED_CA_FILE', `${tls}/ca.crt`),
                env('ETCD_PEER_CLIENT_CERT_AUTH', 'true'),
                env('ETCD_UNSAFE_NO_FSYNC', 'true'),
                env('ETCD_LOG_LEVEL', 'warn'),
              ],
              volumeMounts: [
                { name: 'data', mountPath: '/var/lib/etcd' },
                { name: 'tls', mountPath: tls, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'tls', secret: { secretName: 'etcd-peer' } },
          ],
        },
      },
    },
  };
}

/**
 * A 3-member etcd as pods in the platform's namespace with its labels, TLS from Secrets (a CA of
 * its own per platform); resolves with the Running, Ready pods.
 */
export async function startEtcdPods(
  { cp, node, core, dir }: NodeCluster,
  platform: EtcdPlatform,
  image: string,
): Promise<V1Pod[]> {
  const { namespace } = platform;
  const selector = selectorOf(platform);
  const pki = join(dir, `etcd-pki-${namespace}`);
  mkdirSync(pki);
  const ca = createCertificateAuthority(pki, 'etcd-ca', 'etcd-ca', 365);
  // A year, as real certificates are: the check warns about anything expiring within 30 days.
  const peer = issueCertificate(ca, pki, 'etcd-peer', {
    commonName: 'etcd',
    ipAddresses: podAddresses(node.podSubnet),
    usage: 'peer',
    days: 365,
  });
  const client = issueCertificate(ca, pki, 'etcd-client', {
    commonName: 'etcd-health-operator',
    usage: 'client',
    days: 365,
  });
  const tlsSecret = (name: string, cert: { certPem: string; keyPem: string }, withCa: boolean) => ({
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    stringData: {
      'tls.crt': cert.certPem,
      'tls.key': cert.keyPem,
      ...(withCa ? { 'ca.crt': ca.certPem } : {}),
    },
  });
  await core.createNamespacedSecret({ namespace, body: tlsSecret('etcd-peer', peer, true) });
  await core.createNamespacedSecret({
    namespace,
    body: tlsSecret(platform.clientSecret, client, platform.caConfigMap === undefined),
  });
  if (platform.caConfigMap)
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: platform.caConfigMap }, data: { 'ca-bundle.crt': ca.certPem } },
    });
  await cp.kubeConfig
    .makeApiClient(AppsV1Api)
    .createNamespacedStatefulSet({ namespace, body: etcdStatefulSet(platform, image) });
  const waiting = await eventually(
    async () => {
      const pods = await podsOf(core, namespace, selector);
      return pods.length === 3 && pods.every((p) => p.status?.podIP) && pods;
    },
    { timeoutMs: 120_000, description: `three etcd pods with IPs in ${namespace}` },
  ).catch((error: Error) => {
    throw new Error(error.message + kubeletTail(node), { cause: error });
  });
  const initialCluster = waiting
    .map((p) => `${p.metadata!.name}=https://${p.status!.podIP}:2380`)
    .sort()
    .join(',');
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'etcd-cluster' }, data: { 'initial-cluster': initialCluster } },
  });
  return eventually(
    async () => {
      const pods = await podsOf(core, namespace, selector);
      return pods.length === 3 && pods.every((p) => p.status?.phase === 'Running' && isReady(p)) && pods;
    },
    { timeoutMs: 120_000, description: `three etcd pods Running and Ready in ${namespace}` },
  ).catch((error: Error) => {
    throw new Error(error.message + kubeletTail(node), { cause: error });
  });
}

/** A check that discovers the platform's etcd pods by label, over TLS with its client Secret. */
export const discoveryCheckSpec = (platform: EtcdPlatform) => ({
  etcd: {
    discovery: {
      namespace: platform.namespace,
      labelSelector: selectorOf(platform),
      port: 2379,
      scheme: 'https',
    },
    tlsSecretRef: { name: platform.clientSecret },
  },
  interval: '10s',
});
