// API latency against etcd latency (the field guide's step 3): when mutating requests at the
// kube-apiserver are slow, is etcd the bottleneck? Two witnesses say so: the API server's own
// etcd write latency (etcd_request_duration_seconds, timed from its side of the connection), and
// the members' disk latency. When neither is slow, the time goes elsewhere: admission webhooks,
// API Priority and Fairness queueing, or the API server's own CPU.
import { formatSeconds } from '../../api/v1alpha1/units.js';
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { levelAtOrAbove } from '../limits.js';
import { finite, missingWhy } from '../metrics.js';
import { listing } from '../text.js';

/**
 * The API server's etcd writes take at least this share of its mutating p99: then etcd is where
 * the time goes. A write request spends one etcd round trip (two for an update's read-modify-write
 * retry), so half of the request's latency in etcd leaves no other stage a bigger share.
 */
export const ETCD_SHARE = 0.5;

export function checkApiLatency(view: ClusterView): Finding[] {
  if (!view.metricsSource.usable)
    return [noData('APILatency', CLUSTER_TARGET, `API latency is not checked: ${view.metricsSource.why}`)];
  const { apiMutatingP99Seconds: rawApi, apiEtcdRequestP99Seconds: rawEtcd } = view.observation.metrics;
  // etcd outside Kubernetes has no kube-apiserver: the check does not apply (as API churn).
  if (rawApi === undefined && rawEtcd === undefined) {
    return [
      {
        check: 'APILatency',
        severity: 'Info',
        target: CLUSTER_TARGET,
        reason: 'NoAPIServerMetrics',
        message: 'Prometheus has no kube-apiserver request latency, so API latency is not checked',
      },
    ];
  }
  const api = finite(rawApi);
  if (api === undefined)
    return [
      noData(
        'APILatency',
        CLUSTER_TARGET,
        `Mutating API request p99 is not checked: the value is ${missingWhy(rawApi)}`,
      ),
    ];
  const band = view.limits.apiLatencySeconds;
  const level = levelAtOrAbove(api, band);
  const subject = `Mutating API request p99 is ${formatSeconds(api)}`;
  const base = { check: 'APILatency' as const, target: CLUSTER_TARGET, value: api };
  if (level === 'OK') {
    return [
      {
        ...base,
        severity: 'OK',
        reason: 'AsExpected',
        message: `${subject}, below the ${formatSeconds(band.warning)} warning threshold`,
        threshold: band.warning,
      },
    ];
  }
  const threshold = level === 'Critical' ? band.critical : band.warning;
  const judged = `${subject}, at or above the ${formatSeconds(threshold)} ${level.toLowerCase()} threshold`;
  const etcd = finite(rawEtcd);
  const slowDisks = slowDiskMembers(view);
  const etcdSlow = etcd !== undefined && etcd >= ETCD_SHARE * api;
  const etcdPart =
    etcd === undefined
      ? `the API server's etcd write p99 is ${missingWhy(rawEtcd)}`
      : `the API server's etcd write p99 is ${formatSeconds(etcd)}`;
  const disks =
    slowDisks.length > 0
      ? `slow disks: ${listing(slowDisks)}`
      : 'no member has WAL fsync or backend commit p99 at its warning threshold';
  if (etcdSlow || (etcd === undefined && slowDisks.length > 0)) {
    return [
      {
        ...base,
        severity: level,
        reason: 'EtcdIsTheBottleneck',
        message: `${judged}, and etcd is the bottleneck: ${etcdPart}; ${disks}`,
        threshold,
      },
    ];
  }
  if (etcd === undefined) {
    return [
      {
        ...base,
        severity: level,
        reason: 'SlowAPIRequests',
        message: `${judged}; whether etcd is the bottleneck is unknown: ${etcdPart}, and ${disks}`,
        threshold,
      },
    ];
  }
  return [
    {
      ...base,
      severity: level,
      reason: 'SlowAPIRequestsNotEtcd',
      message: `${judged}, but etcd is fine: ${etcdPart} (below ${Math.round(ETCD_SHARE * 100)}% of it) and ${disks}; the time goes elsewhere`,
      threshold,
    },
  ];
}

/** "member-2 (WAL fsync p99 80ms)": members whose disk latency is at its warning threshold or above. */
function slowDiskMembers(view: ClusterView): string[] {
  const { walFsyncSeconds, backendCommitSeconds } = view.limits;
  return view.members.flatMap((member) => {
    if (member.metrics.kind !== 'fresh') return [];
    const { walFsyncP99, backendCommitP99 } = member.metrics.metrics;
    const parts = [
      ...(finite(walFsyncP99) !== undefined && walFsyncP99! >= walFsyncSeconds.warning
        ? [`WAL fsync p99 ${formatSeconds(walFsyncP99!)}`]
        : []),
      ...(finite(backendCommitP99) !== undefined && backendCommitP99! >= backendCommitSeconds.warning
        ? [`backend commit p99 ${formatSeconds(backendCommitP99!)}`]
        : []),
    ];
    return parts.length > 0 ? [`${member.name} (${parts.join(', ')})`] : [];
  });
}
