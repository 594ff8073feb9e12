// The results of a run as Markdown: per scale, the real operator and the naive baseline side by
// side with their ratio; then new CRs at the largest scale, the apiserver restart, and the targets.
import type { BenchReport, Config, OperatorResult, PhaseResult, WindowResult } from './types.js';

/** How the operators ran (Config.mode), in the report's words. */
const RUN_MODES: Record<Config['mode'], string> = {
  build: 'compiled JavaScript',
  bundle: "compiled JavaScript (the real operator as the image's esbuild bundle)",
  tsx: 'TypeScript through tsx',
};

type Row = [label: string, value: (phase: PhaseResult) => number, format: (n: number) => string];

const num = (digits: number) => (n: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '-');
const sec = (digits: number) => (n: number) => (Number.isFinite(n) ? `${n.toFixed(digits)} s` : '-');
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} %` : '-');
const mib = (n: number) => (Number.isFinite(n) ? `${(n / 2 ** 20).toFixed(0)} MiB` : '-');
const w = (f: (w: WindowResult) => number) => (p: PhaseResult) => f(p.window);

const ROWS: Row[] = [
  ['CRs created in this step', (p) => p.newCrs, num(0)],
  ['creation -> first full status p50', (p) => p.firstStatus.p50, ms],
  ['creation -> first full status p99', (p) => p.firstStatus.p99, ms],
  ['CRs without a status at the deadline', (p) => p.firstStatus.missing, num(0)],
  ['steady window', w((x) => x.seconds), sec(0)],
  ['reconciles/s achieved', w((x) => x.reconcilesPerSecond), num(2)],
  ['reconciles/s requested (CRs / interval)', w((x) => x.requestedPerSecond), num(2)],
  ['failed reconciles in the window', w((x) => x.reconcileErrors), num(0)],
  ['time between checks - interval, p50', w((x) => x.intervalError.p50), sec(2)],
  ['time between checks - interval, p99', w((x) => x.intervalError.p99), sec(2)],
  ['late beyond interval+10% jitter, p99', w((x) => x.lateBeyondJitter.p99), sec(2)],
  ['checks late by > 1 s beyond the jitter', w((x) => x.lateBeyondJitter.over1s), num(0)],
  ['checks measured (gaps)', w((x) => x.intervalError.n), num(0)],
  ['queue wait after due, p50', w((x) => x.queueWaitP50 * 1000), ms],
  ['queue wait after due, p99 (histogram tops out at 10 s)', w((x) => x.queueWaitP99 * 1000), ms],
  ['queue waits longer than 10 s', w((x) => (x.queueWaitOverTopBucket ?? NaN) * 100), pct],
  ['reconcile duration p50', w((x) => x.reconcileDurationP50 * 1000), ms],
  ['reconcile duration p99', w((x) => x.reconcileDurationP99 * 1000), ms],
  ['operator CPU (cores, average)', w((x) => x.cores.operator), num(3)],
  ['operator CPU per reconcile', w((x) => x.cpuMsPerReconcile), ms],
  ['operator peak RSS (this step)', w((x) => x.peakRssBytes), mib],
  ['V8 heap total (max polled)', w((x) => x.heap.totalMaxBytes), mib],
  ['V8 heap used (min polled: about the live set)', w((x) => x.heap.usedMinBytes), mib],
  ['event loop delay p99 (worst poll period)', w((x) => x.loopLagP99Max * 1000), ms],
  ['status writes / CR / hour (apiserver PATCH /status)', w((x) => x.statusWritesPerCrPerHour), num(1)],
  ['status writes in the window (apiserver)', w((x) => x.statusWrites.apiserverPatches), num(0)],
  ['Events / CR / hour', w((x) => x.eventsPerCrPerHour), num(2)],
  ['Events in the window', w((x) => x.events.stored), num(0)],
  ['Prometheus queries / reconcile', w((x) => x.prometheus.perReconcile), num(1)],
  ['Prometheus queries / s', w((x) => x.prometheus.perSecond), num(1)],
  ['Prometheus query p99 (its own histogram)', w((x) => x.prometheus.queryP99 * 1000), ms],
  ['etcd gRPC calls / reconcile', w((x) => x.etcd.perReconcile), num(1)],
  ['Prometheus CPU (cores)', w((x) => x.cores.prometheus), num(3)],
  ['etcd CPU, 3 members (cores)', w((x) => x.cores.etcd), num(3)],
  ['kube-apiserver CPU (cores)', w((x) => x.cores.apiServer), num(3)],
  ['one /metrics scrape of the operator', w((x) => x.scrape.msP50), ms],
  ['whole machine CPU busy (cores, /proc/stat)', w((x) => x.cores.machine ?? NaN), num(2)],
  ['CPU stolen by the hypervisor (cores)', w((x) => x.cores.steal ?? NaN), num(2)],
  ['machine load average (1 min) at the end', w((x) => x.loadavg1[1] ?? NaN), num(2)],
];

function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '-';
  const r = a / b;
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}

const TITLES: Record<OperatorResult['kind'], string> = {
  real: 'operator',
  naive: 'naive baseline',
  'real-unshared': 'operator, nothing shared (--source-cache-ttl=0s)',
};

function table(scale: number, results: OperatorResult[]): string {
  const phases = results.map((r) => r.phases.find((p) => p.scale === scale));
  const realIndex = results.findIndex((r) => r.kind === 'real');
  const others = results.map((r, i) => i).filter((i) => i !== realIndex && realIndex >= 0);
  const cell = (cells: string[]) => (cells.length ? ` ${cells.join(' | ')} |` : '');
  const lines = [
    `### ${scale} EtcdHealthCheck${scale === 1 ? '' : 's'}`,
    '',
    `| | ${results.map((r) => TITLES[r.kind]).join(' | ')} |${cell(others.map((i) => `${TITLES[results[i]!.kind]} / operator`))}`,
    `|---|${results.map(() => '---:').join('|')}|${others.map(() => '---:|').join('')}`,
  ];
  for (const [label, value, format] of ROWS) {
    const values = phases.map((p) => (p ? value(p) : NaN));
    const ratios = others.map((i) => ratio(values[i]!, values[realIndex]!));
    lines.push(`| ${label} | ${values.map(format).join(' | ')} |${cell(ratios)}`);
  }
  return lines.join('\n');
}

function reasons(result: OperatorResult | undefined): string[] {
  if (!result) return [];
  const json = (o: Record<string, number> | undefined) =>
    o && Object.keys(o).length ? JSON.stringify(o) : '{}';
  return result.phases.map(
    (p) =>
      `- ${result.kind}, ${p.scale} CRs: creation writes ${json(p.creation.statusWritesByWhy)}, Events ${json(p.creation.eventReasons)}; ` +
      `window writes ${json(p.window.statusWrites.operatorByWhy)}, first differences ${json(p.window.statusWrites.reasons)}, Events ${json(p.window.events.reasons)}`,
  );
}

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [
    `## Run of ${report.startedAt} (${(report.durationSeconds / 60).toFixed(1)} min)`,
    '',
    `Machine: ${report.machine.nproc} CPUs, ${report.machine.cpu}, node ${report.machine.node}, kernel ${report.machine.kernel}.`,
    `Load before: \`${report.machine.uptime}\`; after: \`${report.uptimeAfter}\`.`,
    `etcd ${report.etcdVersion}, ${report.prometheusVersion ?? 'Prometheus'}; interval ${report.config.interval}; ` +
      `write load ${report.config.writeLoad} puts/s; Prometheus scrapes etcd every ${report.config.scrapeIntervalS}s; ` +
      `operators run as ${RUN_MODES[report.config.mode]}; node flags ${JSON.stringify(report.config.nodeArgs ?? [])}; real operator args: ${JSON.stringify(report.config.realArgs)}.`,
    '',
  ];
  for (const scale of report.config.scales) out.push(table(scale, report.results), '');
  out.push(
    'Status writes by `why` (operator counter), the first difference the operator logged for each write, and Events by reason:',
    '',
    ...report.results.flatMap(reasons),
    '',
  );

  out.push(
    '### New CRs and an apiserver restart at the largest scale',
    '',
    `| | ${report.results.map((r) => TITLES[r.kind]).join(' | ')} |`,
    `|---|${report.results.map(() => '---:').join('|')}|`,
  );
  const both = (label: string, f: (r: OperatorResult) => string) =>
    out.push(`| ${label} | ${report.results.map(f).join(' | ')} |`);
  both('CRs present', (r) => String(r.probes?.present ?? '-'));
  both('new CR -> full status p50', (r) => ms(r.probes?.firstStatus.p50 ?? NaN));
  both('new CR -> full status p99', (r) => ms(r.probes?.firstStatus.p99 ?? NaN));
  both('new CR -> full status max', (r) => ms(r.probes?.firstStatus.max ?? NaN));
  both('new CRs without a status after 60 s', (r) => String(r.probes?.firstStatus.missing ?? '-'));
  both('apiserver down (stop + start until /readyz)', (r) => sec(1)(r.restart?.downSeconds ?? NaN));
  both('apiserver ready -> a CR created then has a status', (r) =>
    sec(1)(r.restart?.newCrStatusSeconds ?? NaN),
  );
  both('apiserver ready -> every CR checked again', (r) => sec(1)(r.restart?.allCheckedAgainSeconds ?? NaN));
  both('CRs not checked again by the deadline', (r) => String(r.restart?.notCheckedAgain ?? '-'));
  both('failed reconciles around the restart', (r) => String(r.restart?.reconcileErrors ?? '-'));
  both('longest time between two checks of a CR across the restart', (r) =>
    sec(1)(r.restart?.longestGapSeconds ?? NaN),
  );
  both('operator requests reaching the apiserver before /readyz', (r) =>
    String(r.restart?.requests?.beforeReady ?? '-'),
  );
  both('operator requests in the first minute after /readyz (peak per second)', (r) =>
    r.restart?.requests ? `${r.restart.requests.firstMinute} (${r.restart.requests.peakPerSecond}/s)` : '-',
  );
  both('those requests by verb and resource', (r) =>
    r.restart?.requests ? verbs(r.restart.requests.byVerb) : '-',
  );
  both('operator process exited around the restart', (r) =>
    r.restart ? (r.restart.operatorExited ? 'yes' : 'no') : '-',
  );
  both('RSS idle (no CR, 5 s after start)', (r) => mib(r.idleRssBytes));
  both('V8 heap used idle', (r) => mib(r.idleHeapUsedBytes));
  both('peak RSS over the whole run', (r) => mib(r.peakRssLifetimeBytes));
  out.push('');

  for (const result of report.results.filter((r) => r.kind !== 'naive')) {
    const largest = result.phases.at(-1);
    if (!largest) continue;
    const x = largest.window;
    const mark = (ok: boolean) => (ok ? 'met' : '**missed**');
    const lateP99 = x.lateBeyondJitter.p99;
    const probeP99 = result.probes?.firstStatus.p99 ?? NaN;
    out.push(
      `### Targets: ${TITLES[result.kind]}, ${largest.scale} CRs at ${report.config.interval}`,
      '',
      '| target | measured | |',
      '|---|---:|---|',
      `| schedule lag p99 < 1 s (queue wait after due) | ${ms(x.queueWaitP99 * 1000)} | ${mark(x.queueWaitP99 < 1)} |`,
      `| schedule lag p99 < 1 s (late beyond interval+10% jitter) | ${sec(2)(lateP99)} | ${mark(lateP99 < 1)} |`,
      `| < 0.5 CPU core average | ${num(3)(x.cores.operator)} | ${mark(x.cores.operator < 0.5)} |`,
      `| peak RSS < 256 MiB (whole run) | ${mib(result.peakRssLifetimeBytes)} | ${mark(result.peakRssLifetimeBytes < 256 * 2 ** 20)} |`,
      `| zero Events in steady state | ${x.events.stored} | ${mark(x.events.stored === 0)} |`,
      `| status writes <= heartbeat (12 / CR / h at 5m) | ${num(1)(x.statusWritesPerCrPerHour)} | ${mark(x.statusWritesPerCrPerHour <= 12.5)} |`,
      `| new CR -> status p99 < 2 s with ${result.probes?.present ?? '?'} present | ${ms(probeP99)} | ${mark(probeP99 < 2000)} |`,
      ...footprintAndRecoveryTargets(result, largest, report.config.intervalS, mark),
      '',
    );
  }
  return out.join('\n');
}

/**
 * The footprint, burst and restart goals of issue 17. Idle is 5 s after start with no CR (the image
 * runs the bundle: `--mode bundle`; `npm run bench:footprint` samples a settled idle). A retry storm
 * is a first minute whose busiest second asks more than the steady check rate (CRs / interval).
 */
function footprintAndRecoveryTargets(
  result: OperatorResult,
  largest: PhaseResult,
  intervalS: number,
  mark: (ok: boolean) => string,
): string[] {
  const burstP99 = largest.firstStatus.p99;
  const restart = result.restart;
  const rows = [
    `| RSS idle <= 90 MiB (no CR, 5 s after start) | ${mib(result.idleRssBytes)} | ${mark(result.idleRssBytes <= 90 * 2 ** 20)} |`,
    `| peak RSS <= 180 MiB (whole run) | ${mib(result.peakRssLifetimeBytes)} | ${mark(result.peakRssLifetimeBytes <= 180 * 2 ** 20)} |`,
    `| ${largest.newCrs} created at once -> full status p99 < 3 s | ${ms(burstP99)} | ${mark(burstP99 < 3000)} |`,
  ];
  if (!restart) return rows;
  const steadyRate = restart.crs / intervalS;
  const peak = restart.requests?.peakPerSecond ?? NaN;
  return [
    ...rows,
    `| after an apiserver restart, a new CR -> status < 2 s after /readyz | ${sec(1)(restart.newCrStatusSeconds)} | ${mark(restart.newCrStatusSeconds < 2)} |`,
    `| every CR checked again within one interval (+10 % jitter) | ${sec(1)(restart.allCheckedAgainSeconds)} | ${mark(restart.allCheckedAgainSeconds <= intervalS * 1.1)} |`,
    `| no retry storm: busiest second of the first minute <= ${num(1)(steadyRate)} requests (the steady check rate) | ${Number.isFinite(peak) ? `${peak}/s` : '-'} | ${mark(peak <= steadyRate)} |`,
  ];
}

/** `GET x: 3, PATCH y: 1`, largest first. */
function verbs(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([verb, n]) => `${verb}: ${n}`)
    .join(', ');
}
