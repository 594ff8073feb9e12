// The kube-apiserver going away under two operator processes that run with the default lease
// timings (15 s / 10 s / 2 s). The operators reach the API through a relay the test cuts, so the
// test can create, patch and delete EtcdHealthChecks during the outage over its own connection;
// then a real stop/start of the kube-apiserver. A leader cut off for longer than the renew deadline
// exits (code 1, after saying why), the other replica leads once the API is back, and every change
// made during the outage is handled, with no retry loop and no storm of requests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../src/api/v1alpha1/index.js';
import { auditLog, type AuditLog } from '../harness/audit.js';
import { checksApi, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  OPERATOR_USER,
  applyBaseManifests,
} from '../harness/operator-rbac.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { kubeconfigThroughRelay, startTcpRelay, type TcpRelay } from '../harness/tcp-relay.js';

const ns = 'etcd-team';
const LEASE = 'etcd-health-operator';
const RENEW_DEADLINE_MS = 10_000;

let cp: ControlPlane;
let cluster: EtcdCluster;
let frozen: EtcdCluster;
let audit: AuditLog;
let checks: Checks;
let apiRelay: TcpRelay;
let heldRelay: TcpRelay;
let operatorKubeconfig: string;
let logDir: string;
let replicas: OperatorProcess[] = [];

const spec = (interval = '10s') => ({ etcd: { endpoints: cluster.endpoints }, interval });
const check = (name: string) => checks.get(ns, name);

async function holder(): Promise<string | undefined> {
  const lease = await cp.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: LEASE });
  return lease.spec?.holderIdentity;
}

const leads = async (replica: OperatorProcess) =>
  !replica.process.exited() && (await replica.metric('etcd_health_operator_leader')) === 1;

async function leader(): Promise<OperatorProcess> {
  return eventually(
    async () => {
      const leading: OperatorProcess[] = [];
      for (const replica of replicas) if (await leads(replica)) leading.push(replica);
      const identity = await holder();
      return leading.length === 1 && leading[0]!.identity === identity ? leading[0] : undefined;
    },
    { timeoutMs: 90_000, description: 'exactly one running replica leading and holding the Lease' },
  );
}

/** The /metrics lines of one check (every series labelled with its namespace and name). */
async function seriesOf(replica: OperatorProcess, name: string): Promise<string[]> {
  const text = await (await fetch(replica.metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line.includes(`namespace="${ns}"`) && line.includes(`name="${name}"`));
}

/** The operator's log lines about one check's key. */
function logLinesOf(replica: OperatorProcess, name: string): string[] {
  return replica
    .logs()
    .split('\n')
    .filter((line) => line.includes(`"key":"${ns}/${name}"`));
}

const failedReconciles = async (replica: OperatorProcess) =>
  (await replica.metric('etcd_health_operator_reconcile_total', { result: 'error' })) ?? 0;

async function deleteCheck(name: string): Promise<void> {
  await cp.kubeConfig
    .makeApiClient(CustomObjectsApi)
    .deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name });
}

async function hasStatus(name: string, generation = 1): Promise<boolean> {
  const status = (await check(name)).status;
  return status?.lastCheck !== undefined && status.observedGeneration === generation;
}

function startReplica(identity: string): Promise<OperatorProcess> {
  // No lease flags: the operator's defaults (15 s / 10 s / 2 s) are under test.
  return startOperator({
    kubeconfigPath: operatorKubeconfig,
    logDir,
    identity,
    leaseNamespace: OPERATOR_NAMESPACE,
  });
}

beforeAll(async () => {
  audit = auditLog(makeTempDir('apiserver-outage-audit'), { allResources: true });
  [cp, cluster, frozen] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startEtcdCluster({ members: 3 }),
    startEtcdCluster({ members: 1 }),
  ]);
  checks = checksApi(cp.kubeConfig);
  await applyBaseManifests(cp);
  await cp.createNamespace(ns);
  const url = new URL(cp.server);
  apiRelay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  const member = new URL(frozen.endpoints[0]!);
  heldRelay = await startTcpRelay({ host: member.hostname, port: Number(member.port) });
  const token = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  operatorKubeconfig = kubeconfigThroughRelay(
    cp.writeKubeconfigForToken(token, OPERATOR_NAMESPACE),
    apiRelay,
  );
  logDir = makeTempDir('apiserver-outage-logs');
  replicas = await Promise.all(['replica-a', 'replica-b'].map(startReplica));
  await Promise.all(['kept', 'doomed', 'gone-in-outage'].map((name) => checks.create(ns, name, spec())));
  await eventually(
    async () => (await hasStatus('kept')) && (await hasStatus('doomed')) && hasStatus('gone-in-outage'),
    {
      timeoutMs: 90_000,
      description: 'a status on every check',
    },
  );
});

afterAll(async () => {
  await Promise.all([apiRelay?.close(), heldRelay?.close()]);
  await cleanupAll();
});

describe('kube-apiserver outage with the default lease timings', () => {
  it('a CR deleted during an outage shorter than the renew deadline: the leader stays, its series go', async () => {
    const current = await leader();
    const pid = current.process.pid;
    await eventually(async () => (await seriesOf(current, 'doomed')).length > 0, {
      description: 'series of doomed',
    });
    const failedBefore = await failedReconciles(current);

    apiRelay.cut();
    const cutAt = Date.now();
    await deleteCheck('doomed');
    // A third of the renew deadline: the leader must keep its Lease through this.
    await eventually(() => Date.now() - cutAt > RENEW_DEADLINE_MS / 3, { intervalMs: 100 });
    apiRelay.resume();

    await eventually(async () => (await seriesOf(current, 'doomed')).length === 0, {
      timeoutMs: 60_000,
      description: 'the series of doomed gone from /metrics',
    });
    expect(current.process.pid).toBe(pid);
    expect(current.process.exited()).toBe(false);
    expect(await leader()).toBe(current);
    // The cut fails at most a reconcile or two per check; a spin would fail hundreds.
    const failed = (await failedReconciles(current)) - failedBefore;
    console.log(`short cut: ${failed} failed reconciles on the leader`);
    expect(failed).toBeLessThanOrEqual(6);
  });

  it('a CR deleted while its reconcile is running leaves no retry loop, and its series go', async () => {
    const current = await leader();
    frozen.freezeMember(frozen.members[0]!.name);
    try {
      const dialsBefore = heldRelay.connections().length;
      await checks.create(ns, 'held', {
        etcd: { endpoints: [`http://${heldRelay.address}`] },
        interval: '10s',
      });
      // The frozen member accepts the connection and never answers: the reconcile is held.
      await eventually(() => heldRelay.connections().length > dialsBefore, {
        description: 'the reconcile of held dialing its member',
      });
      await deleteCheck('held');
      await eventually(() => logLinesOf(current, 'held').some((line) => line.includes('object is gone')), {
        timeoutMs: 60_000,
        description: 'the reconcile after the deletion finding held gone',
      });
      expect(await seriesOf(current, 'held')).toEqual([]);
      const settled = logLinesOf(current, 'held').length;
      // Longer than a retry after a failure (backoff) and the check's interval: nothing retries it.
      const goneAt = Date.now();
      await eventually(() => Date.now() - goneAt > 15_000, { timeoutMs: 60_000, intervalMs: 500 });
      // A requeue the reconcile had scheduled before it ended may run once and find it gone too;
      // the next test checks that nothing more comes.
      const after = logLinesOf(current, 'held').slice(settled);
      expect(after.length).toBeLessThanOrEqual(1);
      for (const line of after) expect(line).toContain('object is gone');
      expect(await seriesOf(current, 'held')).toEqual([]);
      expect(current.process.exited()).toBe(false);
    } finally {
      frozen.thawMember(frozen.members[0]!.name);
    }
  });

  it('a leader cut off beyond the renew deadline exits; the other leads and handles every change made meanwhile', async () => {
    const current = await leader();
    const standby = replicas.find((replica) => replica !== current)!;
    const failedBefore = await failedReconciles(standby);
    // `doomed` went in the first test, more than one interval ago (a requeue it had scheduled
    // before its deletion may have run once since): from now on nothing may reconcile it.
    const doomedLines = logLinesOf(current, 'doomed').length;
    const heldLines = logLinesOf(current, 'held').length;

    apiRelay.cut();
    await checks.create(ns, 'born', spec());
    await checks.patchSpec(ns, 'kept', { interval: '15s' });
    await deleteCheck('gone-in-outage');
    await eventually(() => current.process.exited(), {
      timeoutMs: 90_000,
      description: 'the cut-off leader exiting',
    });
    apiRelay.resume();

    expect(current.process.child.exitCode).toBe(1);
    expect(current.logs()).toContain('lost leadership; exiting so that a fresh process can compete again');
    expect(logLinesOf(current, 'doomed')).toHaveLength(doomedLines);
    expect(logLinesOf(current, 'held')).toHaveLength(heldLines);
    expect(standby.process.exited()).toBe(false);
    expect(await leader()).toBe(standby);
    await eventually(async () => (await hasStatus('born')) && hasStatus('kept', 2), {
      timeoutMs: 90_000,
      description: 'born with a status and kept at observedGeneration 2',
    });
    expect((await check('kept')).status?.conditions?.length).toBeGreaterThan(0);
    expect(await seriesOf(standby, 'gone-in-outage')).toEqual([]);
    expect(logLinesOf(standby, 'gone-in-outage').filter((line) => /"level":(40|50)/.test(line))).toEqual([]);
    expect((await failedReconciles(standby)) - failedBefore).toBeLessThanOrEqual(6);
    replicas = [standby];
  });

  it('after a real kube-apiserver stop beyond the renew deadline the leader exits, a new one leads, and no retry storm', async () => {
    // Play the Deployment: a new pod replaces the replica that exited.
    replicas.push(await startReplica('replica-c'));
    const current = await leader();
    const successor = replicas.find((replica) => replica !== current)!;
    await cp.restartApiServer({
      whileDown: async () => {
        await eventually(() => current.process.exited(), {
          timeoutMs: 90_000,
          description: 'the leader exiting while the kube-apiserver is down',
        });
      },
    });
    const readyAt = Date.now();
    const failedBefore = await failedReconciles(successor);
    await checks.create(ns, 'after-restart', spec());
    expect(current.process.child.exitCode).toBe(1);
    expect(current.logs()).toContain('lost leadership; exiting so that a fresh process can compete again');
    expect(await leader()).toBe(successor);
    expect(successor.process.exited()).toBe(false);
    await eventually(() => hasStatus('after-restart'), {
      timeoutMs: 90_000,
      description: 'a CR created after the restart with a status',
    });
    const statusAfterMs = Date.now() - readyAt;

    await eventually(() => Date.now() - readyAt > 60_000, { timeoutMs: 90_000, intervalMs: 1_000 });
    const perSecond = new Map<number, number>();
    const seen = new Set<string>();
    for (const request of audit.requests({ username: OPERATOR_USER })) {
      const at = Date.parse(request.requestReceivedTimestamp ?? '');
      if (request.auditID === undefined || seen.has(request.auditID)) continue;
      seen.add(request.auditID);
      if (at < readyAt - 1_000 || at > readyAt + 60_000) continue;
      const second = Math.floor((at - readyAt) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const failed = (await failedReconciles(successor)) - failedBefore;
    const total = [...perSecond.values()].reduce((a, b) => a + b, 0);
    const peak = Math.max(0, ...perSecond.values());
    console.log(
      `apiserver restart: status of a new CR ${statusAfterMs} ms after /readyz; ` +
        `operator requests in the first minute ${total}, peak ${peak}/s; ${failed} failed reconciles`,
    );
    // Two replicas at rest: Lease renewals every 2 s, a status write and Events per check per
    // interval, watches. A storm would be hundreds per second.
    expect(peak).toBeLessThanOrEqual(40);
    expect(total).toBeLessThanOrEqual(600);
    // No burst of failed reconciles against the recovering apiserver.
    expect(failed).toBeLessThanOrEqual(6);
    expect(await hasStatus('kept', 2)).toBe(true);
  });
});
