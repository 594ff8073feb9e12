// Every query of both committed dashboards, run on a real Prometheus that scrapes a real 3-member
// etcd cluster under write load and the real operator process, which checks that cluster through
// an EtcdHealthCheck on a real kube-apiserver. Each query must answer with at least one finite
// value, for the variables set to that check and to "All" (`.+`, as both Grafana and the console
// send it); each variable query must offer the check's namespace, name and the operator's job.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksApi, conditionOf } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import {
  panelQueries,
  readDashboard,
  repoFile,
  substitute,
  variableQueries,
  type DashboardFlavour,
} from './dashboards-queries.js';

// The job both overlays' ServiceMonitors give the operator (deploy/overlays/*/servicemonitor.yaml).
const OPERATOR_JOB = 'ehc-operator';
const NAMESPACE = 'etcd-dashboards';
const CHECK = 'main';

let cp: ControlPlane;
let cluster: EtcdCluster;
let prometheus: PrometheusServer;
let load: WriteLoad;
let operator: OperatorProcess;

/**
 * Adds the operator to the harness Prometheus as its ServiceMonitor would (its job, honor_labels so
 * that `namespace` stays the EtcdHealthCheck's) and reloads the configuration with SIGHUP.
 */
async function scrapeOperator(server: PrometheusServer, target: OperatorProcess): Promise<void> {
  const path = join(server.dataDir, 'prometheus.yml');
  const config = JSON.parse(readFileSync(path, 'utf8')) as { scrape_configs: unknown[] };
  const url = new URL(target.metricsUrl);
  config.scrape_configs.push({
    job_name: OPERATOR_JOB,
    honor_labels: true,
    scheme: url.protocol.replace(':', ''),
    metrics_path: url.pathname,
    static_configs: [{ targets: [url.host] }],
  });
  writeFileSync(path, JSON.stringify(config, null, 2));
  process.kill(server.process.pid, 'SIGHUP');
  await eventually(async () => (await server.query(`up{job="${OPERATOR_JOB}"} == 1`)).length > 0, {
    timeoutMs: 60_000,
    intervalMs: 500,
    description: `Prometheus to scrape the operator at ${target.metricsUrl}`,
  });
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 3 })]);
  prometheus = await startPrometheus(cluster);
  // Writes, so that every member has WAL fsyncs and backend commits to take a p99 of.
  load = startWriteLoad(cluster, { perSecond: 10 });
  await cp.createNamespace(NAMESPACE);
  await cp.createNamespace('etcd-health-operator');
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('operator-logs'),
    identity: 'operator-dashboards',
    leaseNamespace: 'etcd-health-operator',
  });
  await scrapeOperator(prometheus, operator);
  const checks = checksApi(cp.kubeConfig);
  await checks.create(NAMESPACE, CHECK, {
    etcd: { endpoints: cluster.endpoints },
    prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
    interval: '10s',
    thresholds: {
      // A test DB of some KiB is past this warning: the check recommends, and the recommendation
      // panels have a row to show.
      databaseSize: { warning: '1Ki' },
    },
  });
  await eventually(
    async () => conditionOf(await checks.get(NAMESPACE, CHECK), 'Available')?.status === 'True',
    { timeoutMs: 90_000, description: `EtcdHealthCheck ${NAMESPACE}/${CHECK} Available` },
  );
}, 400_000);

afterAll(async () => {
  await load?.stop();
  await cleanupAll();
});

/** At least one sample with a finite value: NaN (a quantile of nothing) is no data to draw. */
async function hasData(promql: string): Promise<boolean> {
  const result = await prometheus.query(promql);
  return result.some((sample) => Number.isFinite(Number(sample.value[1])));
}

const SELECTIONS = {
  'this check': { namespace: NAMESPACE, check: CHECK, job: OPERATOR_JOB },
  All: { namespace: '.+', check: '.+', job: OPERATOR_JOB },
};

describe('deploy/dashboards', () => {
  it('applies with kubectl apply -k: both ConfigMaps, labelled for the Grafana sidecar and the console', async () => {
    await cp.createNamespace('openshift-config-managed');
    const applied = await cp.kubectl(['apply', '--server-side', '-k', repoFile('deploy/dashboards')]);
    expect(applied).toMatchObject({ code: 0 });
    const labels = async (namespace: string) => {
      const got = await cp.kubectl([
        'get',
        'configmap',
        '-n',
        namespace,
        'etcd-health-operator-dashboard',
        '-o',
        'json',
      ]);
      expect(got).toMatchObject({ code: 0 });
      return (JSON.parse(got.stdout) as { metadata: { labels: Record<string, string> } }).metadata.labels;
    };
    expect(await labels('etcd-health-operator')).toMatchObject({ grafana_dashboard: '1' });
    expect(await labels('openshift-config-managed')).toMatchObject({
      'console.openshift.io/dashboard': 'true',
    });
  });
});

describe.each(['grafana', 'console'] as DashboardFlavour[])('the %s dashboard on real data', (flavour) => {
  const dashboard = readDashboard(flavour);

  it('answers every panel query with data, for one check and for All', async () => {
    const pending = new Map<string, string>();
    for (const [selection, values] of Object.entries(SELECTIONS)) {
      for (const query of panelQueries(dashboard)) {
        pending.set(`${query.panel} [${query.refId}] (${selection})`, substitute(query.expr, values));
      }
    }
    expect(pending.size).toBeGreaterThan(40);
    // Rates and quantiles need a few scrapes, the per-member p99s a few checks: poll until each
    // query has answered once, then name the ones that never did.
    await eventually(
      async () => {
        for (const [name, promql] of pending) if (await hasData(promql)) pending.delete(name);
        return pending.size === 0;
      },
      { timeoutMs: 150_000, intervalMs: 2_000, description: 'every panel query to return data' },
    ).catch(() => undefined);
    expect(Object.fromEntries(pending)).toEqual({});
  }, 240_000);

  it("offers the check's namespace and name and the operator's job in its variables", async () => {
    const offered = new Map<string, string[]>();
    for (const variable of variableQueries(dashboard)) {
      const promql = substitute(variable.promql, { namespace: NAMESPACE });
      const result = await prometheus.query(promql);
      offered.set(
        variable.name,
        result.map((sample) => sample.metric[variable.label]!),
      );
    }
    expect(offered.get('namespace')).toContain(NAMESPACE);
    expect(offered.get('check')).toContain(CHECK);
    expect(offered.get('job')).toEqual([OPERATOR_JOB]);
  });
});
