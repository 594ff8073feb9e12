// The PromQL of the network signals, as sent: scoped by the user's matchers, per member label, over
// the rate window; the gRPC latency as the etcd mixin's etcdGRPCRequestsSlow writes it.
import { describe, expect, it } from '@jest/globals';
import { SIGNALS, type QueryContext } from '../../src/sources/prometheus/queries.js';

const CTX: QueryContext = {
  etcdMatchers: [{ name: 'job', op: '=', value: 'etcd' }],
  memberLabel: 'instance',
  rateWindowMs: 300_000,
  growthHorizonMs: 4 * 3_600_000,
  dataDirMountpoint: '/var/lib/etcd',
};

const promql = (field: string) => {
  const signal = SIGNALS.find((s) => s.field === field);
  if (signal === undefined) throw new Error(`no signal ${field}`);
  return signal.promql(CTX);
};

describe('the network signals', () => {
  it('count failed sends to peers per member, 0 for a member whose counter has no series yet', () => {
    expect(promql('peerSentFailuresRate')).toBe(
      'sum by (instance) (rate(etcd_network_peer_sent_failures_total{job="etcd"}[300s])) or (0 * min by (instance) (etcd_server_has_leader{job="etcd"}))',
    );
  });

  it('count failed heartbeats per member the same way', () => {
    expect(promql('heartbeatSendFailuresRate')).toBe(
      'sum by (instance) (rate(etcd_server_heartbeat_send_failures_total{job="etcd"}[300s])) or (0 * min by (instance) (etcd_server_has_leader{job="etcd"}))',
    );
  });

  it('take the slowest unary method but Defragment, per member, as etcdGRPCRequestsSlow', () => {
    expect(promql('grpcUnaryP99')).toBe(
      'max by (instance) (histogram_quantile(0.99, sum by (instance, grpc_service, grpc_method, le) (rate(grpc_server_handling_seconds_bucket{job="etcd",grpc_type="unary",grpc_method!="Defragment"}[300s]))))',
    );
  });

  it('make the source Partial only where peers exist, and never for the histogram etcd may not expose', () => {
    const required = (field: string) => SIGNALS.find((s) => s.field === field)!.required;
    expect([
      required('peerSentFailuresRate'),
      required('heartbeatSendFailuresRate'),
      required('grpcUnaryP99'),
    ]).toEqual(['withPeers', 'withPeers', 'never']);
  });
});
