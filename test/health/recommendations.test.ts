// Recommendations: the seed triage, every check's remedy, exact commands in each style, order and cap.
import { describe, expect, it } from '@jest/globals';
import type { Recommendation } from '../../src/api/v1alpha1/status.js';
import { MAX_RECOMMENDATIONS } from '../../src/health/recommendations.js';
import {
  GiB,
  MiB,
  clientURL,
  healthyCluster,
  killed,
  learner,
  memberId,
  notStarted,
  run,
  specWith,
  withClusterMetrics,
  withNodes,
  withMetric,
  withMetricsEverywhere,
  withMember,
  withMetricsSource,
  withStatus,
  withStatusEverywhere,
  type Change,
} from './fixtures.js';

const OPENSHIFT = specWith({ etcd: { discovery: {} } });
const WITH_TLS = specWith({ etcd: { endpoints: [clientURL(0)], tlsSecretRef: { name: 'etcd-client' } } });
const slowDisk = (index: number): Change => withMetric(index, { walFsyncP99: 0.07, backendCommitP99: 0.03 });
const fragmented = (index: number): Change => withStatus(index, { dbSize: 1 * GiB, dbSizeInUse: 300 * MiB });

const ofType = (recommendations: Recommendation[], type: string) =>
  recommendations.filter((r) => r.type === type);

describe('seed triage: slow WAL fsync and slow backend commit on one member', () => {
  const analysis = run(
    healthyCluster(
      3,
      slowDisk(1),
      withMetric(1, { slowAppliesRate: 0.5 }),
      withMetric(2, { slowAppliesRate: 0.5 }),
    ),
  );
  const storage = ofType(analysis.recommendations, 'InvestigateStorage');

  it('give ONE InvestigateStorage for that member, first', () => {
    expect(storage).toHaveLength(1);
    expect(analysis.recommendations[0]).toBe(storage[0]);
    expect(storage[0]).toMatchObject({ severity: 'Critical', target: 'etcd-1', reason: 'SlowDisk' });
    expect(storage[0]!.message).toContain(
      'WAL fsync p99 on etcd-1 is 70ms, at or above the 50ms critical threshold.',
    );
    expect(storage[0]!.message).toContain(
      'Backend commit p99 on etcd-1 is 30ms, at or above the 25ms warning threshold.',
    );
    expect(storage[0]!.message).toContain('usual root cause');
  });

  it('rank storage ahead of its symptoms on the same member', () => {
    const types = analysis.recommendations.map(
      (recommendation) => `${recommendation.type}/${recommendation.target}`,
    );
    expect(types.indexOf('InvestigateStorage/etcd-1')).toBeLessThan(
      types.indexOf('InvestigateRequests/etcd-1'),
    );
  });

  it('never point at healthy members', () => {
    expect(storage.map((recommendation) => recommendation.target)).toEqual(['etcd-1']);
  });

  it("give iostat and fio commands for that member's host, as they are while its node is unknown", () => {
    expect(storage[0]!.commands).toEqual([
      'iostat -xm 5',
      'fio --rw=write --ioengine=sync --fdatasync=1 --directory=/var/lib/etcd --size=22m --bs=2300 --name=etcd-fsync-test --unlink=1',
    ]);
    expect(storage[0]!.message).toContain(
      "Run the host commands below on the host of member etcd-1: the check does not know its node's name.",
    );
  });

  it('give them through ssh to the node of the member pod when discovery found it', () => {
    const known = run(healthyCluster(3, slowDisk(1), withMember(1, { node: 'worker-7' })));
    const [investigate] = ofType(known.recommendations, 'InvestigateStorage');
    expect(investigate!.commands![0]).toBe('ssh worker-7 iostat -xm 5');
    expect(investigate!.message).not.toContain('does not know');
  });

  it('use oc debug on OpenShift', () => {
    const openshift = run(healthyCluster(3, slowDisk(1)), { spec: OPENSHIFT });
    expect(ofType(openshift.recommendations, 'InvestigateStorage')[0]!.commands).toEqual([
      'oc debug node/etcd-1 -- chroot /host iostat -xm 5',
      'oc debug node/etcd-1 -- chroot /host podman run --rm --volume /var/lib/etcd:/var/lib/etcd:Z quay.io/cloud-bulldozer/etcd-perf',
    ]);
  });

  it.each([
    ['only WAL fsync', withMetric(1, { walFsyncP99: 0.02 }), 'SlowWALFsync', 'Warning'],
    ['only backend commit', withMetric(1, { backendCommitP99: 0.2 }), 'SlowBackendCommit', 'Critical'],
  ] as const)('%s slow: reason %s', (_name, change, reason, severity) => {
    const recommendations = ofType(run(healthyCluster(3, change)).recommendations, 'InvestigateStorage');
    expect(recommendations).toEqual([expect.objectContaining({ target: 'etcd-1', reason, severity })]);
  });
});

describe('defragmentation of a large DB with little in use', () => {
  it('carries the numbers and the thresholds, with per-member commands', () => {
    const analysis = run(healthyCluster(3, fragmented(2)));
    const [defrag] = ofType(analysis.recommendations, 'Defragment');
    expect(defrag).toMatchObject({ severity: 'Info', target: 'etcd-2', reason: 'HighFragmentation' });
    expect(defrag!.message).toContain(
      'DB of etcd-2 is 1.0 GiB with 300 MiB in use: 70.7% fragmented, at or above 45% on a DB of at least 100 MiB.',
    );
    expect(defrag!.message).toMatch(/one member at a time, the leader last/);
    expect(defrag!.commands).toEqual([
      `etcdctl --endpoints=${clientURL(2)} endpoint status -w table`,
      `etcdctl --endpoints=${clientURL(2)} --command-timeout=60s defrag`,
      `etcdctl --endpoints=${clientURL(2)} endpoint health`,
    ]);
    expect(analysis.members[2]).toMatchObject({
      dbSize: GiB,
      dbSizeInUse: 300 * MiB,
      fragmentationPercent: 71,
    });
  });

  it('moves leadership off the leader first (move-leader takes a hex ID)', () => {
    const [defrag] = ofType(run(healthyCluster(3, fragmented(0))).recommendations, 'Defragment');
    expect(defrag!.commands).toContain(
      `etcdctl --endpoints=${clientURL(0)} move-leader ${BigInt(memberId(1)).toString(16)}`,
    );
    expect(defrag!.message).toContain('etcd-0 is the leader: move leadership to etcd-1 first.');
  });

  it('warns that a single member blocks the whole cluster', () => {
    const [defrag] = ofType(run(healthyCluster(1, fragmented(0))).recommendations, 'Defragment');
    expect(defrag!.message).toContain('This is the only member');
    expect(defrag!.commands!.some((command) => command.includes('move-leader'))).toBe(false);
  });

  it('adds the TLS files of spec.etcd.tlsSecretRef, after the command that extracts them', () => {
    const [defrag] = ofType(
      run(healthyCluster(3, fragmented(2)), { spec: WITH_TLS, commands: { namespace: 'team-a' } })
        .recommendations,
      'Defragment',
    );
    expect(defrag!.commands![0]).toBe(
      "(umask 077 && mkdir -p etcd-client && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.ca\\.crt}' | base64 -d > etcd-client/ca.crt && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.tls\\.crt}' | base64 -d > etcd-client/tls.crt && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.tls\\.key}' | base64 -d > etcd-client/tls.key)",
    );
    expect(defrag!.commands![2]).toBe(
      `etcdctl --endpoints=${clientURL(2)} --cacert=etcd-client/ca.crt --cert=etcd-client/tls.crt --key=etcd-client/tls.key --command-timeout=60s defrag`,
    );
  });

  it('runs etcdctl in the member pod on OpenShift, without TLS flags', () => {
    const [defrag] = ofType(
      run(healthyCluster(3, fragmented(2)), { spec: OPENSHIFT }).recommendations,
      'Defragment',
    );
    expect(defrag!.commands![1]).toBe(
      `oc rsh -n openshift-etcd -c etcdctl etcd-etcd-2 env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=${clientURL(2)} --command-timeout=60s defrag`,
    );
  });

  it('runs etcdctl for a down member from a healthy pod on OpenShift', () => {
    const [investigate] = ofType(
      run(healthyCluster(3, killed(2)), { spec: OPENSHIFT }).recommendations,
      'InvestigateMember',
    );
    expect(investigate!.commands![0]).toBe(
      `oc rsh -n openshift-etcd -c etcdctl etcd-etcd-0 env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=${clientURL(2)} endpoint health`,
    );
  });

  it.each([
    ['Recommend', true],
    ['Automatic', false],
  ] as const)('in %s mode mentions automation: %s', (mode, mentioned) => {
    const [defrag] = ofType(
      run(healthyCluster(3, fragmented(2)), { spec: specWith({ remediation: { mode } }) }).recommendations,
      'Defragment',
    );
    expect(defrag!.message.includes('spec.remediation.mode: Automatic')).toBe(mentioned);
  });
});

describe('every check that fires recommends something', () => {
  it.each([
    ['quorum lost', [killed(1), killed(2)], 'RestoreQuorum', 'Critical', 'cluster'],
    ['member down', [killed(2)], 'InvestigateMember', 'Warning', 'etcd-2'],
    ['member not started', [notStarted(2)], 'InvestigateMember', 'Warning', '127.0.0.3'],
    ['WAL fsync', [withMetric(0, { walFsyncP99: 0.011 })], 'InvestigateStorage', 'Warning', 'etcd-0'],
    [
      'backend commit',
      [withMetric(0, { backendCommitP99: 0.026 })],
      'InvestigateStorage',
      'Warning',
      'etcd-0',
    ],
    [
      'leader changes',
      [withClusterMetrics({ leaderChanges1h: 2, leaderChanges15m: 1 })],
      'InvestigateLeaderElection',
      'Warning',
      'cluster',
    ],
    [
      'DB size',
      [withStatus(1, { dbSize: 4 * GiB, dbSizeInUse: 4 * GiB })],
      'ReduceDatabaseSize',
      'Warning',
      'etcd-1',
    ],
    [
      'quota',
      [withStatus(1, { dbSize: 6.5 * GiB, dbSizeInUse: 6.5 * GiB })],
      'RelieveQuotaPressure',
      'Warning',
      'etcd-1',
    ],
    [
      'quota info tier',
      [withStatus(1, { dbSize: 5.5 * GiB, dbSizeInUse: 5.5 * GiB })],
      'RelieveQuotaPressure',
      'Info',
      'etcd-1',
    ],
    [
      'growth',
      [withMetric(1, { dbSizePredicted: 9 * GiB })],
      'InvestigateDatabaseGrowth',
      'Warning',
      'etcd-1',
    ],
    ['fragmentation', [fragmented(1)], 'Defragment', 'Info', 'etcd-1'],
    [
      'peer round trip',
      [withMetric(2, { peerRoundTripP99: 0.2 })],
      'InvestigateNetwork',
      'Critical',
      'etcd-2',
    ],
    [
      'failed proposals',
      [withMetric(2, { proposalsFailedRate: 0.1 })],
      'InvestigateRequests',
      'Warning',
      'etcd-2',
    ],
    ['slow applies', [withMetric(2, { slowAppliesRate: 3 })], 'InvestigateRequests', 'Critical', 'etcd-2'],
    [
      'slow read indexes',
      [withMetric(2, { slowReadIndexesRate: 0.1 })],
      'InvestigateRequests',
      'Warning',
      'etcd-2',
    ],
    ['gRPC failures', [withMetric(2, { grpcFailedRate: 3 })], 'InvestigateRequests', 'Critical', 'etcd-2'],
    [
      'API churn',
      [withClusterMetrics({ apiMutatingRequestsPerSecond: 400 })],
      'InvestigateAPIChurn',
      'Warning',
      'cluster',
    ],
    [
      'in-flight requests',
      [withClusterMetrics({ apiInflightRequests: 600 })],
      'InvestigateAPIChurn',
      'Critical',
      'cluster',
    ],
    ['node CPU', [withNodes(3, 1, { cpuPercent: 95 })], 'InvestigateNodeResources', 'Warning', 'etcd-1'],
    ['node swap', [withNodes(3, 1, { swapUsedBytes: MiB })], 'InvestigateNodeResources', 'Warning', 'etcd-1'],
    ['metrics not configured', [withMetricsSource('NotConfigured')], 'ConfigureMetrics', 'Info', 'cluster'],
    [
      'metrics failing',
      [withMetricsSource('Error', 'i/o timeout')],
      'FixMetricsSource',
      'Warning',
      'cluster',
    ],
  ] as [string, Change[], string, string, string][])('%s: %s', (_name, changes, type, severity, target) => {
    const recommendations = run(healthyCluster(3, ...changes)).recommendations;
    expect(recommendations).toContainEqual(expect.objectContaining({ type, severity, target }));
  });

  it('a healthy cluster gets none', () => {
    const analysis = run(healthyCluster(3));
    expect(analysis.recommendations).toEqual([]);
    expect(analysis.summary.recommendations).toBe('None');
  });

  it('API churn names the top resources and gives the Prometheus query', () => {
    const [churn] = run(
      healthyCluster(
        3,
        withClusterMetrics({
          apiMutatingRequestsPerSecond: 1200,
          apiTopChurn: [
            { resource: 'events', verb: 'POST', requestsPerSecond: 300 },
            { resource: 'pods', verb: 'PATCH', requestsPerSecond: 800 },
          ],
        }),
      ),
    ).recommendations;
    expect(churn!.message).toContain(
      'Mutating API requests: 1200/s, at or above the critical threshold of 1000/s; top: pods PATCH 800/s, events POST 300/s.',
    );
    expect(churn!.commands![0]).toContain("'https://prometheus.example:9090/api/v1/query'");
  });
});

describe('order and cap', () => {
  const everythingWrong: Change[] = [
    withMetricsEverywhere({
      walFsyncP99: 0.02,
      backendCommitP99: 0.2,
      peerRoundTripP99: 0.06,
      proposalsFailedRate: 0.1,
      slowAppliesRate: 0.1,
      slowReadIndexesRate: 0.1,
      grpcFailedRate: 1,
      dbSizePredicted: 9 * GiB,
    }),
    withStatusEverywhere({ dbSize: 5.8 * GiB, dbSizeInUse: 1 * GiB }),
  ];
  const analysis = run(healthyCluster(5, ...everythingWrong));

  it(`keeps at most ${MAX_RECOMMENDATIONS}, the most severe`, () => {
    const severities = analysis.recommendations.map((recommendation) => recommendation.severity);
    expect(severities).toHaveLength(MAX_RECOMMENDATIONS);
    expect(severities.slice(0, 5)).toEqual(Array(5).fill('Critical'));
    expect(severities).not.toContain('Info');
  });

  it('sorts by severity, then by what to fix first, then by target', () => {
    const keys = analysis.recommendations.map(
      (recommendation) => `${recommendation.severity}/${recommendation.type}/${recommendation.target}`,
    );
    expect(keys.slice(0, 5)).toEqual(
      [0, 1, 2, 3, 4].map((index) => `Critical/InvestigateStorage/etcd-${index}`),
    );
    const rank = { Critical: 0, Warning: 1, Info: 2 };
    const ranks = analysis.recommendations.map((recommendation) => rank[recommendation.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('counts them in the summary', () => {
    const critical = analysis.recommendations.filter(
      (recommendation) => recommendation.severity === 'Critical',
    ).length;
    expect(analysis.summary.recommendations).toBe(
      `${critical} Critical, ${MAX_RECOMMENDATIONS - critical} Warning`,
    );
  });
});

describe('learners and members without a client URL', () => {
  it('get no etcdctl command aimed at them', () => {
    const analysis = run(healthyCluster(4, learner(3), notStarted(2), fragmented(3)));
    for (const recommendation of analysis.recommendations) {
      for (const command of recommendation.commands ?? [])
        expect(command).not.toMatch(/--endpoints=(,|\s|$)/);
    }
    expect(ofType(analysis.recommendations, 'Defragment')).toEqual([]);
  });
});
