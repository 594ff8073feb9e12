// The operator running as its ServiceAccount, with exactly the RBAC from deploy/: it succeeds where
// it was granted access, is refused elsewhere, and never sends its own token to a Prometheus URL a
// CR names unless the admin allowlisted that URL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksApi, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startFakePrometheus, type FakePrometheus } from '../harness/fake-prometheus.js';
import { apiErrorStatus } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const OPERATOR_NS = 'etcd-health-operator';
const GRANTED = 'etcd-team';
const NOT_GRANTED = 'other-team';

let cp: ControlPlane;
let cluster: EtcdCluster;
let operatorToken: string;
let untrusted: FakePrometheus;
let allowlisted: FakePrometheus;
let checks: Checks;

const createCheck = (namespace: string, name: string, spec: Record<string, unknown>) =>
  checks.create(namespace, name, spec);
const statusOf = async (namespace: string, name: string) => (await checks.get(namespace, name)).status;

function sourceState(status: EtcdHealthCheck['status']) {
  return status?.lastCheck?.prometheus;
}

beforeAll(async () => {
  [cp, cluster, untrusted, allowlisted] = await Promise.all([
    startControlPlane(),
    startEtcdCluster({ members: 3 }),
    startFakePrometheus(),
    startFakePrometheus({ pathPrefix: '/thanos' }),
  ]);
  checks = checksApi(cp.kubeConfig);
  // The real manifests: Namespace, ServiceAccount, ClusterRoles and bindings from deploy/base.
  const rendered = await cp.kubectl(['kustomize', 'deploy/base']);
  expect(rendered.code).toBe(0);
  const applied = await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: rendered.stdout });
  expect(applied.stderr).toBe('');
  for (const ns of [GRANTED, NOT_GRANTED]) await cp.createNamespace(ns);
  // As an admin would where checks keep their credentials (the overlays do it for kube-system and
  // openshift-etcd): bind the credentials ClusterRole in GRANTED only.
  const binding = await cp.kubectl([
    'create',
    'rolebinding',
    'etcd-health-operator-credentials',
    '-n',
    GRANTED,
    '--clusterrole=etcd-health-operator-credentials',
    `--serviceaccount=${OPERATOR_NS}:etcd-health-operator`,
  ]);
  expect(binding.code).toBe(0);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const namespace of [GRANTED, NOT_GRANTED]) {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'prometheus-token' }, stringData: { token: `token-of-${namespace}` } },
    });
  }
  operatorToken = await cp.mintServiceAccountToken(OPERATOR_NS, 'etcd-health-operator');
  await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(operatorToken, OPERATOR_NS),
    logDir: makeTempDir('operator-security-logs'),
    identity: 'operator-sa',
    leaseNamespace: OPERATOR_NS,
    extraArgs: [`--prometheus-sa-token-url=${allowlisted.url}`],
  });
});

afterAll(async () => {
  await Promise.all([untrusted?.close(), allowlisted?.close()]);
  await cleanupAll();
});

describe('the operator as its ServiceAccount with the RBAC from deploy/', () => {
  it('checks etcd and reads a Secret where it was granted access', async () => {
    await createCheck(GRANTED, 'etcd', {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: untrusted.url, bearerTokenSecretRef: { name: 'prometheus-token' } },
    });
    const status = await eventually(
      async () => {
        const s = await statusOf(GRANTED, 'etcd');
        return s?.lastCheck && s.conditions?.find((c) => c.type === 'Available')?.status === 'True'
          ? s
          : undefined;
      },
      { description: 'a status written with the ServiceAccount token' },
    );
    expect(status.summary?.members).toBe('3/3');
    const authorizations = untrusted.requests.map((r) => r.headers.authorization);
    expect(authorizations.length).toBeGreaterThan(0);
    expect(new Set(authorizations)).toEqual(new Set([`Bearer token-of-${GRANTED}`]));
  });

  it('re-checks at once when a referenced Secret changes (a rotated token)', async () => {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const rotated = `rotated-token-of-${GRANTED}`;
    await core.replaceNamespacedSecret({
      namespace: GRANTED,
      name: 'prometheus-token',
      body: { metadata: { name: 'prometheus-token' }, stringData: { token: rotated } },
    });
    // The check runs every 30s by default; the Secret's watch event brings the next one forward.
    await eventually(() => untrusted.requests.some((r) => r.headers.authorization === `Bearer ${rotated}`), {
      timeoutMs: 20_000,
      description: 'a query with the rotated token',
    });
  });

  it('is refused Secrets where it was not granted access, and says so in the status', async () => {
    const asOperator = cp.kubeConfigForToken(operatorToken).makeApiClient(CoreV1Api);
    const refused = await asOperator
      .readNamespacedSecret({ namespace: NOT_GRANTED, name: 'prometheus-token' })
      .catch((e: unknown) => e);
    expect(apiErrorStatus(refused)?.code).toBe(403);
    const alsoRefused = await asOperator
      .listNamespacedSecret({ namespace: 'kube-system' })
      .catch((e: unknown) => e);
    expect(apiErrorStatus(alsoRefused)?.code).toBe(403);

    await createCheck(NOT_GRANTED, 'etcd', {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: untrusted.url, bearerTokenSecretRef: { name: 'prometheus-token' } },
    });
    const status = await eventually(async () => {
      const s = await statusOf(NOT_GRANTED, 'etcd');
      return sourceState(s)?.state === 'Error' ? s : undefined;
    });
    expect(sourceState(status)?.message).toMatch(
      /Secrets in namespace other-team cannot be read yet.*etcd-health-operator-credentials/,
    );
    // The etcd part does not need the Secret and is still checked.
    expect(status.lastCheck?.etcd.state).toBe('OK');
    expect(untrusted.requests.some((r) => r.headers.authorization === `Bearer token-of-${NOT_GRANTED}`)).toBe(
      false,
    );
  });

  it('never sends its own token to a URL that is not allowlisted, whatever the CR asks', async () => {
    await createCheck(GRANTED, 'wants-operator-token', {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: untrusted.url, useOperatorServiceAccount: true },
    });
    const status = await eventually(async () => {
      const s = await statusOf(GRANTED, 'wants-operator-token');
      return sourceState(s)?.state === 'Error' ? s : undefined;
    });
    expect(sourceState(status)?.message).toMatch(/only to URLs its admin allowlisted/);
    expect(untrusted.requests.some((r) => r.headers.authorization?.includes(operatorToken))).toBe(false);
  });

  it('sends its own token to the allowlisted URL when the CR asks for it', async () => {
    await createCheck(GRANTED, 'thanos', {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: allowlisted.url, useOperatorServiceAccount: true },
    });
    await eventually(() => allowlisted.requests.length > 0, {
      description: 'a query to the allowlisted URL',
    });
    expect(allowlisted.requests.every((r) => r.headers.authorization === `Bearer ${operatorToken}`)).toBe(
      true,
    );
    expect(allowlisted.requests.every((r) => r.path.startsWith('/thanos/api/v1/'))).toBe(true);
    expect(untrusted.requests.some((r) => r.headers.authorization?.includes(operatorToken))).toBe(false);
  });
});
