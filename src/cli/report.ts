// Rendering of one check: a report for people (conditions, a member table like
// `etcdctl endpoint status -w table` plus the latencies, recommendations with their commands, the
// verdict) and JSON/YAML for machines. Pure: strings in, strings out.
import { dumpYaml } from '@kubernetes/client-node';
import { UNION_CONDITION_TYPES } from '../api/v1alpha1/resource.js';
import type {
  Condition,
  EtcdHealthCheckStatus,
  MemberStatus,
  Recommendation,
  SourceState,
} from '../api/v1alpha1/status.js';
import { formatBytes } from '../api/v1alpha1/units.js';
import type { Analysis, CheckName } from '../health/analyze.js';
import { statusFromAnalysis } from '../health/status.js';
import type { Observation } from '../health/observation.js';
import type { CheckVerdict } from './verdict.js';

export interface CheckReport {
  /** "flags", or the file and the object's namespace/name. */
  origin: string;
  /** Prometheus URL, when configured. */
  prometheusUrl?: string;
  observation: Observation;
  analysis: Analysis;
  verdict: CheckVerdict;
  /** metadata.generation of a CR read from the cluster; 1 otherwise. */
  generation?: number;
}

export interface TextOptions {
  /** ANSI colours (stdout is a terminal and NO_COLOR is unset). */
  color: boolean;
  /** Wrap prose at this many columns; tables and commands are never wrapped. */
  width: number;
}

/** The status the operator would write for this observation (generation 1 unless a CR's). */
export function checkStatus(
  analysis: Analysis,
  observation: Observation,
  generation = 1,
): EtcdHealthCheckStatus {
  return statusFromAnalysis(analysis, observation, generation);
}

/** `{result: {verdict, exitCode, reasons, skippedChecks}, status}`: what -o json and -o yaml print. */
export function machineDocument(report: CheckReport) {
  return {
    result: {
      verdict: report.verdict.verdict,
      exitCode: report.verdict.exitCode,
      reasons: report.verdict.reasons,
      skippedChecks: report.verdict.skipped,
    },
    status: checkStatus(report.analysis, report.observation, report.generation),
  };
}

/** machineDocument as JSON or YAML, with `extra` top-level fields (e.g. --compare's comparison). */
export function renderMachine(
  report: CheckReport,
  format: 'json' | 'yaml',
  extra: Record<string, unknown> = {},
): string {
  const document = { ...machineDocument(report), ...extra };
  return format === 'json'
    ? `${JSON.stringify(document, null, 2)}\n`
    : dumpYaml(document, { lineWidth: -1, noRefs: true });
}

const CHECK_WORDS: Record<CheckName, string> = {
  Quorum: 'quorum',
  Alarms: 'alarms',
  Consistency: 'consistency',
  APILatency: 'API latency',
  ClusterOperator: 'cluster-etcd-operator',
  Certificates: 'certificates',
  MemberPods: 'member pods',
  WalFsync: 'WAL fsync',
  BackendCommit: 'backend commit',
  LeaderChanges: 'leader changes',
  DatabaseSize: 'DB size',
  QuotaUsage: 'quota use',
  Growth: 'DB growth',
  Fragmentation: 'fragmentation',
  PeerRoundTrip: 'peer round trip',
  PeerFailures: 'peer send failures',
  ProposalsFailed: 'failed proposals',
  SlowApplies: 'slow applies',
  SlowReadIndexes: 'slow read indexes',
  GrpcFailures: 'gRPC failures',
  GrpcLatency: 'gRPC latency',
  APIChurn: 'API churn',
  ControlPlaneNodes: 'control-plane nodes',
  Backup: 'backup age',
  MetricsSource: 'metrics source',
};

/** What a union is when all is well (library-go's defaults). */
const GOOD: Record<string, Condition['status']> = {
  Available: 'True',
  Progressing: 'False',
  Degraded: 'False',
  Upgradeable: 'True',
  Reachable: 'True',
  // kstatus' abnormal-true conditions (src/health/kstatus.ts).
  Reconciling: 'False',
  Stalled: 'False',
};

type Paint = (text: string, tone: Tone) => string;
type Tone = 'good' | 'bad' | 'warn' | 'dim' | 'bold';

const ANSI: Record<Tone, string> = { good: '32', bad: '31', warn: '33', dim: '2', bold: '1' };

export function renderText(report: CheckReport, options: TextOptions): string {
  const paint: Paint = options.color
    ? (text, tone) => `\u001b[${ANSI[tone]}m${text}\u001b[0m`
    : (text) => text;
  const width = Math.max(60, options.width);
  // When no member answered, conditions and recommendations describe only that (no quorum,
  // members unreachable) and could mislead: the path from here to etcd may be what is broken.
  const unassessable = report.verdict.verdict === 'Unassessable';
  const sections = [
    header(report, paint, width),
    unassessable ? '' : conditionsSection(report, paint, width),
    membersSection(report.analysis.members, paint),
    unassessable
      ? ''
      : recommendationsSection(
          report.analysis.recommendations,
          abbreviator(report.observation),
          paint,
          width,
        ),
    resultSection(report, paint, width),
  ];
  return `${sections.filter((section) => section !== '').join('\n\n')}\n`;
}

function header(report: CheckReport, paint: Paint, width: number): string {
  const { observation, analysis } = report;
  const s = analysis.summary;
  const lines = [
    paint(
      `etcd-health check: ${report.origin}, at ${observation.time.toISOString().replace(/\.\d+Z$/, 'Z')}, took ${seconds(observation.durationMs)}`,
      'bold',
    ),
    `  ${source('etcd', observation.etcd.source, paint)}`,
    `  ${source(metricsSourceName(observation, report.prometheusUrl), observation.metrics.source, paint)}`,
  ];
  for (const [name, message] of shownSourceMessages(observation))
    lines.push(...wrap(`${name}: ${message}`, width, '      ', '    '));
  lines.push(
    '',
    `Members ${s.members} healthy, leader ${s.leader}, largest DB ${s.dbSize}, quota use ${s.quotaUsage}, ` +
      `WAL fsync p99 ${s.walFsyncP99}, backend commit p99 ${s.backendCommitP99}`,
  );
  return lines.join('\n');
}

function source(name: string, state: SourceState, paint: Paint): string {
  if (state.state === 'NotConfigured')
    return `${name}: ${paint('not configured', 'dim')}, so the metric-based checks are skipped (pass --prometheus URL)`;
  const tone: Tone = state.state === 'OK' ? 'good' : 'warn';
  const took = state.durationMilliseconds !== undefined ? ` (${state.durationMilliseconds}ms)` : '';
  return `${name}: ${paint(state.state, tone)}${took}`;
}

/** "Prometheus <url>", or where the sampled numbers came from: each member's /metrics, over N s. */
function metricsSourceName(observation: Observation, prometheusUrl?: string): string {
  const sampled = observation.metrics.sampledOverSeconds;
  if (sampled !== undefined) return `metrics: each member's /metrics sampled twice over ${sampled}s`;
  return `Prometheus${prometheusUrl ? ` ${prometheusUrl}` : ''}`;
}

/** The sources' messages the header prints, by source name. */
function shownSourceMessages(observation: Observation): [string, string][] {
  return (
    [
      ['etcd', observation.etcd.source],
      [
        observation.metrics.sampledOverSeconds === undefined ? 'Prometheus' : 'metrics',
        observation.metrics.source,
      ],
    ] as const
  ).flatMap(([name, state]): [string, string][] =>
    state.message && state.state !== 'NotConfigured' ? [[name, state.message]] : [],
  );
}

/**
 * A source's error repeats in every condition and recommendation that lacks its data; the
 * header shows it once, the other places point to it. Only messages the header printed are
 * abbreviated, so a placeholder always has its text above it.
 */
function abbreviator(observation: Observation): (text: string) => string {
  const long = shownSourceMessages(observation).filter(([, message]) => message.length > 80);
  return (text) =>
    long.reduce((result, [name, message]) => result.split(message).join(`<the ${name} error above>`), text);
}

function statusTone(type: string, status: Condition['status']): Tone {
  if (status === 'Unknown') return 'warn';
  const suffix = Object.keys(GOOD).find((candidate) => type.endsWith(candidate));
  if (!suffix) return 'dim';
  if (status === GOOD[suffix]) return 'good';
  return suffix === 'Progressing' ? 'warn' : 'bad';
}

export type ConditionClass = 'ok' | 'info' | 'notOk';

/**
 * A per-check condition is not OK when it is not at its good status, or when it is (a warning
 * keeps a *Degraded condition False) but names a Warning finding. A good status with another
 * reason only informs (e.g. NoNodeMetrics: the check does not apply).
 */
export function classifyCondition(
  condition: Condition,
  warningMessages: ReadonlySet<string>,
): ConditionClass {
  const suffix = Object.keys(GOOD).find((candidate) => condition.type.endsWith(candidate));
  if (!suffix) return condition.status === 'True' ? 'ok' : 'notOk';
  if (condition.status !== GOOD[suffix]) return 'notOk';
  if (suffix !== 'Degraded' || condition.reason === 'AsExpected') return 'ok';
  return condition.message.split('\n').some((line) => warningMessages.has(line)) ? 'notOk' : 'info';
}

function conditionsSection(report: CheckReport, paint: Paint, width: number): string {
  const { analysis, verdict } = report;
  const unions = analysis.conditions.filter((c) =>
    (UNION_CONDITION_TYPES as readonly string[]).includes(c.type),
  );
  const perCheck = analysis.conditions.filter(
    (c) => !(UNION_CONDITION_TYPES as readonly string[]).includes(c.type),
  );
  const skippedMessages = new Set(
    analysis.findings
      .filter((f) => verdict.skipped.includes(f.check) && f.severity === 'Unknown')
      .map((f) => f.message),
  );
  // Without Prometheus, the conditions that are Unknown only because their checks were skipped
  // are named once instead of listed with one identical line per check.
  // A /metrics sample is a source of its own: its state and the quota are not skipped with it.
  const notConfigured = report.observation.metrics.source.state === 'NotConfigured';
  const onlySkipped = (c: Condition) =>
    verdict.skipped.length > 0 &&
    ((notConfigured && c.type === 'MetricsSourceReachable') ||
      (c.status === 'Unknown' &&
        ((notConfigured && c.type === 'DatabaseQuotaUpgradeable') ||
          c.message.split('\n').every((line) => skippedMessages.has(line)))));
  const warningMessages = new Set(
    analysis.findings.filter((f) => f.severity === 'Warning').map((f) => f.message),
  );
  const classes = new Map(perCheck.map((c) => [c, classifyCondition(c, warningMessages)]));
  const shown = perCheck.filter((c) => classes.get(c) === 'notOk' && !onlySkipped(c));
  const skipped = perCheck.filter((c) => classes.get(c) === 'notOk' && onlySkipped(c));
  const info = perCheck.filter((c) => classes.get(c) === 'info');
  const okCount = perCheck.length - shown.length - skipped.length - info.length;

  const rows = [...unions, ...shown].map((c) => [c.type, c.status, c.reason]);
  const typeWidth = Math.max(...rows.map((row) => row[0]!.length), 'CONDITION'.length);
  const statusWidth = 'UNKNOWN'.length;
  const lines = [
    paint('CONDITIONS', 'bold'),
    `  ${pad('CONDITION', typeWidth)}  ${pad('STATUS', statusWidth)}  REASON`,
  ];
  const row = (c: Condition) =>
    `  ${pad(c.type, typeWidth)}  ${paint(pad(c.status, statusWidth), statusTone(c.type, c.status))}  ${c.reason}`;
  for (const c of unions) lines.push(row(c));
  if (shown.length > 0) {
    lines.push(`  ${paint('checks that are not OK:', 'dim')}`);
    const short = abbreviator(report.observation);
    for (const c of shown) {
      lines.push(row(c));
      for (const line of unique(c.message.split('\n').map(short))) lines.push(...wrap(line, width, '      '));
    }
  }
  const tail: string[] = [];
  if (okCount > 0) tail.push(`${okCount} other per-check conditions are OK`);
  if (info.length > 0) {
    tail.push(
      `for information: ${info.map((c) => `${c.type} ${c.reason} (${c.message.split('\n')[0]})`).join('; ')}`,
    );
  }
  if (skipped.length > 0) {
    const unknown = skipped.filter((c) => c.status === 'Unknown').map((c) => c.type);
    const unionNote = unknownUnions(unions);
    const why =
      report.observation.metrics.sampledOverSeconds === undefined
        ? 'without Prometheus'
        : "from a /metrics sample (they need Prometheus' history)";
    tail.push(
      `not checked ${why}: ${verdict.skipped.map((check) => CHECK_WORDS[check]).join(', ')}; ` +
        `so ${unknown.join(', ')} are Unknown${unionNote}, as the operator would report them`,
    );
  }
  for (const text of tail) lines.push(...wrap(text, width, '  ').map((line) => paint(line, 'dim')));
  return lines.join('\n');
}

/** ", and with them Degraded and Upgradeable" when those unions are Unknown. */
function unknownUnions(unions: readonly Condition[]): string {
  const unknown = unions.filter((c) => c.status === 'Unknown').map((c) => c.type);
  return unknown.length === 0 ? '' : ` (and with them ${unknown.join(' and ')})`;
}

function membersSection(members: readonly MemberStatus[], paint: Paint): string {
  if (members.length === 0) return `${paint('MEMBERS', 'bold')}\n  none observed`;
  const flag = (value: boolean) => (value ? 'true' : 'false');
  const headers = [
    'NAME',
    'ENDPOINT',
    'ID',
    'VERSION',
    'DB SIZE',
    'IN USE',
    'LEADER',
    'LEARNER',
    'HEALTHY',
    'RAFT TERM',
    'RAFT INDEX',
    'APPLIED',
    'FSYNC P99',
    'COMMIT P99',
    'PEER RTT P99',
  ];
  const anyAlarms = members.some((member) => (member.alarms?.length ?? 0) > 0);
  if (anyAlarms) headers.push('ALARMS');
  const rows = members.map((member) => {
    const cells = [
      member.name,
      member.endpoint || '-',
      hexId(member.id),
      member.version ?? '-',
      member.dbSize !== undefined ? formatBytes(member.dbSize) : '-',
      member.dbSizeInUse !== undefined ? formatBytes(member.dbSizeInUse) : '-',
      flag(member.leader),
      flag(member.learner),
      member.healthy ? 'true' : member.reachable ? 'false' : 'unreachable',
      member.raftTerm ?? '-',
      member.raftIndex ?? '-',
      member.raftAppliedIndex ?? '-',
      member.walFsyncP99 ?? '-',
      member.backendCommitP99 ?? '-',
      member.peerRoundTripP99 ?? '-',
    ];
    if (anyAlarms) cells.push(member.alarms?.join(',') ?? '-');
    return cells;
  });
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((cells) => cells[i]!.length)));
  const line = (cells: string[], tones: (Tone | undefined)[] = []) =>
    `  ${cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : pad(cell, widths[i]!);
        const tone = tones[i];
        return tone ? paint(padded, tone) : padded;
      })
      .join('  ')}`.trimEnd();
  const lines = [paint('MEMBERS', 'bold'), line(headers)];
  members.forEach((member, i) => {
    const tones: (Tone | undefined)[] = [];
    tones[8] = member.healthy ? 'good' : 'bad';
    lines.push(line(rows[i]!, tones));
  });
  const errors = members.filter((member) => member.error);
  for (const member of errors) lines.push(`  ${paint(`${member.name}:`, 'warn')} ${member.error}`);
  lines.push(paint('  (IDs in hex, as etcdctl shows them)', 'dim'));
  return lines.join('\n');
}

function recommendationsSection(
  recommendations: readonly Recommendation[],
  short: (text: string) => string,
  paint: Paint,
  width: number,
): string {
  if (recommendations.length === 0) return `${paint('RECOMMENDATIONS', 'bold')}\n  none`;
  const lines = [paint('RECOMMENDATIONS', 'bold')];
  recommendations.forEach((r, index) => {
    const tone: Tone = r.severity === 'Critical' ? 'bad' : r.severity === 'Warning' ? 'warn' : 'dim';
    const on = r.members !== undefined ? r.members.join(', ') : r.target;
    lines.push(`  ${index + 1}. ${paint(r.severity, tone)}  ${r.type} on ${on}  (${r.reason})`);
    lines.push(...wrap(short(r.message), width, '     '));
    for (const command of r.commands ?? []) lines.push(`       $ ${command}`);
  });
  return lines.join('\n');
}

function resultSection(report: CheckReport, paint: Paint, width: number): string {
  const { verdict, exitCode, reasons } = report.verdict;
  const tone: Tone = verdict === 'Healthy' ? 'good' : verdict === 'Warning' ? 'warn' : 'bad';
  const words: Record<CheckVerdict['verdict'], string> = {
    Healthy: 'every check passed',
    Warning: 'something needs attention',
    Critical: 'a check is critical',
    Unassessable: 'could not assess the cluster',
  };
  const lines = [
    `${paint('RESULT', 'bold')}  ${paint(verdict, tone)}: ${words[verdict]} (exit code ${exitCode})`,
  ];
  const short = abbreviator(report.observation);
  const shown = reasons.slice(0, 10).map(short);
  for (const reason of shown) lines.push(...wrap(reason, width, '    ', '  - '));
  if (reasons.length > shown.length) lines.push(`  ... and ${reasons.length - shown.length} more`);
  if (verdict === 'Unassessable') {
    lines.push(
      ...wrap(
        "Check the endpoints (scheme, host and port of each member's client URL), the network between here and the members, and TLS: --cacert, --cert and --key for https:// endpoints.",
        width,
        '  ',
      ),
    );
  }
  return lines.join('\n');
}

/** etcdctl prints member IDs in hex; the status keeps the decimal uint64 string. */
export function hexId(id: string): string {
  if (!/^[0-9]+$/.test(id) || id === '0') return '-';
  return BigInt(id).toString(16);
}

function unique(lines: readonly string[]): string[] {
  return [...new Set(lines)];
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

/** Word-wraps one line of prose; `first` replaces `indent` on the first line. */
export function wrap(text: string, width: number, indent: string, first = indent): string[] {
  const lines: string[] = [];
  let current = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && current.length + 1 + word.length > width) {
      lines.push(current);
      current = indent;
      empty = true;
    }
    current += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty) lines.push(current);
  return lines;
}
