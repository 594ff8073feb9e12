// `etcd-health check ehc/NAME` (tsx src/cli/check.ts, its own process) against a real
// kube-apiserver and a real 3-member TLS etcd cluster whose client certificate is in a Secret. The
// operator process reconciles the CR; the CLI, reading the CR and the Secret through a kubeconfig
// of a user who may read exactly those, gives the same condition statuses and reasons. A user whose
// RBAC allows the CR but not the Secret gets a message naming the refused read and no report.
// The same holds for a CR that finds its members through pod discovery, with the user's own pod
// list. --compare prints the operator's status beside the fresh verdict.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { runCheck, type CheckRun } from '../harness/cli.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { mergePatch } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const NS = 'etcd-team';
const CHECK = 'etcd';
const SECRET = 'etcd-client';
/** A CR that finds the members through pod discovery. */
const DISCOVERED = 'discovered';

let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: Checks;
/** May get the CR and, by name, its Secret; its context's namespace is NS. */
let readerKubeconfig: string;
/** May get the CR, not the Secret. */
let viewerKubeconfig: string;

/** Runs the check with `args`, without the shell's etcdctl variables and kubeconfig. */
function check(args: string[]): Promise<CheckRun> {
  return runCheck(args, { dropped: (name) => name.startsWith('ETCDCTL_') || name === 'KUBECONFIG' });
}

interface JsonResult {
  result: { verdict: string; exitCode: number };
  status: {
    observedGeneration: number;
    conditions: { type: string; status: string; reason: string; observedGeneration?: number }[];
  };
  comparison?: {
    generation: number;
    observedGeneration?: number;
    conditions: { type: string; live?: { status: string }; fresh?: { status: string }; differs: boolean }[];
    differences: number;
  };
}

/** type -> "status reason", the part of a condition both must agree on. */
function verdicts(conditions: readonly { type: string; status: string; reason: string }[]) {
  return Object.fromEntries(conditions.map((c) => [c.type, `${c.status} ${c.reason}`]));
}

/** A user with `rules` in NS, as a kubeconfig file whose context's namespace is NS. */
async function userWith(name: string, rules: string[][]): Promise<string> {
  for (const [index, rule] of rules.entries()) {
    const role = await cp.kubectl(['create', 'role', `${name}-${index}`, '-n', NS, ...rule]);
    expect(role.stderr).toBe('');
    const binding = await cp.kubectl([
      'create',
      'rolebinding',
      `${name}-${index}`,
      '-n',
      NS,
      `--role=${name}-${index}`,
      `--serviceaccount=${NS}:${name}`,
    ]);
    expect(binding.stderr).toBe('');
  }
  return cp.writeKubeconfigForToken(await cp.mintServiceAccountToken(NS, name), NS);
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 3, tls: true })]);
  checks = checksApi(cp.kubeConfig);
  await cp.createNamespace(NS);
  const tls = cluster.tls!;
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: NS,
    body: {
      metadata: { name: SECRET },
      stringData: { 'ca.crt': tls.ca.certPem, 'tls.crt': tls.client.certPem, 'tls.key': tls.client.keyPem },
    },
  });
  const readCheck = ['--verb=get', '--resource=etcdhealthchecks.etcdhealth.io'];
  readerKubeconfig = await userWith('reader', [
    readCheck,
    ['--verb=get', '--resource=secrets', `--resource-name=${SECRET}`],
  ]);
  viewerKubeconfig = await userWith('viewer', [readCheck]);
  await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('from-cluster-operator-logs'),
    identity: 'from-cluster',
  });
  // Without Prometheus the metric-based checks are Unknown: Degraded turns Unknown only after the
  // inertia, and an hour outlasts this test. The CLI continues from the operator's conditions, as
  // its next reconcile would, so it must show Degraded False too.
  await checks.create(NS, CHECK, {
    etcd: { endpoints: cluster.endpoints, tlsSecretRef: { name: SECRET } },
    thresholds: { degradedInertia: '1h' },
  });
  // The same members found through spec.etcd.discovery: pods whose IPs are the members'.
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const member of cluster.members) {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: `etcd-${member.name}`, labels: { app: 'etcd' } },
        spec: { containers: [{ name: 'etcd', image: 'registry.example/etcd:3.6' }] },
      },
    });
    await core.patchNamespacedPodStatus(
      {
        namespace: NS,
        name: `etcd-${member.name}`,
        body: { status: { phase: 'Running', podIP: member.ip, podIPs: [{ ip: member.ip }] } },
      },
      mergePatch(),
    );
  }
  await checks.create(NS, DISCOVERED, {
    etcd: {
      discovery: { namespace: NS, labelSelector: 'app=etcd', port: 2379, scheme: 'https' },
      tlsSecretRef: { name: SECRET },
    },
    thresholds: { degradedInertia: '1h' },
  });
  for (const name of [CHECK, DISCOVERED]) {
    await eventually(async () => conditionOf(await checks.get(NS, name), 'Available')?.status === 'True', {
      timeoutMs: 90_000,
      description: `the operator to write Available=True to ${name}`,
    });
  }
});

afterAll(async () => {
  await cleanupAll();
});

describe('etcd-health check ehc/NAME', () => {
  it('gives the verdict the operator wrote, reading the CR and its Secret with the user’s kubeconfig', async () => {
    // A spec edit: the CR is at generation 2, and so is the status both write.
    await checks.patchSpec(NS, CHECK, { interval: '20s' });
    await eventually(async () => (await checks.get(NS, CHECK)).status?.observedGeneration === 2, {
      description: 'the operator to observe generation 2',
    });
    // No -n: the namespace is the kubeconfig context's.
    const run = await check(['ehc/etcd', '--kubeconfig', readerKubeconfig, '-o', 'json', '-q']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as JsonResult;
    expect(result.result.verdict).toBe('Healthy');
    const operator = (await checks.get(NS, CHECK)).status!;
    expect(operator.members?.every((member) => member.healthy)).toBe(true);
    expect(verdicts(result.status.conditions)).toEqual(verdicts(operator.conditions!));
    expect(verdicts(result.status.conditions).Available).toBe('True AsExpected');
    expect(verdicts(result.status.conditions).Degraded).toBe('False AsExpected');
    expect(result.status.observedGeneration).toBe(2);
    expect(result.status.conditions.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('names the read RBAC refused (get on the Secret) and prints no report', async () => {
    const run = await check(['etcdhealthcheck/etcd', '-n', NS, '--kubeconfig', viewerKubeconfig]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`RBAC denies get on secrets "${SECRET}" in namespace "${NS}"`);
    expect(run.stderr).toContain('system:serviceaccount:etcd-team:viewer');
  });

  it('names a CR the user may not read, and one that does not exist', async () => {
    const denied = await check(['ehc/etcd', '-n', 'default', '--kubeconfig', readerKubeconfig]);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain(
      'RBAC denies get on etcdhealthchecks.etcdhealth.io "etcd" in namespace "default"',
    );
    const missing = await check(['ehc/nothing', '--kubeconfig', readerKubeconfig]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`EtcdHealthCheck ${NS}/nothing not found`);
  });

  it('discovers the members with the user’s own pod list, and names a pod list RBAC refuses', async () => {
    const run = await check([
      `ehc/${DISCOVERED}`,
      '-n',
      NS,
      '--kubeconfig',
      cp.kubeconfigPath,
      '-o',
      'json',
      '-q',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as JsonResult;
    const operator = (await checks.get(NS, DISCOVERED)).status!;
    expect(operator.members?.map((member) => member.endpoint).sort()).toEqual([...cluster.endpoints].sort());
    expect(verdicts(result.status.conditions)).toEqual(verdicts(operator.conditions!));

    // The reader may get the CR and its Secret, not list pods.
    const denied = await check([`ehc/${DISCOVERED}`, '--kubeconfig', readerKubeconfig]);
    expect(denied.code).toBe(3);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain(`RBAC denies list on pods in namespace "${NS}"`);
  });

  it('--compare shows the status the operator wrote beside the fresh verdict', async () => {
    const json = await check([
      '--from-cluster',
      CHECK,
      '-n',
      NS,
      '--kubeconfig',
      cp.kubeconfigPath,
      '--compare',
      '-o',
      'json',
      '-q',
    ]);
    expect(json.code).toBe(0);
    const comparison = (JSON.parse(json.stdout) as JsonResult).comparison!;
    expect(comparison.observedGeneration).toBe(comparison.generation);
    const available = comparison.conditions.find((c) => c.type === 'Available');
    expect(available).toMatchObject({ live: { status: 'True' }, fresh: { status: 'True' }, differs: false });
    expect(comparison.differences).toBe(0);

    const text = await check(['ehc/etcd', '-n', NS, '--kubeconfig', cp.kubeconfigPath, '--compare', '-q']);
    expect(text.code).toBe(0);
    const operator: EtcdHealthCheck = await checks.get(NS, CHECK);
    expect(text.stdout).toContain('COMPARED WITH THE STATUS THE OPERATOR WROTE');
    expect(text.stdout).toContain(
      `observedGeneration ${operator.status?.observedGeneration} (the CR is at generation ${operator.metadata.generation})`,
    );
    expect(text.stdout).toMatch(
      new RegExp(`Available +True +${conditionOf(operator, 'Available')!.lastTransitionTime} +AsExpected`),
    );
    expect(text.stdout).toContain('no differences');
  });
});
