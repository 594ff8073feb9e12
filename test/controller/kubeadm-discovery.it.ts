// The Kubeadm discovery preset end to end: a real kube-apiserver, a real etcd member and the
// operator process. There is no kubelet: the test creates the static pod kubeadm's
// /etc/kubernetes/manifests/etcd.yaml would give (kube-system, component=etcd,tier=control-plane,
// named etcd-<node>) and writes its status, with the member's IP as the pod IP (etcd runs on the
// host network), and a pod with OpenShift's label that the preset must not pick.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type V1PodStatus } from '@kubernetes/client-node';
import { checksIn, conditionOf } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { mergePatch } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const KUBE_SYSTEM = 'kube-system';

let cp: ControlPlane;
let cluster: EtcdCluster;

function runningStatus(ip: string): V1PodStatus {
  return {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      { name: 'etcd', image: 'registry.k8s.io/etcd:3.6', imageID: '', ready: true, restartCount: 0 },
    ],
  };
}

async function createPod(core: CoreV1Api, name: string, labels: Record<string, string>, ip: string) {
  await core.createNamespacedPod({
    namespace: KUBE_SYSTEM,
    body: {
      metadata: { name, labels },
      spec: { containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.6' }] },
    },
  });
  await core.patchNamespacedPodStatus(
    { namespace: KUBE_SYSTEM, name, body: { status: runningStatus(ip) } },
    mergePatch(),
  );
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 1 })]);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const member = cluster.members[0]!;
  await createPod(core, `etcd-${member.name}`, { component: 'etcd', tier: 'control-plane' }, member.ip);
  // OpenShift's label in kubeadm's namespace, at an address where nothing listens.
  await createPod(core, 'etcd-decoy', { app: 'etcd' }, '127.0.0.254');
  await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('kubeadm-operator-logs'),
    identity: 'kubeadm',
  });
});

afterAll(async () => {
  await cleanupAll();
});

describe('discovery preset Kubeadm', () => {
  it("finds the member from kubeadm's static etcd pod in kube-system, and nothing else", async () => {
    const checks = checksIn(cp.kubeConfig, KUBE_SYSTEM);
    // The sample's discovery, with the test cluster's plain-HTTP members.
    await checks.create('etcd', {
      etcd: { discovery: { preset: 'Kubeadm', scheme: 'http' } },
      interval: '10s',
    });
    const check = await eventually(
      async () => {
        const found = await checks.get('etcd');
        return conditionOf(found, 'Available')?.status === 'True' && found.status?.members?.length
          ? found
          : undefined;
      },
      { timeoutMs: 60_000, description: 'Available=True from the discovered member' },
    );
    const member = cluster.members[0]!;
    expect(check.spec.etcd.discovery).toEqual({ preset: 'Kubeadm', scheme: 'http', port: 2379 });
    expect(check.status?.members?.map((m) => m.endpoint)).toEqual([`http://${member.ip}:2379`]);
    expect(check.status?.summary?.members).toBe('1/1');
    // Only the kubeadm pod was listed: the decoy would be reported as a pod of no member.
    expect(conditionOf(check, 'MemberPodsDegraded')?.message).not.toContain('etcd-decoy');
    expect(conditionOf(check, 'MemberPodsDegraded')?.status).toBe('False');
  });
});
