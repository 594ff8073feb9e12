// The per-CR series the dashboards draw beside the operator's older gauges: each check's own
// thresholds, each member's quota, and one series per recommendation.
import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/resource.js';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import type { Observation } from '../../src/health/observation.js';
import { OperatorMetrics } from '../../src/observability/metrics.js';
import { sumSamples } from '../harness/operator.js';

const check = (thresholds: Record<string, unknown> = {}) =>
  ({ metadata: { namespace: 'ns', name: 'etcd' }, spec: { thresholds } }) as unknown as EtcdHealthCheck;

const status = (recommendations: EtcdHealthCheckStatus['recommendations']): EtcdHealthCheckStatus => ({
  conditions: [],
  members: [
    {
      name: 'member-1',
      id: '11',
      endpoint: 'http://a:2379',
      reachable: true,
      healthy: true,
      leader: true,
      learner: false,
    },
  ],
  recommendations,
});

const observation = {
  time: new Date('2026-11-21T00:00:00Z'),
  durationMs: 10,
  etcd: { source: { state: 'OK' }, memberListKnown: true, members: [], alarms: [], alarmsKnown: true },
  metrics: {
    source: { state: 'OK' },
    members: { '11': { walFsyncP99: 0.004, dbSizeBytes: 50, quotaBackendBytes: 2 ** 31 } },
  },
} as unknown as Observation;

const defragment = {
  type: 'Defragment',
  severity: 'Warning' as const,
  target: 'member-1',
  reason: 'Fragmented',
  message: 'm',
};

async function sample(metrics: OperatorMetrics, name: string, labels: Record<string, string> = {}) {
  return sumSamples(await metrics.registry.metrics(), name, labels);
}

describe('the series the dashboards draw', () => {
  it("exports the check's thresholds, its defaults filled in, in base units", async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.recordCheck(
      check({ walFsyncP99: { warning: '20ms' }, quotaUsage: { criticalPercent: 90 } }),
      status([]),
      observation,
      30_000,
    );
    const latency = (latency: string, severity: string) =>
      sample(metrics, 'etcd_health_check_latency_threshold_seconds', { latency, severity });
    expect(await latency('wal_fsync_p99', 'warning')).toBeCloseTo(0.02);
    expect(await latency('wal_fsync_p99', 'critical')).toBeCloseTo(0.05);
    expect(await latency('backend_commit_p99', 'warning')).toBeCloseTo(0.025);
    expect(await latency('peer_round_trip_p99', 'critical')).toBeCloseTo(0.15);
    const quota = (severity: string) =>
      sample(metrics, 'etcd_health_check_quota_usage_threshold_ratio', { severity });
    expect([await quota('info'), await quota('warning'), await quota('critical')]).toEqual([0.65, 0.75, 0.9]);
    expect(await sample(metrics, 'etcd_health_check_db_size_threshold_bytes', { severity: 'critical' })).toBe(
      8 * 2 ** 30,
    );
  });

  it("exports each member's quota and one series per recommendation, and drops them with the check", async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.recordCheck(check(), status([defragment]), observation, 30_000);
    expect(
      await sample(metrics, 'etcd_health_check_member_quota_backend_bytes', { member: 'member-1' }),
    ).toBe(2 ** 31);
    expect(
      await sample(metrics, 'etcd_health_check_recommendation_info', {
        namespace: 'ns',
        name: 'etcd',
        type: 'Defragment',
        severity: 'Warning',
        target: 'member-1',
        reason: 'Fragmented',
      }),
    ).toBe(1);

    // A recommendation that is gone loses its series; a new one gets its own.
    metrics.recordCheck(
      check(),
      status([{ ...defragment, type: 'Compact', severity: 'Critical' }]),
      observation,
      30_000,
    );
    expect(
      await sample(metrics, 'etcd_health_check_recommendation_info', { type: 'Defragment' }),
    ).toBeUndefined();
    expect(await sample(metrics, 'etcd_health_check_recommendation_info', { type: 'Compact' })).toBe(1);

    metrics.forget('ns', 'etcd');
    for (const name of [
      'etcd_health_check_recommendation_info',
      'etcd_health_check_member_quota_backend_bytes',
      'etcd_health_check_latency_threshold_seconds',
      'etcd_health_check_quota_usage_threshold_ratio',
      'etcd_health_check_db_size_threshold_bytes',
    ]) {
      expect(await sample(metrics, name)).toBeUndefined();
    }
  });
});
