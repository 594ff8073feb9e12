// One check's observation: etcd and Prometheus are asked concurrently, each timed, and the
// Prometheus series are attributed to the members etcd reported. Never throws: a source that
// breaks becomes a SourceState, and so does a cancelled one (Error "cancelled").
import type { SourceState } from '../api/v1alpha1/status.js';
import type {
  BackupObservation,
  EtcdObservation,
  MetricsObservation,
  Observation,
} from '../health/observation.js';
import { observeBackup, type BackupSourceOptions } from './backup.js';
import { observeEtcd, type EtcdSourceOptions } from './etcd/source.js';
import { createPrometheusClient } from './prometheus/client.js';
import { sampleMetrics, sampledObservation, type SampleSourceOptions } from './metrics/source.js';
import { metricsObservation, queryPrometheus, type PrometheusSourceOptions } from './prometheus/source.js';
import type { SharedSources } from './shared.js';
import { errorText } from './text.js';
import { CANCELLED } from './timeout.js';

export interface ObserveOptions {
  etcd: EtcdSourceOptions;
  /** Without it (or `sample`) the metrics source is NotConfigured. */
  prometheus?: PrometheusSourceOptions;
  /** spec.backup's evidence; a PromQL source is asked through `prometheus`. Without it, no backup is read. */
  backup?: Omit<BackupSourceOptions, 'prometheus'>;
  /** Without `prometheus`: sample every member's own /metrics instead. */
  sample?: SampleSourceOptions;
  clock?: () => Date;
  /** Answers shared with other checks that ask the same at about the same time. */
  shared?: SharedSources;
  /** Observe etcd afresh even with `shared` (a check that may act on etcd). */
  freshEtcd?: boolean;
  /**
   * Ends every read in flight (pod list, etcd dials and calls, Prometheus queries) at once; the
   * sources then report Error "cancelled". Calls shared with other checks go on for them.
   */
  signal?: AbortSignal;
}

export async function observe(options: ObserveOptions): Promise<Observation> {
  const clock = options.clock ?? (() => new Date());
  const started = Date.now();
  const prometheusOptions = options.prometheus;
  const sampleOptions = prometheusOptions ? undefined : options.sample;
  const { shared, signal } = options;
  const [etcdRun, prometheusRun, sampleRun, backup] = await Promise.all([
    timed(() =>
      shared
        ? shared.observeEtcd(options.etcd, options.freshEtcd ?? false, signal)
        : observeEtcd(options.etcd, signal),
    ),
    prometheusOptions
      ? timed(() =>
          queryPrometheus(prometheusOptions, clock(), shared && ((c) => shared.prometheusClient(c)), signal),
        )
      : undefined,
    sampleOptions ? timed(() => sampleMetrics(sampleOptions, signal)) : undefined,
    options.backup ? readBackup(options.backup, options, clock(), signal) : undefined,
  ]);

  const etcd: EtcdObservation = withDuration(
    etcdRun.ok
      ? etcdRun.value
      : unexpected('etcd', etcdRun.error, {
          memberListKnown: false,
          members: [],
          alarms: [],
          alarmsKnown: false,
        }),
    etcdRun.ms,
  );
  const metrics: MetricsObservation = prometheusRun
    ? metricsOf(prometheusRun, 'Prometheus', signal, (value) => metricsObservation(value, etcd.members))
    : sampleRun
      ? metricsOf(sampleRun, '/metrics sample', signal, (value) =>
          sampledObservation(value, etcd.members, clock()),
        )
      : { source: { state: 'NotConfigured' }, members: {} };
  return { time: clock(), etcd, metrics, ...(backup ? { backup } : {}), durationMs: Date.now() - started };
}

async function readBackup(
  backup: Omit<BackupSourceOptions, 'prometheus'>,
  options: ObserveOptions,
  time: Date,
  signal: AbortSignal | undefined,
): Promise<BackupObservation> {
  const connection = backup.spec.prometheus ? options.prometheus : undefined;
  const client = connection
    ? (options.shared?.prometheusClient(connection) ?? createPrometheusClient(connection))
    : undefined;
  try {
    return await observeBackup({ ...backup, ...(client ? { prometheus: { client, time } } : {}) }, signal);
  } catch (error) {
    // Only a bug gets here; it still becomes a state rather than an exception.
    return {
      state: 'Unreadable',
      evidence: 'the backup evidence',
      error: `the backup source failed unexpectedly: ${errorText(error)}`,
    };
  } finally {
    client?.close();
  }
}

/** A metrics source's run as the observation's metrics: its failure or cancellation is a state too. */
function metricsOf<T>(
  run: Timed<T>,
  source: string,
  signal: AbortSignal | undefined,
  assemble: (value: T) => MetricsObservation,
): MetricsObservation {
  let assembled: MetricsObservation;
  try {
    if (!run.ok) throw run.error;
    assembled = signal?.aborted
      ? { source: { state: 'Error', message: CANCELLED }, members: {} }
      : assemble(run.value);
  } catch (error) {
    assembled = unexpected(source, error, { members: {} });
  }
  return withDuration(assembled, run.ms);
}

type Timed<T> = ({ ok: true; value: T } | { ok: false; error: unknown }) & { ms: number };

async function timed<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const started = Date.now();
  try {
    const value = await fn();
    return { ok: true, value, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, error, ms: Date.now() - started };
  }
}

function withDuration<T extends { source: SourceState }>(value: T, ms: number): T {
  return { ...value, source: { ...value.source, durationMilliseconds: Math.round(ms) } };
}

/** Only a bug gets here; it still becomes an Error state rather than an exception. */
function unexpected<T extends object>(source: string, error: unknown, empty: T): T & { source: SourceState } {
  return {
    ...empty,
    source: { state: 'Error', message: `${source} source failed unexpectedly: ${errorText(error)}` },
  };
}
