// The Prometheus source: runs every signal's query concurrently at one evaluation time, then maps
// the series to etcd members. Two steps, so that the queries can run while etcd is still being
// observed and the mapping can use the member list etcd returned.
import type { SourceState } from '../../api/v1alpha1/status.js';
import type {
  ChurnEntry,
  FlowEntry,
  MetricsObservation,
  NodeMetrics,
  StoredObjects,
} from '../../health/observation.js';
import { clip, errorText, sanitizedLine } from '../text.js';
import { followSignal } from '../timeout.js';
import {
  createPrometheusClient,
  type PrometheusClient,
  type PrometheusConnection,
  type QueryOutcome,
  type Sample,
} from './client.js';
import { memberResolver, type MemberIdentity } from './members.js';
import {
  SIGNALS,
  type ClusterField,
  type ClusterSignal,
  type MemberField,
  type MemberSignal,
  type QueryContext,
  type Signal,
} from './queries.js';
import { formatMatcher, parseLabelMatcher, type LabelMatcher } from './selector.js';

export interface PrometheusSourceOptions extends PrometheusConnection {
  /** User matchers such as `job="etcd"`; parsed strictly, added to every etcd selector. */
  labelMatchers: readonly string[];
  memberLabel: string;
  rateWindowMs: number;
  growthHorizonMs: number;
  /** The mountpoint of the members' data dir on their nodes (node-exporter's filesystem label). */
  dataDirMountpoint: string;
}

export interface SignalAnswer {
  signal: Signal;
  query: string;
  outcome: QueryOutcome;
}

export interface PrometheusSnapshot {
  url: string;
  /** How messages name the source; "Prometheus <url>" by default. */
  where?: string;
  memberLabel: string;
  matchers: LabelMatcher[];
  /** Set when the options were unusable; no query ran then. */
  configError?: string;
  answers: SignalAnswer[];
}

// The mixin's network_failure_range: 4 scrape intervals of 30s. Older metrics are stale.
const STALE_AFTER_SECONDS = 120;

export async function queryPrometheus(
  options: PrometheusSourceOptions,
  time: Date,
  connect: (connection: PrometheusConnection) => PrometheusClient = createPrometheusClient,
  /** Ends every query in flight (named so: a "signal" in this file is a metric). */
  cancel?: AbortSignal,
): Promise<PrometheusSnapshot> {
  const base = { url: options.url, memberLabel: options.memberLabel, answers: [] };
  const matchers: LabelMatcher[] = [];
  for (const [index, text] of options.labelMatchers.entries()) {
    const parsed = parseLabelMatcher(text);
    if (!parsed.ok) return { ...base, matchers, configError: `labelMatchers[${index}]: ${parsed.error}` };
    matchers.push(parsed.matcher);
  }
  const ctx: QueryContext = {
    etcdMatchers: matchers,
    memberLabel: options.memberLabel,
    rateWindowMs: options.rateWindowMs,
    growthHorizonMs: options.growthHorizonMs,
    dataDirMountpoint: options.dataDirMountpoint,
  };
  let queries: { signal: Signal; query: string }[];
  try {
    queries = SIGNALS.map((signal) => ({ signal, query: signal.promql(ctx) }));
  } catch (error) {
    return { ...base, matchers, configError: errorText(error) };
  }
  const client = connect(options);
  const followed = followSignal(cancel);
  try {
    // All at once: the source then takes one query timeout at most, not one per wave of queries.
    const answers = await Promise.all(
      queries.map(async ({ signal, query }) => ({
        signal,
        query,
        outcome: await client.query(query, time, followed.signal),
      })),
    );
    return { ...base, matchers, answers };
  } finally {
    followed.release();
    client.close();
  }
}

/** Findings about the source itself: `problems` make it Partial, `notes` are only told. */
interface Report {
  problems: Problem[];
  notes: string[];
  /** Signal title to the members (or "cluster") whose value is NaN. */
  nan: Map<string, string[]>;
}

export function metricsObservation(
  snapshot: PrometheusSnapshot,
  members: readonly MemberIdentity[],
): MetricsObservation {
  const where = snapshot.where ?? `Prometheus ${snapshot.url}`;
  if (snapshot.configError)
    return { source: { state: 'Error', message: `${where}: ${snapshot.configError}` }, members: {} };
  const failed = snapshot.answers.filter((a) => !a.outcome.ok);
  if (failed.length === snapshot.answers.length) {
    return {
      source: { state: 'Error', message: clip(`${where}: every query failed: ${describeFailures(failed)}`) },
      members: {},
    };
  }

  const report: Report = { problems: [], notes: [], nan: new Map() };
  if (failed.length > 0)
    report.problems.push({
      text: `${failed.length} of ${snapshot.answers.length} queries failed: ${describeFailures(failed)}`,
    });
  for (const answer of snapshot.answers) {
    if (answer.outcome.ok) {
      for (const warning of answer.outcome.warnings)
        report.problems.push({ text: `${answer.signal.title}: Prometheus warns: ${warning}` });
    }
  }

  const identified = members.filter((m) => m.id !== '');
  const perMember = memberValues(snapshot, identified, report);
  const observation: MetricsObservation = {
    source: { state: 'OK' },
    members: {},
    ...clusterValues(snapshot, report),
  };
  for (const member of identified) {
    const { up: _up, ...metrics } = perMember.get(member.id) ?? {};
    if (Object.keys(metrics).length > 0) observation.members[member.id] = metrics;
  }

  const etcdSeries = snapshot.answers.some(
    (a) => a.signal.kind === 'member' && a.outcome.ok && a.outcome.samples.length > 0,
  );
  if (!etcdSeries) {
    const selector = `{${snapshot.matchers.map(formatMatcher).join(',')}}`;
    const reason = `no etcd series match ${selector}: Prometheus has not scraped etcd (yet), or labelMatchers select nothing`;
    const failures = failed.length > 0 ? [`some queries failed: ${describeFailures(failed)}`] : [];
    return {
      ...observation,
      source: { state: 'Error', message: clip(joined(where, [reason, ...failures])) },
      ...(failed.length === 0 ? { etcdSeriesAbsent: true } : {}),
    };
  }
  if (identified.length === 0)
    report.problems.push({ text: 'no etcd member is known, so no series can be attributed to one' });
  if (identified.length > 0 && Object.keys(observation.members).length === 0) {
    const reason = `no series matches an etcd member by label ${snapshot.memberLabel}`;
    return {
      ...observation,
      source: { state: 'Error', message: clip(joined(where, [reason, ...report.notes])) },
    };
  }
  observation.source = summarize(where, report);
  const memberIds = report.problems.map((problem) => problem.memberId);
  if (memberIds.length > 0 && memberIds.every((id) => id !== undefined))
    observation.partialMembers = [...new Set(memberIds)].sort();
  return observation;
}

/** A problem with the series of one member names its ID: the analysis may know why (it is down). */
interface Problem {
  text: string;
  memberId?: string;
}

type MemberValues = Partial<Record<MemberField, number>>;

function memberValues(snapshot: PrometheusSnapshot, members: readonly MemberIdentity[], report: Report) {
  const resolve = memberResolver(members, snapshot.memberLabel);
  const values = new Map<string, MemberValues>(members.map((m) => [m.id, {}]));
  // Label values of series that match no member are counted, never quoted: they are whatever that
  // Prometheus holds (perhaps read with the operator's token), not what the check found.
  const unmatched = new Set<string>();
  for (const { signal, outcome } of snapshot.answers) {
    if (signal.kind !== 'member' || !outcome.ok) continue;
    for (const sample of outcome.samples) {
      const member = resolve(sample.labels);
      if (!member) {
        unmatched.add(sample.labels[snapshot.memberLabel] ?? '');
        continue;
      }
      const value = checkedValue(sample, signal.title, member.name, report);
      if (value !== undefined) merge(values.get(member.id)!, signal, value);
    }
  }
  if (unmatched.size > 0)
    report.notes.push(
      `series of ${unmatched.size} ${snapshot.memberLabel} value${unmatched.size === 1 ? '' : 's'} match no member of this cluster`,
    );

  const peers = members.length > 1;
  const required = snapshot.answers
    .filter((a) => a.signal.kind === 'member' && a.outcome.ok)
    .map((a) => a.signal as MemberSignal)
    .filter((s) => s.required === 'always' || (s.required === 'withPeers' && peers));
  for (const member of members) {
    const got = values.get(member.id)!;
    const missing = required.filter((s) => got[s.field] === undefined);
    const problem = (text: string) =>
      report.problems.push({ text: `${member.name}: ${text}`, memberId: member.id });
    if (Object.keys(got).length === 0) problem('no series at all');
    else if (missing.length > 0) problem(`no series for ${missing.map((s) => s.title).join(', ')}`);
    if (got.up === 0) problem('the last scrape failed (up=0)');
    if (got.scrapeAgeSeconds !== undefined && got.scrapeAgeSeconds > STALE_AFTER_SECONDS) {
      problem(`metrics are stale, last scraped ${Math.round(got.scrapeAgeSeconds)}s ago`);
    }
  }
  return values;
}

/**
 * Several series of one member (duplicate targets, or one per peer) keep the worst value; NaN only
 * when every series is NaN, as PromQL's max and min ignore NaN beside a number.
 */
function merge(into: MemberValues, signal: MemberSignal, value: number): void {
  const previous = into[signal.field];
  if (previous === undefined || Number.isNaN(previous)) into[signal.field] = value;
  else if (Number.isNaN(value)) return;
  else if (signal.field === 'hasLeader' || signal.field === 'up')
    into[signal.field] = Math.min(previous, value);
  else into[signal.field] = Math.max(previous, value);
}

/**
 * NaN passes through (e.g. a p99 over a window without observations: the analysis says NoData);
 * +Inf is a real answer (p99 above the largest bucket); -Inf never is, and is dropped.
 */
function checkedValue(sample: Sample, title: string, subject: string, report: Report): number | undefined {
  if (sample.value === -Infinity) {
    report.problems.push({ text: `${title} of ${subject} is -Inf` });
    return undefined;
  }
  if (Number.isNaN(sample.value)) report.nan.set(title, [...(report.nan.get(title) ?? []), subject]);
  return sample.value;
}

type ClusterValues = Omit<MetricsObservation, 'source' | 'members'>;

function clusterValues(snapshot: PrometheusSnapshot, report: Report): ClusterValues {
  const out: ClusterValues = {};
  const nodes = new Map<string, NodeMetrics>();
  for (const { signal, outcome } of snapshot.answers) {
    if (signal.kind !== 'cluster' || !outcome.ok) continue;
    if (outcome.samples.length === 0) {
      if (signal.required) report.problems.push({ text: `no series for ${signal.title}` });
      continue;
    }
    const samples = outcome.samples.flatMap((s) => {
      const subject = s.labels.instance === undefined ? 'cluster' : sanitizedLine(s.labels.instance, [], 64);
      const value = checkedValue(s, signal.title, subject, report);
      return value === undefined ? [] : [{ labels: s.labels, value }];
    });
    assignCluster(out, nodes, signal, samples);
  }
  if (nodes.size > 0) out.nodes = [...nodes.values()].sort((a, b) => a.instance.localeCompare(b.instance));
  return out;
}

function assignCluster(
  out: ClusterValues,
  nodes: Map<string, NodeMetrics>,
  signal: ClusterSignal,
  samples: Sample[],
): void {
  const first = samples[0]?.value;
  const node = (labels: Record<string, string>) => {
    const instance = labels.instance ?? '';
    const key = `${instance}\u0000${labels.node ?? ''}`;
    if (!nodes.has(key)) {
      nodes.set(key, labels.node === undefined ? { instance } : { instance, nodeName: labels.node });
    }
    return nodes.get(key)!;
  };
  // The filesystem and device the data dir is on, named beside its values.
  const placed = (labels: Record<string, string>) => {
    const entry = node(labels);
    if (labels.mountpoint !== undefined) entry.mountpoint = labels.mountpoint;
    if (labels.device !== undefined) entry.device = labels.device;
    return entry;
  };
  switch (signal.field) {
    case 'leaderChanges1h':
    case 'leaderChanges15m':
    case 'apiMutatingRequestsPerSecond':
    case 'apiInflightRequests':
    case 'apiMutatingP99Seconds':
    case 'apiEtcdRequestP99Seconds':
      out[signal.field] = first;
      return;
    case 'apiTopFlows':
      out.apiTopFlows = samples
        .map((s): FlowEntry => ({
          flowSchema: sanitizedLine(s.labels.flow_schema ?? '', [], 64),
          priorityLevel: sanitizedLine(s.labels.priority_level ?? '', [], 64),
          requestsPerSecond: s.value,
        }))
        .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond);
      return;
    case 'apiTopStoredObjects':
      // -1 means the API server could not count them.
      out.apiTopStoredObjects = samples
        .filter((s) => s.value >= 0)
        .map((s): StoredObjects => ({
          resource: sanitizedLine(s.labels.resource ?? '', [], 64),
          objects: s.value,
        }))
        .sort((a, b) => b.objects - a.objects);
      return;
    case 'apiTopChurn':
      out.apiTopChurn = samples
        .map((s): ChurnEntry => ({
          resource: s.labels.resource ?? '',
          verb: s.labels.verb ?? '',
          requestsPerSecond: s.value,
        }))
        .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond);
      return;
    case 'nodeCpuPercent':
    case 'nodeCpuIowaitPercent':
    case 'nodeSwapUsedBytes':
    case 'nodeMemoryAvailablePercent':
      for (const s of samples) node(s.labels)[NODE_FIELDS[signal.field]] = s.value;
      return;
    case 'nodeFilesystemAvailablePercent':
    case 'nodeDiskWriteAwaitSeconds':
    case 'nodeDiskUtilisationPercent':
      for (const s of samples) placed(s.labels)[NODE_FIELDS[signal.field]] = s.value;
      return;
  }
}

const NODE_FIELDS = {
  nodeCpuPercent: 'cpuPercent',
  nodeCpuIowaitPercent: 'cpuIowaitPercent',
  nodeSwapUsedBytes: 'swapUsedBytes',
  nodeMemoryAvailablePercent: 'memoryAvailablePercent',
  nodeFilesystemAvailablePercent: 'filesystemAvailablePercent',
  nodeDiskWriteAwaitSeconds: 'diskWriteAwaitSeconds',
  nodeDiskUtilisationPercent: 'diskUtilisationPercent',
} as const satisfies Partial<Record<ClusterField, keyof NodeMetrics>>;

/** Failures grouped by error; a lone failure shows its query, the rest their signal titles. */
function describeFailures(failed: SignalAnswer[]): string {
  const byError = new Map<string, SignalAnswer[]>();
  for (const answer of failed) {
    const error = answer.outcome.ok ? '' : answer.outcome.error;
    byError.set(error, [...(byError.get(error) ?? []), answer]);
  }
  return [...byError]
    .map(([error, answers]) =>
      answers.length === 1
        ? `${answers[0]!.signal.title} (query: ${answers[0]!.query}): ${error}`
        : `${answers.map((a) => a.signal.title).join(', ')}: ${error}`,
    )
    .join('; ');
}

function summarize(where: string, report: Report): SourceState {
  const nan = [...report.nan].map(
    ([title, subjects]) => `${title} is NaN for ${subjects.join(', ')} (no observations in the window)`,
  );
  const notes = [...report.notes, ...nan];
  if (report.problems.length > 0)
    return {
      state: 'Partial',
      message: clip(joined(where, [...report.problems.map((problem) => problem.text), ...notes])),
    };
  return notes.length > 0 ? { state: 'OK', message: clip(joined(where, notes)) } : { state: 'OK' };
}

/** "Prometheus <url>: first; second; ..." */
function joined(where: string, parts: string[]): string {
  return `${where}: ${parts.join('; ')}`;
}
