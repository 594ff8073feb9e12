import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/resource.js';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import type { Observation } from '../../src/health/observation.js';
import { OperatorMetrics } from '../../src/observability/metrics.js';
import { sumSamples } from '../harness/operator.js';

const object = { metadata: { namespace: 'ns', name: 'etcd' } } as EtcdHealthCheck;
const status = (available: 'True' | 'False'): EtcdHealthCheckStatus => ({
  conditions: [
    {
      type: 'Available',
      status: available,
      reason: 'X',
      message: '',
      lastTransitionTime: '2026-11-21T00:00:00Z',
    },
  ],
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
  recommendations: [
    { type: 'Defragment', severity: 'Critical', target: 'member-1', reason: 'R', message: 'm' },
  ],
});
const observation = {
  time: new Date('2026-11-21T00:00:00Z'),
  durationMs: 10,
  etcd: { source: { state: 'OK' }, memberListKnown: true, members: [], alarms: [], alarmsKnown: true },
  metrics: {
    source: { state: 'OK' },
    members: { '11': { walFsyncP99: 0.004, dbSizeBytes: 50, quotaBackendBytes: 100 } },
  },
} as unknown as Observation;

async function sample(metrics: OperatorMetrics, name: string, labels: Record<string, string> = {}) {
  return sumSamples(await metrics.registry.metrics(), name, labels);
}

describe('OperatorMetrics', () => {
  it('exports the per-CR gauges alerting needs and flips the condition gauge', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.recordCheck(object, status('True'), observation, 30_000);
    expect(await sample(metrics, 'etcd_health_check_condition', { type: 'Available', status: 'True' })).toBe(
      1,
    );
    // One series per condition, for its current status.
    expect(
      await sample(metrics, 'etcd_health_check_condition', { type: 'Available', status: 'False' }),
    ).toBeUndefined();
    expect(
      await sample(metrics, 'etcd_health_check_member_wal_fsync_p99_seconds', { member: 'member-1' }),
    ).toBe(0.004);
    expect(await sample(metrics, 'etcd_health_check_quota_usage_ratio')).toBe(0.5);
    expect(await sample(metrics, 'etcd_health_check_recommendations', { severity: 'Critical' })).toBe(1);
    expect(await sample(metrics, 'etcd_health_check_interval_seconds')).toBe(30);
    metrics.recordCheck(object, status('False'), observation, 30_000);
    expect(await sample(metrics, 'etcd_health_check_condition', { type: 'Available', status: 'False' })).toBe(
      1,
    );
    expect(
      await sample(metrics, 'etcd_health_check_condition', { type: 'Available', status: 'True' }),
    ).toBeUndefined();
    // A member that is no longer reported loses its series.
    metrics.recordCheck(
      object,
      status('False'),
      { ...observation, metrics: { ...observation.metrics, members: {} } },
      30_000,
    );
    expect(await sample(metrics, 'etcd_health_check_member_wal_fsync_p99_seconds')).toBeUndefined();
  });

  it('drops the series of a suspended check and marks it suspended', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.recordCheck(object, status('False'), observation, 30_000);
    metrics.recordSuspended(object);
    expect(await sample(metrics, 'etcd_health_check_condition')).toBeUndefined();
    expect(await sample(metrics, 'etcd_health_check_member_wal_fsync_p99_seconds')).toBeUndefined();
    expect(await sample(metrics, 'etcd_health_check_suspended')).toBe(1);
  });

  it('forgets every series of a deleted check', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.recordCheck(object, status('True'), observation, 30_000);
    metrics.forget('ns', 'etcd');
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/^etcd_health_check_\w+\{/m);
  });
});
