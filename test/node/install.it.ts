// The two ways the README installs the operator, on the test node (harness/node.ts), each from
// what a fresh clone holds: `kubectl apply --server-side -f dist/install.yaml`, and
// `helm install` of charts/etcd-health-operator (Helm v4, test/helm/build.sh). Each brings the
// operator (the image built from the Dockerfile, put in place of the release image) to two Ready
// replicas and an EtcdHealthCheck that discovers a 3-member etcd of pods (harness/node-etcd.ts) to a
// full status. Then `helm upgrade` rolls the Deployment to a changed value, and `helm uninstall`
// leaves nothing the chart made, looked up in every resource kind the API server serves.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { CHART, helmIn, type Helm } from '../harness/helm.js';
import { everythingIn, everythingLabelled } from '../harness/leftovers.js';
import { buildahRunroot } from '../harness/image.js';
import { etcdImage, operatorImage, type ImageArchive } from '../harness/node-images.js';
import {
  containerLog,
  discoveryCheckSpec,
  isReady,
  KUBEADM,
  kubeletTail,
  operatorDiagnosis,
  podsOf,
  startEtcdPods,
  type NodeCluster,
} from '../harness/node-etcd.js';
import { startNode, type Node } from '../harness/node.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const INSTALL_YAML = fileURLToPath(new URL('../../dist/install.yaml', import.meta.url));
const MONITORING_CRDS = fileURLToPath(
  new URL('../deploy/fixtures/monitoring.coreos.com-crds.yaml', import.meta.url),
);
/** The image dist/install.yaml and the chart's values name. */
const RELEASE_IMAGE_NAME = 'ghcr.io/etcd-health-operator/etcd-health-operator';
const NAMESPACE = 'etcd-health-operator';
const RELEASE = 'etcd-health-operator';
const SELECTOR = 'app.kubernetes.io/name=etcd-health-operator';
const CRD = 'etcdhealthchecks.etcdhealth.io';
const CHECK = 'etcd';

let cp: ControlPlane;
let node: Node;
let core: CoreV1Api;
let checks: Checks;
let helm: Helm;
let dir: string;
let operator: ImageArchive;
let cluster: NodeCluster;

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cp.kubectl(args, { input, timeoutMs: 180_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

const operatorPods = async () =>
  (await podsOf(core, NAMESPACE, SELECTOR)).filter((p) => !p.metadata?.deletionTimestamp);

/** `count` operator replicas Running and Ready (the kubelet's probes answered), each passing `also`. */
const readyReplicas = (count: number, also: (pod: V1Pod) => boolean = () => true) =>
  eventually(
    async () => {
      const pods = await operatorPods();
      return (
        pods.length === count &&
        pods.every((p) => p.status?.phase === 'Running' && isReady(p) && also(p)) &&
        pods
      );
    },
    { timeoutMs: 240_000, description: `${count} operator replica(s) Running and Ready` },
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\n${await operatorDiagnosis(cluster, NAMESPACE, SELECTOR)}${kubeletTail(node)}`,
      { cause: error },
    );
  });

/**
 * A check of the etcd pods, made now, with a full status: the four top-level conditions, Available,
 * three healthy members by name and endpoint, the summary and the last check, of this generation.
 */
async function checkWithFullStatus(): Promise<EtcdHealthCheck> {
  await checks.create(KUBEADM.namespace, CHECK, discoveryCheckSpec(KUBEADM));
  return eventually(
    async () => {
      const check = await checks.get(KUBEADM.namespace, CHECK);
      const status = check.status;
      const full =
        ['Available', 'Progressing', 'Degraded', 'Upgradeable'].every((type) => conditionOf(check, type)) &&
        conditionOf(check, 'Available')?.status === 'True' &&
        status?.observedGeneration === check.metadata.generation &&
        status?.members?.length === 3 &&
        status.members.every((m) => m.healthy && m.name && m.endpoint.startsWith('https://')) &&
        status.summary?.members === '3/3' &&
        status.lastCheck?.time !== undefined;
      if (full) return check;
      throw new Error(`status so far: ${JSON.stringify(status)}`);
    },
    { timeoutMs: 180_000, description: 'the check Available with a full status' },
  );
}

const deleteCheck = () =>
  kubectlOk(['-n', KUBEADM.namespace, 'delete', `etcdhealthcheck/${CHECK}`, '--ignore-not-found', '--wait']);

/** pino's number for level debug. */
const PINO_DEBUG = 20;

/** The JSON the operator logged in one CRI log line ("<time> <stream> <tag> <text>"). */
function logEntry(line: string): Record<string, unknown> | undefined {
  const text = line.split(' ').slice(3).join(' ');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const gone = async (args: string[]) => (await cp.kubectl(['get', ...args, '-o', 'name'])).code !== 0;

beforeAll(async () => {
  dir = makeTempDir('node-install');
  const runroot = buildahRunroot();
  const images = Promise.all([operatorImage(runroot), etcdImage()]);
  images.catch(() => undefined);
  // Without the CRD: each install brings it.
  cp = await startControlPlane({ crdFiles: [MONITORING_CRDS], serviceAccountAdmission: true });
  node = await startNode(cp);
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
  checks = checksApi(cp.kubeConfig);
  cluster = { cp, node, core, dir };
  helm = helmIn(dir, cp.kubeconfigPath);
  const [operatorArchive, etcd] = await images;
  operator = operatorArchive;
  for (const image of [operator, etcd]) await node.ctr(['images', 'import', '--local', image.path], 300_000);
  await cp.createNamespace(KUBEADM.namespace);
  await startEtcdPods(cluster, KUBEADM, etcd.ref);
}, 1_500_000);

afterAll(async () => {
  try {
    await node?.stop();
  } finally {
    await cp?.stop();
    await cleanupAll();
  }
}, 120_000);

describe('kubectl apply --server-side -f dist/install.yaml', () => {
  it('runs the operator Ready with a check at full status, and kubectl delete -f removes it', async () => {
    // The release image is not on the node: the one built here takes its place, as `images:` would.
    const install = readFileSync(INSTALL_YAML, 'utf8');
    const releaseImage = install.match(new RegExp(`image: (${RELEASE_IMAGE_NAME}:\\S+)`))?.[1];
    expect(releaseImage).toBeDefined();
    const manifest = join(dir, 'install.yaml');
    writeFileSync(manifest, install.replaceAll(releaseImage!, operator.ref));
    await kubectlOk(['apply', '--server-side', '-f', manifest]);
    const pods = await readyReplicas(2);
    expect(pods.map((p) => p.spec?.containers[0]?.image)).toEqual([operator.ref, operator.ref]);
    const check = await checkWithFullStatus();
    expect(check.status?.members?.map((m) => m.name).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);

    await deleteCheck();
    await kubectlOk(['delete', '-f', manifest, '--wait', '--timeout=300s']);
    await eventually(() => gone(['namespace', NAMESPACE]), {
      timeoutMs: 300_000,
      description: `namespace ${NAMESPACE} deleted`,
    });
    expect(await everythingLabelled(cp, 'app.kubernetes.io/part-of=etcd-health-operator')).toEqual([]);
  }, 900_000);
});

describe('helm install, upgrade and uninstall of charts/etcd-health-operator', () => {
  let manifest: Array<{ kind: string; metadata: { name: string; namespace?: string } }> = [];
  const tag = () => operator.ref.slice(operator.ref.lastIndexOf(':') + 1);
  const repository = () => operator.ref.slice(0, operator.ref.lastIndexOf(':'));

  it('helm install runs the operator Ready with a check at full status', async () => {
    await helm.ok(
      [
        'install',
        RELEASE,
        CHART,
        '--namespace',
        NAMESPACE,
        '--create-namespace',
        '--set',
        `image.repository=${repository()},image.tag=${tag()}`,
      ],
      { timeoutMs: 300_000 },
    );
    const pods = await readyReplicas(2);
    for (const pod of pods) {
      expect(pod.spec?.containers[0]?.image).toBe(operator.ref);
      expect(pod.metadata?.labels?.['app.kubernetes.io/instance']).toBe(RELEASE);
    }
    await checkWithFullStatus();
    manifest = (
      yaml.loadAll(await helm.ok(['get', 'manifest', RELEASE, '--namespace', NAMESPACE])) as typeof manifest
    ).filter(Boolean);
    expect(manifest.map((o) => o.kind)).toEqual(
      expect.arrayContaining([
        'Deployment',
        'ServiceAccount',
        'ClusterRole',
        'RoleBinding',
        'ServiceMonitor',
      ]),
    );
  }, 900_000);

  it('helm upgrade with a changed value rolls the Deployment: one replica logging at debug, no PDB', async () => {
    const before = (await operatorPods()).map((p) => p.metadata!.name!);
    await helm.ok(
      [
        'upgrade',
        RELEASE,
        CHART,
        '--namespace',
        NAMESPACE,
        '--reuse-values',
        '--set',
        'logLevel=debug,replicaCount=1',
      ],
      { timeoutMs: 300_000 },
    );
    const pods = await readyReplicas(
      1,
      (p) => p.spec?.containers[0]?.args?.includes('--log-level=debug') ?? false,
    );
    expect(before).not.toContain(pods[0]!.metadata!.name);
    const deployment = await cp.kubeConfig
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ namespace: NAMESPACE, name: RELEASE });
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.metadata?.annotations?.['meta.helm.sh/release-name']).toBe(RELEASE);
    expect(await gone(['-n', NAMESPACE, 'poddisruptionbudget', RELEASE])).toBe(true);
    const history = await helm.ok(['history', RELEASE, '--namespace', NAMESPACE, '-o', 'json']);
    expect((JSON.parse(history) as Array<{ revision: number; status: string }>).map((r) => r.status)).toEqual(
      ['superseded', 'deployed'],
    );
    // The new replica leads and checks, and says so at debug. Not status.lastCheck: a check that
    // finds nothing new writes no status until the heartbeat (5 min), which is the point of it.
    const key = `${KUBEADM.namespace}/${CHECK}`;
    await eventually(
      () =>
        containerLog(node, pods[0]!, 'operator').some((line) => {
          const entry = logEntry(line);
          return entry?.msg === 'reconciled' && entry.key === key && entry.level === PINO_DEBUG;
        }),
      { timeoutMs: 120_000, description: `a "reconciled" debug line for ${key} from the new replica` },
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await operatorDiagnosis(cluster, NAMESPACE, SELECTOR)}`, {
        cause: error,
      });
    });
  }, 600_000);

  it('helm uninstall leaves nothing the chart made, in any kind; the CRD stays until deleted by hand', async () => {
    expect(manifest.length).toBeGreaterThan(0);
    await deleteCheck();
    await helm.ok(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '5m'], {
      timeoutMs: 360_000,
    });
    for (const object of manifest) {
      const where = object.metadata.namespace ? ['-n', object.metadata.namespace] : [];
      await eventually(() => gone([...where, object.kind, object.metadata.name]), {
        timeoutMs: 120_000,
        description: `${object.kind}/${object.metadata.name} deleted`,
      });
    }
    await eventually(async () => (await podsOf(core, NAMESPACE, SELECTOR)).length === 0, {
      timeoutMs: 120_000,
      description: 'the operator pods gone',
    });
    // Every kind, every namespace and cluster-wide: nothing with the release's labels.
    expect(await everythingLabelled(cp, `app.kubernetes.io/instance=${RELEASE}`)).toEqual([]);
    // In the release's namespace only what Kubernetes puts in every namespace, and the Lease the
    // operator itself wrote (NOTES.txt says so).
    const leftIn = [
      'configmap/kube-root-ca.crt',
      `lease.coordination.k8s.io/${RELEASE}`,
      'serviceaccount/default',
    ];
    await eventually(async () => (await everythingIn(cp, NAMESPACE)).join() === leftIn.join(), {
      timeoutMs: 120_000,
      description: `only ${leftIn.join(', ')} in ${NAMESPACE}`,
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}; found ${(await everythingIn(cp, NAMESPACE)).join(', ')}`, {
        cause: error,
      });
    });
    expect(await helm.ok(['list', '--all-namespaces', '-q'])).toBe('');
    // Helm keeps crds/ by design; deleting it as NOTES.txt says removes it.
    expect(await gone(['crd', CRD])).toBe(false);
    await kubectlOk(['delete', 'crd', CRD, '--wait']);
    expect(await gone(['crd', CRD])).toBe(true);
  }, 600_000);
});
