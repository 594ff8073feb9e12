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

  it('says that Prometheus answered without etcd series, not that it did not answer', () => {
    const absent: Change = (o: Observation) => {
      o.metrics.source = {
        state: 'Error',
        message: 'Prometheus http://p:9090: no etcd series match {job="etcd"}',
      };
      o.metrics.etcdSeriesAbsent = true;
    };
    const analysis = run(healthyCluster(3, absent));
    expect(findingOf(analysis, 'MetricsSource', 'cluster')).toMatchObject({
      severity: 'Warning',
      reason: 'NoEtcdSeries',
      message:
        'Prometheus answered but has no etcd series: Prometheus http://p:9090: no etcd series match {job="etcd"}',
    });
    expect(findingOf(analysis, 'WalFsync', 'cluster')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
      message:
        'WAL fsync p99 is not checked: Prometheus answered but has no etcd series: Prometheus http://p:9090: no etcd series match {job="etcd"}',
    });
  });

  it('recommends waiting for scrapes, then the matchers, for absent series', () => {
    const absent: Change = (o: Observation) => {
      o.metrics.source = { state: 'Error', message: 'no etcd series match {job="etcd"}' };
      o.metrics.etcdSeriesAbsent = true;
    };
    const recommendation = run(healthyCluster(3, absent)).recommendations.find(
      (r) => r.type === 'FixMetricsSource',
    );
    expect(recommendation).toMatchObject({ severity: 'Warning', reason: 'NoEtcdSeries' });
    expect(recommendation?.message).toMatch(/Until it holds etcd series, .* spec\.prometheus\.labelMatchers/);
  });

  it('names Prometheus otherwise', () => {
    const analysis = run(healthyCluster(3));
    expect(findingOf(analysis, 'MetricsSource', 'cluster').message).toBe('Prometheus answered every query');
  });
});
