// A real Prometheus for the benchmark, as test/harness/prometheus.ts starts one (job "etcd", static
// targets on the members, .1 of the cluster's address block, stopped by PID) but with the scrape
// interval as a parameter: the harness scrapes every second so that tests see changes at once,
// which makes every 5m-window query read 300 points per series. Production scrapes etcd every 30s
// (kube-prometheus, OpenShift's etcd ServiceMonitor), and the cost of a query follows the points it
// reads. The benchmark uses 30s unless told otherwise (--scrape-interval).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusBinary } from '../test/harness/binaries.js';
import type { EtcdCluster } from '../test/harness/etcd-cluster.js';
import { eventually } from '../test/harness/eventually.js';
import { makeTempDir, removeTempDir, startProcess, type ManagedProcess } from '../test/harness/process.js';

export interface BenchPrometheus {
  readonly url: string;
  readonly process: ManagedProcess;
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export async function startBenchPrometheus(
  cluster: EtcdCluster,
  scrapeIntervalS: number,
): Promise<BenchPrometheus> {
  const dir = makeTempDir(`bench-prometheus-${cluster.addresses.prefix}`);
  const address = `${cluster.addresses.address(1)}:9090`;
  const url = `http://${address}`;
  const interval = `${scrapeIntervalS}s`;
  const config = {
    global: {
      scrape_interval: interval,
      scrape_timeout: `${Math.min(scrapeIntervalS, 10)}s`,
      evaluation_interval: interval,
    },
    scrape_configs: [
      {
        job_name: 'etcd',
        scheme: 'http',
        static_configs: [{ targets: cluster.members.map((m) => `${m.ip}:2379`) }],
      },
    ],
  };
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = startProcess({
    name: 'prometheus',
    command: prometheusBinary(),
    args: [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=2h',
      `--web.listen-address=${address}`,
      '--log.level=warn',
    ],
    logDir: dir,
  });
  const query = async (promql: string) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as {
      status: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
    return body.data.result;
  };
  const server: BenchPrometheus = {
    url,
    process: proc,
    query,
    async stop() {
      await proc.stop();
      removeTempDir(dir);
    },
  };
  try {
    await eventually(async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) })).ok, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: `Prometheus at ${url} to be ready`,
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * Waits until every signal the checks need has a value for every member: the p99 histograms need
 * two scrapes with observations inside the rate window (peer round trips are sampled only every
 * few seconds by etcd). Before that the checks say NoData, and the first real value would be a
 * condition transition, which is not the steady state the benchmark measures.
 */
export async function waitForData(
  prometheus: BenchPrometheus,
  members: number,
  timeoutMs: number,
): Promise<void> {
  const quantile = (metric: string) =>
    `histogram_quantile(0.99, sum by (instance, le) (rate(${metric}{job="etcd"}[5m])))`;
  await eventually(
    async () => {
      for (const metric of [
        'etcd_disk_wal_fsync_duration_seconds_bucket',
        'etcd_disk_backend_commit_duration_seconds_bucket',
        'etcd_network_peer_round_trip_time_seconds_bucket',
      ]) {
        const result = await prometheus.query(quantile(metric));
        if (result.filter((r) => Number.isFinite(Number(r.value[1]))).length < members) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 2_000, description: 'Prometheus to have every p99 for every member' },
  );
}
