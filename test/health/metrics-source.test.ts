// The MetricsSource check names the source that was read: Prometheus, or in the CLI the members'
// own /metrics sampled twice.
import { describe, expect, it } from '@jest/globals';
import type { Observation } from '../../src/health/observation.js';
import { findingOf, healthyCluster, run, withMetricsSource, type Change } from './fixtures.js';

const sampled: Change = (o: Observation) => {
  o.metrics.sampledOverSeconds = 15;
};

describe('checkMetricsSource', () => {
  it.each([
    ['OK', undefined, 'MetricsAvailable', "Every member's /metrics answered both samples"],
    [
      'Partial',
      '/metrics sampled over 15s: etcd-1: no series for backend quota',
      'PartialResults',
      "The members' /metrics answered in part only: /metrics sampled over 15s: etcd-1: no series for backend quota",
    ],
    [
      'Error',
      '/metrics sampled over 15s: every scrape failed',
      'QueryFailed',
      "The members' /metrics did not answer: /metrics sampled over 15s: every scrape failed",
    ],
  ] as const)('names the /metrics sample when it is %s', (state, message, reason, text) => {
    const analysis = run(healthyCluster(3, withMetricsSource(state, message), sampled));
    expect(findingOf(analysis, 'MetricsSource', 'cluster')).toMatchObject({ reason, message: text });
  });

  it('names Prometheus otherwise', () => {
    const analysis = run(healthyCluster(3));
    expect(findingOf(analysis, 'MetricsSource', 'cluster').message).toBe('Prometheus answered every query');
  });
});
