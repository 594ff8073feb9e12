// Every row of the thresholds table, at, just below and just above each threshold. A band is
// reached at or above its value; the rate bands (failed proposals, slow applies, slow read
// indexes) warn above 0 and are critical above their bound.
import { describe, expect, it } from '@jest/globals';
import type { CheckName, FindingSeverity } from '../../src/health/findings.js';
import {
  GiB,
  MiB,
  conditionOf,
  findingOf,
  healthyCluster,
  run,
  specWith,
  withClusterMetrics,
  withMetric,
  withNodes,
  withStatus,
  type Change,
} from './fixtures.js';
import type { EtcdHealthCheckSpec } from '../../src/api/v1alpha1/spec.js';

interface Row {
  value: string;
  changes: Change[];
  severity: FindingSeverity;
  spec?: EtcdHealthCheckSpec;
}

function expectVerdict(check: CheckName, target: string, condition: string, row: Row): void {
  const analysis = run(healthyCluster(3, ...row.changes), row.spec ? { spec: row.spec } : {});
  expect(findingOf(analysis, check, target).severity).toBe(row.severity);
  const status = row.severity === 'Critical' ? 'True' : row.severity === 'Unknown' ? 'Unknown' : 'False';
  expect(conditionOf(analysis, condition).status).toBe(status);
}

const rows = (make: (value: number) => Change[], table: [number, FindingSeverity][]): Row[] =>
  table.map(([value, severity]) => ({ value: String(value), changes: make(value), severity }));

describe('WAL fsync p99 per member (10ms warning, 50ms critical)', () => {
  it.each(
    rows(
      (value) => [withMetric(1, { walFsyncP99: value })],
      [
        [0.0099, 'OK'],
        [0.01, 'Warning'],
        [0.0101, 'Warning'],
        [0.0499, 'Warning'],
        [0.05, 'Critical'],
        [0.0501, 'Critical'],
      ],
    ),
  )('$value s is $severity', (row) => expectVerdict('WalFsync', 'etcd-1', 'DiskLatencyDegraded', row));

  it('uses the thresholds of the spec', () => {
    const spec = specWith({ thresholds: { walFsyncP99: { warning: '5ms', critical: '8ms' } } });
    expectVerdict('WalFsync', 'etcd-1', 'DiskLatencyDegraded', {
      value: '0.008',
      changes: [withMetric(1, { walFsyncP99: 0.008 })],
      severity: 'Critical',
      spec,
    });
  });
});

describe('backend commit p99 per member (25ms warning, 100ms critical)', () => {
  it.each(
    rows(
      (value) => [withMetric(2, { backendCommitP99: value })],
      [
        [0.0249, 'OK'],
        [0.025, 'Warning'],
        [0.0251, 'Warning'],
        [0.0999, 'Warning'],
        [0.1, 'Critical'],
        [0.1001, 'Critical'],
      ],
    ),
  )('$value s is $severity', (row) => expectVerdict('BackendCommit', 'etcd-2', 'DiskLatencyDegraded', row));
});

describe('peer round trip p99 per member (50ms warning, 150ms critical)', () => {
  it.each(
    rows(
      (value) => [withMetric(0, { peerRoundTripP99: value })],
      [
        [0.0499, 'OK'],
        [0.05, 'Warning'],
        [0.0501, 'Warning'],
        [0.1499, 'Warning'],
        [0.15, 'Critical'],
        [0.1501, 'Critical'],
      ],
    ),
  )('$value s is $severity', (row) => expectVerdict('PeerRoundTrip', 'etcd-0', 'NetworkDegraded', row));
});

describe('leader changes (>= 1 in 1h warning, >= 4 in 15m critical)', () => {
  it.each([
    {
      value: '0 in 1h',
      changes: [withClusterMetrics({ leaderChanges1h: 0, leaderChanges15m: 0 })],
      severity: 'OK',
    },
    {
      value: '0.9 in 1h',
      changes: [withClusterMetrics({ leaderChanges1h: 0.9, leaderChanges15m: 0.9 })],
      severity: 'OK',
    },
    {
      value: '1 in 1h',
      changes: [withClusterMetrics({ leaderChanges1h: 1, leaderChanges15m: 0 })],
      severity: 'Warning',
    },
    {
      value: '2 in 1h',
      changes: [withClusterMetrics({ leaderChanges1h: 2, leaderChanges15m: 2 })],
      severity: 'Warning',
    },
    {
      value: '3 in 15m',
      changes: [withClusterMetrics({ leaderChanges1h: 3, leaderChanges15m: 3 })],
      severity: 'Warning',
    },
    {
      value: '4 in 15m',
      changes: [withClusterMetrics({ leaderChanges1h: 4, leaderChanges15m: 4 })],
      severity: 'Critical',
    },
    {
      value: '5 in 15m',
      changes: [withClusterMetrics({ leaderChanges1h: 5, leaderChanges15m: 5 })],
      severity: 'Critical',
    },
  ] as Row[])('$value is $severity', (row) =>
    expectVerdict('LeaderChanges', 'cluster', 'LeaderElectionDegraded', row),
  );
});

// A large quota keeps the quota check out of the way of the size check.
const bigQuota = (index: number): Change[] => [
  withStatus(index, { dbSizeQuota: 64 * GiB }),
  withMetric(index, { quotaBackendBytes: 64 * GiB }),
];

describe('physical DB size (4 GiB warning, 8 GiB critical)', () => {
  it.each(
    rows(
      (value) => [...bigQuota(0), withStatus(0, { dbSize: value, dbSizeInUse: value })],
      [
        [4 * GiB - 1, 'OK'],
        [4 * GiB, 'Warning'],
        [4 * GiB + 1, 'Warning'],
        [8 * GiB - 1, 'Warning'],
        [8 * GiB, 'Critical'],
        [8 * GiB + 1, 'Critical'],
      ],
    ),
  )('$value bytes is $severity', (row) =>
    expectVerdict('DatabaseSize', 'etcd-0', 'DatabaseSizeDegraded', row),
  );
});

describe('DB size / quota (65% info, 75% warning, 85% critical)', () => {
  // A quota of 100 MiB makes every percentage an exact byte count, far below the size thresholds.
  const unit = MiB;
  const atPercent = (percent: number): Change[] => [
    withStatus(1, {
      dbSize: Math.round(percent * unit),
      dbSizeInUse: Math.round(percent * unit),
      dbSizeQuota: 100 * unit,
    }),
  ];
  it.each(
    rows(atPercent, [
      [64.9, 'OK'],
      [65, 'Info'],
      [65.1, 'Info'],
      [74.9, 'Info'],
      [75, 'Warning'],
      [75.1, 'Warning'],
      [84.9, 'Warning'],
      [85, 'Critical'],
      [85.1, 'Critical'],
    ]),
  )('$value% is $severity', (row) => expectVerdict('QuotaUsage', 'etcd-1', 'DatabaseSizeDegraded', row));

  it('takes the quota from etcd_server_quota_backend_bytes when Status does not report it (etcd < 3.6)', () => {
    const analysis = run(
      healthyCluster(
        3,
        withStatus(1, { dbSize: 7 * GiB, dbSizeInUse: 7 * GiB, dbSizeQuota: undefined }),
        withMetric(1, { quotaBackendBytes: 8 * GiB }),
      ),
    );
    expect(findingOf(analysis, 'QuotaUsage', 'etcd-1')).toMatchObject({
      severity: 'Critical',
      value: 87.5,
      threshold: 85,
    });
  });
});

describe('growth (predict_linear over the horizon reaches the quota: warning)', () => {
  it.each(
    rows(
      (value) => [withMetric(2, { dbSizePredicted: value })],
      [
        [8 * GiB - 1, 'OK'],
        [8 * GiB, 'Warning'],
        [8 * GiB + 1, 'Warning'],
      ],
    ),
  )('$value bytes predicted is $severity', (row) =>
    expectVerdict('Growth', 'etcd-2', 'DatabaseSizeDegraded', row),
  );
});

describe('fragmentation (>= 45% on a DB >= 100 MiB recommends defrag)', () => {
  it.each(
    rows(
      (inUseMiB) => [withStatus(0, { dbSize: 200 * MiB, dbSizeInUse: inUseMiB * MiB })],
      [
        [110.02, 'OK'], // 44.99%
        [110, 'Info'], // 45%
        [109.98, 'Info'], // 45.01%
      ],
    ),
  )('%s MiB in use of 200 MiB is $severity', (row) =>
    expectVerdict('Fragmentation', 'etcd-0', 'DatabaseSizeDegraded', row),
  );

  it.each(
    rows(
      (dbSize) => [withStatus(0, { dbSize, dbSizeInUse: dbSize / 2 })],
      [
        [100 * MiB - 2, 'OK'],
        [100 * MiB, 'Info'],
        [100 * MiB + 2, 'Info'],
      ],
    ),
  )('50% of a $value byte DB is $severity', (row) =>
    expectVerdict('Fragmentation', 'etcd-0', 'DatabaseSizeDegraded', row),
  );
});

describe.each([
  { check: 'ProposalsFailed', metric: 'proposalsFailedRate' },
  { check: 'SlowApplies', metric: 'slowAppliesRate' },
  { check: 'SlowReadIndexes', metric: 'slowReadIndexesRate' },
] as const)('$check rate (> 0 warning, > 1/s critical)', ({ check, metric }) => {
  it.each(
    rows(
      (value) => [withMetric(1, { [metric]: value })],
      [
        [0, 'OK'],
        [0.001, 'Warning'],
        [0.999, 'Warning'],
        [1, 'Warning'],
        [1.001, 'Critical'],
      ],
    ),
  )('$value/s is $severity', (row) => expectVerdict(check, 'etcd-1', 'RequestsDegraded', row));
});

describe('failed gRPC share (1% warning, 5% critical, judged from 2 req/s)', () => {
  it.each(
    rows(
      (failedOf100) => [withMetric(0, { grpcRequestRate: 100, grpcFailedRate: failedOf100 })],
      [
        [0.99, 'OK'],
        [1, 'Warning'],
        [1.01, 'Warning'],
        [4.99, 'Warning'],
        [5, 'Critical'],
        [5.01, 'Critical'],
      ],
    ),
  )('$value% is $severity', (row) => expectVerdict('GrpcFailures', 'etcd-0', 'RequestsDegraded', row));

  it.each(
    rows(
      (requests) => [withMetric(0, { grpcRequestRate: requests, grpcFailedRate: requests / 2 })],
      [
        [1.99, 'OK'],
        [2, 'Critical'],
        [2.01, 'Critical'],
      ],
    ),
  )('half of $value req/s failing is $severity', (row) =>
    expectVerdict('GrpcFailures', 'etcd-0', 'RequestsDegraded', row),
  );

  it('says why a low request rate is not judged', () => {
    const analysis = run(healthyCluster(3, withMetric(0, { grpcRequestRate: 1, grpcFailedRate: 1 })));
    expect(findingOf(analysis, 'GrpcFailures', 'etcd-0')).toMatchObject({
      reason: 'LowTraffic',
      value: 1,
      threshold: 2,
    });
  });
});

describe('API churn (mutating 300/1000 per second, in-flight 300/500)', () => {
  const apiRows = (
    key: 'apiMutatingRequestsPerSecond' | 'apiInflightRequests',
    table: [number, FindingSeverity][],
  ) => rows((value) => [withClusterMetrics({ [key]: value })], table);
  const severityOf = (row: Row, reason: string) => {
    const analysis = run(healthyCluster(3, ...row.changes));
    const findings = analysis.findings.filter((finding) => finding.check === 'APIChurn');
    const judged =
      findings.find((finding) => finding.reason === reason) ??
      findings.find((finding) => finding.severity === 'OK');
    return { severity: judged!.severity, status: conditionOf(analysis, 'APIChurnDegraded').status };
  };
  it.each(
    apiRows('apiMutatingRequestsPerSecond', [
      [299.9, 'OK'],
      [300, 'Warning'],
      [300.1, 'Warning'],
      [999.9, 'Warning'],
      [1000, 'Critical'],
      [1000.1, 'Critical'],
    ]),
  )('$value mutating requests/s is $severity', (row) => {
    const verdict = severityOf(row, 'HighMutatingRequestRate');
    expect(verdict.severity).toBe(row.severity);
    expect(verdict.status).toBe(row.severity === 'Critical' ? 'True' : 'False');
  });
  it.each(
    apiRows('apiInflightRequests', [
      [299, 'OK'],
      [300, 'Warning'],
      [301, 'Warning'],
      [499, 'Warning'],
      [500, 'Critical'],
      [501, 'Critical'],
    ]),
  )('$value in-flight requests is $severity', (row) => {
    const verdict = severityOf(row, 'HighInflightRequests');
    expect(verdict.severity).toBe(row.severity);
    expect(verdict.status).toBe(row.severity === 'Critical' ? 'True' : 'False');
  });
});

describe('control-plane nodes (CPU >= 80% warns, swap in use warns; never critical)', () => {
  const node = (cpuPercent: number, swapUsedBytes = 0): Change =>
    withNodes(3, 0, { cpuPercent, swapUsedBytes });
  const cpuFinding = (changes: Change[]) =>
    run(healthyCluster(3, ...changes)).findings.find(
      (finding) => finding.check === 'ControlPlaneNodes' && finding.message.includes('CPU'),
    )!;
  it.each(
    rows(
      (cpu) => [node(cpu)],
      [
        [79.9, 'OK'],
        [80, 'Warning'],
        [80.1, 'Warning'],
        [100, 'Warning'],
      ],
    ),
  )('CPU $value% is $severity', (row) => {
    expect(cpuFinding(row.changes).severity).toBe(row.severity);
    expect(conditionOf(run(healthyCluster(3, ...row.changes)), 'ControlPlaneNodesDegraded').status).toBe(
      'False',
    );
  });

  it.each([
    [0, 'OK'],
    [1, 'Warning'],
  ] as const)('%d bytes of swap is %s', (swap, severity) => {
    const analysis = run(healthyCluster(3, node(10, swap)));
    const swapFinding = analysis.findings.find(
      (finding) => finding.check === 'ControlPlaneNodes' && finding.message.includes('swap'),
    );
    expect(swapFinding?.severity).toBe(severity);
  });

  it('does not judge swap when warnOnSwap is off', () => {
    const spec = specWith({ thresholds: { controlPlaneNodes: { warnOnSwap: false } } });
    const analysis = run(healthyCluster(3, node(10, GiB)), { spec });
    const nodeFindings = analysis.findings.filter((finding) => finding.check === 'ControlPlaneNodes');
    expect(nodeFindings.filter((finding) => finding.message.includes('CPU'))).toHaveLength(3);
    expect(nodeFindings.filter((finding) => finding.message.includes('swap'))).toEqual([]);
  });

  it('says that nodes are not checked when node-exporter metrics are absent, without claiming health', () => {
    const condition = conditionOf(run(healthyCluster(3)), 'ControlPlaneNodesDegraded');
    expect(condition).toMatchObject({ status: 'False', reason: 'NoNodeMetrics' });
    expect(condition.message).toMatch(/not checked/);
  });
});
