// Field guide step 3 on real parts: a kube-apiserver that stores into a one-member etcd whose disk
// is slowed (every fsync/fdatasync delayed by strace), a real Prometheus scraping both the member
// and the API server, and the operator as its own process. The check's verdict must be "API
// latency is high and etcd is the bottleneck", naming the member's slow disk. One member, so that
// its disk is on the path of every write (with three, a quorum of fast members would hide it).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

const NS = 'etcd-team';
const NAME = 'api';
/** 100 ms per fsync: every write the API server makes waits for at least one. */
const DELAY_US = 100_000;

let cluster: EtcdCluster;
let cp: ControlPlane;
let prometheus: PrometheusServer;
let checks: NamespacedChecks;

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 1, slowDisk: { member: 'member-1', delayUs: DELAY_US } });
  cp = await startControlPlane({ etcdServers: cluster.endpoints.join(','), startTimeoutMs: 240_000 });
  // Prometheus reads the API server's /metrics as the bootstrap role system:monitoring allows.
  const bound = await cp.kubectl([
    'create',
    'clusterrolebinding',
    'prometheus-metrics',
    '--clusterrole=system:monitoring',
    '--serviceaccount=kube-system:prometheus',
  ]);
  if (bound.code !== 0) throw new Error(`bind system:monitoring: ${bound.stderr}`);
  const token = await cp.mintServiceAccountToken('kube-system', 'prometheus');
  prometheus = await startPrometheus(cluster, { apiServer: { server: cp.server, caPem: cp.caPem, token } });
  await cp.createNamespace(NS);
  await cp.createNamespace('etcd-health-operator');
  checks = checksIn(cp.kubeConfig, NS);
  await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('api-latency-operator-logs'),
    identity: 'api-latency',
    leaseNamespace: 'etcd-health-operator',
  });
}, 360_000);

afterAll(async () => {
  await cluster?.stop();
  await cleanupAll();
});

describe('API latency against etcd latency on a real kube-apiserver', () => {
  it('says the API is slow because etcd is, and names the member with the slow disk', async () => {
    await checks.create(NAME, {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'], rateWindow: '1m' },
      interval: '10s',
      // A 100 ms disk makes writes take a few hundred ms: the bands sit below that, and the
      // member's own bands too, so that both witnesses speak.
      thresholds: {
        apiLatencyP99: { warning: '150ms', critical: '1h' },
        walFsyncP99: { warning: '50ms', critical: '1h' },
        backendCommitP99: { warning: '50ms', critical: '1h' },
      },
    });
    // Writes through the API, so that mutating requests have a latency to measure.
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    let written = 0;
    const verdict = await eventually(
      async () => {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            core.createNamespacedConfigMap({
              namespace: NS,
              body: { metadata: { name: `load-${written++}` }, data: { n: String(written) } },
            }),
          ),
        );
        const check = await checks.get(NAME);
        const condition = conditionOf(check, 'APILatencyDegraded');
        return condition?.reason === 'EtcdIsTheBottleneck' && condition;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 2_000,
        description: 'APILatencyDegraded with reason EtcdIsTheBottleneck',
      },
    );
    expect(verdict.status).toBe('False'); // a warning: the critical band is out of reach
    expect(verdict.message).toMatch(
      /^Mutating API request p99 is \S+, at or above the 150ms warning threshold, and etcd is the bottleneck: the API server's etcd write p99 is \S+; slow disks: member-1 \(WAL fsync p99 /,
    );
    const recommendation = (await checks.get(NAME)).status?.recommendations?.find(
      (r) => r.type === 'InvestigateAPILatency',
    );
    expect(recommendation).toMatchObject({ reason: 'EtcdIsTheBottleneck' });
    // The API server's own etcd latency is what Prometheus saw, and it is slow.
    const [apiEtcd] = await prometheus.query(
      'histogram_quantile(0.99, sum by (le) (rate(etcd_request_duration_seconds_bucket{job="apiserver",operation=~"create|update|delete"}[1m])))',
    );
    expect(Number(apiEtcd?.value[1])).toBeGreaterThanOrEqual(DELAY_US / 1e6);
  });
});
