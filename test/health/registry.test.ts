// The check registry is the one list of checks: names, order and what each needs from Prometheus.
import { describe, expect, it } from '@jest/globals';
import { CHECKS, checksUsingPrometheus } from '../../src/health/checks/index.js';
import { buildClusterView } from '../../src/health/cluster.js';
import {
  DEFAULT_SPEC,
  healthyCluster,
  killed,
  onOpenShift,
  withAlarm,
  withMetricsSource,
} from './fixtures.js';

// On OpenShift every check has something to say; ClusterOperator says nothing elsewhere.

describe('the check registry', () => {
  it('names each check once', () => {
    const names = CHECKS.map((check) => check.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['a healthy cluster', healthyCluster(3, onOpenShift())],
    [
      'a cluster with a member down and an alarm',
      healthyCluster(3, killed(2), withAlarm('NOSPACE', 0), onOpenShift()),
    ],
    ['a cluster without Prometheus', healthyCluster(3, withMetricsSource('NotConfigured'), onOpenShift())],
  ])('lets each check report only under its own name on %s', (_label, observation) => {
    const view = buildClusterView(observation, DEFAULT_SPEC);
    for (const check of CHECKS) {
      const findings = check.run(view);
      expect(findings.length).toBeGreaterThan(0);
      for (const finding of findings) expect(finding.check).toBe(check.name);
    }
  });

  it('marks as needing Prometheus exactly the checks that are Unknown without it', () => {
    const view = buildClusterView(
      healthyCluster(3, withMetricsSource('NotConfigured'), onOpenShift()),
      DEFAULT_SPEC,
    );
    const unknownWithout = CHECKS.filter((check) =>
      check.run(view).every((finding) => finding.severity === 'Unknown'),
    ).map((check) => check.name);
    expect(unknownWithout).toEqual(checksUsingPrometheus('needed'));
  });

  it('counts the quota as Prometheus-dependent only as a fallback', () => {
    expect(checksUsingPrometheus('fallback')).toEqual(['QuotaUsage']);
    expect(checksUsingPrometheus().sort()).toEqual([...checksUsingPrometheus('needed'), 'QuotaUsage'].sort());
  });
});
