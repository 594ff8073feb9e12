// `npm run bench:detect`: how fast the operator detects etcd faults, against the alerts the anchors
// publish (the etcd mixin and cluster-etcd-operator, bench/detect/anchor-rules.yaml), on real parts
// at production defaults: checks every 30 s with a 5 m rate window and a 2 m degraded inertia,
// Prometheus scraping and evaluating every 30 s.
//
// One run injects every fault at once, each on its own 3-member etcd cluster, beside a healthy
// cluster that must stay quiet; one Prometheus scrapes them all (a `cluster` label per cluster) with
// the anchors' rules loaded; one kube-apiserver, whose own etcd is one of the faulted clusters; the
// compiled operator with one EtcdHealthCheck per cluster. A poller reads every CR and
// ALERTS{alertstate="firing"} every few seconds for the window (20 minutes by default) after the
// faults. Results: bench/results/detect-<time>.{json,md}.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import type { EtcdHealthCheck } from '../src/api/v1alpha1/index.js';
import { allocateAddressBlock } from '../test/harness/addresses.js';
import { checksApi, conditionOf } from '../test/harness/checks.js';
import { startControlPlane } from '../test/harness/controlplane.js';
import {
  startEtcdClusterWithSlowDisk,
  type EtcdCluster,
  type SlowDiskControl,
} from '../test/harness/etcd-cluster.js';
import { fillQuota, startWriteLoad, type WriteLoad } from '../test/harness/faults.js';
import { makeTempDir } from '../test/harness/process.js';
import { Teardown } from '../test/harness/teardown.js';
import { startDetectPrometheus, type DetectPrometheus } from './detect/prometheus.js';
import {
  renderDetect,
  renderRuns,
  type AlertFiring,
  type DetectReport,
  type FaultResult,
  type Machine,
  type OurTransition,
} from './detect/report.js';
import { buildOperators, deployedNodeArgs, shellOutput, startUnderTest } from './processes.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = join(REPO, 'bench/results');
const RULES = join(REPO, 'bench/detect/anchor-rules.yaml');
/** Production: Prometheus Operator's default and the mixin's scrape_interval_seconds. */
const SCRAPE_SECONDS = 30;
const POLL_MS = 5_000;
const CALL_DEADLINE_MS = 10_000;
/** A small quota so that the quota faults fill in seconds; production quotas are 2-8 GiB. */
const QUOTA_BYTES = 64 * 1024 * 1024;
const FILL_VALUE_BYTES = 512 * 1024;
/** The leader is killed (and restarted at once) this often while the flapping fault lasts. */
const FLAP_EVERY_MS = 60_000;
const SETTLE_DEADLINE_MS = 360_000;
/** Writes per second on each cluster: fsync and commit histograms need observations. */
const WRITES_PER_SECOND = 5;

const FAULT_IDS = [
  'slow-disk-80ms',
  'slow-disk-20ms',
  'member-killed',
  'leader-flapping',
  'quota-80',
  'quota-nospace',
  'apiserver-etcd-slow',
] as const;
type FaultId = (typeof FAULT_IDS)[number];
const HEALTHY = 'healthy';

const USAGE = `Usage: npm run bench:detect [-- options]

  --window 20m        observation window after the faults (default 20m)
  --faults a,b        only these faults (default all: ${FAULT_IDS.join(', ')})
  --from-json FILE    write the .md of a saved run again (bench/results/detect-*.json); nothing is started
  --runs A,B          print one table over saved runs (for BENCHMARKS.md); nothing is started
  -h, --help
`;

const runStarted = Date.now();
function step(text: string): void {
  const s = Math.floor((Date.now() - runStarted) / 1000);
  process.stdout.write(`[${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}] ${text}\n`);
}
const teardown = new Teardown(step);

function parseDuration(text: string): number {
  const match = /^(\d+)(s|m)$/.exec(text);
  if (!match) throw new Error(`--window: a whole number of s or m, e.g. 20m; got ${text}`);
  return Number(match[1]) * (match[2] === 's' ? 1_000 : 60_000);
}

/** A call that gives up after CALL_DEADLINE_MS (client-node has no per-call deadline here). */
async function withDeadline<T>(what: string, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: no answer in ${CALL_DEADLINE_MS}ms`)),
          CALL_DEADLINE_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function machine(): Machine {
  return {
    nproc: shellOutput('nproc'),
    cpu: shellOutput("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim(),
    memory: shellOutput('free -m | awk \'/^Mem:/ {print $2 " MiB total, " $7 " MiB available"}\''),
    kernel: shellOutput('uname -r'),
    node: process.version,
    uptime: shellOutput('uptime'),
  };
}

type Cluster = EtcdCluster & SlowDiskControl;

/** Everything the poller saw, in wall-clock milliseconds. */
interface Seen {
  transitions: Map<string, (OurTransition & { at: number })[]>;
  alerts: Map<string, (AlertFiring & { at: number })[]>;
}

interface Injected {
  /** When the fault was in effect (wall clock). */
  at: number;
  note: string;
}

interface Fault {
  id: FaultId;
  text: string;
  cause: string;
  quota?: boolean;
  /** Injects the fault; resolves once it is in effect, with the member it is on. */
  inject(
    cluster: Cluster,
    until: () => number,
  ): Promise<{ member?: string; injected: Injected; running?: Promise<void> }>;
}

/** A follower: a fault on it leaves the leader, and so the cluster's writes, where they were. */
async function follower(cluster: Cluster): Promise<string> {
  const leader = await cluster.waitForLeader();
  return cluster.members.map((m) => m.name).find((name) => name !== leader)!;
}

async function slowDisk(cluster: Cluster, delayMs: number) {
  const member = await follower(cluster);
  const started = Date.now();
  await cluster.slowDownMember(member, delayMs * 1000);
  return {
    member,
    injected: {
      at: Date.now(),
      note: `${member} (a follower) restarted under strace in ${((Date.now() - started) / 1000).toFixed(1)} s, every fsync/fdatasync delayed by ${delayMs} ms.`,
    },
  };
}

/** Puts FILL_VALUE_BYTES values until the database is at least `ratio` of the quota. */
async function fillTo(cluster: Cluster, ratio: number): Promise<number> {
  const client = cluster.client();
  const value = Buffer.alloc(FILL_VALUE_BYTES, 'q');
  for (let i = 0; i < 1_000; i++) {
    const status = await client.maintenance.status();
    const size = Number(status.dbSize);
    if (size >= ratio * QUOTA_BYTES) return size;
    await client.put(`/fill-to/${i}`).value(value).exec();
  }
  throw new Error(`database not at ${ratio * 100} % of the quota after 1000 puts`);
}

const FAULTS: Fault[] = [
  {
    id: 'slow-disk-80ms',
    text: "one member's disk slowed: fdatasync +80 ms",
    cause: 'DiskLatency',
    inject: (cluster) => slowDisk(cluster, 80),
  },
  {
    id: 'slow-disk-20ms',
    text: "one member's disk slowed: fdatasync +20 ms",
    cause: 'DiskLatency',
    inject: (cluster) => slowDisk(cluster, 20),
  },
  {
    id: 'member-killed',
    text: 'a member killed (SIGKILL, stays down)',
    cause: 'EtcdMembers',
    async inject(cluster) {
      const member = await follower(cluster);
      await cluster.killMember(member);
      return { member, injected: { at: Date.now(), note: `${member} (a follower) killed with SIGKILL.` } };
    },
  },
  {
    id: 'leader-flapping',
    text: `the leader killed and restarted every ${FLAP_EVERY_MS / 1000} s (flapping)`,
    cause: 'LeaderElection',
    async inject(cluster, until) {
      const kills: string[] = [];
      const first = await cluster.killLeader();
      const at = Date.now();
      kills.push(first);
      const injected: Injected = { at, note: '' };
      // Kill, restart, wait out the period; the note is complete once the loop ends.
      const running = (async () => {
        let killed = first;
        let failure = '';
        try {
          for (;;) {
            await cluster.restartMember(killed);
            const next = at + kills.length * FLAP_EVERY_MS;
            if (next >= until()) break;
            await sleep(Math.max(0, next - Date.now()));
            killed = await cluster.killLeader();
            kills.push(killed);
          }
        } catch (error) {
          failure = ` The loop stopped: ${(error as Error).message}.`;
        }
        injected.note = `${kills.length} leaders killed, one every ${FLAP_EVERY_MS / 1000} s, each restarted at once: ${kills.join(', ')}.${failure}`;
      })();
      return { injected, running };
    },
  },
  {
    id: 'quota-80',
    text: 'quota filled to 80 %',
    cause: 'DatabaseQuota',
    quota: true,
    async inject(cluster) {
      const started = Date.now();
      const size = await fillTo(cluster, 0.8);
      return {
        injected: {
          at: Date.now(),
          note: `filled with ${FILL_VALUE_BYTES / 1024} KiB values to ${(size / 2 ** 20).toFixed(1)} MiB of the ${QUOTA_BYTES / 2 ** 20} MiB quota (${((100 * size) / QUOTA_BYTES).toFixed(1)} %) in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        },
      };
    },
  },
  {
    id: 'quota-nospace',
    text: 'quota filled to NOSPACE',
    cause: 'Alarms|DatabaseQuota',
    quota: true,
    async inject(cluster) {
      const started = Date.now();
      const puts = await fillQuota(cluster, { valueBytes: FILL_VALUE_BYTES });
      return {
        injected: {
          at: Date.now(),
          note: `${puts} puts of ${FILL_VALUE_BYTES / 1024} KiB until etcd refused with "database space exceeded" (NOSPACE alarm), in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        },
      };
    },
  },
  {
    id: 'apiserver-etcd-slow',
    text: "the kube-apiserver's etcd slowed: its leader's fdatasync +80 ms",
    cause: 'DiskLatency',
    async inject(cluster) {
      const member = await follower(cluster);
      const started = Date.now();
      await cluster.slowDownMember(member, 80_000);
      // Then make it the leader: the leader's WAL fsync is in every write's path, so the API slows.
      const leader = await cluster.waitForLeader();
      const ids = await cluster.client().cluster.memberList({});
      const target = ids.members.find((m) => m.name === member);
      let moved: string;
      try {
        const leaderClient = cluster.client([cluster.member(leader).clientURL]);
        await leaderClient.maintenance.moveLeader({ targetID: target!.ID });
        moved = `leadership moved from ${leader} to it`;
      } catch (error) {
        moved = `leadership not moved (${(error as Error).message}), ${leader} leads`;
      }
      return {
        member,
        injected: {
          at: Date.now(),
          note: `${member} of the kube-apiserver's etcd restarted under strace (every fsync/fdatasync +80 ms) in ${((Date.now() - started) / 1000).toFixed(1)} s, ${moved}.`,
        },
      };
    },
  },
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      window: { type: 'string', default: '20m' },
      faults: { type: 'string' },
      'from-json': { type: 'string' },
      runs: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values['from-json']) return rerender(values['from-json']);
  if (values.runs) {
    const runs = values.runs.split(',').map((path) => ({
      path,
      report: JSON.parse(readFileSync(resolve(REPO, path), 'utf8')) as DetectReport,
    }));
    process.stdout.write(`${renderRuns(runs)}\n`);
    return 0;
  }
  const windowMs = parseDuration(values.window);
  const chosen = values.faults?.split(',') ?? [...FAULT_IDS];
  const unknown = chosen.filter((id) => !(FAULT_IDS as readonly string[]).includes(id));
  if (unknown.length)
    throw new Error(`--faults: unknown ${unknown.join(', ')}; known: ${FAULT_IDS.join(', ')}`);
  const faults = FAULTS.filter((f) => chosen.includes(f.id));
  const command = `npm run bench:detect -- --window ${values.window}${values.faults ? ` --faults ${values.faults}` : ''}`;
  teardown.onSignals((code) => process.exit(code));
  const machineBefore = machine();
  const startedAt = new Date().toISOString();
  step(`detection benchmark, window ${values.window}; ${machineBefore.uptime}`);

  step(`building the operator; starting ${faults.length + 1} etcd clusters of 3 members`);
  const builds = buildOperators();
  const clusters = new Map<string, Cluster>();
  const labels = [...faults.map((f) => f.id), HEALTHY];
  // Two at a time: 24 etcd members starting at once on 2 busy cores miss their election deadlines.
  for (let i = 0; i < labels.length; i += 2) {
    await Promise.all(
      labels.slice(i, i + 2).map(async (label) => {
        const quota = faults.find((f) => f.id === label)?.quota;
        const cluster = await startEtcdClusterWithSlowDisk({
          members: 3,
          ...(quota && { quotaBackendBytes: QUOTA_BYTES }),
        });
        teardown.add(`etcd ${label}`, () => cluster.stop());
        clusters.set(label, cluster);
      }),
    );
  }
  const apiserverEtcd = clusters.get('apiserver-etcd-slow');
  step(
    `starting the kube-apiserver${apiserverEtcd ? ' on the cluster apiserver-etcd-slow' : ''} and Prometheus`,
  );
  const cp = await startControlPlane(apiserverEtcd ? { etcdServers: apiserverEtcd.endpoints.join(',') } : {});
  teardown.add('kube-apiserver', () => cp.stop());
  const promAddresses = await allocateAddressBlock();
  teardown.add('Prometheus address block', () => Promise.resolve(promAddresses.release()));
  const prometheus = await startDetectPrometheus({
    clusters: Object.fromEntries(clusters),
    rulesPath: RULES,
    addresses: promAddresses,
    intervalSeconds: SCRAPE_SECONDS,
  });
  teardown.add('Prometheus', () => prometheus.stop());
  const loads = new Map<string, WriteLoad>();
  for (const [label, cluster] of clusters) {
    const load = startWriteLoad(cluster, {
      perSecond: WRITES_PER_SECOND,
      expectedErrors:
        /unavailable|deadline|connect|closed|timed? ?out|no leader|leader changed|space exceeded/i,
    });
    loads.set(label, load);
    teardown.add(`write load ${label}`, async () => void (await load.stop()));
  }

  const operator = await startUnderTest('real', {
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('detect-operator'),
    builds,
    nodeArgs: deployedNodeArgs(),
  });
  teardown.add('operator', () => operator.stop());
  step(`operator PID ${operator.pid}, log ${operator.logPath}`);
  const checks = checksApi(cp.kubeConfig);
  const namespaceOf = (label: string) => `detect-${label}`;
  for (const [label, cluster] of clusters) {
    await cp.createNamespace(namespaceOf(label));
    // Production defaults: nothing but where to look.
    await checks.create(namespaceOf(label), 'etcd', {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"', `cluster="${label}"`] },
    });
  }

  const seen: Seen = { transitions: new Map(), alerts: new Map() };
  const views = new Map<string, EtcdHealthCheck>();
  let polling = true;
  const poller = (async () => {
    const last = new Map<string, string>();
    const firing = new Set<string>();
    while (polling) {
      const at = Date.now();
      await Promise.all(
        [...clusters.keys()].map(async (label) => {
          const check = await withDeadline('get CR', checks.get(namespaceOf(label), 'etcd')).catch(
            () => undefined,
          );
          if (!check) return;
          views.set(label, check);
          for (const c of check.status?.conditions ?? []) {
            const key = `${label}/${c.type}`;
            const state = `${c.status}/${c.reason}`;
            if (last.get(key) === state) continue;
            last.set(key, state);
            const list = seen.transitions.get(label) ?? [];
            list.push({ at, atS: 0, type: c.type, status: c.status, reason: c.reason, message: c.message });
            seen.transitions.set(label, list);
          }
        }),
      );
      const alerts = await prometheus.query('ALERTS{alertstate="firing"}').catch(() => undefined);
      for (const a of alerts ?? []) {
        const m = a.metric;
        const key = [m.cluster, m.anchor, m.alertname, m.severity, m.instance ?? ''].join('/');
        if (firing.has(key) || !m.cluster) continue;
        firing.add(key);
        const list = seen.alerts.get(m.cluster) ?? [];
        list.push({
          at,
          atS: 0,
          alertname: m.alertname ?? '',
          anchor: m.anchor ?? '',
          severity: m.severity ?? '',
          ...(m.instance && { instance: m.instance }),
        });
        seen.alerts.set(m.cluster, list);
      }
      await sleep(Math.max(0, at + POLL_MS - Date.now()));
    }
  })();
  teardown.add('poller', async () => {
    polling = false;
    await poller;
  });

  step(
    'waiting until every CR is settled (Available=True, Degraded=False, Upgradeable=True, metrics reachable)',
  );
  const settledDeadline = Date.now() + SETTLE_DEADLINE_MS;
  const settled = (label: string) => {
    const check = views.get(label);
    return (
      conditionOf(check, 'Available')?.status === 'True' &&
      conditionOf(check, 'Degraded')?.status === 'False' &&
      conditionOf(check, 'Upgradeable')?.status === 'True' &&
      conditionOf(check, 'MetricsSourceReachable')?.status === 'True' &&
      conditionOf(check, 'DiskLatencyDegraded')?.reason !== 'NoData'
    );
  };
  while (Date.now() < settledDeadline && ![...clusters.keys()].every(settled)) await sleep(2_000);
  const notes: string[] = [
    `Quota faults run on clusters with --quota-backend-bytes ${QUOTA_BYTES / 2 ** 20} MiB so that they fill in seconds (production: 2 GiB default, 8 GiB suggested maximum); thresholds are ratios, so the times are those of a full-size quota reached the same way.`,
    `Every cluster has a write load of ${WRITES_PER_SECOND} puts/s; the kube-apiserver stores into the cluster apiserver-etcd-slow, whose CR is the one that fault is judged by (the API latency check is not scoped by labelMatchers, so one scraped kube-apiserver would feed every CR: it is not scraped).`,
  ];
  const unsettled = [...clusters.keys()].filter((label) => !settled(label));
  if (unsettled.length)
    notes.push(
      `Not settled before the faults (after ${SETTLE_DEADLINE_MS / 60_000} min): ${unsettled.join(', ')}.`,
    );
  step(
    `settled: ${[...clusters.keys()].filter(settled).join(', ')}${unsettled.length ? `; NOT settled: ${unsettled.join(', ')}` : ''}`,
  );

  const windowStart = Date.now();
  step(`injecting ${faults.map((f) => f.id).join(', ')}`);
  const untilOf = new Map<FaultId, number>();
  const injections = await Promise.all(
    faults.map(async (fault) => {
      const started = Date.now();
      try {
        const result = await fault.inject(clusters.get(fault.id)!, () => untilOf.get(fault.id) ?? Infinity);
        untilOf.set(fault.id, result.injected.at + windowMs);
        step(`  ${fault.id}: in effect after ${((result.injected.at - started) / 1000).toFixed(1)} s`);
        return { fault, started, ...result };
      } catch (error) {
        step(`  ${fault.id}: injection failed: ${(error as Error).message}`);
        return {
          fault,
          started,
          injected: { at: Date.now(), note: `injection failed: ${(error as Error).message}` },
        };
      }
    }),
  );
  const end = Math.max(...injections.map((i) => i.injected.at + windowMs), windowStart + windowMs);
  while (Date.now() < end) {
    step(`observing; ${Math.ceil((end - Date.now()) / 60_000)} min left`);
    await sleep(Math.min(60_000, end - Date.now()));
  }
  for (const injection of injections) if ('running' in injection) await injection.running;
  polling = false;
  await poller;
  const walFsyncP99 = await fsyncOverWindow(prometheus, clusters, windowMs);

  const relativeTo = <T extends { at: number; atS: number }>(
    list: T[] | undefined,
    from: number,
    to: number,
    zero: number,
  ) =>
    (list ?? [])
      .filter((x) => x.at >= from && x.at <= to)
      .map(({ at, ...rest }) => ({ ...rest, atS: (at - zero) / 1000 }));
  const results: FaultResult[] = injections.map(({ fault, started, injected, ...rest }) => ({
    id: fault.id,
    fault: fault.text,
    ...('member' in rest && rest.member !== undefined && { member: rest.member }),
    cause: fault.cause,
    injectedAtS: (injected.at - runStarted) / 1000,
    note: injected.note,
    transitions: relativeTo(seen.transitions.get(fault.id), started, injected.at + windowMs, injected.at),
    alerts: relativeTo(seen.alerts.get(fault.id), started, injected.at + windowMs, injected.at),
    firingBefore: relativeTo(seen.alerts.get(fault.id), 0, started - 1, injected.at),
  }));
  for (const [label, load] of loads) {
    const report = load.report();
    const unexpected = Object.entries(report.unexpectedErrors);
    if (unexpected.length)
      notes.push(
        `Write load on ${label}: ${unexpected.map(([m, n]) => `${n}x ${m}`).join('; ')} (not expected).`,
      );
  }
  const report: DetectReport = {
    command,
    startedAt,
    finishedAt: new Date().toISOString(),
    machineBefore,
    machineAfter: machine(),
    etcdVersion: clusters.get(HEALTHY)!.version,
    windowSeconds: windowMs / 1000,
    pollSeconds: POLL_MS / 1000,
    settings: {
      interval: '30s',
      rateWindow: '5m',
      degradedInertia: '2m',
      scrapeInterval: `${SCRAPE_SECONDS}s`,
    },
    quotaBackendBytes: QUOTA_BYTES,
    faults: results,
    healthy: {
      transitions: relativeTo(
        seen.transitions.get(HEALTHY),
        windowStart,
        windowStart + windowMs,
        windowStart,
      ),
      alerts: relativeTo(seen.alerts.get(HEALTHY), windowStart, windowStart + windowMs, windowStart),
    },
    walFsyncP99,
    notes,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const jsonPath = join(RESULTS_DIR, `detect-${stamp}.json`);
  const prettierOptions = (await resolveConfig(jsonPath)) ?? {};
  writeFileSync(jsonPath, await format(JSON.stringify(report), { ...prettierOptions, parser: 'json' }));
  const markdown = renderDetect(report, relative(REPO, jsonPath));
  writeFileSync(jsonPath.replace(/\.json$/, '.md'), markdown);
  process.stdout.write(`\n${markdown}\n`);
  step(`results in ${relative(REPO, jsonPath)} and .md`);
  return 0;
}

/** Median and maximum of each member's WAL fsync p99 over the last `windowMs`, by member name. */
async function fsyncOverWindow(
  prometheus: DetectPrometheus,
  clusters: Map<string, Cluster>,
  windowMs: number,
): Promise<NonNullable<DetectReport['walFsyncP99']>> {
  const out: NonNullable<DetectReport['walFsyncP99']> = {};
  const range = `${Math.round(windowMs / 1000)}s`;
  for (const [label, cluster] of clusters) {
    const p99 = `histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{job="etcd",cluster="${label}"}[5m])))`;
    const [medians, maxima] = await Promise.all(
      [`quantile_over_time(0.5, (${p99})[${range}:30s])`, `max_over_time((${p99})[${range}:30s])`].map((q) =>
        prometheus.query(q).catch(() => []),
      ),
    );
    const byMember: Record<string, { median: number; max: number }> = {};
    for (const m of cluster.members) {
      const of = (result: typeof medians) =>
        Number(result?.find((r) => r.metric.instance === `${m.ip}:2379`)?.value[1] ?? NaN);
      byMember[m.name] = { median: of(medians), max: of(maxima) };
    }
    out[label] = byMember;
  }
  return out;
}

/** Writes the .md of a saved run again (after a change of the rendering). */
function rerender(jsonPath: string): number {
  const path = resolve(REPO, jsonPath);
  const report = JSON.parse(readFileSync(path, 'utf8')) as DetectReport;
  writeFileSync(path.replace(/\.json$/, '.md'), renderDetect(report, relative(REPO, path)));
  step(`${relative(REPO, path).replace(/\.json$/, '.md')} written from ${jsonPath}`);
  return 0;
}

void main()
  .catch((error: unknown) => {
    step(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  })
  .then(async (code) => {
    await teardown.run();
    process.exit(code);
  });
