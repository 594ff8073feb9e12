// Beside OpenShift's cluster-etcd-operator, on a real kube-apiserver and a real fragmented 3-member
// etcd: the operator runs as its own process with the RBAC of deploy/base plus the OpenShift
// overlay's cluster-etcd-operator role, and discovers the members as etcd pods in openshift-etcd
// (Pod objects whose IPs the test sets: there is no kubelet). The two OpenShift APIs are
// stand-in CRDs: the objects are real API objects, read through real RBAC.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { fragment } from '../harness/faults.js';
import { mergePatch } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  applyBaseManifests,
  bindToOperator,
} from '../harness/operator-rbac.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { historyOf, memberSizes } from './e2e-support.js';

const OPENSHIFT_ETCD = 'openshift-etcd';
const NS = 'etcd-team';
const NAME = 'openshift';
const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: NamespacedChecks;
let custom: CustomObjectsApi;

const conditions = (entries: Array<[type: string, status: string, reason?: string, message?: string]>) =>
  entries.map(([type, status, reason = 'AsExpected', message = '']) => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: new Date().toISOString(),
  }));

const HEALTHY_OPERATOR = conditions([
  ['Available', 'True'],
  ['Degraded', 'False'],
  ['Progressing', 'False'],
  ['Upgradeable', 'True'],
]);

async function setClusterOperator(status: ReturnType<typeof conditions>): Promise<void> {
  await custom.patchClusterCustomObject(
    {
      group: 'config.openshift.io',
      version: 'v1',
      plural: 'clusteroperators',
      name: 'etcd',
      body: { status: { conditions: status } },
    },
    mergePatch(),
  );
}

async function setDefragController(disabled: 'True' | 'False'): Promise<void> {
  await custom.patchClusterCustomObject(
    {
      group: 'operator.openshift.io',
      version: 'v1',
      plural: 'etcds',
      name: 'cluster',
      body: { status: { conditions: conditions([['DefragControllerDisabled', disabled]]) } },
    },
    mergePatch(),
  );
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([
    startControlPlane({
      crdFiles: [
        repoFile('crds/etcdhealthchecks.etcdhealth.io.yaml'),
        repoFile('test/remediation/fixtures/openshift-crds.yaml'),
      ],
    }),
    startEtcdCluster({ members: 3 }),
  ]);
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  await custom.createClusterCustomObject({
    group: 'config.openshift.io',
    version: 'v1',
    plural: 'clusteroperators',
    body: {
      apiVersion: 'config.openshift.io/v1',
      kind: 'ClusterOperator',
      metadata: { name: 'etcd' },
      status: { conditions: HEALTHY_OPERATOR },
    },
  });
  await custom.createClusterCustomObject({
    group: 'operator.openshift.io',
    version: 'v1',
    plural: 'etcds',
    body: {
      apiVersion: 'operator.openshift.io/v1',
      kind: 'Etcd',
      metadata: { name: 'cluster' },
      status: { conditions: conditions([['DefragControllerDisabled', 'False']]) },
    },
  });

  await applyBaseManifests(cp);
  const rbac = await cp.kubectl([
    'apply',
    '--server-side',
    '-f',
    repoFile('deploy/overlays/openshift/cluster-etcd-operator-rbac.yaml'),
  ]);
  if (rbac.code !== 0) throw new Error(`apply cluster-etcd-operator-rbac.yaml: ${rbac.stderr}`);
  for (const namespace of [NS, OPENSHIFT_ETCD]) await cp.createNamespace(namespace);
  await bindToOperator(cp, OPENSHIFT_ETCD, { clusterRole: 'etcd-health-operator-discovery' });
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const member of cluster.members) {
    const name = `etcd-${member.name}`;
    await core.createNamespacedPod({
      namespace: OPENSHIFT_ETCD,
      body: {
        metadata: { name, labels: { app: 'etcd' } },
        spec: { containers: [{ name: 'etcd', image: 'quay.io/openshift/etcd:4' }] },
      },
    });
    await core.patchNamespacedPodStatus(
      {
        namespace: OPENSHIFT_ETCD,
        name,
        body: { status: { phase: 'Running', podIP: member.ip, podIPs: [{ ip: member.ip }] } },
      },
      mergePatch(),
    );
  }

  await fragment(cluster, { keys: 600, valueBytes: 16 * 1024 });
  checks = checksIn(cp.kubeConfig, NS);
  const token = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(token, OPERATOR_NAMESPACE),
    logDir: makeTempDir('ceo-operator-logs'),
    identity: 'beside-ceo',
    extraArgs: [
      `--discovery-namespace=${OPENSHIFT_ETCD}`,
      `--etcd-endpoint-cidr=${cluster.addresses.prefix}.0/24`,
    ],
  });
  await checks.create(NAME, {
    etcd: {
      discovery: { namespace: OPENSHIFT_ETCD, labelSelector: 'app=etcd', port: 2379, scheme: 'http' },
    },
    interval: '10s',
    thresholds: { degradedInertia: '0s', fragmentation: { minDatabaseSize: '1Mi' } },
    remediation: { mode: 'Automatic', settleTime: '1s', memberCooldown: '1h' },
  });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await cleanupAll();
});

describe('beside the cluster-etcd-operator', () => {
  it('leaves defragmentation to its controller while it runs: blocked with the reason, not degraded, etcd untouched', async () => {
    const before = await memberSizes(cluster);
    const blocked = await eventually(
      async () => {
        const check = await checks.get(NAME);
        const progressing = conditionOf(check, 'RemediationProgressing');
        return progressing?.reason === 'RemediationBlocked' && check;
      },
      { timeoutMs: 90_000, description: 'RemediationProgressing=False/RemediationBlocked' },
    );
    expect(conditionOf(blocked, 'RemediationProgressing')!.message).toMatch(
      /Defragment .* is left undone: the cluster-etcd-operator's defragmentation controller runs on this cluster.*\(ClusterEtcdOperatorDefragments\)$/,
    );
    expect(conditionOf(blocked, 'RemediationDegraded')).toMatchObject({ status: 'False' });
    expect(conditionOf(blocked, 'ClusterEtcdOperatorDegraded')).toMatchObject({ status: 'False' });
    expect(historyOf(blocked)).toEqual([]);
    const after = await memberSizes(cluster);
    for (const [member, size] of Object.entries(before)) expect(after[member]!.dbSize).toBe(size.dbSize);
  });

  it("shows clusteroperator/etcd's Degraded beside its own conditions, in that operator's words", async () => {
    await setClusterOperator(
      conditions([
        ['Available', 'True'],
        [
          'Degraded',
          'True',
          'EtcdMembers_UnhealthyMembers',
          'EtcdMembersDegraded: 2 of 3 members are available',
        ],
        ['Progressing', 'False'],
        ['Upgradeable', 'True'],
      ]),
    );
    const degraded = await eventually(
      async () => {
        const check = await checks.get(NAME);
        return conditionOf(check, 'ClusterEtcdOperatorDegraded')?.status === 'True' && check;
      },
      { timeoutMs: 60_000, description: 'ClusterEtcdOperatorDegraded=True' },
    );
    expect(conditionOf(degraded, 'ClusterEtcdOperatorDegraded')).toMatchObject({
      reason: 'ClusterOperatorDegraded',
      message: expect.stringContaining('2 of 3 members are available'),
    });
    expect(degraded.status?.recommendations?.map((r) => r.type)).toContain('InvestigateClusterEtcdOperator');
    await setClusterOperator(HEALTHY_OPERATOR);
  });

  it('defragments once an admin disabled that controller', async () => {
    await setDefragController('True');
    const done = await eventually(
      async () => {
        const check = await checks.get(NAME);
        return historyOf(check).some((r) => r.action === 'Defragment' && r.phase === 'Succeeded') && check;
      },
      { timeoutMs: 120_000, description: 'a succeeded Defragment in status.remediation.history' },
    );
    expect(historyOf(done).find((r) => r.action === 'Defragment')).toMatchObject({
      reason: 'HighFragmentation',
    });
  });
});
