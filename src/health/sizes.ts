// DB sizes and quota of a member. Maintenance.Status answers from etcd itself and is preferred;
// fresh metrics fill in for a member whose Status is missing (or an etcd too old to report a field).
import type { MemberView } from './cluster.js';
import { finite } from './metrics.js';

export interface SizeReading {
  bytes: number;
  source: 'status' | 'metrics';
}

/** Physically allocated bytes: what etcd compares with the quota. */
export function physicalSize(member: MemberView): SizeReading | undefined {
  const fromStatus = nonNegative(member.observation.status?.dbSize);
  if (fromStatus !== undefined) return { bytes: fromStatus, source: 'status' };
  const fromMetrics =
    member.metrics.kind === 'fresh' ? nonNegative(member.metrics.metrics.dbSizeBytes) : undefined;
  return fromMetrics !== undefined ? { bytes: fromMetrics, source: 'metrics' } : undefined;
}

/** Physical and in-use size from the same source, so they describe the same moment. */
export function sizePair(member: MemberView): { dbSize: number; inUse: number } | undefined {
  const status = member.observation.status;
  const statusSize = nonNegative(status?.dbSize);
  const statusInUse = nonNegative(status?.dbSizeInUse);
  if (statusSize !== undefined && statusInUse !== undefined)
    return { dbSize: statusSize, inUse: statusInUse };
  if (member.metrics.kind !== 'fresh') return undefined;
  const metricSize = nonNegative(member.metrics.metrics.dbSizeBytes);
  const metricInUse = nonNegative(member.metrics.metrics.dbSizeInUseBytes);
  return metricSize !== undefined && metricInUse !== undefined
    ? { dbSize: metricSize, inUse: metricInUse }
    : undefined;
}

/** The backend quota: Status.dbSizeQuota (etcd >= 3.6), else etcd_server_quota_backend_bytes. Zero means "not reported". */
export function quotaBytes(member: MemberView): number | undefined {
  const fromStatus = positive(member.observation.status?.dbSizeQuota);
  if (fromStatus !== undefined) return fromStatus;
  return member.metrics.kind === 'fresh' ? positive(member.metrics.metrics.quotaBackendBytes) : undefined;
}

/** (dbSize - inUse) / dbSize in percent, rounded to two decimals as cluster-etcd-operator's defrag controller does; undefined when in-use exceeds the size (contradictory). */
export function fragmentationPercent(pair: { dbSize: number; inUse: number }): number | undefined {
  if (pair.inUse > pair.dbSize) return undefined;
  if (pair.dbSize === 0) return 0;
  // Multiplying first keeps a percentage that sits exactly on the threshold exact.
  return Math.round(((pair.dbSize - pair.inUse) * 100 * 100) / pair.dbSize) / 100;
}

function nonNegative(value: number | undefined): number | undefined {
  const number = finite(value);
  return number !== undefined && number >= 0 ? number : undefined;
}

function positive(value: number | undefined): number | undefined {
  const number = finite(value);
  return number !== undefined && number > 0 ? number : undefined;
}
