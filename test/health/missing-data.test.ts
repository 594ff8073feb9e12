// Missing, NaN, stale and contradictory inputs: a check without data is Unknown/NoData, never healthy.
import { describe, expect, it } from '@jest/globals';
import { checksUsingPrometheus } from '../../src/health/checks/index.js';
import { METRICS_SOURCE_CONDITION } from '../../src/health/conditions.js';
import type { CheckName } from '../../src/health/findings.js';
import type { MemberMetrics } from '../../src/health/observation.js';
import {
  GiB,
  MiB,
  conditionOf,
  findingOf,
  findingsOf,
  healthyCluster,
  killed,
  memberId,
  run,
  unreachable,
  withClusterMetrics,
  withMetric,
  withMetricsSource,
  withStatus,
  withAlarm,
  healthyMetrics,
  type Change,
} from './fixtures.js';

const PER_MEMBER_METRICS: [CheckName, keyof MemberMetrics, string][] = [
  ['WalFsync', 'walFsyncP99', 'DiskLatencyDegraded'],
  ['BackendCommit', 'backendCommitP99', 'DiskLatencyDegraded'],
  ['PeerRoundTrip', 'peerRoundTripP99', 'NetworkDegraded'],
  ['ProposalsFailed', 'proposalsFailedRate', 'RequestsDegraded'],
  ['SlowApplies', 'slowAppliesRate', 'RequestsDegraded'],
  ['SlowReadIndexes', 'slowReadIndexesRate', 'RequestsDegraded'],
  ['GrpcFailures', 'grpcRequestRate', 'RequestsDegraded'],
  ['GrpcFailures', 'grpcFailedRate', 'RequestsDegraded'],
  ['Growth', 'dbSizePredicted', 'DatabaseSizeDegraded'],
];

const METRIC_CHECKS = checksUsingPrometheus('needed');

describe('a missing or NaN member metric', () => {
  describe.each([
    ['undefined', undefined],
    ['NaN', NaN],
  ])('%s', (_label, value) => {
    it.each(PER_MEMBER_METRICS)('makes %s (%s) Unknown/NoData and %s Unknown', (check, metric, condition) => {
      const analysis = run(healthyCluster(3, withMetric(1, { [metric]: value })));
      expect(findingOf(analysis, check, 'etcd-1')).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
      expect(conditionOf(analysis, condition)).toMatchObject({ status: 'Unknown', reason: 'NoData' });
    });
  });

  it('says why in the message', () => {
    const analysis = run(healthyCluster(3, withMetric(1, { walFsyncP99: NaN })));
    expect(findingOf(analysis, 'WalFsync', 'etcd-1').message).toBe(
      'WAL fsync p99 on etcd-1 is not checked: the value is not a number (no samples in the window)',
    );
  });

  it('still lets a critical member win over an unknown one', () => {
    const analysis = run(
      healthyCluster(3, withMetric(1, { walFsyncP99: undefined }), withMetric(2, { walFsyncP99: 1 })),
    );
    expect(conditionOf(analysis, 'DiskLatencyDegraded')).toMatchObject({
      status: 'True',
      reason: 'SlowWALFsync',
    });
  });
});

describe('missing cluster-level metrics', () => {
  it.each([
    ['leaderChanges1h', 'LeaderChanges', 'LeaderElectionDegraded'],
    ['leaderChanges15m', 'LeaderChanges', 'LeaderElectionDegraded'],
    ['apiMutatingRequestsPerSecond', 'APIChurn', 'APIChurnDegraded'],
    ['apiInflightRequests', 'APIChurn', 'APIChurnDegraded'],
  ] as const)('%s undefined makes %s Unknown', (field, check, condition) => {
    const analysis = run(healthyCluster(3, withClusterMetrics({ [field]: undefined })));
    expect(findingsOf(analysis, check).some((finding) => finding.severity === 'Unknown')).toBe(true);
    expect(conditionOf(analysis, condition).status).toBe('Unknown');
  });

  it('no kube-apiserver series at all: API churn does not apply, and says so', () => {
    const analysis = run(
      healthyCluster(
        3,
        withClusterMetrics({ apiMutatingRequestsPerSecond: undefined, apiInflightRequests: undefined }),
      ),
    );
    expect(conditionOf(analysis, 'APIChurnDegraded')).toMatchObject({
      status: 'False',
      reason: 'NoAPIServerMetrics',
    });
    expect(analysis.recommendations.map((r) => r.type)).not.toContain('InvestigateAPIChurn');
  });

  it.each(['apiMutatingRequestsPerSecond', 'apiInflightRequests'] as const)('%s NaN is Unknown', (field) => {
    const analysis = run(healthyCluster(3, withClusterMetrics({ [field]: NaN })));
    expect(conditionOf(analysis, 'APIChurnDegraded').status).toBe('Unknown');
  });

  it('a node without a CPU value is Unknown', () => {
    const analysis = run(
      healthyCluster(3, withClusterMetrics({ nodes: [{ instance: '127.0.0.1:9100', swapUsedBytes: 0 }] })),
    );
    expect(conditionOf(analysis, 'ControlPlaneNodesDegraded')).toMatchObject({
      status: 'Unknown',
      reason: 'NoData',
    });
  });
});

describe('stale member metrics (last scrape more than 300s ago)', () => {
  it.each([
    [300, 'OK'],
    [301, 'Unknown'],
  ] as const)('scraped %ds ago: %s', (age, severity) => {
    const analysis = run(healthyCluster(3, withMetric(2, { scrapeAgeSeconds: age })));
    for (const check of ['WalFsync', 'BackendCommit', 'PeerRoundTrip', 'GrpcFailures'] as const) {
      expect(findingOf(analysis, check, 'etcd-2').severity).toBe(severity);
    }
  });

  it('says how old they are', () => {
    const analysis = run(healthyCluster(3, withMetric(2, { scrapeAgeSeconds: 900 })));
    expect(findingOf(analysis, 'WalFsync', 'etcd-2').message).toBe(
      'WAL fsync p99 of etcd-2 is not checked: the metrics of etcd-2 are stale: last scraped 900s ago (stale after 300s)',
    );
  });

  it('are not used for sizes either: Status still gives them', () => {
    const analysis = run(healthyCluster(3, withMetric(2, { scrapeAgeSeconds: 900, dbSizeBytes: 9 * GiB })));
    expect(findingOf(analysis, 'DatabaseSize', 'etcd-2').severity).toBe('OK');
  });
});

describe('a member without any series', () => {
  it('is Unknown when the member is up', () => {
    const analysis = run(healthyCluster(3, (observation) => delete observation.metrics.members[memberId(1)]));
    expect(findingOf(analysis, 'WalFsync', 'etcd-1').message).toBe(
      `WAL fsync p99 of etcd-1 is not checked: Prometheus has no series for etcd-1 (member ID ${memberId(1)})`,
    );
    expect(conditionOf(analysis, 'DiskLatencyDegraded').status).toBe('Unknown');
  });

  it('is skipped when the member is down: the quorum check reports it', () => {
    const analysis = run(healthyCluster(3, killed(1)));
    expect(findingsOf(analysis, 'WalFsync', 'etcd-1')).toEqual([]);
    expect(conditionOf(analysis, 'DiskLatencyDegraded').status).toBe('False');
    expect(conditionOf(analysis, 'DatabaseSizeDegraded').status).toBe('False');
  });
});

describe.each(['NotConfigured', 'Error'] as const)('metrics source %s', (state) => {
  const source = withMetricsSource(
    state,
    state === 'Error' ? 'Get "https://prometheus.example:9090": dial tcp: i/o timeout' : undefined,
  );

  it('makes every metric check Unknown/NoData with one cluster-wide finding', () => {
    const analysis = run(healthyCluster(3, source));
    for (const check of METRIC_CHECKS) {
      expect(findingsOf(analysis, check)).toEqual([
        expect.objectContaining({ target: 'cluster', severity: 'Unknown', reason: 'NoData' }),
      ]);
    }
    expect(analysis.summary.walFsyncP99).toBe('-');
    expect(analysis.members[0]!.walFsyncP99).toBeUndefined();
  });

  it('still judges quorum, alarms, DB size, quota and fragmentation from etcd', () => {
    const analysis = run(
      healthyCluster(
        3,
        source,
        killed(2),
        withAlarm('NOSPACE', 0),
        withStatus(1, { dbSize: 5 * GiB, dbSizeInUse: 1 * GiB }),
      ),
    );
    expect(findingOf(analysis, 'Quorum', 'cluster').severity).toBe('Warning');
    expect(findingOf(analysis, 'Alarms', 'etcd-0').severity).toBe('Critical');
    expect(findingOf(analysis, 'DatabaseSize', 'etcd-1').severity).toBe('Warning');
    expect(findingOf(analysis, 'QuotaUsage', 'etcd-1').severity).toBe('OK');
    expect(findingOf(analysis, 'Fragmentation', 'etcd-1').severity).toBe('Info');
    expect(analysis.recommendations.map((recommendation) => recommendation.type)).toEqual(
      expect.arrayContaining(['RecoverFromNoSpace', 'ReduceDatabaseSize', 'InvestigateMember']),
    );
    // The NOSPACE recovery defragments every member: the fragmentation is settled there.
    expect(analysis.recommendations[0]!.message).toContain('This also settles Defragment on etcd-1');
  });

  it('sets MetricsSourceReachable False, which feeds no union', () => {
    const analysis = run(healthyCluster(3, source));
    expect(conditionOf(analysis, METRICS_SOURCE_CONDITION)).toMatchObject({
      status: 'False',
      reason: state === 'Error' ? 'QueryFailed' : 'NotConfigured',
    });
    expect(conditionOf(analysis, 'Available').status).toBe('True');
    for (const union of ['Available', 'Progressing', 'Degraded', 'Upgradeable']) {
      expect(conditionOf(analysis, union).message).not.toContain('MetricsSourceReachable');
    }
  });
});

describe('a Partial metrics source', () => {
  it('judges the values it got and marks the rest NoData', () => {
    const analysis = run(
      healthyCluster(
        3,
        withMetricsSource('Partial', '1 of 12 queries failed'),
        withMetric(0, { backendCommitP99: undefined }),
      ),
    );
    expect(findingOf(analysis, 'WalFsync', 'etcd-0').severity).toBe('OK');
    expect(findingOf(analysis, 'BackendCommit', 'etcd-0').severity).toBe('Unknown');
    expect(conditionOf(analysis, 'MetricsSourceReachable')).toMatchObject({
      status: 'True',
      reason: 'PartialResults',
    });
    expect(analysis.recommendations.map((recommendation) => recommendation.type)).toContain(
      'FixMetricsSource',
    );
  });
});

describe('contradictory inputs', () => {
  it('dbSizeInUse above dbSize leaves fragmentation Unknown and out of members[]', () => {
    const analysis = run(healthyCluster(3, withStatus(0, { dbSize: 200 * MiB, dbSizeInUse: 300 * MiB })));
    expect(findingOf(analysis, 'Fragmentation', 'etcd-0')).toMatchObject({
      severity: 'Unknown',
      reason: 'InconsistentSizes',
    });
    expect(analysis.members[0]!.fragmentationPercent).toBeUndefined();
    expect(analysis.recommendations.filter((recommendation) => recommendation.type === 'Defragment')).toEqual(
      [],
    );
  });

  it('metrics for a member ID outside the member list are ignored and reported', () => {
    const stranger = '99';
    const analysis = run(
      healthyCluster(3, (observation) => {
        observation.metrics.members[stranger] = { ...healthyMetrics(), walFsyncP99: 2 };
      }),
    );
    expect(conditionOf(analysis, 'DiskLatencyDegraded').status).toBe('False');
    expect(findingsOf(analysis, 'MetricsSource')).toContainEqual(
      expect.objectContaining({ severity: 'Info', reason: 'UnknownMemberSeries' }),
    );
    expect(analysis.recommendations.map((recommendation) => recommendation.type)).toContain(
      'CheckMetricsLabels',
    );
  });

  it('a failure rate above the request rate is read as 100% failing', () => {
    const analysis = run(healthyCluster(3, withMetric(0, { grpcRequestRate: 10, grpcFailedRate: 12 })));
    expect(findingOf(analysis, 'GrpcFailures', 'etcd-0')).toMatchObject({ severity: 'Critical', value: 100 });
  });

  it('an unreachable member with fresh metrics keeps its DB size from metrics', () => {
    const analysis = run(
      healthyCluster(3, unreachable(1), withMetric(1, { dbSizeBytes: 5 * GiB, dbSizeInUseBytes: 5 * GiB })),
    );
    expect(findingOf(analysis, 'DatabaseSize', 'etcd-1').severity).toBe('Warning');
  });
});

describe('unknown alarms and quota', () => {
  it('an unreadable alarm list is Unknown, not "no alarms"', () => {
    const analysis = run(healthyCluster(3, (observation) => (observation.etcd.alarmsKnown = false)));
    expect(conditionOf(analysis, 'AlarmsDegraded')).toMatchObject({ status: 'Unknown', reason: 'NoData' });
    expect(conditionOf(analysis, 'AlarmsUpgradeable').status).toBe('Unknown');
  });

  it('an unknown quota makes quota use Unknown', () => {
    const noQuota: Change[] = [0, 1, 2].flatMap((index) => [
      withStatus(index, { dbSizeQuota: undefined }),
      withMetric(index, { quotaBackendBytes: undefined }),
    ]);
    const analysis = run(healthyCluster(3, ...noQuota));
    expect(findingOf(analysis, 'QuotaUsage', 'etcd-0')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
    expect(conditionOf(analysis, 'DatabaseQuotaUpgradeable').status).toBe('Unknown');
    expect(analysis.summary.quotaUsage).toBe('-');
  });
});

describe('a single-member cluster', () => {
  it('has no peers, so the peer round trip is not applicable rather than Unknown', () => {
    const analysis = run(healthyCluster(1, withMetric(0, { peerRoundTripP99: undefined })));
    expect(conditionOf(analysis, 'NetworkDegraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(conditionOf(analysis, 'NetworkDegraded').message).toMatch(/no peers/);
  });
});
