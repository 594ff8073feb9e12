// The slowest unary gRPC method's p99 per member, Defragment left out (slow by nature): the etcd
// mixin's etcdGRPCRequestsSlow, critical above 150ms (here at or above, the rule of every band).
// etcd exposes the histogram only with --metrics=extensive: when no member has it, that is said
// once, as a fact about the configuration rather than missing data.
import { formatSeconds } from '../../api/v1alpha1/units.js';
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { finite, missingWhy } from '../metrics.js';
import { perMemberMetricCheck } from './per-member.js';

/** etcd-io/etcd contrib/mixin alerts.libsonnet, etcdGRPCRequestsSlow: `> 0.15` for 10m, critical. */
export const GRPC_SLOW_SECONDS = 0.15;

export function checkGrpcLatency(view: ClusterView): Finding[] {
  const exposed = view.members.some(
    (member) => member.metrics.kind === 'fresh' && member.metrics.metrics.grpcUnaryP99 !== undefined,
  );
  if (view.metricsSource.usable && !exposed) {
    return [
      {
        check: 'GrpcLatency',
        severity: 'OK',
        target: CLUSTER_TARGET,
        reason: 'NotExposed',
        message:
          'gRPC request latency is not measured: no member exposes grpc_server_handling_seconds (etcd --metrics=extensive)',
      },
    ];
  }
  return perMemberMetricCheck(view, 'GrpcLatency', 'gRPC unary request p99', (member, metrics): Finding => {
    const raw = metrics.grpcUnaryP99;
    const value = finite(raw);
    const subject = `The p99 of the slowest unary gRPC method on ${member.name}`;
    if (value === undefined) {
      return noData('GrpcLatency', member.name, `${subject} is not checked: the value is ${missingWhy(raw)}`);
    }
    const slow = value >= GRPC_SLOW_SECONDS;
    return {
      check: 'GrpcLatency',
      severity: slow ? 'Critical' : 'OK',
      target: member.name,
      reason: slow ? 'SlowGRPCRequests' : 'AsExpected',
      message: `${subject} is ${formatSeconds(value)}, ${slow ? 'at or above' : 'below'} the ${formatSeconds(GRPC_SLOW_SECONDS)} critical threshold`,
      value,
      threshold: GRPC_SLOW_SECONDS,
    };
  });
}
