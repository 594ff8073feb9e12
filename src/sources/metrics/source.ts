// The metrics source without Prometheus: every member's own /metrics read twice, a window apart,
// and from the two samples the same member values the Prometheus source's queries compute
// (queries.ts): p99s by histogram_quantile over the bucket increases, rates from the counter
// increases, gauges from the second sample. The values are handed to the Prometheus source's
// mapping as series labelled `instance` (the scraped host:port), so that they are attributed to
// members, and their gaps reported, exactly as Prometheus' series are. What needs more history
// than two samples (leader changes in 1h and 15m, the predicted DB size) stays missing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { MetricsObservation } from '../../health/observation.js';
import type { EtcdTls } from '../etcd/client.js';
import type { Sample } from '../prometheus/client.js';
import type { MemberIdentity } from '../prometheus/members.js';
import { FAILED_GRPC_CODES, SIGNALS, type MemberField, type MemberSignal } from '../prometheus/queries.js';
import { metricsObservation, type PrometheusSnapshot, type SignalAnswer } from '../prometheus/source.js';
import { clip } from '../text.js';
import { CANCELLED } from '../timeout.js';
import { bucketQuantile, counterIncrease, type Bucket } from './deltas.js';
import { parseValue, type MetricSample } from './exposition.js';
import { metricsScraper, type ScrapeOutcome, type Scraper } from './scrape.js';

export interface SampleSourceOptions {
  /** The /metrics URL of each member: its client URL's, or its metrics listener's. */
  urls: string[];
  windowMs: number;
  /** For https URLs: the etcd client's CA, certificate and key. */
  tls?: EtcdTls;
  /** Of one scrape. */
  timeoutMs: number;
}

export interface TargetSample {
  url: string;
  first: ScrapeOutcome;
  second: ScrapeOutcome;
}

export interface MetricsSample {
  windowMs: number;
  targets: TargetSample[];
}

/** Scrapes every URL at once, waits the window (or until `cancel`), scrapes them again. */
export async function sampleMetrics(
  options: SampleSourceOptions,
  cancel?: AbortSignal,
  scrape: Scraper = metricsScraper(options),
): Promise<MetricsSample> {
  const all = () => Promise.all(options.urls.map((url) => scrape(url, cancel)));
  const first = await all();
  // Nobody answered: waiting the window out would only delay the same answer.
  if (first.every((outcome) => !outcome.ok))
    return {
      windowMs: options.windowMs,
      targets: options.urls.map((url, i) => ({ url, first: first[i]!, second: first[i]! })),
    };
  await sleep(options.windowMs, undefined, { signal: cancel }).catch(() => undefined);
  const second: ScrapeOutcome[] = cancel?.aborted
    ? options.urls.map(() => ({ ok: false, error: CANCELLED }))
    : await all();
  return {
    windowMs: options.windowMs,
    targets: options.urls.map((url, index) => ({ url, first: first[index]!, second: second[index]! })),
  };
}

/** A path-less URL gets etcd's /metrics; a URL with a path is used as given. */
export function metricsUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/metrics';
  return parsed.href;
}

/** The member values of the sample, attributed to `members` as the Prometheus source does. */
export function sampledObservation(
  sample: MetricsSample,
  members: readonly MemberIdentity[],
  now: Date,
): MetricsObservation {
  const sampledOverSeconds = Math.round(sample.windowMs / 1000);
  const where = `/metrics sampled over ${sampledOverSeconds}s`;
  const failures = sample.targets.flatMap(({ url, first, second }) => {
    const errors = [...new Set([first, second].flatMap((outcome) => (outcome.ok ? [] : [outcome.error])))];
    return errors.length === 0 ? [] : [`${url}: ${errors.join(', then ')}`];
  });
  if (sample.targets.every((target) => !target.first.ok && !target.second.ok)) {
    return {
      source: { state: 'Error', message: clip(`${where}: every scrape failed: ${failures.join('; ')}`) },
      members: {},
      sampledOverSeconds,
    };
  }
  const snapshot: PrometheusSnapshot = {
    url: '',
    where,
    memberLabel: 'instance',
    matchers: [],
    answers: sampleAnswers(sample, now),
  };
  const observation = { ...metricsObservation(snapshot, members), sampledOverSeconds };
  if (failures.length === 0) return observation;
  const message = observation.source.message ?? where;
  return {
    ...observation,
    source: { ...observation.source, message: clip(`${message}; scrapes failed: ${failures.join('; ')}`) },
  };
}

/** How each member field is computed from two samples; fields not here need Prometheus' history. */
type Computation = (target: Pair) => number[];

const COMPUTED: Partial<Record<MemberField, Computation>> = {
  walFsyncP99: (pair) => p99(pair, 'etcd_disk_wal_fsync_duration_seconds_bucket'),
  backendCommitP99: (pair) => p99(pair, 'etcd_disk_backend_commit_duration_seconds_bucket'),
  // One value per peer (label To); the Prometheus source keeps the worst, as max by does.
  peerRoundTripP99: (pair) => p99(pair, 'etcd_network_peer_round_trip_time_seconds_bucket', 'To'),
  proposalsFailedRate: (pair) => rate(pair, 'etcd_server_proposals_failed_total'),
  slowAppliesRate: (pair) => rate(pair, 'etcd_server_slow_apply_total'),
  slowReadIndexesRate: (pair) => rate(pair, 'etcd_server_slow_read_indexes_total'),
  grpcRequestRate: (pair) => rate(pair, 'grpc_server_handled_total'),
  // As the query's `or 0 * total`: a member that handled requests but failed none failed 0.
  grpcFailedRate: (pair) => {
    const failed = new RegExp(`^(?:${FAILED_GRPC_CODES})$`);
    const rates = rate(pair, 'grpc_server_handled_total', (labels) => failed.test(labels.grpc_code ?? ''));
    return rates.length > 0 ? rates : rate(pair, 'grpc_server_handled_total').map(() => 0);
  },
  dbSizeBytes: (pair) => gauge(pair, 'etcd_mvcc_db_total_size_in_bytes'),
  dbSizeInUseBytes: (pair) => gauge(pair, 'etcd_mvcc_db_total_size_in_use_in_bytes'),
  quotaBackendBytes: (pair) => gauge(pair, 'etcd_server_quota_backend_bytes'),
  hasLeader: (pair) => gauge(pair, 'etcd_server_has_leader', Math.min),
};

/** Both samples of one target, read. */
interface Pair {
  first: MetricSample[];
  second: MetricSample[];
  seconds: number;
}

function sampleAnswers(sample: MetricsSample, now: Date): SignalAnswer[] {
  const signals = SIGNALS.filter(
    (signal): signal is MemberSignal =>
      signal.kind === 'member' &&
      (signal.field in COMPUTED || signal.field === 'up' || signal.field === 'scrapeAgeSeconds'),
  );
  const samples = new Map<MemberField, Sample[]>(signals.map((signal) => [signal.field, []]));
  const add = (field: MemberField, instance: string, values: number[]) =>
    samples.get(field)!.push(...values.map((value) => ({ labels: { instance }, value })));
  for (const { url, first, second } of sample.targets) {
    const instance = new URL(url).host;
    add('up', instance, [second.ok ? 1 : 0]);
    if (!second.ok) continue;
    add('scrapeAgeSeconds', instance, [(now.getTime() - second.at) / 1000]);
    const pair: Pair = first.ok
      ? { first: first.samples, second: second.samples, seconds: (second.at - first.at) / 1000 }
      : // Without a first sample only the gauges are known: no series matches in `first`.
        { first: [], second: second.samples, seconds: 0 };
    for (const [field, compute] of Object.entries(COMPUTED) as [MemberField, Computation][])
      add(field, instance, compute(pair));
  }
  return signals.map((signal) => ({
    signal,
    query: `${signal.title} from two samples of /metrics`,
    outcome: { ok: true, samples: samples.get(signal.field)!, warnings: [] },
  }));
}

type LabelFilter = (labels: Record<string, string>) => boolean;

/** The increase of every series of `name` present in both samples (rate() needs two points too). */
function increases(pair: Pair, name: string, filter: LabelFilter = () => true) {
  const earlier = new Map(
    pair.first.filter((s) => s.name === name && filter(s.labels)).map((s) => [seriesKey(s.labels), s.value]),
  );
  return pair.second.flatMap((s) => {
    if (s.name !== name || !filter(s.labels)) return [];
    const before = earlier.get(seriesKey(s.labels));
    return before === undefined ? [] : [{ labels: s.labels, increase: counterIncrease(before, s.value) }];
  });
}

/** sum(rate(name[window])): none when no series has two samples. */
function rate(pair: Pair, name: string, filter?: LabelFilter): number[] {
  const series = increases(pair, name, filter);
  if (series.length === 0 || !(pair.seconds > 0)) return [];
  return [series.reduce((sum, s) => sum + s.increase, 0) / pair.seconds];
}

/**
 * histogram_quantile(0.99, sum by (le[, by]) (rate(name[window]))), one value per value of `by`.
 * Rates are the increases divided by one window, and a quantile does not change when every bucket
 * is divided alike: the increases serve.
 */
function p99(pair: Pair, name: string, by?: string): number[] {
  const groups = new Map<string, Map<number, number>>();
  for (const { labels, increase } of increases(pair, name)) {
    const bound = parseValue(labels.le ?? '');
    if (bound === undefined) continue;
    const group = by === undefined ? '' : (labels[by] ?? '');
    const buckets = groups.get(group) ?? new Map<number, number>();
    buckets.set(bound, (buckets.get(bound) ?? 0) + increase);
    groups.set(group, buckets);
  }
  return [...groups.values()].map((buckets) =>
    bucketQuantile(
      0.99,
      [...buckets].map(([upperBound, count]): Bucket => ({ upperBound, count })),
    ),
  );
}

/** The second sample's value; several series of one gauge fold as the query's max by (or min by). */
function gauge(pair: Pair, name: string, fold: (...values: number[]) => number = Math.max): number[] {
  const values = pair.second.filter((s) => s.name === name).map((s) => s.value);
  return values.length === 0 ? [] : [fold(...values)];
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
