// One real Prometheus for the whole detection run: it scrapes every member of every cluster as job
// "etcd" (each cluster's targets carry a `cluster` label, which the CRs' labelMatchers select and
// the anchors' rules keep), and evaluates the anchors' alerting rules. The harness's
// startPrometheus (test/harness/prometheus.ts) scrapes one cluster and loads no rules, hence this.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressBlock } from '../../test/harness/addresses.js';
import { prometheusBinary } from '../../test/harness/binaries.js';
import type { EtcdCluster } from '../../test/harness/etcd-cluster.js';
import { eventually } from '../../test/harness/eventually.js';
import { makeTempDir, removeTempDir, startProcess } from '../../test/harness/process.js';

export interface ScrapedClusters {
  /** The `cluster` label of each cluster's targets. */
  [label: string]: Pick<EtcdCluster, 'members'>;
}

export interface DetectPrometheus {
  readonly url: string;
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

const PORT = 9090;
const QUERY_DEADLINE_MS = 10_000;

/** The configuration, as JSON (valid YAML): one scrape job, one rule file, 30 s everywhere. */
export function prometheusConfig(
  clusters: ScrapedClusters,
  ruleFile: string,
  intervalSeconds: number,
): Record<string, unknown> {
  return {
    global: {
      scrape_interval: `${intervalSeconds}s`,
      scrape_timeout: `${Math.min(intervalSeconds, 10)}s`,
      evaluation_interval: `${intervalSeconds}s`,
    },
    rule_files: [ruleFile],
    scrape_configs: [
      {
        job_name: 'etcd',
        static_configs: Object.entries(clusters).map(([label, cluster]) => ({
          targets: cluster.members.map((m) => `${m.ip}:2379`),
          labels: { cluster: label },
        })),
      },
    ],
  };
}

export async function startDetectPrometheus(options: {
  clusters: ScrapedClusters;
  rulesPath: string;
  /** Where it listens: .1 of a loopback block the caller holds. */
  addresses: AddressBlock;
  intervalSeconds: number;
}): Promise<DetectPrometheus> {
  const dir = makeTempDir('detect-prometheus');
  const ruleFile = join(dir, 'anchor-rules.yaml');
  copyFileSync(options.rulesPath, ruleFile);
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(
    configPath,
    JSON.stringify(prometheusConfig(options.clusters, ruleFile, options.intervalSeconds), null, 2),
  );
  const address = `${options.addresses.address(1)}:${PORT}`;
  const url = `http://${address}`;
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
      signal: AbortSignal.timeout(QUERY_DEADLINE_MS),
    });
    const body = (await response.json()) as {
      status: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || !body.data)
      throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
    return body.data.result;
  };
  const stop = async () => {
    await proc.stop();
    removeTempDir(dir);
  };
  try {
    await eventually(async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) })).ok, {
      timeoutMs: 60_000,
      intervalMs: 500,
      description: `Prometheus at ${url} to be ready`,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, query, stop };
}
