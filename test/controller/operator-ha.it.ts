// Two operator replicas with leader election, a killed leader, and a kube-apiserver restarted
// under a running operator: one replica reconciles at a time, the standby takes over, watches
// resume, and nothing is lost.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { checksApi, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const ns = 'etcd-team';
const leaseNs = 'etcd-health-operator';

let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: Checks;
let replicas: OperatorProcess[];

const reconciles = async (replica: OperatorProcess) =>
  (await replica.metric('etcd_health_operator_reconcile_total')) ?? 0;
const leads = async (replica: OperatorProcess) => (await replica.metric('etcd_health_operator_leader')) === 1;

const check = (name: string) => checks.get(ns, name);
const createCheck = (name: string) =>
  checks.create(ns, name, { etcd: { endpoints: cluster.endpoints }, interval: '10s' });

async function holder(): Promise<string | undefined> {
  const lease = await cp.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: leaseNs, name: 'etcd-health-operator' });
  return lease.spec?.holderIdentity;
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 3 })]);
  checks = checksApi(cp.kubeConfig);
  await cp.createNamespace(ns);
  await cp.createNamespace(leaseNs);
  const logDir = makeTempDir('operator-ha-logs');
  replicas = await Promise.all(
    ['replica-a', 'replica-b'].map((identity) =>
      startOperator({ kubeconfigPath: cp.kubeconfigPath, logDir, identity, leaseNamespace: leaseNs }),
    ),
  );
});

afterAll(async () => {
  await cleanupAll();
});

describe('leader election and restarts', () => {
  it('lets exactly one of two replicas reconcile', async () => {
    await createCheck('first');
    await eventually(async () => (await check('first')).status?.lastCheck !== undefined, {
      description: 'a status',
    });
    const leader = await eventually(
      async () => {
        const leading = [];
        for (const replica of replicas) if (await leads(replica)) leading.push(replica);
        return leading.length === 1 ? leading[0] : undefined;
      },
      { description: 'exactly one leader' },
    );
    const standby = replicas.find((r) => r !== leader)!;
    expect(await holder()).toBe(leader.identity);
    expect(await reconciles(leader)).toBeGreaterThan(0);
    expect(await reconciles(standby)).toBe(0);
    expect((await fetch(`${standby.healthUrl}/readyz`)).status).toBe(200);
  });

  it('hands over to the standby when the leader is killed', async () => {
    const leader = replicas.find((r) => r.identity === 'replica-a')!;
    const current = (await leads(leader)) ? leader : replicas.find((r) => r !== leader)!;
    const standby = replicas.find((r) => r !== current)!;
    await current.kill();
    const killedAt = Date.now();
    await eventually(async () => (await leads(standby)) && (await reconciles(standby)) > 0, {
      timeoutMs: 60_000,
      description: 'the standby leading and reconciling',
    });
    // A SIGKILLed leader cannot release the Lease: the standby waits for it to expire (15s).
    expect((Date.now() - killedAt) / 1000).toBeLessThan(45);
    expect(await holder()).toBe(standby.identity);
    replicas = [standby];
  });

  it('resumes its watches after a kube-apiserver restart and loses nothing', async () => {
    // With the default 10s renew deadline a leader cut off from the apiserver for longer exits
    // (client-go semantics; its pod restarts). This replica keeps leading through the outage, so
    // what is tested is the watches resuming in place.
    await replicas[0]!.stop();
    const operator = await startOperator({
      kubeconfigPath: cp.kubeconfigPath,
      logDir: makeTempDir('operator-ha-restart-logs'),
      identity: 'replica-c',
      leaseNamespace: leaseNs,
      extraArgs: ['--lease-duration=90s', '--renew-deadline=60s'],
    });
    replicas = [operator];
    await eventually(async () => (await leads(operator)) && (await reconciles(operator)) > 0, {
      description: 'replica-c leading',
    });
    const before = (await operator.metric('etcd_health_operator_watch_restarts_total')) ?? 0;
    await cp.restartApiServer();
    await eventually(
      async () => {
        if (operator.process.exited())
          throw new Error(`the operator exited:\n${operator.logs().slice(-3000)}`);
        return ((await operator.metric('etcd_health_operator_watch_restarts_total')) ?? 0) > before;
      },
      { description: 'a watch restart' },
    );
    await createCheck('after-restart');
    await eventually(async () => (await check('after-restart')).status?.lastCheck !== undefined, {
      timeoutMs: 90_000,
      description: 'a CR created after the restart reconciled',
    });
    await checks.patchSpec(ns, 'first', { interval: '15s' });
    await eventually(async () => (await check('first')).status?.observedGeneration === 2, {
      timeoutMs: 60_000,
      description: 'a spec change after the restart picked up',
    });
  });
});
