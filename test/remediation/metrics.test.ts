// The remediation metrics of the operator: the step counter by action and result, the deferral
// counter, and the per-CR in-progress gauge, which goes with the check's other series.
import { describe, expect, it } from '@jest/globals';
import { OperatorMetrics } from '../../src/observability/metrics.js';
import { sumSamples } from '../harness/operator.js';

describe('remediation metrics', () => {
  it('counts steps and deferrals and shows a remediation in progress per check', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.remediation.step('Defragment', 'success');
    metrics.remediation.step('Defragment', 'success');
    metrics.remediation.step('MoveLeader', 'failure');
    metrics.remediation.deferred('ClusterUnhealthy');
    metrics.remediation.inProgress('ns', 'etcd', true);
    const text = await metrics.registry.metrics();
    const sample = (name: string, labels: Record<string, string> = {}) => sumSamples(text, name, labels);
    expect(
      sample('etcd_health_operator_remediation_total', { action: 'Defragment', result: 'success' }),
    ).toBe(2);
    expect(
      sample('etcd_health_operator_remediation_total', { action: 'MoveLeader', result: 'failure' }),
    ).toBe(1);
    expect(sample('etcd_health_operator_remediation_deferrals_total', { reason: 'ClusterUnhealthy' })).toBe(
      1,
    );
    expect(sample('etcd_health_check_remediation_in_progress', { namespace: 'ns', name: 'etcd' })).toBe(1);
    metrics.remediation.inProgress('ns', 'etcd', false);
    expect(
      sumSamples(await metrics.registry.metrics(), 'etcd_health_check_remediation_in_progress', {
        name: 'etcd',
      }),
    ).toBe(0);
  });

  it('drops the in-progress series of a deleted check', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    metrics.remediation.inProgress('ns', 'etcd', true);
    metrics.forget('ns', 'etcd');
    expect(
      sumSamples(await metrics.registry.metrics(), 'etcd_health_check_remediation_in_progress', {}),
    ).toBeUndefined();
  });
});
