// A real Prometheus scraping every member of a test cluster every second (job "etcd", static
// targets on the members' client URLs, mutual TLS when the cluster has it), listening on .1 of the
// cluster's address block.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusBinary } from './binaries.js';
import type { EtcdCluster, EtcdMember } from './etcd-cluster.js';
import { eventually } from './eventually.js';
import { makeTempDir, removeTempDir, startProcess, type ManagedProcess } from './process.js';

export interface PrometheusServer {
  readonly url: string;
  readonly process: ManagedProcess;
  /** Temp dir with the configuration and the TSDB; removed by stop(). */
  readonly dataDir: string;
  /** Runs an instant query directly (test assertions only); returns the vector. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Waits until every member has been scraped successfully at least `scrapes` times. */
  waitForScrapes(scrapes?: number): Promise<void>;
  stop(): Promise<void>;
}

const PORT = 9090;

export interface PrometheusOptions {
  /**
   * Seconds between scrapes; default 1 so that tests see changes at once. The benchmark uses 30,
   * as production does: the cost of a query follows the points it reads.
   */
  scrapeIntervalSeconds?: number;
  /** Log every query Prometheus evaluates to this file (`global.query_log_file`). */
  queryLogFile?: string;
  /** Also scrape a kube-apiserver (job "apiserver"), with a bearer token allowed to get /metrics. */
  apiServer?: { server: string; caPem: string; token: string };
  /** host:port of node-exporters to scrape as job "node". */
  nodeExporters?: string[];
  /** Directory for the configuration and the TSDB (a restart that keeps its data); a new temp dir by default. */
  dir?: string;
}

/** What Prometheus needs of a cluster (a loopback one, or test/harness/netns-cluster.ts). */
export type ScrapedCluster = Pick<EtcdCluster, 'addresses' | 'tls'> & {
  members: readonly Pick<EtcdMember, 'ip' | 'running'>[];
};

export async function startPrometheus(
  cluster: ScrapedCluster,
  options: PrometheusOptions = {},
): Promise<PrometheusServer> {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const timeout = `${Math.min(options.scrapeIntervalSeconds ?? 1, 10)}s`;
  const dir = options.dir ?? makeTempDir(`prometheus-${cluster.addresses.prefix}`);
  const address = `${cluster.addresses.address(1)}:${PORT}`;
  const url = `http://${address}`;
  const scheme = cluster.tls ? 'https' : 'http';
  const scrape = {
    job_name: 'etcd',
    scheme,
    ...(cluster.tls && {
      tls_config: {
        ca_file: cluster.tls.ca.certPath,
        cert_file: cluster.tls.client.certPath,
        key_file: cluster.tls.client.keyPath,
      },
    }),
    static_configs: [{ targets: cluster.members.map((m) => `${m.ip}:2379`) }],
  };
  const apiServerScrape = options.apiServer && {
    job_name: 'apiserver',
    scheme: 'https',
    tls_config: { ca_file: secretFile(dir, 'apiserver-ca.crt', options.apiServer.caPem) },
    authorization: { credentials_file: secretFile(dir, 'apiserver.token', options.apiServer.token) },
    static_configs: [{ targets: [new URL(options.apiServer.server).host] }],
  };
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: {
      scrape_interval: interval,
      scrape_timeout: timeout,
      evaluation_interval: interval,
      ...(options.queryLogFile ? { query_log_file: options.queryLogFile } : {}),
    },
    scrape_configs: [
      scrape,
      ...(apiServerScrape ? [apiServerScrape] : []),
      ...(options.nodeExporters
        ? [{ job_name: 'node', static_configs: [{ targets: options.nodeExporters }] }]
        : []),
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
      '--storage.tsdb.retention.time=1h',
      `--web.listen-address=${address}`,
      '--log.level=warn',
    ],
    logDir: dir,
  });

  const query = async (promql: string) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as {
      status: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || !body.data)
      throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  const server: PrometheusServer = {
    url,
    process: proc,
    dataDir: dir,
    query,
    async waitForScrapes(scrapes = 2) {
      const running = cluster.members.filter((m) => m.running()).length;
      await eventually(
        async () => {
          const result = await query(`count_over_time(etcd_server_has_leader{job="etcd"}[1m]) >= ${scrapes}`);
          return result.length >= running;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          description: `Prometheus at ${url} to scrape ${running} members ${scrapes} times`,
        },
      );
    },
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

function secretFile(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}
