// API latency against etcd latency (field guide step 3): every threshold at, just below and just
// above, the attribution to etcd or elsewhere, and missing inputs.
import { describe, expect, it } from '@jest/globals';
import { ETCD_SHARE } from '../../src/health/checks/api-latency.js';
import {
  conditionOf,
  findingsOf,
  healthyCluster,
  run,
  withClusterMetrics,
  withMetric,
  withMetricsSource,
  withStatus,
  type Change,
} from './fixtures.js';

const latency = (api: number | undefined, etcd: number | undefined): Change =>
  withClusterMetrics({ apiMutatingP99Seconds: api, apiEtcdRequestP99Seconds: etcd });
const finding = (...changes: Change[]) => {
  const found = findingsOf(run(healthyCluster(3, ...changes)), 'APILatency');
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('API latency against etcd latency', () => {
  it.each<[string, number, string]>([
    ['just below the 1s warning', 0.999, 'OK'],
    ['at the 1s warning', 1, 'Warning'],
    ['just above the 1s warning', 1.001, 'Warning'],
    ['just below the 5s critical', 4.999, 'Warning'],
    ['at the 5s critical', 5, 'Critical'],
    ['just above the 5s critical', 5.001, 'Critical'],
  ])('mutating p99 %s', (_name, api, severity) => {
    expect(finding(latency(api, 0.01))).toMatchObject({ severity, value: api });
  });

  it.each<[string, number, string]>([
    [`the API server's etcd writes at exactly ${ETCD_SHARE * 100}% of it`, 1, 'EtcdIsTheBottleneck'],
    ['just above', 1.01, 'EtcdIsTheBottleneck'],
    ['just below', 0.99, 'SlowAPIRequestsNotEtcd'],
  ])('blames etcd with %s', (_name, etcd, reason) => {
    expect(finding(latency(2, etcd))).toMatchObject({ severity: 'Warning', reason });
  });

  it('says where the time goes when etcd is fine', () => {
    const slow = finding(latency(2, 0.05));
    expect(slow.message).toBe(
      "Mutating API request p99 is 2s, at or above the 1s warning threshold, but etcd is fine: the API server's etcd write p99 is 50ms (below 50% of it) and no member has WAL fsync or backend commit p99 at its warning threshold; the time goes elsewhere",
    );
  });

  it("names the slow disks beside the API server's etcd latency", () => {
    const slow = finding(latency(2, 1.5), withMetric(1, { walFsyncP99: 0.08, backendCommitP99: 0.3 }));
    expect(slow.reason).toBe('EtcdIsTheBottleneck');
    expect(slow.message).toContain(
      "etcd is the bottleneck: the API server's etcd write p99 is 1.5s; slow disks: etcd-1 (WAL fsync p99 80ms, backend commit p99 300ms)",
    );
  });

  it("judges by the members' disks when the API server's etcd latency is missing", () => {
    expect(finding(latency(2, undefined), withMetric(2, { walFsyncP99: 0.02 }))).toMatchObject({
      reason: 'EtcdIsTheBottleneck',
      message: expect.stringContaining("the API server's etcd write p99 is missing"),
    });
    expect(finding(latency(2, undefined))).toMatchObject({
      severity: 'Warning',
      reason: 'SlowAPIRequests',
      message: expect.stringContaining('whether etcd is the bottleneck is unknown'),
    });
  });

  it('is NoData, never healthy, when the mutating p99 is NaN or missing beside an etcd latency', () => {
    expect(finding(latency(Number.NaN, 0.01))).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
    expect(finding(latency(undefined, 0.01))).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
  });

  it('does not apply without any kube-apiserver latency (etcd outside Kubernetes)', () => {
    expect(finding(latency(undefined, undefined))).toMatchObject({
      severity: 'Info',
      reason: 'NoAPIServerMetrics',
    });
  });

  it('is NoData without a usable metrics source', () => {
    expect(finding(withMetricsSource('NotConfigured'))).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
  });

  it('feeds APILatencyDegraded, True only at critical', () => {
    expect(conditionOf(run(healthyCluster(3, latency(2, 0.01))), 'APILatencyDegraded')).toMatchObject({
      status: 'False',
      reason: 'SlowAPIRequestsNotEtcd',
    });
    expect(conditionOf(run(healthyCluster(3, latency(6, 5))), 'APILatencyDegraded')).toMatchObject({
      status: 'True',
      reason: 'EtcdIsTheBottleneck',
    });
  });

  it('recommends where to look, by attribution', () => {
    const recommendation = (changes: Change[]) =>
      run(healthyCluster(3, ...changes)).recommendations.find((r) => r.type === 'InvestigateAPILatency');
    const elsewhere = recommendation([latency(2, 0.01)]);
    expect(elsewhere!.commands).toContain(
      'kubectl get --raw /debug/api_priority_and_fairness/dump_priority_levels',
    );
    const etcd = recommendation([latency(2, 1.9)]);
    expect(etcd!.message).toContain('Fix etcd first');
    expect(recommendation([latency(0.5, 0.01)])).toBeUndefined();
  });
});

describe('API storm attribution', () => {
  it('names the flow schema and priority level that carry the churn', () => {
    const [churn] = findingsOf(
      run(
        healthyCluster(
          3,
          withClusterMetrics({
            apiMutatingRequestsPerSecond: 400,
            apiTopFlows: [
              { flowSchema: 'service-accounts', priorityLevel: 'workload-low', requestsPerSecond: 90 },
              {
                flowSchema: 'kube-controller-manager',
                priorityLevel: 'workload-high',
                requestsPerSecond: 300,
              },
            ],
          }),
        ),
      ),
      'APIChurn',
    );
    expect(churn!.message).toContain(
      '; flows: kube-controller-manager (priority level workload-high) 300/s, service-accounts (priority level workload-low) 90/s',
    );
  });

  it('finds the largest resources from the API server, not from a scan of every etcd key', () => {
    const big = withClusterMetrics({
      apiTopStoredObjects: [
        { resource: 'events', objects: 120000 },
        { resource: 'pods', objects: 3000 },
      ],
    });
    const size = (changes: Change[]) =>
      run(healthyCluster(3, withStatus(0, { dbSize: 5 * 2 ** 30 }), ...changes)).recommendations.find(
        (r) => r.type === 'ReduceDatabaseSize',
      );
    const withApi = size([big]);
    expect(withApi!.message).toContain('Largest resources by stored objects: events 120000, pods 3000.');
    expect(withApi!.commands!.join('\n')).not.toContain('--keys-only');
    expect(withApi!.commands![0]).toContain("grep -E '^apiserver_resource_objects'");
    expect(size([])!.commands!.join('\n')).toContain('get / --prefix --keys-only');
  });
});
