// The evidence of the last etcd backup that spec.backup names: a CronJob's last successful run,
// the newest completed OpenShift EtcdBackup, or a PromQL expression's value. The Kubernetes reads
// are a port (BackupReader, implemented in src/kube/backups.ts); the query goes through the
// Prometheus client with its timeout and answer budget. Never throws: a read that fails becomes
// the state Unreadable with the reason.
import type { BackupSpec } from '../api/v1alpha1/spec.js';
import type { BackupObservation } from '../health/observation.js';
import type { PrometheusClient } from './prometheus/client.js';
import { errorText } from './text.js';
import { CANCELLED, untilAborted, withTimeout } from './timeout.js';

/** A condition of an EtcdBackup, as the API server stores it. */
export interface BackupCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export interface BackupReader {
  /** status.lastSuccessfulTime of the CronJob, undefined when it never succeeded; throws a readable error. */
  cronJobLastSuccess(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined>;
  /** The conditions of every EtcdBackup (operator.openshift.io/v1alpha1, cluster-scoped); throws a readable error. */
  etcdBackupConditions(signal?: AbortSignal): Promise<BackupCondition[][]>;
}

export interface BackupSourceOptions {
  spec: BackupSpec;
  /** The EtcdHealthCheck's namespace: the only one a CronJob is read from. */
  namespace: string;
  /** Absent where there is no Kubernetes API (etcd-health check). */
  reader?: BackupReader;
  /** For a PromQL source: a client of spec.prometheus, and the query's time. */
  prometheus?: { client: PrometheusClient; time: Date };
  timeoutMs: number;
}

// The cluster-etcd-operator marks a finished backup with a Completed condition (current
// openshift/api operator/v1alpha1 types_etcdbackup.go) or, in earlier versions, a condition whose type
// is its reason BackupCompleted. config.openshift.io/v1alpha1 Backup holds only a schedule and no
// status, so it says nothing about a backup that was taken.
const COMPLETED_TYPES = new Set(['Completed', 'BackupCompleted']);

// Unix times in seconds from 2001 to 5138: a value outside is not a time in seconds (a count, or
// milliseconds), and is not quoted back.
const MIN_UNIX_SECONDS = 1e9;
const MAX_UNIX_SECONDS = 1e11;

export async function observeBackup(
  options: BackupSourceOptions,
  signal?: AbortSignal,
): Promise<BackupObservation> {
  const { spec } = options;
  if (spec.cronJob) {
    const evidence = `CronJob ${spec.cronJob.name}`;
    return read(evidence, options, signal, async (reader) => {
      const last = await reader.cronJobLastSuccess(options.namespace, spec.cronJob!.name, signal);
      if (last === undefined)
        return {
          state: 'None',
          evidence,
          detail: 'has no successful run (status.lastSuccessfulTime is not set)',
        };
      return timeOf(evidence, last);
    });
  }
  if (spec.openshift) {
    const evidence = 'EtcdBackup objects';
    return read(evidence, options, signal, async (reader) => {
      const completions = (await reader.etcdBackupConditions(signal))
        .map((conditions) =>
          conditions.find((condition) => COMPLETED_TYPES.has(condition.type) && condition.status === 'True'),
        )
        .map((condition) => (condition?.lastTransitionTime ? Date.parse(condition.lastTransitionTime) : NaN))
        .filter((time) => Number.isFinite(time));
      if (completions.length === 0) return { state: 'None', evidence, detail: 'show no completed backup' };
      return { state: 'Found', evidence, lastSuccess: new Date(Math.max(...completions)) };
    });
  }
  return queryBackup(options, signal);
}

async function read(
  evidence: string,
  options: BackupSourceOptions,
  signal: AbortSignal | undefined,
  body: (reader: BackupReader) => Promise<BackupObservation>,
): Promise<BackupObservation> {
  const unreadable = (error: string): BackupObservation => ({ state: 'Unreadable', evidence, error });
  const { reader } = options;
  if (reader === undefined)
    return unreadable('it is read through the Kubernetes API, which only the operator uses');
  if (signal?.aborted) return unreadable(CANCELLED);
  try {
    // A reader that ignores the signal or its own deadline is not waited for either.
    return await withTimeout(
      untilAborted(body(reader), signal, () => unreadable(CANCELLED)),
      options.timeoutMs,
      () => unreadable(`no answer within ${options.timeoutMs}ms`),
    );
  } catch (error) {
    return unreadable(signal?.aborted ? CANCELLED : errorText(error));
  }
}

function timeOf(evidence: string, text: string): BackupObservation {
  const time = Date.parse(text);
  if (!Number.isFinite(time))
    return { state: 'Unreadable', evidence, error: 'its time is not a valid timestamp' };
  return { state: 'Found', evidence, lastSuccess: new Date(time) };
}

async function queryBackup(options: BackupSourceOptions, signal?: AbortSignal): Promise<BackupObservation> {
  const evidence = 'the backup query';
  const unreadable = (error: string): BackupObservation => ({ state: 'Unreadable', evidence, error });
  const query = options.spec.prometheus?.query;
  if (query === undefined || options.prometheus === undefined)
    return unreadable('spec.prometheus is not usable, so the query was not sent');
  const { client, time } = options.prometheus;
  const outcome = await client.query(query, time, signal);
  if (!outcome.ok) return unreadable(outcome.error);
  if (outcome.samples.length === 0) return { state: 'None', evidence, detail: 'returned no series' };
  const times = outcome.samples.map((sample) => sample.value).filter((value) => Number.isFinite(value));
  if (times.length === 0) return unreadable('its series hold no number (NaN or infinite)');
  const newest = Math.max(...times);
  if (newest < MIN_UNIX_SECONDS || newest > MAX_UNIX_SECONDS)
    return unreadable('its newest value is not a unix time in seconds');
  return { state: 'Found', evidence, lastSuccess: new Date(newest * 1000) };
}
