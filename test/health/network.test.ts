// Network health beside the round trip: failed sends to peers and failed heartbeats as packet loss,
// and the slowest unary gRPC method's p99 (the etcd mixin's etcdGRPCRequestsSlow), at, just below
// and just above their thresholds, with missing and NaN inputs.
import { describe, expect, it } from '@jest/globals';
import { GRPC_SLOW_SECONDS } from '../../src/health/checks/grpc-latency.js';
import {
  conditionOf,
  findingOf,
  findingsOf,
  healthyCluster,
  killed,
  memberName,
  run,
  withMetric,
  withMetricsEverywhere,
} from './fixtures.js';

describe('failed sends to peers and failed heartbeats', () => {
  it('are OK at a rate of 0 on every member', () => {
    const analysis = run(healthyCluster(3));
    expect(findingsOf(analysis, 'PeerFailures').map((f) => [f.target, f.severity, f.reason])).toEqual([
      [memberName(0), 'OK', 'AsExpected'],
      [memberName(1), 'OK', 'AsExpected'],
      [memberName(2), 'OK', 'AsExpected'],
    ]);
    expect(conditionOf(analysis, 'NetworkDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
      message: 'Peer round trip p99 is below 50ms on every member checked, and no send to a peer failed',
    });
  });

  it.each<[string, number, number, string, string]>([
    ['a failed send just above 0', 0.001, 0, 'PeerSendFailures', '0.001/s failed sends to peers'],
    ['failed heartbeats only', 0, 0.2, 'HeartbeatSendFailures', '0.2/s failed heartbeats'],
    ['both', 1.5, 0.5, 'PeerSendFailures', '1.5/s failed sends to peers and 0.5/s failed heartbeats'],
  ])('warn with %s', (_label, sent, heartbeats, reason, what) => {
    const analysis = run(
      healthyCluster(3, withMetric(1, { peerSentFailuresRate: sent, heartbeatSendFailuresRate: heartbeats })),
    );
    expect(findingOf(analysis, 'PeerFailures', memberName(1))).toMatchObject({
      severity: 'Warning',
      reason,
      message: `etcd-1 has ${what}, above 0: packets between members are lost or a peer is too slow to take them`,
      threshold: 0,
    });
    expect(conditionOf(analysis, 'NetworkDegraded')).toMatchObject({ status: 'False', reason });
    expect(analysis.recommendations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'InvestigateNetwork', target: memberName(1), reason }),
      ]),
    );
  });

  it.each<[string, number | undefined]>([
    ['missing', undefined],
    ['NaN', NaN],
  ])('are Unknown when a rate is %s and the other is 0', (_label, value) => {
    const analysis = run(healthyCluster(3, withMetric(2, { peerSentFailuresRate: value })));
    expect(findingOf(analysis, 'PeerFailures', memberName(2))).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
    expect(findingOf(analysis, 'PeerFailures', memberName(2)).message).toMatch(
      /^Failed sends to peers on etcd-2 are not checked: the rate of failed sends to peers is /,
    );
  });

  it('still warn on the failures that are known when the other rate is missing', () => {
    const analysis = run(
      healthyCluster(3, withMetric(0, { peerSentFailuresRate: undefined, heartbeatSendFailuresRate: 3 })),
    );
    expect(findingOf(analysis, 'PeerFailures', memberName(0))).toMatchObject({
      severity: 'Warning',
      reason: 'HeartbeatSendFailures',
    });
  });

  it('are explained by a member that is down, as Info, with no network recommendation', () => {
    const analysis = run(
      healthyCluster(3, killed(2), withMetricsEverywhere({ peerSentFailuresRate: 4 }), withMetric(2, {})),
    );
    expect(findingOf(analysis, 'PeerFailures', memberName(0))).toMatchObject({
      severity: 'Info',
      reason: 'PeerDown',
      message: 'etcd-0 has 4/s failed sends to peers, explained by etcd-2 being down',
    });
    expect(
      findingsOf(analysis, 'PeerFailures', memberName(2)).every((f) => f.reason !== 'PeerSendFailures'),
    ).toBe(true);
    expect(analysis.recommendations.filter((r) => r.type === 'InvestigateNetwork')).toEqual([]);
  });

  it('are not reported for a single member, which has no peers', () => {
    const analysis = run(healthyCluster(1));
    expect(findingsOf(analysis, 'PeerFailures')).toEqual([]);
    expect(conditionOf(analysis, 'NetworkDegraded').message).toMatch(/no peers/);
  });
});

describe('gRPC request latency (etcdGRPCRequestsSlow)', () => {
  it.each<[string, number, string, string]>([
    ['just below the threshold', GRPC_SLOW_SECONDS - 0.0001, 'OK', 'AsExpected'],
    ['at the threshold', GRPC_SLOW_SECONDS, 'Critical', 'SlowGRPCRequests'],
    ['just above the threshold', GRPC_SLOW_SECONDS + 0.0001, 'Critical', 'SlowGRPCRequests'],
  ])('judges a p99 %s', (_label, p99, severity, reason) => {
    const analysis = run(healthyCluster(3, withMetric(1, { grpcUnaryP99: p99 })));
    expect(findingOf(analysis, 'GrpcLatency', memberName(1))).toMatchObject({
      severity,
      reason,
      threshold: GRPC_SLOW_SECONDS,
    });
    expect(conditionOf(analysis, 'RequestsDegraded').status).toBe(severity === 'Critical' ? 'True' : 'False');
  });

  it('names the member and the critical threshold, and recommends looking at the slow methods', () => {
    const analysis = run(healthyCluster(3, withMetric(0, { grpcUnaryP99: 0.4 })));
    expect(findingOf(analysis, 'GrpcLatency', memberName(0)).message).toBe(
      'The p99 of the slowest unary gRPC method on etcd-0 is 400ms, at or above the 150ms critical threshold',
    );
    expect(analysis.recommendations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'InvestigateRequests',
          severity: 'Critical',
          target: memberName(0),
          reason: 'SlowGRPCRequests',
          message: expect.stringContaining('Look at which methods are slow'),
        }),
      ]),
    );
  });

  it.each<[string, number | undefined]>([
    ['missing', undefined],
    ['NaN', NaN],
  ])('is Unknown for a member whose p99 is %s while others expose it', (_label, value) => {
    const analysis = run(healthyCluster(3, withMetric(2, { grpcUnaryP99: value })));
    expect(findingOf(analysis, 'GrpcLatency', memberName(2))).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
  });

  it('says once that it is not measured when no member exposes the histogram (etcd --metrics=basic)', () => {
    const analysis = run(healthyCluster(3, withMetricsEverywhere({ grpcUnaryP99: undefined })));
    expect(findingsOf(analysis, 'GrpcLatency')).toEqual([
      expect.objectContaining({ severity: 'OK', target: 'cluster', reason: 'NotExposed' }),
    ]);
    expect(conditionOf(analysis, 'RequestsDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
  });
});
