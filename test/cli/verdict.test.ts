// Exit codes: 0 healthy, 1 warnings, 2 critical, 3 could not assess.
import { describe, expect, it } from '@jest/globals';
import { EXIT_CODES, EXIT_INVALID_INPUT, verdictOf } from '../../src/cli/verdict.js';
import type { Observation } from '../../src/health/observation.js';
import {
  healthyCluster,
  killed,
  run,
  specWith,
  unhealthy,
  unreachable,
  withAlarm,
  withMetric,
  withMetricsSource,
  type Change,
} from '../health/fixtures.js';

// As the CLI runs the analysis: no inertia.
const SPEC = specWith({ thresholds: { degradedInertia: '0s' } });

function verdict(...changes: Change[]) {
  const observation = healthyCluster(3, ...changes);
  return verdictOf(run(observation, { spec: SPEC }), observation);
}

const withoutPrometheus: Change = (o: Observation) => {
  o.metrics = { source: { state: 'NotConfigured' }, members: {} };
};

describe('verdictOf', () => {
  it('maps the verdicts to the documented exit codes', () => {
    expect(EXIT_CODES).toEqual({ Healthy: 0, Warning: 1, Critical: 2, Unassessable: 3 });
    expect(EXIT_INVALID_INPUT).toBe(3);
  });

  it('is Healthy (0) when every check passes', () => {
    expect(verdict()).toEqual({ verdict: 'Healthy', exitCode: 0, reasons: [], skipped: [] });
  });

  it('is Warning (1) for a member down while quorum holds', () => {
    const result = verdict(killed(2));
    expect(result).toMatchObject({ verdict: 'Warning', exitCode: 1 });
    expect(result.reasons.join('\n')).toMatch(/2 of 3 members are available/);
  });

  it('is Warning (1) for a latency above its warning threshold', () => {
    const result = verdict(withMetric(1, { walFsyncP99: 0.02 }));
    expect(result).toMatchObject({ verdict: 'Warning', exitCode: 1 });
    expect(result.reasons).toEqual([
      'WAL fsync p99 on etcd-1 is 20ms, at or above the 10ms warning threshold',
    ]);
  });

  it('is Critical (2) for a latency above its critical threshold, ahead of any warning', () => {
    const result = verdict(withMetric(1, { walFsyncP99: 0.08 }), killed(2));
    expect(result).toMatchObject({ verdict: 'Critical', exitCode: 2 });
    expect(result.reasons).toEqual([
      'WAL fsync p99 on etcd-1 is 80ms, at or above the 50ms critical threshold',
    ]);
  });

  it('is Critical (2) without quorum, and for an alarm', () => {
    expect(verdict(killed(1), killed(2)).exitCode).toBe(2);
    expect(verdict(unhealthy(0), unhealthy(1), unhealthy(2)).exitCode).toBe(2);
    expect(verdict(withAlarm('NOSPACE', 0)).exitCode).toBe(2);
  });

  it('is Unassessable (3) when no member answered, naming each member', () => {
    const result = verdict(unreachable(0), unreachable(1), unreachable(2));
    expect(result).toMatchObject({ verdict: 'Unassessable', exitCode: 3 });
    expect(result.reasons[0]).toBe('No etcd member answered');
    expect(result.reasons).toContain('etcd-1: https://127.0.0.2:2379: context deadline exceeded');
  });

  it('is Unassessable (3) when no member was observed, with the source error', () => {
    const observation = healthyCluster(3, (o) => {
      o.etcd = {
        source: { state: 'Error', message: 'no etcd endpoints configured' },
        memberListKnown: false,
        members: [],
        alarms: [],
        alarmsKnown: false,
      };
    });
    expect(verdictOf(run(observation, { spec: SPEC }), observation)).toMatchObject({
      verdict: 'Unassessable',
      exitCode: 3,
      reasons: ['No etcd member was observed', 'no etcd endpoints configured'],
    });
  });

  it('counts Unknown as a warning when a configured source failed', () => {
    const result = verdict(withMetricsSource('Error', 'connection refused'));
    expect(result).toMatchObject({ verdict: 'Warning', exitCode: 1, skipped: [] });
    expect(result.reasons.some((reason) => reason.startsWith('Unknown: '))).toBe(true);
  });

  it('skips the metric-based checks without Prometheus: they do not count', () => {
    const result = verdict(withoutPrometheus);
    expect(result).toMatchObject({ verdict: 'Healthy', exitCode: 0 });
    expect(result.skipped).toEqual(
      expect.arrayContaining(['WalFsync', 'BackendCommit', 'LeaderChanges', 'PeerRoundTrip']),
    );
    expect(result.skipped).not.toContain('Quorum');
    expect(verdict(withoutPrometheus, killed(2)).exitCode).toBe(1);
  });
});

describe('verdictOf with metrics sampled from /metrics', () => {
  /** What the sample source gives: no leader changes, no growth prediction. */
  const sampled: Change = (o: Observation) => {
    o.metrics.sampledOverSeconds = 15;
    delete o.metrics.leaderChanges1h;
    delete o.metrics.leaderChanges15m;
    for (const metrics of Object.values(o.metrics.members)) delete metrics.dbSizePredicted;
  };

  it('skips only the checks that need Prometheus history, and is Healthy otherwise', () => {
    expect(verdict(sampled)).toEqual({
      verdict: 'Healthy',
      exitCode: 0,
      reasons: [],
      skipped: ['LeaderChanges', 'Growth'],
    });
  });

  it('still counts a sampled latency, and a missing sampled value as Unknown', () => {
    expect(verdict(sampled, withMetric(1, { walFsyncP99: 0.08 }))).toMatchObject({
      verdict: 'Critical',
      skipped: ['LeaderChanges', 'Growth'],
    });
    const missing = verdict(
      sampled,
      (o) => delete o.metrics.members[Object.keys(o.metrics.members)[0]!]!.walFsyncP99,
    );
    expect(missing).toMatchObject({ verdict: 'Warning', exitCode: 1 });
    expect(missing.reasons.join('\n')).toMatch(/^Unknown: WAL fsync/m);
  });
});
