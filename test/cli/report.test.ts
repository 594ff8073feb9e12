import { describe, expect, it } from '@jest/globals';
import { loadYaml } from '@kubernetes/client-node';
import {
  classifyCondition,
  hexId,
  renderMachine,
  renderText,
  wrap,
  type CheckReport,
} from '../../src/cli/report.js';
import { verdictOf } from '../../src/cli/verdict.js';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import type { Observation } from '../../src/health/observation.js';
import {
  healthyCluster,
  killed,
  memberId,
  run,
  specWith,
  unreachable,
  withMetric,
  withMetricsSource,
  withStatusEverywhere,
  type Change,
} from '../health/fixtures.js';

const SPEC = specWith({ thresholds: { degradedInertia: '0s' } });
const PLAIN = { color: false, width: 100 };

function report(...changes: Change[]): CheckReport {
  const observation = healthyCluster(3, ...changes);
  const analysis = run(observation, { spec: SPEC });
  return {
    origin: '3 endpoints from --endpoints',
    prometheusUrl: 'https://prometheus.example:9090',
    observation,
    analysis,
    verdict: verdictOf(analysis, observation),
  };
}

const withoutPrometheus: Change = (o: Observation) => {
  o.metrics = { source: { state: 'NotConfigured' }, members: {} };
};

function section(text: string, title: string): string {
  const start = text.indexOf(`${title}\n`);
  if (start < 0) throw new Error(`no ${title} in:\n${text}`);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end < 0 ? undefined : end);
}

describe('renderText', () => {
  it('shows the sources, the summary, the four unions, the members and the result of a healthy cluster', () => {
    const text = renderText(report(), PLAIN);
    expect(text.split('\n')[0]).toBe(
      'etcd-health check: 3 endpoints from --endpoints, at 2026-03-01T12:00:00Z, took 120ms',
    );
    expect(text).toContain('  etcd: OK\n  Prometheus https://prometheus.example:9090: OK\n');
    expect(text).toContain(
      'Members 3/3 healthy, leader etcd-0, largest DB 200 MiB, quota use 2%, WAL fsync p99 2ms, backend commit p99 5ms',
    );
    const conditions = section(text, 'CONDITIONS');
    expect(conditions.split('\n').slice(1, 6)).toEqual([
      '  CONDITION    STATUS   REASON',
      '  Available    True     AsExpected',
      '  Progressing  False    AsExpected',
      '  Degraded     False    AsExpected',
      '  Upgradeable  True     AsExpected',
    ]);
    expect(conditions).not.toContain('checks that are not OK');
    expect(conditions).toMatch(/\d+ other per-check conditions are OK/);
    expect(conditions.replace(/\n {2}/g, ' ')).toContain(
      'for information: ControlPlaneNodesDegraded NoNodeMetrics (Prometheus has no node-exporter metrics',
    );
    const members = section(text, 'MEMBERS').split('\n');
    expect(members[1]).toMatch(
      /^ {2}NAME +ENDPOINT +ID +VERSION +DB SIZE +IN USE +LEADER +LEARNER +HEALTHY +RAFT TERM +RAFT INDEX +APPLIED +FSYNC P99 +COMMIT P99 +PEER RTT P99$/,
    );
    expect(members[2]).toMatch(
      /^ {2}etcd-0 +https:\/\/127\.0\.0\.1:2379 +8ac7230489e80000 +3\.6\.4 +200 MiB +180 MiB +true +false +true +5 +1000 +1000 +2ms +5ms +4ms$/,
    );
    expect(text).toContain('RESULT  Healthy: every check passed (exit code 0)');
    expect(text).not.toContain('\u001b[');
  });

  it('lists the per-check conditions that are not OK with their messages, and the recommendations with commands', () => {
    const text = renderText(report(withMetric(2, { walFsyncP99: 0.12 }), killed(1)), PLAIN);
    const conditions = section(text, 'CONDITIONS');
    expect(conditions).toMatch(/ {2}Degraded +True +DiskLatency_SlowWALFsync/);
    expect(conditions).toContain('  checks that are not OK:');
    expect(conditions).toMatch(
      / {2}DiskLatencyDegraded +True +SlowWALFsync\n {6}WAL fsync p99 on etcd-2 is 120ms, at or above the 50ms critical threshold/,
    );
    expect(conditions).toMatch(
      / {2}EtcdMembersDegraded +False +UnhealthyMembers\n {6}2 of 3 members are available/,
    );
    const recommendations = section(text, 'RECOMMENDATIONS');
    expect(recommendations).toMatch(/ {2}1\. Critical {2}InvestigateStorage on etcd-2 {2}\(SlowWALFsync\)/);
    expect(recommendations).toMatch(/\n {7}\$ \S+/);
    expect(text).toContain('RESULT  Critical: a check is critical (exit code 2)');
    expect(text).toContain('  - WAL fsync p99 on etcd-2 is 120ms, at or above the 50ms critical threshold');
    expect(section(text, 'MEMBERS')).toMatch(
      /etcd-1 +https:\/\/127\.0\.0\.2:2379 +8ac7230489e80001 .* unreachable/,
    );
    expect(section(text, 'MEMBERS')).toContain('  etcd-1: https://127.0.0.2:2379: connection refused');
  });

  it('names the checks skipped without Prometheus once, instead of listing each Unknown condition', () => {
    const text = renderText(report(withoutPrometheus), PLAIN);
    expect(text).toContain(
      'Prometheus https://prometheus.example:9090: not configured, so the metric-based checks are skipped (pass --prometheus URL)',
    );
    const conditions = section(text, 'CONDITIONS');
    expect(conditions).not.toContain('checks that are not OK');
    expect(conditions.replace(/\n {2}/g, ' ')).toContain(
      'not checked without Prometheus: WAL fsync, backend commit, leader changes',
    );
    expect(text).toContain('RESULT  Healthy: every check passed (exit code 0)');
  });

  it('shows a source error once and points to it from the conditions', () => {
    const error = `Prometheus https://prometheus.example:9090: every query failed: ${'a long list of queries, '.repeat(5)}ECONNREFUSED`;
    const text = renderText(report(withMetricsSource('Error', error)), { color: false, width: 1000 });
    expect(text.split(error)).toHaveLength(2);
    expect(text).toContain('<the Prometheus error above>');
    expect(text).toContain('RESULT  Warning: something needs attention (exit code 1)');
  });

  it.each(['OK', 'Partial', 'Error', 'NotConfigured'] as const)(
    'never points to a %s source message the header does not show',
    (state) => {
      const message = `Prometheus https://prometheus.example:9090: ${'etcd-4: the last scrape failed (up=0); '.repeat(3)}done`;
      const text = renderText(report(withMetricsSource(state, message)), { color: false, width: 1000 });
      const shown = text.includes(`Prometheus: ${message}`);
      expect(shown).toBe(state !== 'NotConfigured');
      if (!shown) expect(text).not.toContain('<the Prometheus error above>');
      if (state === 'Partial') expect(text).toContain('<the Prometheus error above>');
    },
  );

  it('names the members a recommendation for several of them covers', () => {
    const text = renderText(report(withStatusEverywhere({ dbSize: 6.5 * 2 ** 30 })), PLAIN);
    expect(section(text, 'RECOMMENDATIONS')).toContain(
      'Warning  RelieveQuotaPressure on etcd-0, etcd-1, etcd-2  (QuotaPressure)',
    );
  });

  it('shows only the members and what to check when no member answered', () => {
    const text = renderText(report(unreachable(0), unreachable(1), unreachable(2)), PLAIN);
    expect(text).not.toContain('CONDITIONS');
    expect(text).not.toContain('RECOMMENDATIONS');
    expect(text).toContain('RESULT  Unassessable: could not assess the cluster (exit code 3)');
    expect(text).toContain('  - No etcd member answered');
    expect(text).toContain('Check the endpoints');
  });

  it('colours statuses and the verdict for a terminal', () => {
    const text = renderText(report(withMetric(2, { walFsyncP99: 0.12 })), { color: true, width: 100 });
    expect(text).toContain('\u001b[32mTrue   \u001b[0m');
    expect(text).toContain('\u001b[31mCritical\u001b[0m');
  });
});

describe('renderMachine', () => {
  it('prints the verdict and the status the operator would write, as JSON', () => {
    const r = report(withMetric(2, { walFsyncP99: 0.12 }));
    const parsed = JSON.parse(renderMachine(r, 'json')) as {
      result: { verdict: string; exitCode: number; reasons: string[]; skippedChecks: string[] };
      status: EtcdHealthCheckStatus;
    };
    expect(parsed.result).toEqual({
      verdict: 'Critical',
      exitCode: 2,
      reasons: ['WAL fsync p99 on etcd-2 is 120ms, at or above the 50ms critical threshold'],
      skippedChecks: [],
    });
    expect(parsed.status.observedGeneration).toBe(1);
    expect(parsed.status.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('True');
    expect(parsed.status.members?.map((m) => m.id)).toEqual([memberId(0), memberId(1), memberId(2)]);
    expect(parsed.status.lastCheck).toEqual({
      time: '2026-03-01T12:00:00.000Z',
      durationMilliseconds: 120,
      etcd: { state: 'OK' },
      prometheus: { state: 'OK' },
    });
  });

  it('prints the same document as YAML', () => {
    const r = report(killed(1));
    const yaml = renderMachine(r, 'yaml');
    expect(yaml).toMatch(/^result:\n {2}verdict: Warning\n {2}exitCode: 1\n/);
    expect(loadYaml(yaml)).toEqual(JSON.parse(renderMachine(r, 'json')));
  });
});

describe('report helpers', () => {
  it('shows member IDs in hex, as etcdctl does, without losing precision', () => {
    expect(hexId('18446744073709551615')).toBe('ffffffffffffffff');
    expect(hexId('10000000000000000000')).toBe('8ac7230489e80000');
    expect(hexId('0')).toBe('-');
    expect(hexId('')).toBe('-');
  });

  it('wraps prose at the width with an indent', () => {
    expect(wrap('aaa bbb ccc ddd', 10, '  ', '- ')).toEqual(['- aaa bbb', '  ccc ddd']);
    expect(wrap('', 10, '  ')).toEqual([]);
  });

  it('tells which per-check conditions are not OK, and which only inform', () => {
    const at = { lastTransitionTime: '2026-03-01T12:00:00Z' };
    const warnings = new Set(['WAL fsync p99 on etcd-1 is 20ms, at or above the 10ms warning threshold']);
    const classify = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = '') =>
      classifyCondition({ type, status, reason, message, ...at }, warnings);
    expect(classify('DiskLatencyDegraded', 'False', 'AsExpected')).toBe('ok');
    expect(classify('DiskLatencyDegraded', 'False', 'SlowWALFsync', [...warnings][0])).toBe('notOk');
    expect(classify('DiskLatencyDegraded', 'True', 'SlowWALFsync')).toBe('notOk');
    expect(classify('ControlPlaneNodesDegraded', 'False', 'NoNodeMetrics', 'no node-exporter metrics')).toBe(
      'info',
    );
    expect(classify('EtcdMembersAvailable', 'True', 'EtcdQuorate')).toBe('ok');
    expect(classify('AlarmsUpgradeable', 'Unknown', 'NoData')).toBe('notOk');
    expect(classify('RemediationProgressing', 'False', 'RecommendOnly')).toBe('ok');
    expect(classify('MetricsSourceReachable', 'False', 'QueryFailed')).toBe('notOk');
  });
});

describe('renderText with metrics sampled from /metrics', () => {
  const sampled: Change = (o: Observation) => {
    o.metrics.sampledOverSeconds = 15;
    o.metrics.source = { state: 'OK', durationMilliseconds: 15_020 };
    delete o.metrics.leaderChanges1h;
    delete o.metrics.leaderChanges15m;
    for (const metrics of Object.values(o.metrics.members)) delete metrics.dbSizePredicted;
  };

  it('says the numbers came from sampling /metrics, and names the checks that need Prometheus', () => {
    const observation = healthyCluster(3, sampled);
    const analysis = run(observation, { spec: SPEC });
    const text = renderText(
      {
        origin: '3 endpoints from --endpoints',
        observation,
        analysis,
        verdict: verdictOf(analysis, observation),
      },
      PLAIN,
    );
    expect(text).toContain("  metrics: each member's /metrics sampled twice over 15s: OK (15020ms)");
    expect(text).not.toContain('Prometheus https://');
    expect(section(text, 'CONDITIONS').replace(/\n {2}/g, ' ')).toContain(
      "not checked from a /metrics sample (they need Prometheus' history): leader changes, DB growth",
    );
    expect(text).toContain('RESULT  Healthy: every check passed (exit code 0)');
  });
});
