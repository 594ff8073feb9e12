// Whether a metric value may be judged. Missing, NaN and stale values are "no data", never healthy.
import type { MemberMetrics, MetricsObservation } from './observation.js';

/**
 * Member metrics last scraped longer ago than this are stale. Five minutes is Prometheus' default
 * lookback delta: an instant query stops returning a series five minutes after its last sample, so
 * a value this old describes a member that has not been scraped since.
 */
export const STALE_AFTER_SECONDS = 300;

/** A scrape this recent proves the member process is up: three default (30s) scrape intervals. */
export const ALIVE_WITHIN_SECONDS = 90;

export type MetricsSourceStatus = { usable: true } | { usable: false; why: string };

export function metricsSourceStatus(metrics: MetricsObservation): MetricsSourceStatus {
  const { source } = metrics;
  const detail = source.message ? `: ${source.message}` : '';
  if (source.state === 'Error' && metrics.etcdSeriesAbsent)
    return { usable: false, why: `Prometheus answered but has no etcd series${detail}` };
  switch (source.state) {
    case 'OK':
    case 'Partial':
      return { usable: true };
    case 'NotConfigured':
      return { usable: false, why: 'Prometheus is not configured (spec.prometheus is not set)' };
    case 'Error':
      return {
        usable: false,
        why: `Prometheus did not answer${detail}`,
      };
  }
}

export type MemberMetricsAccess =
  { kind: 'fresh'; metrics: MemberMetrics } | { kind: 'missing'; why: string };

/** The metrics of one member, if Prometheus has fresh series for its ID. */
export function memberMetricsAccess(
  observation: MetricsObservation,
  id: string,
  name: string,
): MemberMetricsAccess {
  if (id === '')
    return { kind: 'missing', why: `the member ID of ${name} is unknown, so its series cannot be matched` };
  const metrics = observation.members[id];
  if (metrics === undefined)
    return { kind: 'missing', why: `Prometheus has no series for ${name} (member ID ${id})` };
  const age = finite(metrics.scrapeAgeSeconds);
  if (age !== undefined && age > STALE_AFTER_SECONDS) {
    return {
      kind: 'missing',
      why: `the metrics of ${name} are stale: last scraped ${Math.round(age)}s ago (stale after ${STALE_AFTER_SECONDS}s)`,
    };
  }
  return { kind: 'fresh', metrics };
}

/** A value that can be compared: undefined for missing, NaN and infinite values. */
export function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** Why a value is not usable, to follow "is": "missing (no series)", or "not a number" for NaN. */
export function missingWhy(value: number | undefined): string {
  return value === undefined ? 'missing (no series)' : 'not a number (no samples in the window)';
}
