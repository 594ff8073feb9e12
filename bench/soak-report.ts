// The soak's result (bench/soak.ts) as data, its RSS verdict, and as SOAK.md.
import { percentile } from './measure.js';

const median = (values: readonly number[]) => percentile(values, 50);

export interface SoakMachine {
  nproc: string;
  memory: string;
  cpu: string;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
}

export interface RssSample {
  /** Seconds since the soak started (the operator was running). */
  atS: number;
  rssBytes: number;
  /** nodejs_heap_size_used_bytes from the operator's /metrics; NaN when not read. */
  heapUsedBytes: number;
  /** The machine's 1-minute load average. */
  load1?: number;
}

export interface FaultRecord {
  cycle: number;
  /** mm:ss since the soak started. */
  at: string;
  kind: string;
  target: string;
  expected: string;
  recovery: string;
  /** CRs that had not settled within the deadline before the fault, with their conditions. */
  notSettledBefore: string[];
  /** Per CR: seconds from the fault to the expected transition; undefined: not seen in time. */
  onsetS?: Record<string, number | undefined>;
  /** Per CR: seconds from the heal to the recovery; undefined: not seen in time. */
  recoveryS: Record<string, number | undefined>;
  /** Available per CR once the fault showed. */
  availableDuring: (string | undefined)[];
  /** Event reasons per CR in the fault's window, oldest first. */
  events: Record<string, string[]>;
  missing: string[];
}

export interface CheckRecord {
  key: string;
  unhealthy: string[];
}

export interface SoakReport {
  command: string;
  startedAt: string;
  finishedAt: string;
  soakSeconds: number;
  durationRequested: string;
  machineBefore: SoakMachine;
  machineAfter: SoakMachine;
  etcdVersion: string;
  operator: {
    pid: number;
    alive: boolean;
    restarts: string[];
    /** Log lines at error and fatal level; byMessage: warn, error and fatal lines by level and message. */
    errorLines: { error: number; fatal: number; byMessage?: Record<string, number> };
  };
  faults: FaultRecord[];
  rss: RssSample[];
  finalSettle: Record<string, number | undefined>;
  stuck: CheckRecord[];
  writeLoad: { writes: number; expectedErrors: number; unexpectedErrors: Record<string, number> };
}

export interface RssVerdict {
  warmupS: number;
  /** Median RSS of the first and the last window after the warm-up. */
  earlyBytes: number;
  lateBytes: number;
  /** (late - early) / early. */
  change: number;
  minBytes: number;
  maxBytes: number;
  windowS: number;
  flat: boolean;
}

/** Flat: the median of the last window is within 10 % of the first window after the warm-up. */
export function rssVerdict(samples: readonly RssSample[], soakSeconds: number): RssVerdict {
  // Ten minutes of warm-up, and five-minute windows; a fifth and a quarter of a short run.
  const warmupS = Math.min(600, soakSeconds / 5);
  const windowS = Math.min(300, (soakSeconds - warmupS) / 4);
  const after = samples.filter((s) => s.atS >= warmupS);
  const end = after.at(-1)?.atS ?? warmupS;
  const early = after.filter((s) => s.atS < warmupS + windowS).map((s) => s.rssBytes);
  const late = after.filter((s) => s.atS > end - windowS).map((s) => s.rssBytes);
  const earlyBytes = median(early);
  const lateBytes = median(late);
  const change = (lateBytes - earlyBytes) / earlyBytes;
  const values = after.map((s) => s.rssBytes);
  return {
    warmupS,
    earlyBytes,
    lateBytes,
    change,
    minBytes: Math.min(...values),
    maxBytes: Math.max(...values),
    windowS,
    flat: Math.abs(change) <= 0.1,
  };
}

const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : 'n/a');
const secs = (v: number | undefined) => (v === undefined ? '**none**' : `${Math.round(v)}s`);
const worst = (values: Record<string, number | undefined> | undefined) => {
  if (!values) return 'n/a';
  const list = Object.values(values);
  return list.some((v) => v === undefined)
    ? `**missing on ${list.filter((v) => v === undefined).length}**`
    : `${secs(Math.min(...(list as number[])))}-${secs(Math.max(...(list as number[])))}`;
};

export function renderSoak(report: SoakReport, rawPath: string): string {
  const rss = rssVerdict(report.rss, report.soakSeconds);
  const missing = report.faults.flatMap((f) => f.missing.map((m) => `cycle ${f.cycle} ${f.kind}: ${m}`));
  const stuck = report.stuck.filter((c) => c.unhealthy.length > 0);
  const noRestart = report.operator.alive && report.operator.restarts.length === 0;
  const pass =
    noRestart && rss.flat && missing.length === 0 && stuck.length === 0 && report.faults.length > 0;
  const m = report.machineBefore;
  const lines: string[] = [
    '# Soak',
    '',
    `The operator ran as one process (compiled, \`node --max-old-space-size=128\`, as deploy/base runs`,
    `it) for ${Math.round(report.soakSeconds / 60)} minutes against a real 3-member etcd ${report.etcdVersion} cluster (20 puts/s),`,
    `a real Prometheus (scraping every second) and a real kube-apiserver, with three EtcdHealthChecks`,
    `(intervals 10s, 15s, 20s; \`rateWindow: 1m\`, \`degradedInertia: 20s\`), while faults cycled. Code:`,
    '`bench/soak.ts`. Raw data (every RSS sample, per-CR times, Events): `' + rawPath + '`.',
    '',
    `**Verdict: ${pass ? 'pass' : 'FAIL'}**`,
    '',
    `- Operator restarts: ${noRestart ? `0 (PID ${report.operator.pid} and its start time unchanged throughout, still running at the end)` : `**${report.operator.restarts.join('; ') || 'not running at the end'}**`}.`,
    `  Log lines at level error: ${report.operator.errorLines.error}, fatal: ${report.operator.errorLines.fatal}${byMessage(report.operator.errorLines.byMessage)}.`,
    `- RSS after a ${Math.round(rss.warmupS / 60)}-minute warm-up: median ${mib(rss.earlyBytes)} in the first ${Math.round(rss.windowS / 60)} minutes, ${mib(rss.lateBytes)} in the last ${Math.round(rss.windowS / 60)}: ${(rss.change * 100).toFixed(1)} % (${rss.flat ? 'flat' : '**not flat**'}: the bound is 10 %); min ${mib(rss.minBytes)}, max ${mib(rss.maxBytes)} after the warm-up; ${report.rss.length} samples, one every 10 s.`,
    `- Faults: ${report.faults.length} in ${Math.max(0, ...report.faults.map((f) => f.cycle))} cycles; every transition and recovery seen in order on every CR: ${missing.length === 0 ? 'yes' : `**no**: ${missing.join('; ')}`}.`,
    `- Stuck conditions at the end: ${stuck.length === 0 ? 'none (every CR settled: Available=True, Degraded=False, every per-check condition False, metrics reachable)' : `**${stuck.map((c) => `${c.key}: ${c.unhealthy.join(', ')}`).join('; ')}**`}.`,
    '',
    '## Machine',
    '',
    `- ${m.nproc} CPUs (${m.cpu}), memory ${m.memory}, kernel ${m.kernel}, node ${m.node}`,
    `- ${report.startedAt} to ${report.finishedAt}`,
    `- Load average (1, 5, 15 min) before: ${m.loadavg.join(', ')}; after: ${report.machineAfter.loadavg.join(', ')}. The machine was not idle:`,
    '  other jobs of this project (test suites run in parallel) shared its 2 cores, on purpose; the load over',
    `  the run ${report.rss.some((s) => s.load1 !== undefined) ? 'is in the RSS table below' : 'was not sampled in between (this run predates that column)'}.`,
    `- Command: \`${report.command}\``,
    '',
    '## Faults',
    '',
    'Each fault starts once every CR is settled (Available=True, Degraded=False, Upgradeable=True, MetricsSourceReachable=True).',
    '"Transition" is from the fault to the expected conditions on every CR (min-max over the three CRs);',
    'the fault then stays on for 30 s more; "recovery" is from the heal to the recovered conditions',
    '(a condition counts only if its lastTransitionTime is after the fault, resp. the heal, so each',
    'recovery follows its own transition). CRs are read every 2 s. Events: the reasons recorded for',
    `the first CR (${Object.keys(report.faults[0]?.events ?? {})[0] ?? 'n/a'}) during the fault, oldest first. The operator drops an Event`,
    'identical to one it recorded in the last 10 minutes (same object, type, reason and note), by design: a',
    'transition without its Event in a later cycle is such a repeat, not a lost Event.',
    '',
    '| # | at | fault | target | expected | transition | recovery | Available during | Events (first CR) |',
    '| - | -- | ----- | ------ | -------- | ---------- | -------- | ---------------- | ----------------- |',
    ...report.faults.map((f) => {
      const events = Object.values(f.events)[0] ?? [];
      return `| ${f.cycle} | ${f.at} | ${f.kind} | ${f.target} | ${f.expected} / ${f.recovery} | ${worst(f.onsetS)} | ${worst(f.recoveryS)} | ${f.availableDuring.join(', ')} | ${events.join(', ') || 'none'} |`;
    }),
    '',
    ...(report.faults.some((f) => f.notSettledBefore.length > 0)
      ? [
          'Faults that started before every CR had settled (5-minute deadline):',
          '',
          ...report.faults
            .filter((f) => f.notSettledBefore.length > 0)
            .map((f) => `- cycle ${f.cycle} ${f.kind}: ${f.notSettledBefore.join('; ')}`),
          '',
        ]
      : []),
    '## RSS',
    '',
    'Operator RSS (from /proc) and V8 heap in use (nodejs_heap_size_used_bytes), median per 5 minutes:',
    '',
    '| minutes | RSS | heap used | load (1 min) |',
    '| ------- | --- | --------- | ------------ |',
    ...bucketed(report.rss, 300).map(
      (b) =>
        `| ${Math.round(b.fromS / 60)}-${Math.round((b.fromS + 300) / 60)} | ${mib(b.rss)} | ${mib(b.heap)} | ${Number.isFinite(b.load) ? b.load.toFixed(1) : 'n/a'} |`,
    ),
    '',
    '## Write load',
    '',
    `${report.writeLoad.writes} puts succeeded, ${report.writeLoad.expectedErrors} failed as expected while a member was down,`,
    `unexpected failures: ${JSON.stringify(report.writeLoad.unexpectedErrors)}.`,
    '',
  ];
  return lines.join('\n');
}

function byMessage(counts: Record<string, number> | undefined): string {
  if (!counts || Object.keys(counts).length === 0) return '';
  const list = Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([message, count]) => `${count}x ${message}`);
  return `; warn and error lines by message: ${list.join(', ')}`;
}

function bucketed(
  samples: readonly RssSample[],
  widthS: number,
): { fromS: number; rss: number; heap: number; load: number }[] {
  const buckets = new Map<number, RssSample[]>();
  for (const s of samples) {
    const from = Math.floor(s.atS / widthS) * widthS;
    buckets.set(from, [...(buckets.get(from) ?? []), s]);
  }
  return [...buckets].map(([fromS, list]) => ({
    fromS,
    rss: median(list.map((s) => s.rssBytes)),
    heap: median(list.map((s) => s.heapUsedBytes).filter(Number.isFinite)),
    load: median(list.flatMap((s) => (s.load1 === undefined ? [] : [s.load1]))),
  }));
}
