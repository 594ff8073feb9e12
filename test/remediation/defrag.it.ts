// Automated defragmentation end to end: a real kube-apiserver with the CRD, a real 3-member etcd
// cluster fragmented by write/delete/compact, a real Prometheus scraping it, and the operator as
// its own process. Mode Recommend first (nothing may touch etcd), then Automatic (member by
// member, leader last), then the safety rules with a member down, the kill switch and CORRUPT.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { eventually } from '../harness/eventually.js';
import { fragment } from '../harness/faults.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import {
  defragIntervals,
  historyOf,
  memberSizes,
  overlapping,
  overlappingRecords,
  story,
} from './e2e-support.js';

const ns = 'etcd-team';
const leaseNs = 'etcd-health-operator';
const NAME = 'main';
const MiB = 2 ** 20;

let cp: ControlPlane;
let cluster: EtcdCluster;
let prometheus: PrometheusServer;
let operator: OperatorProcess;
let checks: NamespacedChecks;

/** Calls etcd answered per gRPC method, summed over members, as Prometheus last scraped them. */
async function mutatingCalls(): Promise<Record<string, number>> {
  const result = await prometheus.query(
    'sum by (grpc_method) (grpc_server_handled_total{job="etcd",grpc_method=~"Defragment|Compact|MoveLeader"})',
  );
  return Object.fromEntries(result.map((sample) => [sample.metric.grpc_method!, Number(sample.value[1])]));
}

/** Waits until Prometheus scraped every running member after `since` (ms). */
async function scrapedAfter(since: number): Promise<void> {
  const running = cluster.members.filter((m) => m.running()).length;
  await eventually(
    async () => {
      // timestamp() of a plain selector is the scrape time; `and` keeps only targets that are up.
      const result = await prometheus.query('timestamp(up{job="etcd"}) and up{job="etcd"} == 1');
      return result.filter((s) => Number(s.value[1]) * 1000 > since).length >= running;
    },
    { timeoutMs: 30_000, description: 'a fresh scrape of every running member' },
  );
}

async function reconciles(): Promise<number> {
  return (await operator.metric('etcd_health_operator_reconcile_total')) ?? 0;
}

async function waitForReconciles(count: number): Promise<void> {
  const start = await reconciles();
  await eventually(async () => (await reconciles()) >= start + count, {
    timeoutMs: 90_000,
    description: `${count} more reconciles`,
  });
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 3 })]);
  prometheus = await startPrometheus(cluster);
  await cp.createNamespace(ns);
  await cp.createNamespace(leaseNs);
  checks = checksIn(cp.kubeConfig, ns);
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('remediation-operator-logs'),
    identity: 'operator-a',
    leaseNamespace: leaseNs,
  });
  await prometheus.waitForScrapes(2);
});

afterAll(async () => {
  await cluster?.stop();
  await cleanupAll();
});

const spec = (remediation: Record<string, unknown>) => ({
  etcd: { endpoints: cluster.endpoints },
  prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'], rateWindow: '1m' },
  interval: '10s',
  thresholds: {
    degradedInertia: '0s',
    // A test DB of ~10 MiB must qualify; the percentage stays the shipped 45%.
    fragmentation: { minDatabaseSize: '1Mi' },
    walFsyncP99: { warning: '1s', critical: '2s' },
    backendCommitP99: { warning: '1s', critical: '2s' },
    peerRoundTripP99: { warning: '1s', critical: '2s' },
  },
  remediation,
});

describe('automated defragmentation on real etcd', () => {
  let fragmentedSizes: Record<string, { dbSize: number }>;

  it('mode Recommend recommends the defragmentation and never touches etcd', async () => {
    await fragment(cluster, { keys: 600, valueBytes: 16 * 1024 });
    fragmentedSizes = await memberSizes(cluster);
    for (const size of Object.values(fragmentedSizes)) expect(size.dbSize).toBeGreaterThan(8 * MiB);
    await scrapedAfter(Date.now());
    // The fragmentation helper compacted once itself: that call is the baseline.
    const before = await mutatingCalls();

    // Any write of the operator (the verification write) would show on this watch.
    const watcher = cluster.client();
    const writes: string[] = [];
    const watch = await watcher.watch().prefix('etcd-health-operator/').create();
    watch.on('put', (kv) => writes.push(`put ${kv.key.toString()}`));
    watch.on('delete', (kv) => writes.push(`delete ${kv.key.toString()}`));

    await checks.create(
      NAME,
      spec({ mode: 'Recommend', compaction: { enabled: true, retainRevisions: 1000 } }),
    );
    const recommended = await eventually(
      async () => {
        const check = await checks.get(NAME);
        const targets = (check.status?.recommendations ?? [])
          .filter((r) => r.type === 'Defragment')
          .map((r) => r.target);
        return targets.length === 3 && check;
      },
      { timeoutMs: 60_000, description: 'Defragment recommendations for all three members' },
    );
    expect(conditionOf(recommended, 'RemediationProgressing')).toMatchObject({
      status: 'False',
      reason: 'RecommendOnly',
    });
    await waitForReconciles(3);
    const end = Date.now();
    await scrapedAfter(end);

    expect(await mutatingCalls()).toEqual(before);
    expect(before.Defragment ?? 0).toBe(0);
    expect(before.MoveLeader ?? 0).toBe(0);
    expect(writes).toEqual([]);
    const after = await memberSizes(cluster);
    for (const [name, size] of Object.entries(after)) expect(size.dbSize).toBe(fragmentedSizes[name]!.dbSize);
    expect((await checks.get(NAME)).status?.remediation).toBeUndefined();
    expect(await operator.metric('etcd_health_operator_remediation_total')).toBeUndefined();
    expect(defragIntervals(cluster)).toEqual([]);
    await watch.cancel();
  });

  it('mode Automatic defragments member by member, the leader last after moving its leadership', async () => {
    const leaderBefore = await cluster.waitForLeader();
    const started = Date.now();
    await checks.patchSpec(NAME, {
      remediation: { mode: 'Automatic', settleTime: '3s', memberCooldown: '1h' },
    });

    const progressing = new Set<string>();
    const done = await eventually(
      async () => {
        const check = await checks.get(NAME);
        const p = conditionOf(check, 'Progressing');
        if (p?.status === 'True') progressing.add(p.message);
        const defragmented = new Set(
          historyOf(check)
            .filter((r) => r.action === 'Defragment' && r.phase === 'Succeeded')
            .map((r) => r.member),
        );
        return defragmented.size === 3 && check.status?.remediation?.current === undefined && check;
      },
      { timeoutMs: 120_000, intervalMs: 200, description: 'every member defragmented' },
    );
    const seconds = (Date.now() - started) / 1000;
    const history = historyOf(done);

    // One member at a time: in the status, and in etcd's own logs.
    expect(overlappingRecords(history)).toEqual([]);
    const intervals = defragIntervals(cluster);
    expect(intervals).toHaveLength(3);
    expect(overlapping(intervals)).toEqual([]);
    // Prometheus saw at most one defragmentation in flight at any time.
    const inflight = await prometheus.query(
      'max_over_time(sum(etcd_disk_defrag_inflight{job="etcd"})[5m:1s])',
    );
    expect(Number(inflight[0]?.value[1] ?? 0)).toBeLessThanOrEqual(1);

    // The leader's turn came last, after its leadership moved away.
    expect(story(history)).toEqual([
      expect.stringMatching(/^Defragment member-\d Succeeded/),
      expect.stringMatching(/^Defragment member-\d Succeeded/),
      `MoveLeader ${leaderBefore} Succeeded (HighFragmentation)`,
      `Defragment ${leaderBefore} Succeeded (HighFragmentation)`,
    ]);
    expect((await cluster.waitForLeader()) !== leaderBefore).toBe(true);

    // dbSize fell on every member.
    const after = await memberSizes(cluster);
    for (const [name, size] of Object.entries(after)) {
      expect(size.dbSize).toBeLessThan(fragmentedSizes[name]!.dbSize / 4);
    }
    for (const record of history.filter((r) => r.action === 'Defragment')) {
      expect(record.dbSizeAfter!).toBeLessThan(record.dbSizeBefore! / 4);
    }

    // Reported: Progressing while it ran, Events, metrics; Progressing back to False after.
    expect(progressing.size).toBeGreaterThan(0);
    const events = await checks.eventsOf(NAME);
    const reasons = events.map((e) => e.reason);
    expect(reasons.filter((r) => r === 'DefragmentSucceeded')).toHaveLength(3);
    expect(reasons).toEqual(
      expect.arrayContaining(['DefragmentAttempt', 'MoveLeaderSucceeded', 'ProgressingTrue']),
    );
    expect(
      await operator.metric('etcd_health_operator_remediation_total', {
        action: 'Defragment',
        result: 'success',
      }),
    ).toBe(3);
    expect(
      await operator.metric('etcd_health_operator_remediation_total', {
        action: 'MoveLeader',
        result: 'success',
      }),
    ).toBe(1);
    await eventually(async () => conditionOf(await checks.get(NAME), 'Progressing')?.status === 'False', {
      timeoutMs: 60_000,
      description: 'Progressing=False after the run',
    });
    expect(await operator.metric('etcd_health_check_remediation_in_progress', { name: NAME })).toBe(0);
    console.log(
      `defragmented 3 members in ${seconds.toFixed(1)}s: ${story(history).join(', ')}; progressing: ${[...progressing].join(' | ')}`,
    );
  });

  it('with a member down nothing starts and the deferral is reported; the kill switch stops everything', async () => {
    await checks.patchSpec(NAME, { remediation: { paused: true, memberCooldown: '1s' } });
    await eventually(
      async () => conditionOf(await checks.get(NAME), 'RemediationProgressing')?.reason === 'Paused',
      { timeoutMs: 60_000, description: 'RemediationProgressing reason Paused' },
    );
    // Paused, nothing starts although every member qualifies again.
    await fragment(cluster, { keys: 600, valueBytes: 16 * 1024 });
    const defragsBefore = defragIntervals(cluster).length;
    await waitForReconciles(2);
    expect(defragIntervals(cluster)).toHaveLength(defragsBefore);

    const leader = await cluster.waitForLeader();
    const down = cluster.members.find((m) => m.name !== leader)!.name;
    await cluster.killMember(down);
    const historyBefore = historyOf(await checks.get(NAME)).length;
    await checks.patchSpec(NAME, { remediation: { paused: false } });
    const blocked = await eventually(
      async () => {
        const check = await checks.get(NAME);
        const c = conditionOf(check, 'RemediationProgressing');
        return c?.reason === 'RemediationBlocked' && c.message.includes('ClusterUnhealthy') && check;
      },
      { timeoutMs: 60_000, description: 'the deferral in RemediationProgressing' },
    );
    expect(conditionOf(blocked, 'RemediationProgressing')?.message).toContain(`${down} is unreachable`);
    const event = await eventually(
      async () => (await checks.eventsOf(NAME)).find((e) => e.reason === 'ClusterUnhealthy'),
      { description: 'a ClusterUnhealthy Event' },
    );
    expect(event.type).toBe('Warning');
    expect(event.note).toContain(down);
    await waitForReconciles(2);
    // etcd's own logs, not Prometheus: a dead member's counters vanish from sums.
    expect(defragIntervals(cluster)).toHaveLength(defragsBefore);
    expect(historyOf(await checks.get(NAME))).toHaveLength(historyBefore);
    expect(
      await operator.metric('etcd_health_operator_remediation_deferrals_total', {
        reason: 'ClusterUnhealthy',
      }),
    ).toBeGreaterThanOrEqual(1);

    // Back to full health: the run resumes on its own.
    await cluster.restartMember(down);
    await eventually(
      async () =>
        historyOf(await checks.get(NAME)).filter((r) => r.action === 'Defragment').length > historyBefore,
      { timeoutMs: 120_000, description: 'remediation resumes once the member is back' },
    );
  });

  it('with a CORRUPT alarm nothing is ever done automatically', async () => {
    // Let the resumed run finish, then fragment again so that there is work it would do.
    await eventually(
      async () => {
        const check = await checks.get(NAME);
        return (
          check.status?.remediation?.current === undefined &&
          conditionOf(check, 'Progressing')?.status === 'False'
        );
      },
      { timeoutMs: 150_000, description: 'the resumed run to finish' },
    );
    await checks.patchSpec(NAME, { remediation: { paused: true } });
    await fragment(cluster, { keys: 600, valueBytes: 16 * 1024 });
    const client = new Etcd3({ hosts: cluster.endpoints });
    const status = await client.maintenance.status();
    await client.maintenance.alarm({
      action: 'Activate',
      memberID: status.header.member_id,
      alarm: 'Corrupt',
    });
    try {
      const sizes = await memberSizes(cluster);
      const historyBefore = historyOf(await checks.get(NAME)).length;
      await scrapedAfter(Date.now());
      const before = await mutatingCalls();
      await checks.patchSpec(NAME, { remediation: { paused: false } });
      const blocked = await eventually(
        async () => {
          const check: EtcdHealthCheck = await checks.get(NAME);
          const c = conditionOf(check, 'RemediationProgressing');
          return c?.message.includes('CorruptAlarm') && check;
        },
        { timeoutMs: 60_000, description: 'the CORRUPT deferral' },
      );
      expect(conditionOf(blocked, 'RemediationProgressing')).toMatchObject({
        status: 'False',
        reason: 'RemediationBlocked',
      });
      expect(conditionOf(blocked, 'AlarmsDegraded')).toMatchObject({
        status: 'True',
        reason: 'CorruptAlarm',
      });
      const event = await eventually(
        async () => (await checks.eventsOf(NAME)).find((e) => e.reason === 'CorruptAlarm'),
        {
          description: 'a CorruptAlarm Event',
        },
      );
      expect(event.type).toBe('Warning');
      await waitForReconciles(3);
      await scrapedAfter(Date.now());
      expect(await mutatingCalls()).toEqual(before);
      expect(historyOf(await checks.get(NAME))).toHaveLength(historyBefore);
      const after = await memberSizes(cluster);
      for (const [name, size] of Object.entries(after)) expect(size.dbSize).toBe(sizes[name]!.dbSize);
    } finally {
      await client.maintenance.alarm({
        action: 'Deactivate',
        memberID: status.header.member_id,
        alarm: 'Corrupt',
      });
      client.close();
    }
  });

  it('compacts a cluster that does not compact itself once its history exceeds the bound', async () => {
    // After CORRUPT is gone the operator finishes the defragmentations it had to leave; then the
    // history grows by 1500 revisions, beyond retainRevisions: 1000 (set when the check was created).
    await eventually(
      async () => {
        const check = await checks.get(NAME);
        return (
          !check.status?.recommendations?.some((r) => r.type === 'Defragment') &&
          check.status?.remediation?.current === undefined &&
          conditionOf(check, 'Progressing')?.status === 'False'
        );
      },
      { timeoutMs: 120_000, description: 'the defragmentations after CORRUPT to finish' },
    );
    const client = cluster.client();
    for (let i = 0; i < 1500; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          client
            .put(`/history/${j % 10}`)
            .value(String(i + j))
            .exec(),
        ),
      );
    }
    const written = Number((await client.get('/history/0').exec()).header.revision);
    const compaction = await eventually(
      async () =>
        historyOf(await checks.get(NAME)).find(
          (r) => r.action === 'Compact' && r.reason === 'HistoryBound' && r.phase === 'Succeeded',
        ),
      { timeoutMs: 90_000, description: 'a compaction of the history' },
    );
    const revision = Number(/compacted to revision (\d+)/i.exec(compaction.message ?? '')?.[1]);
    expect(revision).toBeGreaterThanOrEqual(written - 1000);
    await expect(
      client
        .get('/history/0')
        .revision(String(revision - 1))
        .exec(),
    ).rejects.toThrow(/compacted/);
    await expect(client.get('/history/0').revision(String(revision)).exec()).resolves.toBeDefined();
    expect(
      await operator.metric('etcd_health_operator_remediation_total', {
        action: 'Compact',
        result: 'success',
      }),
    ).toBe(1);
    // One compaction, not one per check: the next waits for more history (and at least 5 minutes).
    await waitForReconciles(2);
    expect(historyOf(await checks.get(NAME)).filter((r) => r.action === 'Compact')).toHaveLength(1);
  });
});
