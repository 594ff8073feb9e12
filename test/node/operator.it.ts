// The operator as users run it, on the test node (harness/node.ts): the image built from the
// Dockerfile, deploy/overlays/kubernetes applied unchanged except the image (kustomize `images:`),
// in its namespace that enforces Pod Security `restricted`, with projected ServiceAccount tokens
// and in-cluster config. The etcd it watches is a 3-member etcd as pods (a StatefulSet in
// kube-system labelled as kubeadm labels etcd, TLS from Secrets, the control plane's etcd binary in
// a one-file image: harness/node-etcd.ts). One control plane, one node and one etcd serve every test, in order.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, EventsV1Api, type V1Pod } from '@kubernetes/client-node';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as yaml from 'js-yaml';
import { fileURLToPath } from 'node:url';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { buildahRunroot } from '../harness/image.js';
import { etcdImage, operatorImage, type ImageArchive } from '../harness/node-images.js';
import {
  discoveryCheckSpec,
  isReady,
  KUBEADM,
  kubeletTail as kubeletTailOf,
  operatorDiagnosis as operatorDiagnosisOf,
  podsOf as podsOfCluster,
  selectorOf,
  startEtcdPods,
  type EtcdPlatform,
} from '../harness/node-etcd.js';
import { startNode, type Node } from '../harness/node.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OVERLAY = join(REPO, 'deploy', 'overlays', 'kubernetes');
const MONITORING_CRDS = fileURLToPath(
  new URL('../deploy/fixtures/monitoring.coreos.com-crds.yaml', import.meta.url),
);
/** The image deploy/base names; kustomize replaces it. */
const PUBLIC_IMAGE = 'ghcr.io/etcd-health-operator/etcd-health-operator';
const OPERATOR_NS = 'etcd-health-operator';
const OPERATOR_SELECTOR = 'app.kubernetes.io/name=etcd-health-operator';
const LEASE = 'etcd-health-operator';
/** The operator's default --lease-duration. */
const LEASE_DURATION_MS = 15_000;
const OPENSHIFT_OVERLAY = join(REPO, 'deploy', 'overlays', 'openshift');
const OPENSHIFT_SAMPLE = join(REPO, 'deploy', 'samples', 'openshift.yaml');

/** The cluster-etcd-operator's pods in openshift-etcd carry these three labels (and a revision). */
const OPENSHIFT: EtcdPlatform = {
  namespace: 'openshift-etcd',
  labels: { app: 'etcd', etcd: 'true', 'k8s-app': 'etcd' },
  clientSecret: 'etcd-client',
  caConfigMap: 'etcd-ca-bundle',
};
const CHECK = 'etcd';

let cp: ControlPlane;
let node: Node;
let core: CoreV1Api;
let checks: Checks;
let dir: string;
const suiteStarted = Date.now();
const timings: Record<string, number> = {};

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await step();
  timings[name] = Math.round((Date.now() - start) / 1000);
  return result;
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cp.kubectl(args, { input, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

const podsOf = (namespace: string, labelSelector: string) => podsOfCluster(core, namespace, labelSelector);
const kubeletTail = () => kubeletTailOf(node);
const operatorDiagnosis = () => operatorDiagnosisOf({ cp, node, core, dir }, OPERATOR_NS, OPERATOR_SELECTOR);

/** The init PID of a pod's container, from containerd's task list (the CRI's container ID). */
async function containerPid(pod: V1Pod, container: string): Promise<number> {
  const id = pod.status?.containerStatuses
    ?.find((c) => c.name === container)
    ?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`pod ${pod.metadata?.name} has no running ${container} container`);
  const tasks = await node.ctr(['tasks', 'list']);
  const line = tasks.split('\n').find((l) => l.startsWith(id));
  const pid = Number(line?.trim().split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no task for container ${id}:\n${tasks}`);
  return pid;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** deploy/overlays/kubernetes as it is, with only the image replaced, applied server-side. */
async function deployOperator(image: ImageArchive): Promise<void> {
  const kustomization = join(dir, 'kustomize');
  mkdirSync(kustomization);
  const [name, tag] = [
    image.ref.slice(0, image.ref.lastIndexOf(':')),
    image.ref.slice(image.ref.lastIndexOf(':') + 1),
  ];
  writeFileSync(
    join(kustomization, 'kustomization.yaml'),
    JSON.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(kustomization, OVERLAY)],
      images: [{ name: PUBLIC_IMAGE, newName: name, newTag: tag }],
    }),
  );
  await kubectlOk(['apply', '--server-side', '-k', kustomization]);
}

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
}

const RBAC_KINDS = ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];

/**
 * The RBAC deploy/overlays/openshift adds to what deploy/overlays/kubernetes grants, where the
 * OpenShift check lives (openshift-etcd) and cluster-wide, applied as the overlay builds it. The
 * Deployment stays the kubernetes overlay's: the check discovers in its own namespace, which needs
 * no --discovery-namespace. Whatever the check needs beyond this is missing from the overlay.
 */
async function applyOpenShiftRbac(): Promise<string[]> {
  const build = async (overlay: string) =>
    yaml.loadAll(await kubectlOk(['kustomize', overlay])) as KubeObject[];
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const kubernetes = new Set((await build(OVERLAY)).map(key));
  const added = (await build(OPENSHIFT_OVERLAY)).filter(
    (o) =>
      RBAC_KINDS.includes(o.kind) &&
      !kubernetes.has(key(o)) &&
      (o.metadata.namespace === undefined || o.metadata.namespace === OPENSHIFT.namespace),
  );
  await kubectlOk(
    ['apply', '--server-side', '-f', '-'],
    JSON.stringify({ kind: 'List', apiVersion: 'v1', items: added }),
  );
  return added.map(key);
}

const operatorPods = async () =>
  (await podsOf(OPERATOR_NS, OPERATOR_SELECTOR)).filter((p) => !p.metadata?.deletionTimestamp);

/** Both replicas Running and Ready (the kubelet's readiness probe answered), none restarted. */
const twoReadyReplicas = () =>
  eventually(
    async () => {
      const pods = await operatorPods();
      return pods.length === 2 && pods.every((p) => p.status?.phase === 'Running' && isReady(p)) && pods;
    },
    { timeoutMs: 180_000, description: 'two operator replicas Running and Ready' },
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await operatorDiagnosis()}${kubeletTail()}`, { cause: error });
  });

const leaseHolder = async () =>
  (
    await cp.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: OPERATOR_NS, name: LEASE })
  ).spec?.holderIdentity ?? '';

const checkSpec = () => discoveryCheckSpec(KUBEADM);

const memberAt = (check: EtcdHealthCheck | undefined, ip: string) =>
  check?.status?.members?.find((m) => m.endpoint === `https://${ip}:2379`);

/**
 * The check once `done` holds for it and the member at `ip`; until then throws what it has (the
 * member and the conditions), which `eventually` reports on timeout.
 */
async function checkWhen(
  ip: string,
  done: (check: EtcdHealthCheck, member: ReturnType<typeof memberAt>) => boolean,
): Promise<EtcdHealthCheck> {
  const check = await checks.get(KUBEADM.namespace, CHECK);
  const member = memberAt(check, ip);
  if (done(check, member)) return check;
  const conditions = check.status?.conditions?.map((c) => `${c.type}=${c.status}(${c.reason})`);
  throw new Error(`member ${JSON.stringify(member)}; conditions ${JSON.stringify(conditions)}`);
}

/** One member down out of three: the cluster is quorate (not Degraded) but not upgradeable. */
const oneMemberDown = (check: EtcdHealthCheck) =>
  conditionOf(check, 'EtcdMembersUpgradeable')?.status === 'False' &&
  conditionOf(check, 'EtcdMembersDegraded')?.reason === 'UnhealthyMembers';
const allMembersHealthy = (check: EtcdHealthCheck) =>
  conditionOf(check, 'EtcdMembersUpgradeable')?.status === 'True' && check.status?.summary?.members === '3/3';

beforeAll(async () => {
  dir = makeTempDir('node-operator');
  const runroot = buildahRunroot();
  // The image build is the slow part; the cluster comes up meanwhile.
  const images = Promise.all([
    timed('operator image', () => operatorImage(runroot)),
    timed('etcd image', () => etcdImage()),
  ]);
  images.catch(() => undefined);
  await timed('control plane and node', async () => {
    cp = await startControlPlane({ crdFiles: [MONITORING_CRDS], serviceAccountAdmission: true });
    node = await startNode(cp);
  });
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
  checks = checksApi(cp.kubeConfig);
  const [operator, etcd] = await images;
  await timed('image import', async () => {
    for (const image of [operator, etcd])
      await node.ctr(['images', 'import', '--local', image.path], 300_000);
  });
  for (const platform of [KUBEADM, OPENSHIFT]) await cp.createNamespace(platform.namespace);
  await timed('etcd pods', () =>
    Promise.all(
      [KUBEADM, OPENSHIFT].map((platform) => startEtcdPods({ cp, node, core, dir }, platform, etcd.ref)),
    ),
  );
  await timed('operator deploy', async () => {
    await deployOperator(operator);
    console.log(`OpenShift overlay RBAC applied: ${(await applyOpenShiftRbac()).join(', ')}`);
  });
  await timed('operator ready', twoReadyReplicas);
}, 1_500_000);

afterAll(async () => {
  try {
    await node?.stop();
  } finally {
    await cp?.stop();
    await cleanupAll();
    console.log(
      `node operator suite: ${Math.round((Date.now() - suiteStarted) / 1000)}s; steps (s): ${JSON.stringify(timings)}`,
    );
  }
}, 120_000);

describe('the operator as a Deployment on a real node', () => {
  it('runs two replicas Running and Ready through the kubelet probes, with exactly one leader by Lease', async () => {
    const pods = await twoReadyReplicas();
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toBe(node.name);
      expect(pod.spec?.containers[0]?.image).toMatch(/^localhost\/etcd-health-operator:node-e2e-/);
      const container = pod.status?.containerStatuses?.[0];
      expect(container?.ready).toBe(true);
      expect(container?.restartCount).toBe(0);
      // The projected ServiceAccount token (ServiceAccount admission) is what in-cluster config uses.
      expect(pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
    }
    const names = pods.map((p) => p.metadata!.name!);
    const holder = await eventually(async () => names.includes(await leaseHolder()) && leaseHolder(), {
      timeoutMs: 60_000,
      description: 'a replica holds the Lease',
    });
    expect(names).toContain(holder);
  });

  it('keeps the restricted security context: read-only root filesystem, no capabilities, user 65532', async () => {
    for (const pod of await operatorPods()) {
      const pid = await containerPid(pod, 'operator');
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1]?.trim();
      expect(field('CapEff')).toBe('0000000000000000');
      expect(field('CapPrm')).toBe('0000000000000000');
      expect(field('NoNewPrivs')).toBe('1');
      expect(field('Uid')?.split(/\s+/)).toEqual(['65532', '65532', '65532', '65532']);
      const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .map((line) => line.split(' '))
        .find((fields) => fields[4] === '/');
      expect(root?.[5]?.split(',')).toContain('ro');
    }
  });

  it('reconciles a check that discovers the etcd pods by their pod IPs, over TLS', async () => {
    const pods = await podsOf(KUBEADM.namespace, selectorOf(KUBEADM));
    await checks.create(KUBEADM.namespace, CHECK, checkSpec());
    const healthy = await eventually(
      async () => {
        const check = await checks.get(KUBEADM.namespace, CHECK);
        return conditionOf(check, 'Available')?.status === 'True' &&
          check.status?.members?.filter((m) => m.healthy).length === 3
          ? check
          : undefined;
      },
      { timeoutMs: 120_000, description: 'check Available with three healthy members' },
    );
    const endpoints = healthy.status!.members!.map((m) => m.endpoint).sort();
    expect(endpoints).toEqual(pods.map((p) => `https://${p.status!.podIP}:2379`).sort());
    for (const pod of pods) expect(memberAt(healthy, pod.status!.podIP!)?.name).toBe(pod.metadata!.name);
  });

  it("finds OpenShift's etcd pods (app=etcd in openshift-etcd) by their pod IPs with deploy/samples/openshift.yaml's etcd spec and the OpenShift overlay's RBAC", async () => {
    const { namespace } = OPENSHIFT;
    const sample = yaml.load(readFileSync(OPENSHIFT_SAMPLE, 'utf8')) as EtcdHealthCheck;
    const { name } = sample.metadata;
    expect(sample.spec.etcd.discovery?.namespace).toBe(namespace);
    const selector = sample.spec.etcd.discovery?.labelSelector ?? '';
    expect(selector).toBe('app=etcd');
    const pods = await podsOf(namespace, selector);
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    // The sample's etcd connection as it is; its Prometheus is the platform's Thanos querier,
    // which this cluster does not have.
    await checks.create(namespace, name, { etcd: sample.spec.etcd, interval: '10s' });
    try {
      const healthy = await eventually(
        async () => {
          const check = await checks.get(namespace, name);
          if (
            conditionOf(check, 'Available')?.status === 'True' &&
            check.status?.members?.filter((m) => m.healthy).length === 3
          )
            return check;
          const conditions = check.status?.conditions?.map(
            (c) => `${c.type}=${c.status}(${c.reason}: ${c.message})`,
          );
          throw new Error(
            `conditions ${JSON.stringify(conditions)}; etcd ${JSON.stringify(check.status?.lastCheck)}`,
          );
        },
        { timeoutMs: 120_000, description: 'the OpenShift check Available with three healthy members' },
      );
      const endpoints = healthy.status!.members!.map((m) => m.endpoint).sort();
      expect(endpoints).toEqual(pods.map((p) => `https://${p.status!.podIP}:2379`).sort());
      for (const pod of pods) expect(memberAt(healthy, pod.status!.podIP!)?.name).toBe(pod.metadata!.name);
      // For docs/node-e2e.md.
      console.log(
        `$ kubectl get pods,ehc -A -o wide\n${await kubectlOk(['get', 'pods,ehc', '-A', '-o', 'wide'])}`,
      );
    } finally {
      // Only discovery was asked of this etcd: the remaining tests run without its load.
      await kubectlOk(['-n', namespace, 'delete', `etcdhealthcheck/${name}`, 'statefulset/etcd']);
    }
  });

  it('shows a killed etcd member container in status, and its recovery once the kubelet restarts it', async () => {
    const victim = await core.readNamespacedPod({ namespace: KUBEADM.namespace, name: 'etcd-2' });
    const ip = victim.status!.podIP!;
    const restartsBefore = victim.status!.containerStatuses![0]!.restartCount;
    // The kubelet restarts a killed container at once the first time, then after a growing
    // back-off: kill it whenever it runs until a check has seen the member down.
    const down = await eventually(
      async () => {
        const pod = await core.readNamespacedPod({ namespace: KUBEADM.namespace, name: 'etcd-2' });
        if (pod.status?.containerStatuses?.[0]?.state?.running) {
          const pid = await containerPid(pod, 'etcd').catch(() => undefined);
          if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
        }
        return checkWhen(ip, (check, member) => member?.reachable === false && oneMemberDown(check));
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'the killed member unreachable in status' },
    );
    expect(down.status?.summary?.members).toBe('2/3');

    await eventually(
      () => checkWhen(ip, (check, member) => member?.healthy === true && allMembersHealthy(check)),
      { timeoutMs: 180_000, description: 'the restarted member healthy again' },
    );
    const restarted = await core.readNamespacedPod({ namespace: KUBEADM.namespace, name: 'etcd-2' });
    // The same pod (same IP) with its container restarted by the kubelet.
    expect(restarted.status?.podIP).toBe(ip);
    expect(restarted.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThan(restartsBefore);
  }, 400_000);

  it('hands the Lease over within the lease duration when the leader pod is deleted; the old leader releases it and exits on SIGTERM', async () => {
    const pods = await twoReadyReplicas();
    const leader = await leaseHolder();
    const leaderPod = pods.find((p) => p.metadata?.name === leader);
    if (!leaderPod) throw new Error(`the Lease holder ${leader} is not one of the replicas`);
    const other = pods.find((p) => p !== leaderPod)!.metadata!.name!;
    const pid = await containerPid(leaderPod, 'operator');
    const deleted = Date.now();
    await core.deleteNamespacedPod({ namespace: OPERATOR_NS, name: leader });
    let releasedAt: number | undefined;
    let exitedAt: number | undefined;
    // The Lease is read before the process in each round: a release after the exit cannot
    // look earlier than it.
    const takenAt = await eventually(
      async () => {
        const holder = await leaseHolder();
        const now = Date.now();
        if (releasedAt === undefined && holder !== leader) releasedAt = now;
        if (exitedAt === undefined && !alive(pid)) exitedAt = now;
        // The other replica, or the Deployment's replacement for the deleted pod if it starts
        // first and wins the released Lease: either is a handover.
        return holder !== '' && holder !== leader && exitedAt !== undefined && now;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: `a replica other than ${leader} (${other} or its replacement) holds the Lease and ${leader} exited`,
      },
    );
    // Without a release the successor would wait out the lease duration after the last renewal.
    expect(takenAt - deleted).toBeLessThan(LEASE_DURATION_MS);
    expect(releasedAt!).toBeLessThanOrEqual(exitedAt!);
    // terminationGracePeriodSeconds is 30: an exit before it was the SIGTERM's, not the SIGKILL's.
    expect(exitedAt! - deleted).toBeLessThan(30_000);
    console.log(
      `leader handover: released ${releasedAt! - deleted} ms, exited ${exitedAt! - deleted} ms, taken ${takenAt - deleted} ms after the delete`,
    );
    await twoReadyReplicas();
  }, 300_000);

  it('loses no transition in a rolling restart: a member frozen meanwhile shows in status and as an Event', async () => {
    const before = (await twoReadyReplicas()).map((p) => p.metadata!.name!);
    const victim = await core.readNamespacedPod({ namespace: KUBEADM.namespace, name: 'etcd-1' });
    const ip = victim.status!.podIP!;
    // From a calm state: every member healthy in a status read now. A check already running may
    // still write a transition stamped up to one check (dial and request timeouts) earlier.
    await eventually(
      () => checkWhen(ip, (check, member) => member?.healthy === true && allMembersHealthy(check)),
      { timeoutMs: 120_000, description: 'all members healthy before the rollout' },
    );
    const calm = Date.now() - 10_000;
    await kubectlOk(['-n', OPERATOR_NS, 'rollout', 'restart', 'deployment/etcd-health-operator']);
    const pid = await containerPid(victim, 'etcd');
    // Frozen, not killed: the kubelet sees nothing, the member stays down until SIGCONT.
    const frozen = Math.floor(Date.now() / 1000) * 1000;
    process.kill(pid, 'SIGSTOP');
    try {
      // Seen by a check that finished after the freeze (lastCheck.time is its end).
      const down = await eventually(
        () =>
          checkWhen(
            ip,
            (check, member) =>
              member?.healthy === false &&
              oneMemberDown(check) &&
              Date.parse(check.status?.lastCheck?.time ?? '') >= frozen,
          ),
        { timeoutMs: 180_000, description: 'the frozen member unhealthy in status' },
      );
      expect(
        Date.parse(conditionOf(down, 'EtcdMembersUpgradeable')!.lastTransitionTime),
      ).toBeGreaterThanOrEqual(calm);
      const events = cp.kubeConfig.makeApiClient(EventsV1Api);
      await eventually(
        async () =>
          (await events.listNamespacedEvent({ namespace: KUBEADM.namespace })).items.some(
            (e) =>
              e.regarding?.name === CHECK &&
              e.type === 'Warning' &&
              e.reason === 'EtcdMembersUpgradeableFalse' &&
              Date.parse(String(e.eventTime ?? e.deprecatedLastTimestamp)) >= calm,
          ),
        { timeoutMs: 60_000, description: 'a Warning Event EtcdMembersUpgradeableFalse' },
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await kubectlOk([
      '-n',
      OPERATOR_NS,
      'rollout',
      'status',
      'deployment/etcd-health-operator',
      '--timeout=180s',
    ]);
    const after = (await twoReadyReplicas()).map((p) => p.metadata!.name!);
    expect(after.filter((name) => before.includes(name))).toEqual([]);
    await eventually(
      () => checkWhen(ip, (check, member) => member?.healthy === true && allMembersHealthy(check)),
      { timeoutMs: 120_000, description: 'the thawed member healthy again' },
    );
  }, 600_000);

  it('reports a member pod that is not Running instead of dropping it', async () => {
    // Labelled like the members, but its image is not on the node and may not be pulled.
    await core.createNamespacedPod({
      namespace: KUBEADM.namespace,
      body: {
        metadata: { name: 'etcd-pending', labels: KUBEADM.labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [
            { name: 'etcd', image: 'localhost/etcd-health-operator/absent:1', imagePullPolicy: 'Never' },
          ],
        },
      },
    });
    try {
      await eventually(
        async () =>
          (await core.readNamespacedPod({ namespace: KUBEADM.namespace, name: 'etcd-pending' })).status
            ?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull',
        { timeoutMs: 60_000, description: 'etcd-pending waiting for its image' },
      );
      const reported = await eventually(
        async () => {
          const check = await checks.get(KUBEADM.namespace, CHECK);
          const pods = check.status?.conditions?.find((c) => c.type === 'MemberPodsDegraded');
          return pods?.message.includes('etcd-pending') && pods.message.includes('Pending') && check;
        },
        { timeoutMs: 60_000, description: 'the Pending pod named in MemberPodsDegraded' },
      );
      // The Running members are still checked.
      expect(reported.status?.summary?.members).toBe('3/3');
    } finally {
      await core.deleteNamespacedPod({
        namespace: KUBEADM.namespace,
        name: 'etcd-pending',
        gracePeriodSeconds: 0,
      });
    }
  });
});
