// Cluster shapes on real processes, seen by the operator process: 5 and 7 voting members (quorum
// maths with 2 and 3 members down, then one more), a learner added with MemberAdd --learner and
// promoted later, and a rolling upgrade from etcd 3.5 to 3.6 (a mixed-version cluster) scraped by
// a real Prometheus. Every fault asserts the CR status, the Events, the operator's /metrics, that
// the operator process kept running, and the recovery.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import type { EtcdCluster } from '../harness/etcd-cluster.js';
import {
  addLearner,
  startUpgradableEtcdCluster,
  type LearnerMember,
  type RollingUpgrade,
} from '../harness/etcd-shapes.js';
import { startEtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

const ns = 'shapes';
let cp: ControlPlane;
let five: EtcdCluster;
let seven: EtcdCluster;
let mixed: EtcdCluster & RollingUpgrade;
let prometheus: PrometheusServer;
let load: WriteLoad;
let operator: OperatorProcess;
let checks: NamespacedChecks;
let learner: LearnerMember | undefined;

beforeAll(async () => {
  // Every cluster at once: their start-up overlaps, and each is started only once for the file.
  [cp, five, seven, mixed] = await Promise.all([
    startControlPlane(),
    startEtcdCluster({ members: 5 }),
    startEtcdCluster({ members: 7 }),
    startUpgradableEtcdCluster({ members: 3, from: '3.5' }),
  ]);
  prometheus = await startPrometheus(mixed);
  // Fsync and commit p99s need fsyncs in the window: an idle cluster has none.
  load = startWriteLoad(mixed, { perSecond: 5 });
  await cp.createNamespace(ns);
  checks = checksIn(cp.kubeConfig, ns);
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('operator-logs'),
    identity: 'operator-shapes',
  });
  operatorStart = { startTime: await operator.metric('process_start_time_seconds') };
  expect(operatorStart.startTime).toBeGreaterThan(0);
  await Promise.all([
    checks.create('five', spec(five)),
    checks.create('seven', spec(seven)),
    checks.create('mixed', {
      ...spec(mixed),
      prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
    }),
  ]);
  await prometheus.waitForScrapes(3);
}, 300_000);

afterAll(async () => {
  await load?.stop();
  await learner?.stop();
  await cleanupAll();
});

// The operator is one process for the whole file: no fault may make it exit or restart.
let operatorStart: { startTime: number | undefined };
afterEach(async () => {
  // The PID the harness started has not exited, and it is the process answering /metrics: the
  // start time it reports has not moved.
  expect(operator.process.exited()).toBe(false);
  expect(await operator.metric('process_start_time_seconds')).toBe(operatorStart.startTime);
});

function spec(cluster: EtcdCluster) {
  return {
    etcd: { endpoints: cluster.endpoints },
    interval: '10s',
    // Shapes, not latency: a shared test machine's disks must not flip Degraded here.
    thresholds: {
      degradedInertia: '0s',
      walFsyncP99: { warning: '1s', critical: '2s' },
      backendCommitP99: { warning: '1s', critical: '2s' },
      peerRoundTripP99: { warning: '1s', critical: '2s' },
    },
  };
}

const condition = conditionOf;

/** The check once `accept` holds for it, polled; the deadline covers a few 10 s intervals. */
async function checkWhen(
  name: string,
  accept: (check: EtcdHealthCheck) => boolean,
  description: string,
  timeoutMs = 90_000,
): Promise<EtcdHealthCheck> {
  return eventually(
    async () => {
      const check = await checks.get(name);
      return accept(check) ? check : undefined;
    },
    { timeoutMs, intervalMs: 1_000, description: `${name}: ${description}` },
  );
}

const available = (status: string) => (check: EtcdHealthCheck) =>
  condition(check, 'Available')?.status === status;

const membersOf = (check: EtcdHealthCheck) => check.status?.members ?? [];
const member = (check: EtcdHealthCheck, name: string) => membersOf(check).find((m) => m.name === name);

async function availableMetric(name: string, status: string) {
  return operator.metric('etcd_health_check_condition', { namespace: ns, name, type: 'Available', status });
}

async function warningEvents(name: string, reason: string) {
  return (await checks.eventsOf(name)).filter((e) => e.type === 'Warning' && e.reason === reason);
}

describe('5 and 7 voting members', () => {
  it('names every member and counts all of them', async () => {
    for (const [name, cluster] of [
      ['five', five],
      ['seven', seven],
    ] as const) {
      const size = cluster.members.length;
      const check = await checkWhen(
        name,
        (c) => available('True')(c) && c.status?.summary?.members === `${size}/${size}`,
        `${size}/${size} members`,
      );
      expect(membersOf(check).map((m) => m.name)).toEqual(cluster.members.map((m) => m.name));
      expect(membersOf(check).every((m) => m.reachable && m.healthy && !m.learner)).toBe(true);
      expect(
        membersOf(check)
          .filter((m) => m.leader)
          .map((m) => m.name),
      ).toEqual([await cluster.waitForLeader()]);
      expect(condition(check, 'EtcdMembersAvailable')?.message).toBe(`${size} members are available`);
      // One DB size series per member in the operator's metrics.
      for (const m of cluster.members) {
        expect(
          await operator.metric('etcd_health_check_member_db_size_bytes', {
            namespace: ns,
            name,
            member: m.name,
          }),
        ).toBeGreaterThan(0);
      }
    }
  });

  it('5 members with 2 stopped keep quorum: Available, and EtcdMembersDegraded names both; recovers', async () => {
    const stopped = ['member-4', 'member-5'];
    for (const name of stopped) await five.killMember(name);
    const check = await checkWhen(
      'five',
      // Named from the member list, as below for seven.
      (c) => c.status?.summary?.members === '3/5' && stopped.every((name) => member(c, name)),
      '3/5 members after stopping two, named from the member list',
    );
    expect(condition(check, 'Available')).toMatchObject({ status: 'True' });
    expect(condition(check, 'EtcdMembersAvailable')).toMatchObject({
      status: 'True',
      reason: 'EtcdQuorate',
      message: '3 of 5 members are available, member-4 is unhealthy, member-5 is unhealthy',
    });
    // Quorum of 5 is 3: the cluster holds, with no member failure left to spare.
    expect(condition(check, 'EtcdMembersDegraded')).toMatchObject({ reason: 'UnhealthyMembers' });
    expect(condition(check, 'EtcdMembersDegraded')?.message).toContain(
      'the cluster tolerates no further member failure',
    );
    for (const name of stopped) {
      expect(member(check, name)).toMatchObject({ reachable: false, healthy: false });
      expect(condition(check, 'EtcdMembersDegraded')?.message).toContain(name);
    }
    expect(await availableMetric('five', 'True')).toBe(1);
    expect(await warningEvents('five', 'AvailableFalse')).toEqual([]);

    for (const name of stopped) await five.restartMember(name);
    const recovered = await checkWhen('five', (c) => c.status?.summary?.members === '5/5', 'recovery to 5/5');
    expect(condition(recovered, 'EtcdMembersDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
    expect(membersOf(recovered).every((m) => m.reachable && m.healthy)).toBe(true);
  });

  it('7 members keep quorum with 3 stopped; a 4th loses it: Available=False, an Event, a metric; recovers', async () => {
    const stopped = ['member-5', 'member-6', 'member-7'];
    for (const name of stopped) await seven.killMember(name);
    // Named from the member list: while the survivors elect a new leader (the old one may be among
    // the stopped) the linearizable member list fails and members are named by their endpoints.
    const holding = await checkWhen(
      'seven',
      (c) => c.status?.summary?.members === '4/7' && stopped.every((name) => member(c, name)),
      '4/7 members after stopping three, named from the member list',
    );
    expect(condition(holding, 'Available')).toMatchObject({ status: 'True' });
    expect(condition(holding, 'EtcdMembersAvailable')?.message).toBe(
      `4 of 7 members are available, ${stopped.map((name) => `${name} is unhealthy`).join(', ')}`,
    );
    expect(await warningEvents('seven', 'AvailableFalse')).toEqual([]);

    // The fourth: the leader must not be it, or the "no leader" path is what this tests.
    const leader = await seven.waitForLeader();
    const fourth = seven.members
      .map((m) => m.name)
      .find((name) => name !== leader && !stopped.includes(name))!;
    await seven.killMember(fourth);
    const lost = await checkWhen(
      'seven',
      available('False'),
      'Available=False after a fourth member stopped',
    );
    expect(condition(lost, 'EtcdMembersAvailable')).toMatchObject({ status: 'False' });
    // With 3 of 7 left the survivors cannot elect a leader (NoLeader); NoQuorum if one still
    // believed in the old one when the operator looked.
    expect(condition(lost, 'EtcdMembersAvailable')?.reason).toMatch(/^(NoQuorum|NoLeader)$/);
    expect(condition(lost, 'EtcdMembersAvailable')?.message).toContain('0 of 7 members are available');
    // Every member is still listed; the 3 survivors answer Status but not a linearizable read.
    expect(lost.status?.members).toHaveLength(7);
    expect(lost.status?.members?.filter((m) => m.reachable)).toHaveLength(3);
    expect(lost.status?.members?.some((m) => m.healthy)).toBe(false);
    expect(condition(lost, 'Degraded')).toMatchObject({ status: 'True' });
    expect(lost.status?.summary?.members).toBe('0/7');
    expect(await availableMetric('seven', 'False')).toBe(1);
    const events = await eventually(
      async () => {
        const found = await warningEvents('seven', 'AvailableFalse');
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'an AvailableFalse Event for seven' },
    );
    expect(events[0]!.reportingController).toBe('etcdhealth.io/etcd-health-operator');

    for (const name of [...stopped, fourth]) await seven.restartMember(name);
    const recovered = await checkWhen(
      'seven',
      (c) => available('True')(c) && c.status?.summary?.members === '7/7',
      'recovery to 7/7',
      120_000,
    );
    expect(condition(recovered, 'EtcdMembersDegraded')).toMatchObject({ status: 'False' });
    expect(await availableMetric('seven', 'True')).toBe(1);
    expect(await availableMetric('seven', 'False')).toBeUndefined();
  });
});

describe('a learner', () => {
  it('is shown as a learner outside the quorum, read serializably, then as a voting member once promoted', async () => {
    learner = await addLearner(five, 'member-6');
    const asLearner = await checkWhen(
      'five',
      (c) => member(c, 'member-6')?.learner === true && member(c, 'member-6')?.healthy === true,
      'member-6 healthy as a learner',
    );
    expect(member(asLearner, 'member-6')).toMatchObject({
      id: BigInt(learner.id).toString(),
      endpoint: learner.clientURL,
      reachable: true,
      leader: false,
    });
    // Quorum counts the 5 voting members only.
    expect(asLearner.status?.summary?.members).toBe('5/5');
    expect(condition(asLearner, 'EtcdMembersAvailable')?.message).toBe('5 members are available');
    expect(condition(asLearner, 'Available')).toMatchObject({ status: 'True' });
    // healthy above: a learner refuses a linearizable read, so the operator read it serializably.
    expect(condition(asLearner, 'EtcdMembersDegraded')).toMatchObject({ status: 'False' });

    await learner.promote();
    const promoted = await checkWhen(
      'five',
      (c) => member(c, 'member-6')?.learner === false && c.status?.summary?.members === '6/6',
      'member-6 as a voting member (6/6)',
    );
    expect(member(promoted, 'member-6')).toMatchObject({ reachable: true, healthy: true });
    expect(condition(promoted, 'EtcdMembersAvailable')?.message).toBe('6 members are available');
    expect(condition(promoted, 'Available')).toMatchObject({ status: 'True' });
  });
});

describe('mixed versions: a rolling upgrade from 3.5 to 3.6', () => {
  it('reads Status and metrics of 3.5 members, reports the version skew with who runs what, and agreement once all run 3.6', async () => {
    const agree35 = await checkWhen(
      'mixed',
      (c) =>
        condition(c, 'ConsistencyDegraded')?.reason === 'AsExpected' &&
        membersOf(c).length === 3 &&
        membersOf(c).every((m) => m.walFsyncP99 !== undefined),
      'every 3.5 member with Status and metrics',
    );
    for (const m of membersOf(agree35)) {
      expect(m.version).toMatch(/^3\.5\.\d+$/);
      expect(m).toMatchObject({ reachable: true, healthy: true });
      expect(m.dbSize).toBeGreaterThan(0);
      expect(m.dbSizeInUse).toBeGreaterThan(0);
      expect(m.raftAppliedIndex).toMatch(/^[0-9]+$/);
      expect(m.backendCommitP99).toBeDefined();
    }
    expect(agree35.status?.lastCheck?.etcd.state).toBe('OK');

    await mixed.upgradeMember('member-3', '3.6');
    const skewed = await checkWhen(
      'mixed',
      (c) => condition(c, 'ConsistencyDegraded')?.reason === 'VersionSkew',
      'a VersionSkew finding',
    );
    const skew = condition(skewed, 'ConsistencyDegraded')!;
    // A Warning: the Degraded group stays False, the reason and message say who runs what.
    expect(skew.status).toBe('False');
    const v35 = member(skewed, 'member-1')!.version!;
    const v36 = member(skewed, 'member-3')!.version!;
    expect(v35).toMatch(/^3\.5\.\d+$/);
    expect(v36).toMatch(/^3\.6\.\d+$/);
    expect(skew.message).toContain(`member-1 and member-2 on ${v35}`);
    expect(skew.message).toContain(`member-3 on ${v36}`);
    expect(condition(skewed, 'Available')).toMatchObject({ status: 'True' });
    expect(skewed.status?.summary?.members).toBe('3/3');
    // The other checks work against both versions: metrics of every member, old and new.
    const withMetrics = await checkWhen(
      'mixed',
      (c) => membersOf(c).every((m) => m.walFsyncP99 !== undefined && m.backendCommitP99 !== undefined),
      'fsync and commit p99s of every member, 3.5 and 3.6',
    );
    expect(membersOf(withMetrics).map((m) => m.name)).toEqual(['member-1', 'member-2', 'member-3']);
    for (const name of ['member-1', 'member-2', 'member-3']) {
      expect(
        await operator.metric('etcd_health_check_member_wal_fsync_p99_seconds', {
          namespace: ns,
          name: 'mixed',
          member: name,
        }),
      ).toBeDefined();
    }

    // The upgrade completed: one minor version again.
    await mixed.upgradeMember('member-1', '3.6');
    await mixed.upgradeMember('member-2', '3.6');
    const agree36 = await checkWhen(
      'mixed',
      (c) =>
        condition(c, 'ConsistencyDegraded')?.reason === 'AsExpected' &&
        membersOf(c).every((m) => m.version?.startsWith('3.6.')),
      'every member on 3.6 and no skew',
    );
    expect(membersOf(agree36).every((m) => /^3\.6\.\d+$/.test(m.version ?? ''))).toBe(true);
    expect(condition(agree36, 'Available')).toMatchObject({ status: 'True' });
  });
});
