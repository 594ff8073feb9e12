// Say it once, root cause first: what a root cause explains is folded into it, the same action for
// several members is one recommendation listing them, growth needs history and is silent under
// NOSPACE, and a down member's missing series are explained by that member.
import { describe, expect, it } from '@jest/globals';
import type { Recommendation } from '../../src/api/v1alpha1/status.js';
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
  withAlarm,
  withMetric,
  withMetricsEverywhere,
  withMetricsSource,
  withStatus,
  withStatusEverywhere,
  type Change,
} from './fixtures.js';

const ofType = (recommendations: Recommendation[], type: string) =>
  recommendations.filter((r) => r.type === type);

/** The cluster of issue 18: a 16 MiB quota filled past, half the keys deleted and compacted. */
const noSpaceCluster: Change[] = [
  withStatusEverywhere({ dbSize: 17 * MiB, dbSizeInUse: 8 * MiB, dbSizeQuota: 16 * MiB }),
  withMetricsEverywhere({
    quotaBackendBytes: 16 * MiB,
    dbSizePredicted: 3.2 * GiB,
    dbSizeHistorySeconds: 60,
  }),
  withAlarm('NOSPACE', 0),
];

describe('a root cause folds what it explains', () => {
  const analysis = run(healthyCluster(3, ...noSpaceCluster));

  it('a NOSPACE cluster gets one Critical recommendation with the recovery, not seven', () => {
    expect(analysis.recommendations).toHaveLength(1);
    expect(analysis.recommendations[0]).toMatchObject({
      type: 'RecoverFromNoSpace',
      severity: 'Critical',
      target: 'cluster',
    });
  });

  it('the recovery names what it settles, so nothing is lost', () => {
    expect(analysis.recommendations[0]!.message).toContain(
      'This also settles RelieveQuotaPressure on etcd-0, etcd-1 and etcd-2, so they are not listed on their own.',
    );
    // The findings and conditions still tell the quota pressure.
    expect(findingOf(analysis, 'QuotaUsage', 'etcd-1')).toMatchObject({
      severity: 'Critical',
      reason: 'QuotaPressure',
    });
  });

  it.each([
    [
      'quota pressure',
      [withStatus(1, { dbSize: 7.5 * GiB, dbSizeInUse: 7.5 * GiB })],
      'RelieveQuotaPressure',
    ],
    ['fragmentation', [withStatus(1, { dbSize: 1 * GiB, dbSizeInUse: 300 * MiB })], 'Defragment'],
  ] as [string, Change[], string][])(
    '%s alone is recommended on its own; under NOSPACE it is folded',
    (_name, changes, type) => {
      const alone = run(healthyCluster(3, ...changes));
      expect(ofType(alone.recommendations, type)).toHaveLength(1);
      const folded = run(healthyCluster(3, ...changes, withAlarm('NOSPACE', 1)));
      expect(ofType(folded.recommendations, type)).toEqual([]);
      expect(ofType(folded.recommendations, 'RecoverFromNoSpace')[0]!.message).toContain(
        `This also settles ${type} on etcd-1`,
      );
    },
  );

  it('without anything to fold the recovery says nothing more', () => {
    const [recovery] = run(healthyCluster(3, withAlarm('NOSPACE', 1))).recommendations;
    expect(recovery!.message).not.toContain('This also settles');
  });
});

describe('the same action for several members is one recommendation listing them', () => {
  it.each([
    [
      'quota pressure',
      withStatusEverywhere({ dbSize: 6.5 * GiB, dbSizeInUse: 6.5 * GiB }),
      'RelieveQuotaPressure',
      'DB of etcd-0 uses 81.3% of its quota',
    ],
    [
      'DB size',
      withStatusEverywhere({ dbSize: 4 * GiB, dbSizeInUse: 4 * GiB }),
      'ReduceDatabaseSize',
      'etcd-0',
    ],
    [
      'growth',
      withMetricsEverywhere({ dbSizePredicted: 9 * GiB }),
      'InvestigateDatabaseGrowth',
      'the DB of etcd-0 reaches 9.0 GiB within 4h',
    ],
  ] as [string, Change, string, string][])(
    '%s on every member: one recommendation',
    (_name, change, type, evidence) => {
      const found = ofType(run(healthyCluster(3, change)).recommendations, type);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ target: 'cluster', members: ['etcd-0', 'etcd-1', 'etcd-2'] });
      // Each member's evidence, and the advice once.
      for (const member of ['etcd-0', 'etcd-1', 'etcd-2'])
        expect(found[0]!.message).toContain(evidence.replace('etcd-0', member));
      const advice = found[0]!.message.slice(found[0]!.message.lastIndexOf('. ') + 2);
      expect(found[0]!.message.split(advice)).toHaveLength(2);
    },
  );

  it('one member keeps its name as the target and lists no members', () => {
    const [quota] = ofType(
      run(healthyCluster(3, withStatus(1, { dbSize: 6.5 * GiB, dbSizeInUse: 6.5 * GiB }))).recommendations,
      'RelieveQuotaPressure',
    );
    expect(quota).toMatchObject({ target: 'etcd-1', severity: 'Warning' });
    expect(quota!.members).toBeUndefined();
    expect(quota!.commands![0]).toBe('etcdctl --endpoints=https://127.0.0.2:2379 endpoint status -w table');
  });

  it('several members take the most severe tier and the cluster-wide status command', () => {
    const [quota] = ofType(
      run(
        healthyCluster(
          3,
          withStatus(0, { dbSize: 5.5 * GiB, dbSizeInUse: 5.5 * GiB }),
          withStatus(2, { dbSize: 7.5 * GiB, dbSizeInUse: 7.5 * GiB }),
        ),
      ).recommendations,
      'RelieveQuotaPressure',
    );
    expect(quota).toMatchObject({ target: 'cluster', severity: 'Critical', members: ['etcd-0', 'etcd-2'] });
    expect(quota!.commands![0]).toBe(
      'etcdctl --endpoints=https://127.0.0.1:2379,https://127.0.0.2:2379,https://127.0.0.3:2379 endpoint status -w table',
    );
  });
});

describe('growth prediction', () => {
  it.each([
    ['no history known', undefined, 'OK', 'ShortHistory'],
    ['a one-minute burst', 60, 'OK', 'ShortHistory'],
    ['just under a quarter of the 4h horizon', 3599, 'OK', 'ShortHistory'],
    ['a quarter of the horizon', 3600, 'Warning', 'ExcessiveGrowth'],
  ] as const)('with %s: %s/%s', (_name, history, severity, reason) => {
    const analysis = run(
      healthyCluster(3, withMetric(1, { dbSizePredicted: 9 * GiB, dbSizeHistorySeconds: history })),
    );
    expect(findingOf(analysis, 'Growth', 'etcd-1')).toMatchObject({ severity, reason });
    expect(ofType(analysis.recommendations, 'InvestigateDatabaseGrowth')).toHaveLength(
      severity === 'OK' ? 0 : 1,
    );
  });

  it('says why it does not predict yet', () => {
    const analysis = run(
      healthyCluster(3, withMetric(1, { dbSizePredicted: 9 * GiB, dbSizeHistorySeconds: 60 })),
    );
    expect(findingOf(analysis, 'Growth', 'etcd-1').message).toBe(
      'DB growth of etcd-1 is not predicted yet: Prometheus holds 1m of its DB size, and a prediction over 4h needs at least 1h',
    );
  });

  it('says nothing while NOSPACE is raised', () => {
    const analysis = run(
      healthyCluster(3, withMetricsEverywhere({ dbSizePredicted: 9 * GiB }), withAlarm('NOSPACE', 1)),
    );
    expect(findingsOf(analysis, 'Growth')).toEqual([
      expect.objectContaining({ target: 'cluster', severity: 'OK', reason: 'NoSpaceAlarm' }),
    ]);
    expect(ofType(analysis.recommendations, 'InvestigateDatabaseGrowth')).toEqual([]);
  });
});

describe("a down member's missing series are explained by that member", () => {
  /** Stopped, but its last scrape is still fresh: some series are there, the peer RTT is not. */
  const stoppedWithFreshScrape =
    (index: number): Change =>
    (observation) => {
      unreachable(index, 'connection refused')(observation);
      delete observation.metrics.members[memberId(index)]!.peerRoundTripP99;
    };
  const partialFor =
    (...indexes: number[]): Change =>
    (observation) => {
      observation.metrics.source = {
        state: 'Partial',
        message: `Prometheus https://prometheus.example:9090: ${indexes.map((i) => `etcd-${i}: the last scrape failed (up=0)`).join('; ')}`,
      };
      observation.metrics.partialMembers = indexes.map(memberId);
    };

  it('no NetworkDegraded Unknown/NoData for its own peer round trip', () => {
    const analysis = run(healthyCluster(5, stoppedWithFreshScrape(4), partialFor(4)));
    expect(findingsOf(analysis, 'PeerRoundTrip', 'etcd-4')).toEqual([]);
    expect(conditionOf(analysis, 'NetworkDegraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    // A running member without the value is still NoData.
    const running = run(healthyCluster(5, withMetric(3, { peerRoundTripP99: undefined })));
    expect(findingOf(running, 'PeerRoundTrip', 'etcd-3')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
  });

  it.each([
    ['only the stopped member', [killed(4), partialFor(4)], 'MetricsAvailable', false],
    ['two stopped members', [killed(3), killed(4), partialFor(3, 4)], 'MetricsAvailable', false],
    ['a running member too', [killed(4), partialFor(2, 4)], 'PartialResults', true],
    [
      'a problem of the source itself',
      [killed(4), withMetricsSource('Partial', '1 of 20 queries failed')],
      'PartialResults',
      true,
    ],
  ] as [string, Change[], string, boolean][])(
    'Partial for %s: a metrics-source recommendation only when the source is at fault',
    (_name, changes, reason, recommended) => {
      const analysis = run(healthyCluster(5, ...changes));
      expect(findingOf(analysis, 'MetricsSource', 'cluster').reason).toBe(reason);
      expect(ofType(analysis.recommendations, 'FixMetricsSource')).toHaveLength(recommended ? 1 : 0);
    },
  );

  it('says which member explains the missing series', () => {
    const analysis = run(healthyCluster(5, killed(4), partialFor(4)));
    expect(conditionOf(analysis, 'MetricsSourceReachable')).toMatchObject({
      status: 'True',
      reason: 'MetricsAvailable',
      message:
        'Prometheus answered for every running member; etcd-4 is down, which explains its missing series',
    });
  });
});
