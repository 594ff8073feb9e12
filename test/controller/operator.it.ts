// The operator end to end on real parts: a real kube-apiserver with the CRD, a real 3-member etcd
// cluster under write load, a real Prometheus scraping it, and the operator running as its own
// process with leader election, as in a Deployment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventsV1Api } from '@kubernetes/client-node';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

let cp: ControlPlane;
let cluster: EtcdCluster;
let prometheus: PrometheusServer;
let load: WriteLoad;
let operator: OperatorProcess;
let checks: Checks;
const ns = 'etcd-team';
const leaseNs = 'etcd-health-operator';

const getCheck = (name: string) => checks.get(ns, name);
const createCheck = (name: string, spec: Record<string, unknown>) => checks.create(ns, name, spec);
const condition = conditionOf;

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 3 })]);
  prometheus = await startPrometheus(cluster);
  load = startWriteLoad(cluster, { perSecond: 20 });
  await cp.createNamespace(ns);
  await cp.createNamespace(leaseNs);
  checks = checksApi(cp.kubeConfig);
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('operator-logs'),
    identity: 'operator-a',
    leaseNamespace: leaseNs,
  });
  await prometheus.waitForScrapes(3);
});

afterAll(async () => {
  await load?.stop();
  await cleanupAll();
});

const baseSpec = () => ({
  etcd: { endpoints: cluster.endpoints },
  prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
  interval: '10s',
  // Disks of a shared test machine are not production disks: keep latency warnings out of the way
  // so that the steady state is steady; faults here are about members, not latency.
  thresholds: {
    degradedInertia: '0s',
    walFsyncP99: { warning: '1s', critical: '2s' },
    backendCommitP99: { warning: '1s', critical: '2s' },
    peerRoundTripP99: { warning: '1s', critical: '2s' },
  },
});

describe('the operator on a real control plane', () => {
  it('writes a full status within seconds of creation', async () => {
    await createCheck('main', baseSpec());
    const check = await eventually(
      async () => {
        const c = await getCheck('main');
        return c.status?.summary && condition(c, 'Available') ? c : undefined;
      },
      { timeoutMs: 30_000, description: 'a status' },
    );
    // The deadline above is the "within seconds". The status is this object's own first check,
    // made after it was created, and written as a first status.
    const checkedAt = Date.parse(check.status!.lastCheck!.time);
    expect(checkedAt).toBeGreaterThanOrEqual(Date.parse(check.metadata.creationTimestamp!));
    expect(await operator.metric('etcd_health_operator_status_writes_total', { why: 'first_status' })).toBe(
      1,
    );
    expect(check.status?.observedGeneration).toBe(check.metadata.generation);
    expect(condition(check, 'Available')).toMatchObject({ status: 'True' });
    expect(check.status?.members).toHaveLength(3);
    expect(check.status?.summary?.members).toBe('3/3');
    expect(check.status?.lastCheck?.etcd.state).toBe('OK');
    expect(check.status?.members?.every((m) => /^[0-9]+$/.test(m.id))).toBe(true);
  });

  it('shows the columns with real values in kubectl get', async () => {
    const leader = await cluster.waitForLeader();
    const table = await eventually(
      async () => {
        const result = await cp.kubectl(['get', 'etcdhealthcheck', '-n', ns, 'main']);
        return result.code === 0 && result.stdout.includes('3/3') ? result.stdout : undefined;
      },
      { description: 'kubectl get with values' },
    );
    const [header, row] = table.trim().split('\n');
    expect(header).toMatch(
      /^NAME\s+AVAILABLE\s+PROGRESSING\s+DEGRADED\s+MEMBERS\s+LEADER\s+DB SIZE\s+FSYNC P99\s+SINCE\s+AGE$/,
    );
    expect(row).toMatch(new RegExp(`^main\\s+True\\s+False\\s+\\S+\\s+3/3\\s+${leader}\\s+\\d`));
    const wide = await cp.kubectl(['get', 'ehc', '-n', ns, 'main', '-o', 'wide']);
    expect(wide.stdout).toMatch(/UPGRADEABLE\s+QUOTA\s+COMMIT P99\s+RECOMMENDATIONS\s+LAST CHECK\s+MESSAGE/);
  });

  it('does not write the status again while nothing changes', async () => {
    // A steady state: the write load stops (on a shared 2-core test machine its latencies swing by
    // more than any sane tolerance) and the 5m rate windows smooth it, until two checks in a row write
    // nothing. Then three more checks must not write either.
    const loaded = await load.stop();
    // Nothing was broken yet: every put of the load went through.
    expect(loaded.unexpectedErrors).toEqual({});
    expect(loaded.writes).toBeGreaterThan(0);
    const reconcileCount = async () => (await operator.metric('etcd_health_operator_reconcile_total')) ?? 0;
    const writeCount = async () => (await operator.metric('etcd_health_operator_status_writes_total')) ?? 0;
    let settled = { reconciles: await reconcileCount(), writes: await writeCount() };
    await eventually(
      async () => {
        const now = { reconciles: await reconcileCount(), writes: await writeCount() };
        // Every metric must have data first: peer round trips are sampled only every 30s.
        const dataComplete = condition(await getCheck('main'), 'Degraded')?.status === 'False';
        if (now.writes !== settled.writes || !dataComplete) settled = now;
        return now.reconciles >= settled.reconciles + 2;
      },
      {
        timeoutMs: 170_000,
        intervalMs: 1_000,
        description: 'complete data, then two checks in a row without a write',
      },
    );
    const before = await getCheck('main');
    const writes = await writeCount();
    const reconciles = await reconcileCount();
    // Three more checks at the 10s interval: enough to see writes if every check wrote.
    await eventually(async () => (await reconcileCount()) >= reconciles + 3, {
      timeoutMs: 60_000,
      description: 'three more reconciles',
    });
    const after = await getCheck('main');
    const writesAfter = await writeCount();
    if (writesAfter !== writes) {
      const why = operator
        .logs()
        .split('\n')
        .filter((line) => line.includes('status written'))
        .slice(-5);
      throw new Error(`status written ${writesAfter - writes} times in a steady state:\n${why.join('\n')}`);
    }
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  }, 300_000);

  it('picks up a spec change at once, not at the next interval', async () => {
    const intervalMs = 5 * 60_000;
    await createCheck('slow', { ...baseSpec(), interval: '5m' });
    const first = await eventually(
      async () => {
        const c = await getCheck('slow');
        return c.status?.observedGeneration === 1 && c.status.lastCheck ? c.status.lastCheck : undefined;
      },
      { timeoutMs: 30_000, description: 'first status of the slow check' },
    );
    const changed = Date.now();
    await checks.patchSpec(ns, 'slow', { thresholds: { walFsyncP99: { warning: '20ms' } } });
    const second = await eventually(
      async () => {
        const c = await getCheck('slow');
        return c.status?.observedGeneration === 2 && c.status.lastCheck ? c.status.lastCheck : undefined;
      },
      { timeoutMs: 30_000, description: 'observedGeneration 2' },
    );
    // The operator's own clock: a check made after the change, earlier than the interval (less
    // its 10 % jitter) would have asked for one. Only the change can have triggered it.
    const firstAt = Date.parse(first.time);
    const secondAt = Date.parse(second.time);
    expect(secondAt).toBeGreaterThanOrEqual(changed);
    expect(secondAt - firstAt).toBeLessThan(0.9 * intervalMs);
    expect(await operator.metric('etcd_health_operator_status_writes_total', { why: 'new_generation' })).toBe(
      1,
    );
  });

  it('turns a lost quorum into Available=False and Degraded=True with an Event and a metric, and recovers', async () => {
    const [first, second] = cluster.members.slice(1);
    await cluster.killMember(first!.name);
    await cluster.killMember(second!.name);
    const degraded = await eventually(
      async () => {
        const c = await getCheck('main');
        return condition(c, 'Available')?.status === 'False' && condition(c, 'Degraded')?.status === 'True'
          ? c
          : undefined;
      },
      { timeoutMs: 90_000, description: 'Available=False and Degraded=True' },
    );
    expect(condition(degraded, 'Degraded')?.reason).toContain('EtcdMembers_');
    expect(condition(degraded, 'Degraded')?.message).toContain('EtcdMembersDegraded: ');
    // The survivor answers Status but not a linearizable read without quorum: reachable, unhealthy.
    expect(degraded.status?.summary?.members).toBe('0/3');
    expect(degraded.status?.members?.filter((m) => m.reachable)).toHaveLength(1);
    expect(
      await operator.metric('etcd_health_check_condition', {
        name: 'main',
        type: 'Available',
        status: 'False',
      }),
    ).toBe(1);

    const events = cp.kubeConfig.makeApiClient(EventsV1Api);
    const warning = await eventually(
      async () => {
        const list = await events.listNamespacedEvent({ namespace: ns });
        return list.items.find(
          (e) => e.regarding?.name === 'main' && e.type === 'Warning' && e.reason === 'AvailableFalse',
        );
      },
      { description: 'an AvailableFalse Event' },
    );
    expect(warning.reportingController).toBe('etcdhealth.io/etcd-health-operator');

    await cluster.restartMember(first!.name);
    await cluster.restartMember(second!.name);
    await eventually(
      async () => {
        const c = await getCheck('main');
        return condition(c, 'Available')?.status === 'True' && condition(c, 'Degraded')?.status === 'False';
      },
      { timeoutMs: 120_000, description: 'recovery' },
    );
    expect(
      await operator.metric('etcd_health_check_condition', {
        name: 'main',
        type: 'Available',
        status: 'True',
      }),
    ).toBe(1);
  });
});
