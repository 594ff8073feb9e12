// Share of failed gRPC requests per member. Judged only above a minimum request rate, as OpenShift
// gates etcdHighNumberOfFailedGRPCRequests on > 2 req/s: a few failures of a near idle member are noise.
import type { ClusterView } from '../cluster.js';
import { noData, type Finding } from '../findings.js';
import { levelAtOrAbove } from '../limits.js';
import { finite, missingWhy } from '../metrics.js';
import { formatPercent, formatRate } from '../text.js';
import { perMemberMetricCheck } from './per-member.js';

export function checkGrpcFailures(view: ClusterView): Finding[] {
  const band = view.limits.grpcFailedPercent;
  const minRate = view.limits.grpcMinRequestsPerSecond;
  return perMemberMetricCheck(view, 'GrpcFailures', 'the failed gRPC share', (member, metrics): Finding => {
    const base = { check: 'GrpcFailures' as const, target: member.name };
    const requests = finite(metrics.grpcRequestRate);
    const failed = finite(metrics.grpcFailedRate);
    if (requests === undefined || failed === undefined) {
      const raw = requests === undefined ? metrics.grpcRequestRate : metrics.grpcFailedRate;
      const which = requests === undefined ? 'request rate' : 'failure rate';
      return noData(
        base.check,
        base.target,
        `Failed gRPC share on ${member.name} is not checked: the ${which} is ${missingWhy(raw)}`,
      );
    }
    if (requests < minRate) {
      return {
        ...base,
        severity: 'OK',
        reason: 'LowTraffic',
        message: `The gRPC request rate on ${member.name} is ${formatRate(requests)}, below ${formatRate(minRate)}: the failure share is not judged`,
        value: requests,
        threshold: minRate,
      };
    }
    // A failure rate above the request rate comes from two queries evaluated at different moments.
    const percent = Math.min(100, (failed * 100) / requests);
    const level = levelAtOrAbove(percent, band);
    const subject = `Failed gRPC requests on ${member.name} are ${formatPercent(percent)} of ${formatRate(requests)}`;
    if (level === 'OK') {
      return {
        ...base,
        severity: 'OK',
        reason: 'AsExpected',
        message: `${subject}, below the ${formatPercent(band.warning)} warning threshold`,
        value: percent,
        threshold: band.warning,
      };
    }
    const threshold = level === 'Critical' ? band.critical : band.warning;
    return {
      ...base,
      severity: level,
      reason: 'FailedGRPCRequests',
      message: `${subject}, at or above the ${formatPercent(threshold)} ${level.toLowerCase()} threshold`,
      value: percent,
      threshold,
    };
  });
}
