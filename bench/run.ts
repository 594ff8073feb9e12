// `npm run bench`: the operator at 1, 100 and 1000 EtcdHealthChecks on real parts (a kube-apiserver
// with its own etcd, a 3-member etcd cluster under a small write load, a Prometheus scraping it),
// and the naive baseline (bench/naive-operator.ts) through the same steps, one after the other.
// Every CR points at the same etcd cluster and the same Prometheus. Per operator and scale:
//
//   create the CRs up to the scale -> time from creation to the first full status (watch)
//   settle one interval -> a steady window: reconciles/s, actual time between two checks of each CR
//   (from the per-CR last-check gauge), queue wait, CPU and peak RSS (/proc), event loop delay,
//   status writes and Events (operator metrics, apiserver metrics, the bench's own watch),
//   Prometheus queries (its /metrics) and etcd gRPC calls (the members' /metrics) per reconcile.
//
// Then, at the largest scale: new CRs with all the others present (creation -> status), and a
// kube-apiserver restart (time until a new CR gets a status, and until every CR is checked again).
// Results: bench/results/<time>.json and .md, and the table on stdout. BENCHMARKS.md explains them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { format, resolveConfig } from 'prettier';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../src/api/v1alpha1/resource.js';
import { startControlPlane, type ControlPlane } from '../test/harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../test/harness/etcd-cluster.js';
import { eventually } from '../test/harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../test/harness/faults.js';
import type { AuditedRequest } from '../test/harness/audit.js';
import { apiErrorStatus } from '../test/harness/kube.js';
import { makeTempDir, removeTempDir } from '../test/harness/process.js';
import {
  clusterAdminServiceAccount,
  countRequests,
  requestAudit,
  type RequestAudit,
} from '../test/runtime/api-requests.js';
import { Teardown } from '../test/harness/teardown.js';
import {
  bucketDelta,
  buckets,
  cpuSeconds,
  cpuSecondsIfAlive,
  fetchText,
  histogramQuantile,
  machineCpuSeconds,
  mean,
  memory,
  parseSamples,
  percentile,
  resetPeakRss,
  sumBy,
  sumOf,
  type Sample,
} from './measure.js';
import { MetricsPoller } from './poller.js';
import { startPrometheus, type PrometheusServer } from '../test/harness/prometheus.js';
import { waitForData } from './prometheus.js';
import {
  buildOperators,
  deployedNodeArgs,
  bundleOperator,
  shellOutput,
  startUnderTest,
  type Builds,
  OPERATOR_KINDS,
  type OperatorKind,
  type OperatorUnderTest,
} from './processes.js';
import { renderMarkdown } from './report.js';
import { hasFullStatus, CheckTracker } from './tracker.js';
import type {
  BenchReport,
  Machine,
  Config,
  Distribution,
  OperatorResult,
  PhaseResult,
  RestartResult,
  WindowResult,
} from './types.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const NAMESPACES = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
const CREATE_CONCURRENCY = 50;
/** The operators run as this ServiceAccount (cluster-admin), so that the audit log tells their requests apart. */
const OPERATOR_SA = { namespace: 'ehc-bench', name: 'operator' } as const;
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_SA.namespace}:${OPERATOR_SA.name}`;
/**
 * The bench creates, reads and deletes CRs as this ServiceAccount, as a GitOps controller would:
 * the harness's admin is in system:masters, which API Priority and Fairness exempts, so its
 * creates could queue the operator's status writes behind them as no real client can.
 */
const CLIENT_SA = { namespace: 'ehc-bench', name: 'gitops' } as const;

const USAGE = `Usage: npm run bench [-- options]

  --scales 1,100,1000        CR counts, reached one after the other (default 1,100,1000)
  --operators real,naive     which operators to run, in this order (default real,naive); also
                             real-unshared: the operator with --source-cache-ttl=0s (no sharing)
  --interval 30s             spec.interval of every CR (default 30s)
  --windows 30,60,180        steady window per scale, seconds (default 30,60,180)
  --naive-windows 30,60,180  the same for the naive baseline (default 30,60,180)
  --settle 20                seconds between the last first status and the window (default 20)
  --probes 20                new CRs created 1s apart at the largest scale (default 20; 0 = none)
  --no-restart               skip the kube-apiserver restart
  --poll 15                  seconds between two reads of the operator's /metrics (default 15;
                             must stay below 0.9 x interval to see every check)
  --real-arg ARG             extra flag for the real operator (repeatable), e.g. --real-arg=--concurrency=20
  --write-load 20            etcd puts per second during the run (default 20)
  --scrape-interval 30       seconds between two Prometheus scrapes of etcd (default 30, as in
                             production; the test harness uses 1)
  --mode build               build: compile both operators with tsc and run the JavaScript; bundle:
                             the same, but the real operator is the image's bundle (npm run bundle);
                             tsx: run the TypeScript through tsx, as the test harness does
  --cpu-prof DIR             write V8 CPU profiles of the operators to DIR (node --cpu-prof)
  --node-arg ARG             a flag for node itself in the operator's process (repeatable;
                             default: deploy/base's NODE_OPTIONS); the naive
                             baseline runs with node's defaults
  -h, --help
`;

function parseConfig(): Config | undefined {
  const { values } = parseArgs({
    options: {
      scales: { type: 'string', default: '1,100,1000' },
      operators: { type: 'string', default: 'real,naive' },
      interval: { type: 'string', default: '30s' },
      windows: { type: 'string', default: '30,60,180' },
      'naive-windows': { type: 'string', default: '30,60,180' },
      settle: { type: 'string', default: '20' },
      probes: { type: 'string', default: '20' },
      'no-restart': { type: 'boolean', default: false },
      poll: { type: 'string', default: '15' },
      'real-arg': { type: 'string', multiple: true, default: [] },
      'write-load': { type: 'string', default: '20' },
      'scrape-interval': { type: 'string', default: '30' },
      mode: { type: 'string', default: 'build' },
      'cpu-prof': { type: 'string' },
      'node-arg': { type: 'string', multiple: true, default: deployedNodeArgs() },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const numbers = (text: string) => text.split(',').map((s) => Number(s.trim()));
  const scales = numbers(values.scales);
  const perScale = (list: number[]) => scales.map((_, i) => list[Math.min(i, list.length - 1)] ?? 60);
  const intervalMatch = /^(\d+)s$/.exec(values.interval);
  if (!intervalMatch) throw new Error('--interval: whole seconds, e.g. 30s');
  const operators = values.operators.split(',').map((s) => s.trim());
  const unknown = operators.filter((kind) => !OPERATOR_KINDS.includes(kind as OperatorKind));
  if (unknown.length > 0)
    throw new Error(`--operators: unknown ${unknown.join(', ')}; one of ${OPERATOR_KINDS.join(', ')}`);
  return {
    scales,
    operators: operators as OperatorKind[],
    interval: values.interval,
    intervalS: Number(intervalMatch[1]),
    windows: perScale(numbers(values.windows)),
    naiveWindows: perScale(numbers(values['naive-windows'])),
    settleS: Number(values.settle),
    probes: Number(values.probes),
    restart: !values['no-restart'],
    pollS: Number(values.poll),
    realArgs: values['real-arg'],
    writeLoad: Number(values['write-load']),
    scrapeIntervalS: Number(values['scrape-interval']),
    mode: values.mode === 'tsx' || values.mode === 'bundle' ? values.mode : 'build',
    cpuProfileDir: values['cpu-prof'],
    nodeArgs: values['node-arg'],
  };
}

// ---------------------------------------------------------------------------------------------
// Progress output and cleanup

const runStarted = Date.now();
function step(text: string): void {
  const s = Math.floor((Date.now() - runStarted) / 1000);
  process.stdout.write(`[${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}] ${text}\n`);
}

const teardown = new Teardown(step);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The environment

interface Environment {
  cp: ControlPlane;
  cluster: EtcdCluster;
  prometheus: PrometheusServer;
  load: WriteLoad;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  tracker: CheckTracker;
  spec: Record<string, unknown>;
  builds?: Builds;
  /** The operators' kubeconfig: a token of OPERATOR_USER. */
  operatorKubeconfigPath: string;
  /** The operators' requests to the kube-apiserver. */
  audit: RequestAudit;
}

function machine(): Machine {
  return {
    nproc: shellOutput('nproc'),
    free: shellOutput('free -g'),
    node: process.version,
    cpu: shellOutput("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim(),
    kernel: shellOutput('uname -r'),
    date: shellOutput('date -u'),
    uptime: shellOutput('uptime'),
  };
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const benchKey = (i: number) => keyOf(NAMESPACES[i % NAMESPACES.length]!, `ehc-${i}`);

async function createCheck(env: Environment, key: string): Promise<number> {
  const [namespace, name] = key.split('/') as [string, string];
  for (let attempt = 1; ; attempt++) {
    try {
      await env.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'EtcdHealthCheck',
          metadata: { name },
          spec: env.spec,
        },
      });
      return performance.now();
    } catch (error) {
      // 409 after a retried create whose first attempt went through: it exists, which is the point.
      if (apiErrorStatus(error).code === 409) return performance.now();
      if (attempt >= 5) throw new Error(`create ${key}: ${apiErrorStatus(error).message}`, { cause: error });
      await sleep(500 * attempt);
    }
  }
}

/** Creates CRs with at most CREATE_CONCURRENCY calls in flight; returns key -> time created (perf ms). */
async function createMany(env: Environment, keys: string[]): Promise<Map<string, number>> {
  const created = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CREATE_CONCURRENCY, keys.length) }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        created.set(key, await createCheck(env, key));
      }
    }),
  );
  return created;
}

async function deleteAllChecks(env: Environment): Promise<void> {
  await Promise.all(
    NAMESPACES.map((namespace) =>
      env.custom.deleteCollectionNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
      }),
    ),
  );
  await eventually(() => env.tracker.count() === 0, {
    timeoutMs: 120_000,
    intervalMs: 500,
    description: 'every EtcdHealthCheck deleted',
  });
}

// ---------------------------------------------------------------------------------------------
// Snapshots at the edges of a window

interface Snapshot {
  wallMs: number;
  perfMs: number;
  operatorCpuS: number;
  operator: Sample[];
  prometheus: Sample[];
  etcdCalls: Record<string, number>;
  cpu: { prometheus: number; etcd: number; apiServer: number; bench: number; machine: number; steal: number };
  apiserver: Sample[];
  storedEvents: Map<string, string>;
  loadavg: number[];
}

const OPERATOR_PREFIXES = ['etcd_health_operator_'];

async function apiserverMetrics(env: Environment): Promise<Sample[]> {
  const result = await env.cp.kubectl(['get', '--raw', '/metrics'], { timeoutMs: 30_000 });
  return result.code === 0 ? parseSamples(result.stdout, ['apiserver_request_total']) : [];
}

/** Events about EtcdHealthChecks stored in the apiserver: name -> reason. */
async function storedEvents(env: Environment): Promise<Map<string, string>> {
  const list = await env.core.listEventForAllNamespaces({
    fieldSelector: 'involvedObject.kind=EtcdHealthCheck',
  });
  return new Map(
    list.items.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, `${e.type}/${e.reason ?? ''}`]),
  );
}

function newEventReasons(a: Snapshot, b: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, reason] of b.storedEvents)
    if (!a.storedEvents.has(name)) out[reason] = (out[reason] ?? 0) + 1;
  return out;
}

/**
 * Why each status write in [fromMs, toMs) was made, from the operator's "status written" log
 * lines (pino JSON; the real operator logs the first difference it found), numbers replaced by #.
 */
function lastLines(path: string, count: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch (error) {
    return `(no log: ${(error as Error).message})`;
  }
}

function writeReasons(logPath: string, fromMs: number, toMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"status written"')) continue;
    try {
      const entry = JSON.parse(line) as { time?: number; why?: string };
      if (entry.time === undefined || entry.time < fromMs || entry.time >= toMs) continue;
      const why = (entry.why ?? '(every reconcile)').replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, '#');
      out[why] = (out[why] ?? 0) + 1;
    } catch {
      // not a JSON line
    }
  }
  return Object.fromEntries(
    Object.entries(out)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8),
  );
}

async function snapshot(env: Environment, op: OperatorUnderTest): Promise<Snapshot> {
  const wallMs = Date.now();
  const perfMs = performance.now();
  const operatorCpuS = cpuSeconds(op.pid);
  const [operatorText, prometheusText, ...memberTexts] = await Promise.all([
    fetchText(op.metricsUrl),
    fetchText(`${env.prometheus.url}/metrics`),
    ...env.cluster.members.map((m) => fetchText(`${m.clientURL}/metrics`)),
  ]);
  const etcdCalls: Record<string, number> = {};
  for (const text of memberTexts) {
    for (const [method, count] of Object.entries(
      sumBy(parseSamples(text, ['grpc_server_handled_total']), 'grpc_server_handled_total', 'grpc_method'),
    ))
      etcdCalls[method] = (etcdCalls[method] ?? 0) + count;
  }
  const pids = env.cp.pids();
  const benchCpu = process.cpuUsage();
  const machineCpu = machineCpuSeconds();
  return {
    wallMs,
    perfMs,
    operatorCpuS,
    operator: parseSamples(operatorText, OPERATOR_PREFIXES),
    prometheus: parseSamples(prometheusText, ['prometheus_http_request']),
    etcdCalls,
    cpu: {
      prometheus: cpuSecondsIfAlive(env.prometheus.process.pid) ?? NaN,
      etcd: env.cluster.members.reduce((sum, m) => sum + (cpuSecondsIfAlive(m.etcdPid()) ?? 0), 0),
      apiServer: cpuSecondsIfAlive(pids.apiServer) ?? NaN,
      bench: (benchCpu.user + benchCpu.system) / 1e6,
      machine: machineCpu.busy,
      steal: machineCpu.steal,
    },
    apiserver: await apiserverMetrics(env),
    storedEvents: await storedEvents(env),
    loadavg: loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// One operator through every scale

function distribution(values: number[]): Distribution {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

function counterDelta(a: Sample[], b: Sample[], name: string, labels: Record<string, string> = {}): number {
  return sumOf(b, name, labels) - sumOf(a, name, labels);
}

function byWhyDelta(a: Sample[], b: Sample[]): Record<string, number> {
  const before = sumBy(a, 'etcd_health_operator_status_writes_total', 'why');
  const after = sumBy(b, 'etcd_health_operator_status_writes_total', 'why');
  const out: Record<string, number> = {};
  for (const [why, count] of Object.entries(after)) {
    const delta = count - (before[why] ?? 0);
    if (delta > 0) out[why] = delta;
  }
  return out;
}

function apiserverCount(samples: Sample[], labels: Record<string, string>): number {
  return sumOf(samples, 'apiserver_request_total', labels);
}

function windowResult(
  config: Config,
  env: Environment,
  poller: MetricsPoller,
  keys: ReadonlySet<string>,
  a: Snapshot,
  b: Snapshot,
  peakRssBytes: number,
  rssEndBytes: number,
): WindowResult {
  const seconds = (b.wallMs - a.wallMs) / 1000;
  const n = keys.size;
  const reconciles = counterDelta(a.operator, b.operator, 'etcd_health_operator_reconcile_total');
  const reconcileErrors = counterDelta(a.operator, b.operator, 'etcd_health_operator_reconcile_total', {
    result: 'error',
  });
  const gaps = poller.gapsBetween(a.wallMs / 1000, b.wallMs / 1000, keys).map((g) => g.seconds);
  const late = gaps.map((g) => Math.max(0, g - config.intervalS * 1.1));
  const hq = (name: string, q: number) =>
    histogramQuantile(q, bucketDelta(buckets(b.operator, name), buckets(a.operator, name)));
  const queue = 'etcd_health_operator_workqueue_queue_duration_seconds';
  const duration = 'etcd_health_operator_reconcile_duration_seconds';
  const operatorCpuSeconds = b.operatorCpuS - a.operatorCpuS;
  const loop = poller.loopBetween(a.wallMs, b.wallMs);
  const statusWrites = {
    operatorByWhy: byWhyDelta(a.operator, b.operator),
    apiserverPatches:
      apiserverCount(b.apiserver, { resource: PLURAL, subresource: 'status', verb: 'PATCH' }) -
      apiserverCount(a.apiserver, { resource: PLURAL, subresource: 'status', verb: 'PATCH' }),
    watched: env.tracker.writesBetween(a.perfMs, b.perfMs, keys),
  };
  const events = {
    operator: counterDelta(a.operator, b.operator, 'etcd_health_operator_events_total'),
    stored: b.storedEvents.size - a.storedEvents.size,
    reasons: newEventReasons(a, b),
    apiserverPosts:
      apiserverCount(b.apiserver, { resource: 'events', verb: 'POST' }) -
      apiserverCount(a.apiserver, { resource: 'events', verb: 'POST' }),
  };
  const queryName = 'prometheus_http_requests_total';
  const queries =
    sumOf(b.prometheus, queryName, { handler: '/api/v1/query' }) -
    sumOf(a.prometheus, queryName, { handler: '/api/v1/query' });
  const promQuantile = (q: number) =>
    histogramQuantile(
      q,
      bucketDelta(
        bucketsWith(b.prometheus, 'prometheus_http_request_duration_seconds', { handler: '/api/v1/query' }),
        bucketsWith(a.prometheus, 'prometheus_http_request_duration_seconds', { handler: '/api/v1/query' }),
      ),
    );
  const byMethod: Record<string, number> = {};
  for (const [method, count] of Object.entries(b.etcdCalls)) {
    // The write load's puts are not the operator's.
    if (method === 'Put') continue;
    const delta = count - (a.etcdCalls[method] ?? 0);
    if (delta > 0) byMethod[method] = delta;
  }
  const etcdCalls = Object.values(byMethod).reduce((x, y) => x + y, 0);
  const perHour = (count: number) => (n === 0 ? NaN : (count / n) * (3600 / seconds));
  return {
    seconds,
    crs: n,
    reconciles,
    reconcileErrors,
    reconcilesPerSecond: reconciles / seconds,
    requestedPerSecond: n / config.intervalS,
    intervalError: distribution(gaps.map((g) => g - config.intervalS)),
    lateBeyondJitter: { ...distribution(late), over1s: late.filter((l) => l > 1).length },
    queueWaitP50: hq(queue, 0.5),
    queueWaitP99: hq(queue, 0.99),
    queueWaitOverTopBucket: fractionAboveTopBucket(
      bucketDelta(buckets(b.operator, queue), buckets(a.operator, queue)),
    ),
    reconcileDurationP50: hq(duration, 0.5),
    reconcileDurationP99: hq(duration, 0.99),
    cores: {
      operator: operatorCpuSeconds / seconds,
      prometheus: (b.cpu.prometheus - a.cpu.prometheus) / seconds,
      etcd: (b.cpu.etcd - a.cpu.etcd) / seconds,
      apiServer: (b.cpu.apiServer - a.cpu.apiServer) / seconds,
      bench: (b.cpu.bench - a.cpu.bench) / seconds,
      machine: (b.cpu.machine - a.cpu.machine) / seconds,
      steal: (b.cpu.steal - a.cpu.steal) / seconds,
    },
    operatorCpuSeconds,
    cpuMsPerReconcile: reconciles > 0 ? (operatorCpuSeconds * 1000) / reconciles : NaN,
    peakRssBytes,
    rssEndBytes,
    loopLagP99Max: Math.max(...loop.map((l) => l.p99).filter(Number.isFinite)),
    loopLagP99Median: percentile(loop.map((l) => l.p99).filter(Number.isFinite), 50),
    loopLagMax: Math.max(...loop.map((l) => l.max).filter(Number.isFinite)),
    heap: {
      usedMaxBytes: Math.max(...loop.map((l) => l.heapUsedBytes).filter(Number.isFinite)),
      usedMinBytes: Math.min(...loop.map((l) => l.heapUsedBytes).filter(Number.isFinite)),
      totalMaxBytes: Math.max(...loop.map((l) => l.heapTotalBytes).filter(Number.isFinite)),
      externalMaxBytes: Math.max(...loop.map((l) => l.externalBytes).filter(Number.isFinite)),
    },
    statusWrites,
    statusWritesPerCrPerHour: perHour(statusWrites.apiserverPatches),
    events,
    eventsPerCrPerHour: perHour(events.stored),
    prometheus: {
      queries,
      perReconcile: reconciles > 0 ? queries / reconciles : NaN,
      perSecond: queries / seconds,
      queryP50: promQuantile(0.5),
      queryP99: promQuantile(0.99),
    },
    etcd: { calls: etcdCalls, perReconcile: reconciles > 0 ? etcdCalls / reconciles : NaN, byMethod },
    scrape: {
      msP50: percentile(
        loop.map((l) => l.scrapeMs),
        50,
      ),
      msMax: Math.max(...loop.map((l) => l.scrapeMs)),
      bytes: mean(loop.map((l) => l.scrapeBytes)),
    },
    loadavg1: [a.loadavg[0] ?? NaN, b.loadavg[0] ?? NaN],
  };
}

/** Share of observations above the highest finite bucket bound (where quantiles stop being exact). */
function fractionAboveTopBucket(cumulative: Map<number, number>): number {
  const total = cumulative.get(Infinity) ?? 0;
  const finite = [...cumulative.keys()].filter(Number.isFinite);
  if (total <= 0 || finite.length === 0) return 0;
  return (total - (cumulative.get(Math.max(...finite)) ?? 0)) / total;
}

function bucketsWith(samples: Sample[], histogram: string, labels: Record<string, string>) {
  return buckets(
    samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)),
    histogram,
  );
}

async function waitForFirstStatus(env: Environment, keys: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (keys.every((k) => env.tracker.firstStatus.has(k))) return;
    await sleep(50);
  }
}

/** Where the first-status latency went: creation -> the operator's check -> the bench seeing it. */
function latencySplit(env: Environment, keys: string[]): string {
  const toCheck: number[] = [];
  const toSeen: number[] = [];
  for (const key of keys) {
    const first = env.tracker.firstStatus.get(key);
    if (!first) continue;
    toCheck.push(first.checkedMs - first.createdMs);
    toSeen.push(performance.timeOrigin + first.seenAt - first.checkedMs);
  }
  const a = distribution(toCheck);
  const b = distribution(toSeen);
  return (
    `creation (whole seconds) -> the operator's check p50 ${fmtMs(a.p50)} p99 ${fmtMs(a.p99)}, ` +
    `-> the bench sees it p50 ${fmtMs(b.p50)} p99 ${fmtMs(b.p99)}`
  );
}

function firstStatusDistribution(env: Environment, created: Map<string, number>) {
  const latencies: number[] = [];
  let missing = 0;
  for (const [key, at] of created) {
    const seen = env.tracker.firstStatus.get(key)?.seenAt;
    if (seen === undefined) missing++;
    else latencies.push(seen - at);
  }
  return { ...distribution(latencies), missing };
}

async function runOperator(config: Config, env: Environment, kind: OperatorKind): Promise<OperatorResult> {
  const logDir = makeTempDir(`bench-${kind}`);
  step(`${kind}: starting the operator`);
  const op = await startUnderTest(kind, {
    kubeconfigPath: env.operatorKubeconfigPath,
    logDir,
    realArgs: config.realArgs,
    builds: env.builds,
    cpuProfileDir: config.cpuProfileDir,
    nodeArgs: kind === 'naive' ? [] : config.nodeArgs,
  });
  let stopped = false;
  const stopOperator = async () => {
    if (stopped) return;
    stopped = true;
    await op.stop();
  };
  teardown.add(`${kind} operator`, stopOperator);
  const poller = new MetricsPoller(op.metricsUrl, op.pid, config.pollS * 1000);
  // Idle: caches synced, no CR yet.
  await sleep(5_000);
  await poller.pollOnce();
  const idle = poller.loop.at(-1);
  poller.start();
  const result: OperatorResult = {
    kind,
    args: kind === 'naive' ? [] : config.realArgs,
    phases: [],
    peakRssLifetimeBytes: NaN,
    idleRssBytes: idle?.rssBytes ?? NaN,
    idleHeapUsedBytes: idle?.heapUsedBytes ?? NaN,
    rssResetWorked: true,
    exitedEarly: false,
  };
  const windows = kind === 'naive' ? config.naiveWindows : config.windows;
  const all = new Set<string>();

  for (const [index, scale] of config.scales.entries()) {
    const keys = Array.from({ length: scale }, (_, i) => benchKey(i)).filter((k) => !all.has(k));
    result.rssResetWorked &&= resetPeakRss(op.pid);
    const before = await snapshot(env, op);
    step(`${kind}: creating ${keys.length} CRs (${scale} in all)`);
    const t0 = performance.now();
    const created = await createMany(env, keys);
    const createSeconds = (performance.now() - t0) / 1000;
    for (const k of keys) all.add(k);
    const timeoutMs = Math.min(120_000, 60_000 + keys.length * 300);
    await waitForFirstStatus(env, keys, timeoutMs);
    const firstStatus = firstStatusDistribution(env, created);
    step(
      `${kind}: ${firstStatus.n}/${keys.length} have a full status (created in ${createSeconds.toFixed(1)}s); ` +
        `creation -> status p50 ${fmtMs(firstStatus.p50)} p99 ${fmtMs(firstStatus.p99)} max ${fmtMs(firstStatus.max)}; ` +
        latencySplit(env, keys),
    );
    await sleep(config.settleS * 1000);
    const a = await snapshot(env, op);
    const windowS = windows[index] ?? 60;
    step(`${kind}: steady window of ${windowS}s at ${all.size} CRs`);
    env.tracker.changeSamples.length = 0;
    await sleep(windowS * 1000);
    const b = await snapshot(env, op);
    const changeSamples = env.tracker.changeSamples.map(({ key, changes }) => ({ key, changes }));
    const mem = memory(op.pid);
    const phase: PhaseResult = {
      scale,
      newCrs: keys.length,
      createSeconds,
      firstStatus,
      creation: {
        eventsStored: a.storedEvents.size - before.storedEvents.size,
        eventReasons: newEventReasons(before, a),
        statusWritesByWhy: byWhyDelta(before.operator, a.operator),
        writeReasons: writeReasons(op.logPath, before.wallMs, a.wallMs),
      },
      window: windowResult(config, env, poller, all, a, b, mem.hwmBytes, mem.rssBytes),
    };
    phase.window.statusWrites.reasons = writeReasons(op.logPath, a.wallMs, b.wallMs);
    phase.window.changeSamples = changeSamples;
    result.phases.push(phase);
    const w = phase.window;
    step(
      `${kind} @${scale}: ${w.reconcilesPerSecond.toFixed(2)}/s of ${w.requestedPerSecond.toFixed(2)}/s requested, ` +
        `interval error p50 ${w.intervalError.p50.toFixed(2)}s p99 ${w.intervalError.p99.toFixed(2)}s, ` +
        `late>1s ${w.lateBeyondJitter.over1s}/${w.lateBeyondJitter.n}, queue wait p99 ${fmtS(w.queueWaitP99)}, ` +
        `CPU ${w.cores.operator.toFixed(3)} cores, peak RSS ${mib(w.peakRssBytes)}, ` +
        `writes/CR/h ${w.statusWritesPerCrPerHour.toFixed(1)}, events ${w.events.stored}, ` +
        `prom q/reconcile ${w.prometheus.perReconcile.toFixed(1)}, etcd calls/reconcile ${w.etcd.perReconcile.toFixed(1)}`,
    );
  }

  if (config.probes > 0) {
    step(`${kind}: ${config.probes} new CRs, 1s apart, with ${all.size} present`);
    const created = new Map<string, number>();
    const keys: string[] = [];
    for (let i = 0; i < config.probes; i++) {
      const key = keyOf(NAMESPACES[i % NAMESPACES.length]!, `probe-${i}`);
      keys.push(key);
      created.set(key, await createCheck(env, key));
      await sleep(1_000);
    }
    await waitForFirstStatus(env, keys, 60_000);
    result.probes = {
      present: all.size,
      created: keys.length,
      firstStatus: firstStatusDistribution(env, created),
    };
    for (const k of keys) all.add(k);
    const p = result.probes.firstStatus;
    step(
      `${kind}: new CR -> status p50 ${fmtMs(p.p50)} p99 ${fmtMs(p.p99)} max ${fmtMs(p.max)} (${p.missing} missing)`,
    );
  }

  if (config.restart) result.restart = await restartScenario(config, env, op, poller, all);

  await poller.stop();
  result.exitedEarly = op.exited();
  try {
    result.peakRssLifetimeBytes = memory(op.pid).hwmBytes;
  } catch {
    // gone
  }
  step(`${kind}: stopping the operator and deleting its CRs`);
  await stopOperator();
  await deleteAllChecks(env);
  return result;
}

/** The operator's first `count` requests from `fromMs` on, one per line: when, what, the answer. */
function firstRequests(requests: AuditedRequest[], fromMs: number, count: number): string {
  return requests
    .map((request) => ({ request, at: Date.parse(request.requestReceivedTimestamp ?? '') }))
    .filter(({ at }) => at >= fromMs)
    .sort((a, b) => a.at - b.at)
    .slice(0, count)
    .map(({ request, at }) => {
      const ref = request.objectRef;
      const what = ref?.name ? `${ref.resource}/${ref.name}` : (ref?.resource ?? request.requestURI);
      // A watch is logged first when its answer starts; anything else when it is complete.
      const done = Date.parse(request.stageTimestamp ?? '');
      const served =
        request.stage === 'ResponseComplete' && Number.isFinite(done)
          ? `, served in ${((done - at) / 1000).toFixed(2)}s`
          : '';
      return `  +${((at - fromMs) / 1000).toFixed(2)}s ${request.verb} ${what} ${request.responseStatus?.code ?? '-'}${served}`;
    })
    .join('\n');
}

async function restartScenario(
  config: Config,
  env: Environment,
  op: OperatorUnderTest,
  poller: MetricsPoller,
  all: Set<string>,
): Promise<RestartResult> {
  step(`${op.kind}: restarting kube-apiserver with ${all.size} CRs`);
  // NaN once the operator is gone: the naive baseline exits on errors, as its model does.
  const errors = async () =>
    fetchText(op.metricsUrl).then(
      (text) =>
        sumOf(parseSamples(text, OPERATOR_PREFIXES), 'etcd_health_operator_reconcile_total', {
          result: 'error',
        }),
      () => NaN,
    );
  const errorsBefore = await errors();
  const down = Date.now();
  await env.cp.restartApiServer();
  const up = Date.now();
  const key = keyOf(NAMESPACES[0]!, 'after-restart');
  await createCheck(env, key);
  const created = Date.now();
  const [namespace, name] = key.split('/') as [string, string];
  let newCrStatusSeconds = NaN;
  try {
    await eventually(
      async () => {
        const check = (await env.custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
        })) as EtcdHealthCheck;
        return hasFullStatus(check);
      },
      { timeoutMs: 60_000, intervalMs: 100, description: 'a status on the CR created after the restart' },
    );
    newCrStatusSeconds = (Date.now() - up) / 1000;
  } catch (error) {
    step(`${op.kind}: ${(error as Error).message}`);
  }
  all.add(key);
  // Every CR that existed before the restart completes a check after it.
  const before = [...all].filter((k) => k !== key);
  const deadline = up + Math.max(90_000, config.intervalS * 3_000);
  let allCheckedAgainSeconds = NaN;
  while (Date.now() < deadline) {
    await poller.pollOnce().catch(() => undefined);
    const pending = before.filter((k) => (poller.lastCheck.get(k) ?? 0) * 1000 < up);
    if (pending.length === 0) {
      // The exact time: each CR's first check completed after `up` (the gauge holds the time).
      const firstAfter = new Map<string, number>();
      for (const g of poller.gaps)
        if (g.end * 1000 >= up && !(firstAfter.get(g.key)! <= g.end)) firstAfter.set(g.key, g.end);
      allCheckedAgainSeconds = Math.max(
        ...before.map((k) => (firstAfter.get(k) ?? Date.now() / 1000) - up / 1000),
      );
      break;
    }
    // A /metrics scrape of the operator is not free at 1000 CRs: not more often than this.
    await sleep(5_000);
  }
  const notCheckedAgain = before.filter((k) => (poller.lastCheck.get(k) ?? 0) * 1000 < up).length;
  const beforeKeys = new Set(before);
  const gapsAround = poller.gapsBetween(down / 1000, Date.now() / 1000, beforeKeys).map((g) => g.seconds);
  // The audit log's first minute after /readyz must be over before it is read.
  await eventually(() => Date.now() > up + 61_000, { timeoutMs: 120_000, intervalMs: 1_000 });
  const counted = countRequests(env.audit.requests(), down, up, 60);
  const result: RestartResult = {
    crs: before.length,
    downSeconds: (up - down) / 1000,
    newCrStatusSeconds,
    allCheckedAgainSeconds,
    notCheckedAgain,
    reconcileErrors: (await errors()) - errorsBefore,
    operatorExited: op.exited(),
    longestGapSeconds: gapsAround.length > 0 ? Math.max(...gapsAround) : NaN,
    requests: {
      beforeReady: counted.beforeReady,
      perSecond: counted.perSecond,
      firstMinute: counted.total,
      peakPerSecond: counted.peakPerSecond,
      byVerb: counted.byVerb,
      byCode: counted.byCode,
    },
  };
  step(
    `${op.kind}: apiserver down ${result.downSeconds.toFixed(1)}s; new CR status ${newCrStatusSeconds.toFixed(1)}s after ready; ` +
      `all ${before.length} checked again after ${allCheckedAgainSeconds.toFixed(1)}s (${notCheckedAgain} not); ` +
      `${result.reconcileErrors} failed reconciles${result.operatorExited ? '; the operator EXITED' : ''}; ` +
      `longest gap between two checks ${result.longestGapSeconds?.toFixed(1)}s; operator requests: ` +
      `${counted.beforeReady} before /readyz, ${counted.total} in the first minute (peak ${counted.peakPerSecond}/s) ` +
      `${JSON.stringify(counted.byVerb)} codes ${JSON.stringify(counted.byCode)}`,
  );
  step(
    `${op.kind}: the bench's create of ${key} returned ${((created - up) / 1000).toFixed(1)}s after /readyz; the operator's first requests after /readyz:\n${firstRequests(env.audit.requests(), up, 12)}`,
  );
  if (result.operatorExited) step(`${op.kind}: its last log lines:\n${lastLines(op.logPath, 5)}`);
  return result;
}

function prometheusVersion(): string {
  try {
    // prometheus --version prints to stderr on some builds.
    const out = execFileSync('/usr/bin/prometheus', ['--version'], { encoding: 'utf8', stdio: 'pipe' });
    return out.split('\n')[0] ?? 'Prometheus';
  } catch (error) {
    return `Prometheus (${(error as Error).message})`;
  }
}

const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)}ms` : '-');
const fmtS = (s: number) => (Number.isFinite(s) ? `${s.toFixed(3)}s` : '-');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)}MiB`;

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const config = parseConfig();
  if (!config) {
    process.stdout.write(USAGE);
    return 0;
  }
  teardown.onSignals((code) => process.exit(code));
  const machineBefore = machine();
  step(
    `machine: ${machineBefore.nproc} CPUs (${machineBefore.cpu}), node ${machineBefore.node}; ${machineBefore.uptime}`,
  );
  let builds: Builds | undefined;
  if (config.mode !== 'tsx') {
    step('compiling the operators with tsc (they run as JavaScript, as in the image)');
    builds = buildOperators();
  }
  if (builds && config.mode === 'bundle') {
    step('bundling the real operator with esbuild, as the image runs it');
    builds = { ...builds, bundle: bundleOperator() };
  }
  step('starting kube-apiserver (+ its etcd), a 3-member etcd cluster and Prometheus');
  const auditDir = makeTempDir('bench-audit');
  teardown.add('audit log', () => Promise.resolve(removeTempDir(auditDir)));
  const audit = requestAudit(auditDir, OPERATOR_USER);
  const [cp, cluster] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }).then((c) => {
      teardown.add('control plane', () => c.stop());
      return c;
    }),
    startEtcdCluster({ members: 3 }).then((c) => {
      teardown.add('etcd cluster', () => c.stop());
      return c;
    }),
  ]);
  const prometheus = await startPrometheus(cluster, { scrapeIntervalSeconds: config.scrapeIntervalS });
  teardown.add('Prometheus', () => prometheus.stop());
  const load = startWriteLoad(cluster, { perSecond: config.writeLoad });
  teardown.add('write load', async () => void (await load.stop()));
  step(`waiting until Prometheus (scraping every ${config.scrapeIntervalS}s) has every p99 for every member`);
  await waitForData(prometheus, cluster.members.length, 300_000);
  for (const namespace of NAMESPACES) await cp.createNamespace(namespace);
  const operatorIdentity = await clusterAdminServiceAccount(cp, OPERATOR_SA.namespace, OPERATOR_SA.name);
  const client = new KubeConfig();
  client.loadFromFile(
    (await clusterAdminServiceAccount(cp, CLIENT_SA.namespace, CLIENT_SA.name)).kubeconfigPath,
  );
  const tracker = new CheckTracker(cp.kubeConfig);
  await tracker.start();
  teardown.add('CR watch', () => tracker.stop());
  const env: Environment = {
    cp,
    cluster,
    prometheus,
    load,
    custom: client.makeApiClient(CustomObjectsApi),
    core: cp.kubeConfig.makeApiClient(CoreV1Api),
    tracker,
    builds,
    operatorKubeconfigPath: operatorIdentity.kubeconfigPath,
    audit,
    spec: {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
      interval: config.interval,
      // A shared test machine's disks are not production disks: latency thresholds out of the way,
      // so that the steady state has no health change (as in test/controller/operator.it.ts).
      thresholds: {
        walFsyncP99: { warning: '1s', critical: '2s' },
        backendCommitP99: { warning: '1s', critical: '2s' },
        peerRoundTripP99: { warning: '1s', critical: '2s' },
      },
    },
  };
  step(
    `etcd ${cluster.version} at ${cluster.endpoints.join(', ')}; Prometheus ${prometheus.url}; kube-apiserver ${cp.server}`,
  );

  const results: OperatorResult[] = [];
  for (const kind of config.operators) results.push(await runOperator(config, env, kind));

  const machineAfter = machine();
  const report: BenchReport = {
    startedAt: new Date(runStarted).toISOString(),
    durationSeconds: (Date.now() - runStarted) / 1000,
    machine: machineBefore,
    uptimeAfter: machineAfter.uptime,
    config,
    etcdVersion: cluster.version,
    prometheusVersion: prometheusVersion(),
    results,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const markdown = renderMarkdown(report);
  // Formatted as the repo's prettier config wants it, so that `npm run lint` stays clean.
  const jsonPath = join(RESULTS_DIR, `${stamp}.json`);
  const prettierOptions = (await resolveConfig(jsonPath)) ?? {};
  writeFileSync(jsonPath, await format(JSON.stringify(report), { ...prettierOptions, parser: 'json' }));
  writeFileSync(join(RESULTS_DIR, `${stamp}.md`), markdown);
  process.stdout.write(`\n${markdown}\n`);
  step(`results in bench/results/${stamp}.{json,md}`);
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
