// status.summary: the printable strings behind the `oc get etcdhealthcheck` columns.
import type { Condition, Recommendation, Severity, Summary } from '../api/v1alpha1/status.js';
import { UNION_CONDITION_TYPES } from '../api/v1alpha1/resource.js';
import { formatBytes, formatSeconds } from '../api/v1alpha1/units.js';
import { quotaUsagePercent } from './checks/quota-usage.js';
import type { ClusterView } from './cluster.js';
import { finite } from './metrics.js';
import type { MemberMetrics } from './observation.js';
import { physicalSize } from './sizes.js';

const UNKNOWN = '-';

export function summarize(
  view: ClusterView,
  conditions: readonly Condition[],
  recommendations: readonly Recommendation[],
): Summary {
  const worstQuota = largest(view.members.map(quotaUsagePercent));
  const lastTransitionTime = latest(
    conditions
      .filter((condition) => (UNION_CONDITION_TYPES as readonly string[]).includes(condition.type))
      .map((condition) => condition.lastTransitionTime),
  );
  return {
    members: `${view.quorum.healthy}/${view.quorum.voting}`,
    leader: view.leader.name,
    dbSize: orUnknown(largest(view.members.map((member) => physicalSize(member)?.bytes)), formatBytes),
    walFsyncP99: orUnknown(worstLatency(view, 'walFsyncP99'), formatSeconds),
    backendCommitP99: orUnknown(worstLatency(view, 'backendCommitP99'), formatSeconds),
    // Floored, so the column never shows a tier that has not been reached.
    quotaUsage: orUnknown(worstQuota, (percent) => `${Math.floor(percent)}%`),
    recommendations: countBySeverity(recommendations),
    ...(lastTransitionTime === undefined ? {} : { lastTransitionTime }),
  };
}

function worstLatency(
  view: ClusterView,
  metric: keyof Pick<MemberMetrics, 'walFsyncP99' | 'backendCommitP99'>,
): number | undefined {
  return largest(
    view.members.map((member) =>
      member.metrics.kind === 'fresh' ? finite(member.metrics.metrics[metric]) : undefined,
    ),
  );
}

/** "1 Critical, 2 Warning", or "None". */
function countBySeverity(recommendations: readonly Recommendation[]): string {
  const order: Severity[] = ['Critical', 'Warning', 'Info'];
  const counts = order
    .map(
      (severity) =>
        [
          severity,
          recommendations.filter((recommendation) => recommendation.severity === severity).length,
        ] as const,
    )
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`);
  return counts.length > 0 ? counts.join(', ') : 'None';
}

function largest(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length > 0 ? Math.max(...present) : undefined;
}

/** ISO-8601 UTC timestamps of the same shape order as text. */
function latest(times: readonly string[]): string | undefined {
  return times.reduce<string | undefined>(
    (newest, time) => (newest === undefined || time > newest ? time : newest),
    undefined,
  );
}

function orUnknown(value: number | undefined, format: (value: number) => string): string {
  return value === undefined ? UNKNOWN : format(value);
}
