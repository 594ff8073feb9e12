// `npm run soak`: the operator as its own process (compiled, as the image runs it) for --duration
// against a real 3-member etcd cluster under a small write load, a real Prometheus and a real
// kube-apiserver with a few EtcdHealthChecks, while faults cycle, each on for a while, then off:
//
//   member kill/restart -> EtcdMembersDegraded names the member (a warning: quorum holds), Upgradeable
//                          turns False, Available stays True; then all back
//   slow disk on/off    -> DiskLatencyDegraded and Degraded turn True naming the member, then False
//   Prometheus stop/start (a fresh TSDB, as a pod without a volume) -> MetricsSourceReachable False, then True
//   kube-apiserver restart -> every CR is checked again afterwards and a spec change is picked up
//
// Before each fault every CR must be settled (Available, Upgradeable, not Degraded, metrics reachable).
// Recorded: the operator's PID and start time (a restart is a failure), its RSS every 10 s, each
// fault's transition and recovery per CR in order, the Events in the fault's window, and any
// condition still unhealthy at the end. Results: SOAK.md (or --out) and the raw series as JSON in
// bench/results/. Not part of `npm test`: it takes an hour by default.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import type { EtcdHealthCheck } from '../src/api/v1alpha1/index.js';
import { checksApi, conditionOf, type Checks } from '../test/harness/checks.js';
import { startControlPlane } from '../test/harness/controlplane.js';
import { startEtcdClusterWithSlowDisk } from '../test/harness/etcd-cluster.js';
import { startWriteLoad } from '../test/harness/faults.js';
import { makeTempDir } from '../test/harness/process.js';
import { startPrometheus, type PrometheusServer } from '../test/harness/prometheus.js';
import { Teardown } from '../test/harness/teardown.js';
import { fetchText, memory, parseSamples, sumOf } from './measure.js';
import { buildOperators, deployedNodeArgs, shellOutput, startUnderTest } from './processes.js';
import { waitForData } from './prometheus.js';
import {
  renderSoak,
  type CheckRecord,
  type FaultRecord,
  type RssSample,
  type SoakMachine,
  type SoakReport,
} from './soak-report.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = join(REPO, 'bench/results');
/** Three CRs in their own namespaces, at three intervals, all watching the same cluster. */
const CRS = [
  { namespace: 'soak-a', name: 'etcd', interval: '10s' },
  { namespace: 'soak-b', name: 'etcd', interval: '15s' },
  { namespace: 'soak-c', name: 'etcd', interval: '20s' },
] as const;
const POLL_MS = 2_000;
const RSS_EVERY_MS = 10_000;
const SLOW_DISK_DELAY_US = 200_000;
const APISERVER_DOWN_MS = 20_000;
/** A fault stays on this long after every CR showed it: "on for a while". */
const HOLD_MS = 30_000;
const ONSET_DEADLINE_MS = 240_000;
const RECOVERY_DEADLINE_MS = 300_000;
const SETTLE_DEADLINE_MS = 300_000;
const CALL_DEADLINE_MS = 10_000;

const USAGE = `Usage: npm run soak [-- options]

  --duration 60m   how long faults keep cycling (default 60m); the first cycle always ends
  --out SOAK.md    the result file, relative to the repo (default SOAK.md)
  --from-json FILE write the result file again from a saved run's JSON (bench/results/soak-*.json),
                   nothing is started; with --operator-log FILE its warn/error lines are counted again
  -h, --help
`;

function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match) throw new Error(`--duration: a whole number of s, m or h, e.g. 60m; got ${text}`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

const runStarted = Date.now();
function step(text: string): void {
  const s = Math.floor((Date.now() - runStarted) / 1000);
  process.stdout.write(`[${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}] ${text}\n`);
}
const teardown = new Teardown(step);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

function machine(): SoakMachine {
  return {
    nproc: shellOutput('nproc'),
    memory: shellOutput('free -m | awk \'/^Mem:/ {print $2 " MiB total, " $7 " MiB available"}\''),
    cpu: shellOutput("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim(),
    kernel: shellOutput('uname -r'),
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot; a new process has a new one. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

type Check = EtcdHealthCheck;
type Views = Map<string, Check>;
const keyOf = (cr: (typeof CRS)[number]) => `${cr.namespace}/${cr.name}`;
const statusOf = (check: Check | undefined, type: string) => conditionOf(check, type)?.status;

/** Settled: what every fault starts from and every recovery returns to. */
function settled(check: Check | undefined): boolean {
  return (
    statusOf(check, 'Available') === 'True' &&
    statusOf(check, 'Degraded') === 'False' &&
    statusOf(check, 'Upgradeable') === 'True' &&
    statusOf(check, 'MetricsSourceReachable') === 'True' &&
    // The unions wait out the degraded inertia: a per-check condition may already be True.
    !(check?.status?.conditions ?? []).some((c) => c.type.endsWith('Degraded') && c.status === 'True')
  );
}

/** Conditions not in their healthy state; informational checks (no data source here) are False too. */
function unhealthy(check: Check | undefined): string[] {
  const healthy: Record<string, string> = {
    Available: 'True',
    Progressing: 'False',
    Upgradeable: 'True',
    MetricsSourceReachable: 'True',
  };
  return (check?.status?.conditions ?? [])
    .filter((c) => c.status !== (healthy[c.type] ?? (c.type.endsWith('Degraded') ? 'False' : c.status)))
    .map(
      (c) => `${c.type}=${c.status} (${c.reason}) since ${c.lastTransitionTime}: ${c.message.slice(0, 160)}`,
    );
}

interface Fault {
  kind: string;
  target: string;
  /** What the CR must show while the fault is on, and again when it is off. */
  expected: string;
  recovery: string;
  inject: () => Promise<void>;
  /** True once a CR shows the fault (undefined: nothing to see in the CR, e.g. the API is down). */
  shows?: (check: Check) => boolean;
  heal: () => Promise<void>;
  recovered: (check: Check, healedAt: number) => boolean;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60m' },
      out: { type: 'string', default: 'SOAK.md' },
      'from-json': { type: 'string' },
      'operator-log': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values['from-json']) return rerender(values['from-json'], values.out, values['operator-log']);
  const durationMs = parseDuration(values.duration);
  const command = `npm run soak -- --duration ${values.duration}`;
  teardown.onSignals((code) => process.exit(code));
  const machineBefore = machine();
  const startedAt = new Date().toISOString();
  step(`soak for ${values.duration}; load average before ${machineBefore.loadavg.join(' ')}`);

  step('building the operator (tsc), starting a kube-apiserver, a 3-member etcd cluster and Prometheus');
  const builds = buildOperators();
  const [cp, cluster] = await Promise.all([
    startControlPlane(),
    startEtcdClusterWithSlowDisk({ members: 3 }),
  ]);
  teardown.add('kube-apiserver', () => cp.stop());
  teardown.add('etcd cluster', () => cluster.stop());
  let prometheus: PrometheusServer = await startPrometheus(cluster);
  teardown.add('Prometheus', () => prometheus.stop());
  // A killed member's puts fail until it is back; every other error is reported.
  const load = startWriteLoad(cluster, {
    perSecond: 20,
    expectedErrors: /unavailable|deadline|connect|closed|timed? ?out|no leader|leader changed/i,
  });
  teardown.add('write load', async () => void (await load.stop()));
  await waitForData(prometheus, cluster.members.length, 300_000);

  const checks: Checks = checksApi(cp.kubeConfig);
  for (const cr of CRS) await cp.createNamespace(cr.namespace);
  const logDir = makeTempDir('soak-operator');
  const operator = await startUnderTest('real', {
    kubeconfigPath: cp.kubeconfigPath,
    logDir,
    builds,
    // As deploy/base runs it. Leader election off, as in the benchmark: with one replica an apiserver
    // outage longer than the renew deadline ends the process by design, and nothing here restarts it.
    nodeArgs: deployedNodeArgs(),
  });
  teardown.add('operator', () => operator.stop());
  const operatorStart = startTicks(operator.pid);
  step(`operator PID ${operator.pid}, log ${operator.logPath}`);

  const spec = (interval: string) => ({
    etcd: { endpoints: cluster.endpoints },
    prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'], rateWindow: '1m' },
    interval,
    // A loaded shared machine's disk shows tens of ms at times: the latency thresholds sit above
    // that and well below the injected slow disk (every fsync delayed by 200 ms).
    thresholds: {
      degradedInertia: '20s',
      walFsyncP99: { warning: '100ms', critical: '150ms' },
      backendCommitP99: { warning: '200ms', critical: '300ms' },
      peerRoundTripP99: { warning: '1s', critical: '2s' },
    },
  });
  for (const cr of CRS) await checks.create(cr.namespace, cr.name, spec(cr.interval));

  // The samplers: RSS every 10 s, the CRs every 2 s (the latest view, read by the fault loop).
  const rss: RssSample[] = [];
  const restarts: string[] = [];
  const sampleRss = async () => {
    if (operator.exited() || startTicks(operator.pid) !== operatorStart) {
      if (restarts.length === 0) restarts.push(`operator PID ${operator.pid} gone at ${elapsed()}`);
      return;
    }
    const heap = await fetchText(operator.metricsUrl, CALL_DEADLINE_MS)
      .then((text) =>
        sumOf(parseSamples(text, ['nodejs_heap_size_used_bytes']), 'nodejs_heap_size_used_bytes'),
      )
      .catch(() => NaN);
    rss.push({
      atS: (Date.now() - soakStarted) / 1000,
      rssBytes: memory(operator.pid).rssBytes,
      heapUsedBytes: heap,
      load1: loadavg()[0],
    });
  };
  const views: Views = new Map();
  const pollChecks = async () => {
    await Promise.all(
      CRS.map(async (cr) => {
        try {
          views.set(keyOf(cr), await withDeadline('get CR', checks.get(cr.namespace, cr.name)));
        } catch {
          // The API is down (the apiserver fault): keep the last view.
        }
      }),
    );
  };
  let sampling = true;
  const soakStarted = Date.now();
  const elapsed = () => {
    const s = Math.round((Date.now() - soakStarted) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  const samplers = [
    (async () => {
      while (sampling) {
        await sampleRss().catch(() => undefined);
        await sleep(RSS_EVERY_MS);
      }
    })(),
    (async () => {
      while (sampling) {
        await pollChecks();
        await sleep(POLL_MS);
      }
    })(),
  ];

  /** Waits until `ready` holds for every CR; returns seconds since `from` per CR, or undefined on the deadline. */
  const waitAll = async (
    ready: (check: Check) => boolean,
    from: number,
    deadlineMs: number,
  ): Promise<Record<string, number | undefined>> => {
    const seen: Record<string, number | undefined> = Object.fromEntries(
      CRS.map((cr) => [keyOf(cr), undefined]),
    );
    const end = Date.now() + deadlineMs;
    while (Date.now() < end && Object.values(seen).some((v) => v === undefined)) {
      for (const cr of CRS) {
        const view = views.get(keyOf(cr));
        if (seen[keyOf(cr)] === undefined && view && ready(view))
          seen[keyOf(cr)] = (Date.now() - from) / 1000;
      }
      await sleep(500);
    }
    return seen;
  };

  step(
    'waiting until every CR is settled (Available=True, Degraded=False, Upgradeable=True, metrics reachable)',
  );
  const firstSettle = await waitAll(settled, soakStarted, SETTLE_DEADLINE_MS);
  if (Object.values(firstSettle).some((v) => v === undefined))
    throw new Error(`the CRs did not settle before any fault: ${describeViews(views)}`);

  const transitionedSince = (check: Check, type: string, status: string, since: number, mention?: string) => {
    const c = conditionOf(check, type);
    return (
      c?.status === status &&
      Date.parse(c.lastTransitionTime ?? '') >= Math.floor(since / 1000) * 1000 &&
      (mention === undefined || c.message.includes(mention))
    );
  };
  const faultsFor = async (cycle: number): Promise<Fault[]> => {
    const killed = cluster.members[cycle % cluster.members.length]!.name;
    const leader = await cluster.waitForLeader();
    const slow = cluster.members.map((m) => m.name).find((name) => name !== leader && name !== killed)!;
    return [
      {
        kind: 'member kill (SIGKILL) / restart',
        target: `${killed}${killed === leader ? ' (leader)' : ''}`,
        // One member of three down is a warning (quorum holds): the check says so by its reason and
        // names the member, Available stays True, and Upgradeable turns False until it is back.
        expected: `EtcdMembersDegraded reason UnhealthyMembers naming ${killed}, Upgradeable=False, Available=True`,
        recovery: 'EtcdMembersDegraded reason AsExpected, Upgradeable=True, 3/3',
        inject: () => cluster.killMember(killed),
        shows: (c) =>
          conditionOf(c, 'EtcdMembersDegraded')?.reason === 'UnhealthyMembers' &&
          conditionOf(c, 'EtcdMembersDegraded')?.message.includes(killed) === true &&
          transitionedSince(c, 'Upgradeable', 'False', faultAt) &&
          statusOf(c, 'Available') === 'True',
        heal: () => cluster.restartMember(killed),
        recovered: (c, at) =>
          conditionOf(c, 'EtcdMembersDegraded')?.reason === 'AsExpected' &&
          transitionedSince(c, 'Upgradeable', 'True', at) &&
          c.status?.summary?.members === '3/3',
      },
      {
        kind: `slow disk (fsync +${SLOW_DISK_DELAY_US / 1000}ms) on / off`,
        target: slow,
        expected: `DiskLatencyDegraded=True naming ${slow}, then Degraded=True`,
        recovery: 'DiskLatencyDegraded=False, Degraded=False',
        inject: () => cluster.slowDownMember(slow, SLOW_DISK_DELAY_US),
        shows: (c) =>
          transitionedSince(c, 'DiskLatencyDegraded', 'True', faultAt, slow) &&
          statusOf(c, 'Degraded') === 'True',
        heal: () => cluster.restoreMember(slow),
        recovered: (c, at) =>
          transitionedSince(c, 'DiskLatencyDegraded', 'False', at) &&
          transitionedSince(c, 'Degraded', 'False', at),
      },
      {
        kind: 'Prometheus stop / start (empty TSDB)',
        target: prometheus.url,
        expected: 'MetricsSourceReachable=False',
        recovery: 'MetricsSourceReachable=True, then settled',
        inject: () => prometheus.stop(),
        shows: (c) => transitionedSince(c, 'MetricsSourceReachable', 'False', faultAt),
        heal: async () => {
          prometheus = await startPrometheus(cluster);
        },
        recovered: (c, at) => transitionedSince(c, 'MetricsSourceReachable', 'True', at) && settled(c),
      },
      {
        kind: `kube-apiserver restart (down ${APISERVER_DOWN_MS / 1000}s)`,
        target: cp.server,
        expected: '(the API is down: nothing to read)',
        recovery: 'a check after the restart on every CR, and a spec change picked up (observedGeneration)',
        inject: () =>
          cp.restartApiServer({
            whileDown: async () => void (await sleep(APISERVER_DOWN_MS)),
          }),
        heal: async () => {
          // A spec change on every CR after the restart proves the operator's watch is back, not only its timer.
          for (const cr of CRS) {
            generationBefore.set(keyOf(cr), views.get(keyOf(cr))?.metadata.generation ?? 0);
            const interval = cycle % 2 === 0 ? `${parseInt(cr.interval, 10) + 1}s` : cr.interval;
            await withDeadline('patch CR', checks.patchSpec(cr.namespace, cr.name, { interval }));
          }
        },
        recovered: (c, at) =>
          Date.parse(c.status?.lastCheck?.time ?? '') >= Math.floor(at / 1000) * 1000 &&
          (c.metadata.generation ?? 0) >
            (generationBefore.get(`${c.metadata.namespace}/${c.metadata.name}`) ?? 0) &&
          c.status?.observedGeneration === c.metadata.generation,
      },
    ];
  };

  let faultAt = 0;
  const generationBefore = new Map<string, number>();
  const records: FaultRecord[] = [];
  for (let cycle = 0; Date.now() - soakStarted < durationMs; cycle++) {
    for (const fault of await faultsFor(cycle)) {
      // Every fault runs at least once; after that no fault starts once the duration is up.
      if (cycle > 0 && Date.now() - soakStarted >= durationMs) break;
      const settleFrom = Date.now();
      const settle = await waitAll(settled, settleFrom, SETTLE_DEADLINE_MS);
      const notSettled = Object.entries(settle).filter(([, v]) => v === undefined);
      step(`cycle ${cycle + 1}: ${fault.kind} on ${fault.target}`);
      faultAt = Date.now();
      const at = elapsed();
      await fault.inject();
      const onset = fault.shows ? await waitAll(fault.shows, faultAt, ONSET_DEADLINE_MS) : undefined;
      const availableDuring = CRS.map((cr) => statusOf(views.get(keyOf(cr)), 'Available'));
      await sleep(fault.shows ? HOLD_MS : 0);
      const healedAt = Date.now();
      await fault.heal();
      const recovery = await waitAll((c) => fault.recovered(c, healedAt), healedAt, RECOVERY_DEADLINE_MS);
      const events = await eventsSince(checks, faultAt);
      const record: FaultRecord = {
        cycle: cycle + 1,
        at,
        kind: fault.kind,
        target: fault.target,
        expected: fault.expected,
        recovery: fault.recovery,
        notSettledBefore: notSettled.map(([key]) => `${key}: ${unhealthy(views.get(key)).join(', ')}`),
        onsetS: onset,
        recoveryS: recovery,
        availableDuring,
        events,
        missing: [
          ...(onset
            ? Object.entries(onset)
                .filter(([, v]) => v === undefined)
                .map(([k]) => `${k}: no ${fault.expected}; ${unhealthy(views.get(k)).join(', ')}`)
            : []),
          ...Object.entries(recovery)
            .filter(([, v]) => v === undefined)
            .map(([k]) => `${k}: no ${fault.recovery}; ${unhealthy(views.get(k)).join(', ')}`),
        ],
      };
      records.push(record);
      step(
        `  onset ${JSON.stringify(onset ?? {})} recovery ${JSON.stringify(recovery)}${record.missing.length ? ` MISSING ${record.missing.join('; ')}` : ''}`,
      );
    }
  }

  step('faults done; waiting for every CR to settle, then reading what is left');
  const finalSettle = await waitAll(settled, Date.now(), SETTLE_DEADLINE_MS);
  await pollChecks();
  const stuck: CheckRecord[] = CRS.map((cr) => ({
    key: keyOf(cr),
    unhealthy: unhealthy(views.get(keyOf(cr))),
  }));
  sampling = false;
  await Promise.all(samplers);
  const alive = !operator.exited() && startTicks(operator.pid) === operatorStart;
  const errorLines = countLogLines(operator.logPath);
  const loadReport = load.report();
  const report: SoakReport = {
    command,
    startedAt,
    finishedAt: new Date().toISOString(),
    soakSeconds: (Date.now() - soakStarted) / 1000,
    durationRequested: values.duration,
    machineBefore,
    machineAfter: machine(),
    etcdVersion: cluster.version,
    operator: { pid: operator.pid, alive, restarts, errorLines },
    faults: records,
    rss,
    finalSettle,
    stuck,
    writeLoad: loadReport,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  // Formatted as the repo's prettier config wants it, so that `npm run lint` stays clean.
  const jsonPath = join(RESULTS_DIR, `soak-${stamp}.json`);
  const prettierOptions = (await resolveConfig(jsonPath)) ?? {};
  writeFileSync(jsonPath, await format(JSON.stringify(report), { ...prettierOptions, parser: 'json' }));
  const markdown = renderSoak(report, `bench/results/soak-${stamp}.json`);
  writeFileSync(resolve(REPO, values.out), markdown);
  process.stdout.write(`\n${markdown}\n`);
  step(`results in ${values.out} and bench/results/soak-${stamp}.json`);
  return markdown.includes('**Verdict: pass**') ? 0 : 1;
}

async function eventsSince(checks: Checks, from: number): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const cr of CRS) {
    try {
      const events = await withDeadline('list Events', checks.eventsOf(cr.namespace, cr.name));
      out[keyOf(cr)] = events
        .filter((e) => {
          const time = e.series?.lastObservedTime ?? e.eventTime;
          return time !== undefined && new Date(time).getTime() >= from - 1_000;
        })
        .sort((a, b) => new Date(a.eventTime).getTime() - new Date(b.eventTime).getTime())
        .map((e) => e.reason ?? '');
    } catch (error) {
      out[keyOf(cr)] = [`(not read: ${(error as Error).message})`];
    }
  }
  return out;
}

/** Lines at pino levels 40 (warn), 50 (error) and 60 (fatal) in the operator's log, by level and message. */
function countLogLines(path: string): SoakReport['operator']['errorLines'] {
  const counts = { error: 0, fatal: 0, byMessage: {} as Record<string, number> };
  const names: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    let entry: { level?: number; msg?: string };
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      continue;
    }
    const level = names[entry.level ?? 0];
    if (!level) continue;
    if (level === 'error') counts.error++;
    if (level === 'fatal') counts.fatal++;
    const key = `${level}: ${entry.msg ?? ''}`;
    counts.byMessage[key] = (counts.byMessage[key] ?? 0) + 1;
  }
  return counts;
}

/** Writes the result file again from a saved run (after a change of the rendering). */
function rerender(jsonPath: string, out: string, operatorLog: string | undefined): number {
  const report = JSON.parse(readFileSync(resolve(REPO, jsonPath), 'utf8')) as SoakReport;
  if (operatorLog) report.operator.errorLines = countLogLines(operatorLog);
  const markdown = renderSoak(report, relative(REPO, resolve(REPO, jsonPath)));
  writeFileSync(resolve(REPO, out), markdown);
  step(`${out} written from ${jsonPath}`);
  return 0;
}

function describeViews(views: Views): string {
  return [...views].map(([key, check]) => `${key}: ${unhealthy(check).join(', ') || 'healthy'}`).join('; ');
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
