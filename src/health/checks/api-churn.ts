// API churn: mutating requests per second and in-flight requests at the kube-apiserver, which is
// what writes to etcd (field guide: rate(apiserver_request_total[5m]), apiserver_current_inflight_requests).
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { levelAtOrAbove, type Band } from '../limits.js';
import { finite, missingWhy } from '../metrics.js';
import { formatCount, formatRate } from '../text.js';

export function checkApiChurn(view: ClusterView): Finding[] {
  if (!view.metricsSource.usable)
    return [noData('APIChurn', CLUSTER_TARGET, `API churn is not checked: ${view.metricsSource.why}`)];
  const { apiMutatingRequestsPerSecond, apiInflightRequests } = view.observation.metrics;
  // etcd outside Kubernetes has no kube-apiserver: with no series at all the check does not
  // apply, and says so, rather than holding Degraded at Unknown forever. A NaN still means NoData.
  if (apiMutatingRequestsPerSecond === undefined && apiInflightRequests === undefined) {
    return [
      {
        check: 'APIChurn',
        severity: 'Info',
        target: CLUSTER_TARGET,
        reason: 'NoAPIServerMetrics',
        message: 'Prometheus has no kube-apiserver request metrics, so API churn is not checked',
      },
    ];
  }
  return [
    judge(view, apiMutatingRequestsPerSecond, view.limits.apiMutatingRequestsPerSecond, {
      label: 'Mutating API requests',
      reason: 'HighMutatingRequestRate',
      show: formatRate,
      withTop: true,
    }),
    judge(view, apiInflightRequests, view.limits.apiInflightRequests, {
      label: 'In-flight API requests',
      reason: 'HighInflightRequests',
      show: formatCount,
      withTop: false,
    }),
  ];
}

interface Measure {
  label: string;
  reason: string;
  show: (value: number) => string;
  withTop: boolean;
}

function judge(view: ClusterView, raw: number | undefined, band: Band, measure: Measure): Finding {
  const base = { check: 'APIChurn' as const, target: CLUSTER_TARGET };
  const value = finite(raw);
  if (value === undefined)
    return noData(
      base.check,
      base.target,
      `${measure.label} are not checked: the value is ${missingWhy(raw)}`,
    );
  const level = levelAtOrAbove(value, band);
  const subject = `${measure.label}: ${measure.show(value)}`;
  if (level === 'OK') {
    return {
      ...base,
      severity: 'OK',
      reason: 'AsExpected',
      message: `${subject}, below the warning threshold of ${measure.show(band.warning)}`,
      value,
      threshold: band.warning,
    };
  }
  const threshold = level === 'Critical' ? band.critical : band.warning;
  const top = measure.withTop ? topChurn(view) : '';
  return {
    ...base,
    severity: level,
    reason: measure.reason,
    message: `${subject}, at or above the ${level.toLowerCase()} threshold of ${measure.show(threshold)}${top}`,
    value,
    threshold,
  };
}

/**
 * "; top: pods PATCH 120/s, events POST 80/s; flows: workload-low (priority level workload-low)
 * 150/s": which resource floods the API server, and which API Priority and Fairness flow carries it.
 */
function topChurn(view: ClusterView): string {
  const top = <T extends { requestsPerSecond: number }>(entries: readonly T[] | undefined) =>
    [...(entries ?? [])]
      .filter((entry) => Number.isFinite(entry.requestsPerSecond))
      .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)
      .slice(0, 3);
  const { apiTopChurn, apiTopFlows } = view.observation.metrics;
  const churn = top(apiTopChurn).map(
    (entry) => `${entry.resource} ${entry.verb} ${formatRate(entry.requestsPerSecond)}`,
  );
  const flows = top(apiTopFlows).map(
    (entry) =>
      `${entry.flowSchema} (priority level ${entry.priorityLevel}) ${formatRate(entry.requestsPerSecond)}`,
  );
  return [
    ...(churn.length > 0 ? [`; top: ${churn.join(', ')}`] : []),
    ...(flows.length > 0 ? [`; flows: ${flows.join(', ')}`] : []),
  ].join('');
}
