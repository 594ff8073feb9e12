// `etcd-health check` without Prometheus on a TLS cluster with a slow disk on member-3: the CLI
// samples every member's /metrics twice (client URLs, the etcd TLS flags) and must name the slow
// member, with a WAL fsync p99 within one histogram bucket of what a real Prometheus scraping the
// same members computes with histogram_quantile(0.99, rate(...[window])) over the same window.
// The members also serve /metrics on a plain-HTTP listener, as kubeadm's do: --metrics-urls.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCheck, type CheckRun } from '../harness/cli.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { cleanupAll } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

const SLOW = 'member-3';
const WINDOW_SECONDS = 15;
// etcd's WAL fsync buckets: prometheus.ExponentialBuckets(0.001, 2, 14), then +Inf.
const FSYNC_BOUNDS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

interface TimedRun extends CheckRun {
  /** When the run started and ended, ms since the epoch. */
  started: number;
  ended: number;
}

async function check(args: string[]): Promise<TimedRun> {
  const started = Date.now();
  const run = await runCheck(args, { dropped: (name) => name.startsWith('ETCDCTL_') });
  return { ...run, started, ended: Date.now() };
}

/** "97.3ms", "1.2s", "850µs" (formatSeconds) in seconds. */
function seconds(text: string | undefined): number {
  const match = /^([0-9.]+)(µs|ms|s)$/.exec(text ?? '');
  if (!match) throw new Error(`not a latency: ${text}`);
  return Number(match[1]) / { µs: 1e6, ms: 1e3, s: 1 }[match[2] as 'µs' | 'ms' | 's'];
}

/** Index of the fsync bucket a p99 falls in (le bound at or above it; past the last: +Inf). */
function bucketOf(p99: number): number {
  const index = FSYNC_BOUNDS.findIndex((bound) => p99 <= bound);
  return index < 0 ? FSYNC_BOUNDS.length : index;
}

interface JsonResult {
  result: { verdict: string; exitCode: number; reasons: string[]; skippedChecks: string[] };
  status: {
    conditions: { type: string; status: string; reason: string; message: string }[];
    members: { name: string; walFsyncP99?: string; backendCommitP99?: string; peerRoundTripP99?: string }[];
  };
}

describe('etcd-health check without Prometheus on a slow-disk TLS cluster', () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;
  let load: WriteLoad;
  let tlsFlags: string[];

  beforeAll(async () => {
    cluster = await startEtcdCluster({
      members: 3,
      tls: true,
      slowDisk: { member: SLOW, delayUs: 80_000 },
      metricsListener: true,
    });
    prometheus = await startPrometheus(cluster);
    load = startWriteLoad(cluster, { perSecond: 20 });
    await prometheus.waitForScrapes(3);
    const tls = cluster.tls!;
    tlsFlags = ['--cacert', tls.ca.certPath, '--cert', tls.client.certPath, '--key', tls.client.keyPath];
  });
  afterAll(async () => {
    await load?.stop();
    await prometheus?.stop();
    await cluster?.stop();
    await cleanupAll();
  });

  it(`names ${SLOW} with a WAL fsync p99 within one bucket of Prometheus' for the same window`, async () => {
    const before = load.report();
    const args = [
      '--endpoints',
      cluster.endpoints.join(','),
      ...tlsFlags,
      '--sample-window',
      `${WINDOW_SECONDS}s`,
      '-o',
      'json',
    ];
    // The slow member's p99 lands above 50ms once its fsyncs are in the window; the first run
    // may begin before the load reached it, and on a loaded shared machine a fast member's disk
    // can stall for a moment too (test/sources/slow-disk.it.ts polls for the same reason).
    let last: TimedRun | undefined;
    const run = await eventually(
      async () => {
        last = await check(args);
        if (last.code !== 2) return false;
        const p99s = new Map(
          (JSON.parse(last.stdout) as JsonResult).status.members.map((m) => [m.name, m.walFsyncP99]),
        );
        const fastOnes = cluster.members.filter((m) => m.name !== SLOW);
        return (
          seconds(p99s.get(SLOW)) > 0.05 && fastOnes.every((m) => seconds(p99s.get(m.name)) < 0.05) && last
        );
      },
      {
        timeoutMs: 150_000,
        intervalMs: 1_000,
        description: `etcd-health check to exit 2 (critical) with ${SLOW}'s WAL fsync p99 > 50ms and the others below`,
      },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n--- stdout\n${last?.stdout}\n--- stderr\n${last?.stderr}`,
        {
          cause: error,
        },
      );
    });
    expect(run.stderr).toBe(
      `etcd-health: querying etcd (3 endpoints) and sampling /metrics of 3 members over ${WINDOW_SECONDS}s ...\n`,
    );
    // Both samples are a window apart: the run cannot be shorter.
    expect(run.ended - run.started).toBeGreaterThanOrEqual(WINDOW_SECONDS * 1000);
    const parsed = JSON.parse(run.stdout) as JsonResult;
    expect(parsed.result.verdict).toBe('Critical');
    const named = parsed.result.reasons.filter((reason) => reason.includes(SLOW) && /WAL fsync/.test(reason));
    expect(named).toHaveLength(1);
    // Two samples cannot answer leader changes in 1h or growth over hours: skipped, not healthy.
    expect(parsed.result.skippedChecks).toEqual(['LeaderChanges', 'Growth']);
    const metricsCondition = parsed.status.conditions.find((c) => c.type === 'MetricsSourceReachable');
    expect(metricsCondition).toMatchObject({ status: 'True', reason: 'MetricsAvailable' });

    const members = new Map(parsed.status.members.map((m) => [m.name, m]));
    const ours = seconds(members.get(SLOW)?.walFsyncP99);
    expect(ours).toBeGreaterThan(0.05);
    for (const member of cluster.members.filter((m) => m.name !== SLOW))
      expect(seconds(members.get(member.name)?.walFsyncP99)).toBeLessThan(0.05);

    // Prometheus, over the same window, evaluated when the CLI took its second sample.
    const slowMember = cluster.member(SLOW);
    const at = (run.ended / 1000).toFixed(3);
    const theirs = await prometheus.query(
      `histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{job="etcd",instance="${slowMember.ip}:2379"}[${WINDOW_SECONDS}s] @ ${at})))`,
    );
    expect(theirs).toHaveLength(1);
    const prometheusP99 = Number(theirs[0]!.value[1]);
    expect(Number.isFinite(prometheusP99)).toBe(true);
    const distance = Math.abs(bucketOf(ours) - bucketOf(prometheusP99));
    // Both values are shown when they are further apart.
    expect({ ours, prometheusP99, withinOneBucket: distance <= 1 }).toEqual({
      ours,
      prometheusP99,
      withinOneBucket: true,
    });

    // The fsyncs measured were the load's: its puts went through, slowly, and none failed.
    load.verify({ minWrites: 20, since: before });
  });

  it('says in the report that the numbers came from sampling /metrics', async () => {
    const run = await check([
      '--endpoints',
      cluster.endpoints.join(','),
      ...tlsFlags,
      '--sample-window',
      '5s',
      '-q',
    ]);
    expect(run.stdout).toContain("metrics: each member's /metrics sampled twice over 5s:");
    expect(run.stdout).toMatch(new RegExp(`${SLOW} .*https://`));
    expect(run.stdout).toContain(
      "not checked from a /metrics sample (they need Prometheus' history): leader changes, DB growth",
    );
    expect(run.stderr).toBe('');
  });

  it('samples a separate metrics listener with --metrics-urls and attributes it to the member on that host', async () => {
    const listeners = cluster.members.map((m) => m.metricsURL!);
    expect(listeners.every((url) => url.startsWith('http://'))).toBe(true);
    const args = [
      '--endpoints',
      cluster.endpoints.join(','),
      ...tlsFlags,
      '--metrics-urls',
      listeners.join(','),
      // etcd observes each peer's round trip every 30s: 31s holds one of every peer.
      '--sample-window',
      '31s',
      '-o',
      'json',
      '-q',
    ];
    let last: TimedRun | undefined;
    const run = await eventually(
      async () => {
        last = await check(args);
        return last.code === 2 && last;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, description: 'etcd-health check to exit 2 (critical)' },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n--- stdout\n${last?.stdout}\n--- stderr\n${last?.stderr}`,
        {
          cause: error,
        },
      );
    });
    const parsed = JSON.parse(run.stdout) as JsonResult;
    expect(
      parsed.result.reasons.filter((reason) => reason.includes(SLOW) && /WAL fsync/.test(reason)),
    ).toHaveLength(1);
    const members = new Map(parsed.status.members.map((m) => [m.name, m]));
    expect(seconds(members.get(SLOW)?.walFsyncP99)).toBeGreaterThan(0.05);
    // Every member's series were attributed to it: none is missing, peer round trips included.
    for (const member of cluster.members) {
      expect(members.get(member.name)?.walFsyncP99).toMatch(/^[0-9.]+(µs|ms|s)$/);
      expect(members.get(member.name)?.peerRoundTripP99).toMatch(/^[0-9.]+(µs|ms|s)$/);
    }
    expect(parsed.status.conditions.find((c) => c.type === 'MetricsSourceReachable')).toMatchObject({
      status: 'True',
      reason: 'MetricsAvailable',
    });
  });
});
