// The Prometheus half of the trust boundary, on the operator process as its ServiceAccount with
// the RBAC from deploy/, a real kube-apiserver, a real etcd cluster and a real Prometheus that logs
// every query it evaluates: a CR author cannot make the operator carry its token to a URL or a
// query of their choosing, cannot choose the TLS trust for it, and cannot take the operator's
// memory or schedule from the other checks with a hostile Prometheus.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { parseDurationMs } from '../../src/api/v1alpha1/units.js';
import { MAX_ANSWER_BYTES } from '../../src/sources/prometheus/client.js';
import { SIGNALS } from '../../src/sources/prometheus/queries.js';
import { parseLabelMatcher } from '../../src/sources/prometheus/selector.js';
import { checksApi, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startFakePrometheus, type FakePrometheus } from '../harness/fake-prometheus.js';
import { apiErrorStatus } from '../harness/kube.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

const OPERATOR_NS = 'etcd-health-operator';
const TENANT = 'tenant';
const LOAD = 'load';
const LOAD_CHECKS = 100;
const INTERVAL_S = 10;
// The tenant's own PromQL, which must never be evaluated with the operator's token.
const TENANT_METRIC = 'ehc_tenant_marker_total';
const TENANT_QUERY = `count(${TENANT_METRIC}) or vector(1)`;

let cp: ControlPlane;
let cluster: EtcdCluster;
let prometheus: PrometheusServer;
let queryLog: string;
// A recording listener allowlisted for the token (under /prom), and a hostile Prometheus.
let recorder: FakePrometheus;
let hostile: FakePrometheus;
let operator: OperatorProcess;
let operatorToken: string;
let checks: Checks;
let memoryLimitBytes: number;

const etcdSpec = () => ({ endpoints: cluster.endpoints });
const sourceMessage = (status: EtcdHealthCheck['status']) => status?.lastCheck?.prometheus.message ?? '';

/** The PromQL the operator sends for these label matchers and the spec's defaults. */
function operatorQueries(labelMatchers: string[]): string[] {
  const spec = EtcdHealthCheckSpecSchema.parse({
    etcd: { endpoints: ['http://127.0.0.1:2379'] },
    prometheus: { url: 'http://127.0.0.1:9090', labelMatchers },
  });
  const ctx = {
    etcdMatchers: labelMatchers.map((text) => {
      const parsed = parseLabelMatcher(text);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.matcher;
    }),
    memberLabel: spec.prometheus!.memberLabel,
    rateWindowMs: parseDurationMs(spec.prometheus!.rateWindow),
    growthHorizonMs: parseDurationMs(spec.thresholds.growth.horizon),
    dataDirMountpoint: spec.prometheus!.nodeExporter.dataDirMountpoint,
  };
  return SIGNALS.map((signal) => signal.promql(ctx));
}

/** The Deployment's memory limit and NODE_OPTIONS, as deploy/base ships them. */
function deploymentBounds(): { memoryLimitBytes: number; nodeOptions: string } {
  const deployment = yaml.load(readFileSync('deploy/base/deployment.yaml', 'utf8')) as {
    spec: {
      template: {
        spec: {
          containers: {
            resources: { limits: { memory: string } };
            env: { name: string; value?: string }[];
          }[];
        };
      };
    };
  };
  const container = deployment.spec.template.spec.containers[0]!;
  const limit = /^(\d+)Mi$/.exec(container.resources.limits.memory);
  const nodeOptions = container.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
  if (!limit || !nodeOptions)
    throw new Error('deploy/base/deployment.yaml: no Mi memory limit or NODE_OPTIONS');
  return { memoryLimitBytes: Number(limit[1]) * 1024 * 1024, nodeOptions };
}

beforeAll(async () => {
  [cp, cluster, recorder, hostile] = await Promise.all([
    startControlPlane(),
    startEtcdCluster({ members: 3 }),
    startFakePrometheus({ pathPrefix: '/prom' }),
    startFakePrometheus(),
  ]);
  queryLog = join(makeTempDir('prometheus-query-log'), 'queries.log');
  prometheus = await startPrometheus(cluster, { queryLogFile: queryLog });
  checks = checksApi(cp.kubeConfig);
  const rendered = await cp.kubectl(['kustomize', 'deploy/base']);
  expect(rendered.code).toBe(0);
  const applied = await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: rendered.stdout });
  expect(applied.stderr).toBe('');
  for (const ns of [TENANT, LOAD]) await cp.createNamespace(ns);
  operatorToken = await cp.mintServiceAccountToken(OPERATOR_NS, 'etcd-health-operator');
  const bounds = deploymentBounds();
  memoryLimitBytes = bounds.memoryLimitBytes;
  operator = await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(operatorToken, OPERATOR_NS),
    logDir: makeTempDir('prometheus-boundary-logs'),
    identity: 'operator-boundary',
    leaseNamespace: OPERATOR_NS,
    nodeOptions: bounds.nodeOptions,
    extraArgs: [`--prometheus-sa-token-url=${prometheus.url}`, `--prometheus-sa-token-url=${recorder.url}`],
  });
  await prometheus.waitForScrapes(2);
});

afterAll(async () => {
  await Promise.all([recorder?.close(), hostile?.close()]);
  await cleanupAll();
});

const tokenRequests = (server: FakePrometheus) =>
  server.requests.filter((r) => r.headers.authorization?.includes(operatorToken));

describe('Prometheus URLs a CR names', () => {
  const recorderHost = () => new URL(recorder.url).host;

  it('refuses at admission every form that could smuggle a query past the token allowlist', async () => {
    const encoded = encodeURIComponent(TENANT_QUERY);
    const refused: [string, RegExp][] = [
      [`${prometheus.url}/api/v1/query?query=${encoded}#`, /must not have a query or fragment/],
      [`${recorder.url}/api/v1/query?query=${encoded}#`, /must not have a query or fragment/],
      [`${prometheus.url}/api/v1/query%3Fquery=${encoded}%23`, /must not have percent-encoding/],
      [`${recorder.url}//api/v1/query`, /must not have empty path segments/],
      [`${recorder.url}/../prom`, /must not have \. or \.\. path segments/],
      [`${recorder.url}/x/..`, /must not have \. or \.\. path segments/],
      [`${recorder.url}\\..`, /must not have percent-encoding or backslashes/],
      [`http://user:pw@${recorderHost()}/prom`, /must not have userinfo/],
      [recorder.url.replace('http://', 'HTTP://'), /spec\.prometheus\.url/],
    ];
    for (const [index, [url, message]] of refused.entries()) {
      const error = await checks
        .create(TENANT, `smuggle-${index}`, {
          etcd: etcdSpec(),
          prometheus: { url, useOperatorServiceAccount: true },
        })
        .then(() => undefined)
        .catch((e: unknown) => e);
      const status = apiErrorStatus(error);
      expect({ url, code: status?.code }).toEqual({ url, code: 422 });
      expect(status?.message).toMatch(message);
    }
  });

  it('never sends the token to an admitted URL outside the allowlist, nor the tenant query anywhere', async () => {
    const port = new URL(recorder.url).port;
    const outside: Record<string, string> = {
      'prefix-without-boundary': `${recorder.url}x`,
      'other-port': `http://127.0.0.1:${new URL(hostile.url).port}/prom`,
      'ipv4-mapped-ipv6': `http://[::ffff:127.0.0.1]:${port}/prom`,
      'ipv6-loopback': `http://[::1]:${port}/prom`,
      'other-scheme': `https://${recorderHost()}/prom`,
    };
    // The same listener as the allowlisted one, written differently: the normal form matches, so
    // the token goes there, with the operator's own queries only.
    const same: Record<string, string> = {
      'hex-ipv4-trailing-slash': `http://0x7f.0.0.1:${port}/prom/`,
      'real-prometheus': prometheus.url,
    };
    for (const [name, url] of Object.entries({ ...outside, ...same })) {
      await checks.create(TENANT, name, {
        etcd: etcdSpec(),
        prometheus: { url, useOperatorServiceAccount: true },
      });
    }
    for (const name of Object.keys(outside)) {
      const status = await eventually(
        async () => {
          const s = (await checks.get(TENANT, name)).status;
          return s?.lastCheck ? s : undefined;
        },
        { description: `a checked status of ${name}` },
      );
      expect({ name, message: sourceMessage(status) }).toEqual({
        name,
        message: expect.stringMatching(/^OperatorTokenNotAllowed: .*--prometheus-sa-token-url/),
      });
    }
    await eventually(() => tokenRequests(recorder).length > 0, { description: 'a query to the recorder' });
    await eventually(() => readFileSync(queryLog, 'utf8').includes('etcd_server_has_leader'), {
      description: 'the operator token queries in the real Prometheus query log',
    });

    expect(tokenRequests(hostile)).toEqual([]);
    const ours = operatorQueries(['job=~".*etcd.*"']);
    for (const request of tokenRequests(recorder)) {
      expect(request.path).toBe('/prom/api/v1/query');
      expect(ours).toContain(request.query);
    }
    expect(recorder.requests.filter((r) => r.path !== '/prom/api/v1/query')).toEqual([]);
    expect(recorder.requests.some((r) => r.query.includes(TENANT_METRIC))).toBe(false);
    expect(readFileSync(queryLog, 'utf8')).not.toContain(TENANT_METRIC);
  });

  it("never runs a check's own backup query with the token, and says why", async () => {
    await checks.create(TENANT, 'backup-query', {
      etcd: etcdSpec(),
      prometheus: { url: prometheus.url, useOperatorServiceAccount: true },
      backup: { prometheus: { query: TENANT_QUERY }, maxAge: '1h' },
    });
    const check = await eventually(
      async () => {
        const c = await checks.get(TENANT, 'backup-query');
        return c.status?.lastCheck ? c : undefined;
      },
      { description: 'a checked status of backup-query' },
    );
    // The operator's own queries went out with the token; the CR's expression did not.
    expect(check.status?.lastCheck?.prometheus.state).toBe('OK');
    const backup = check.status?.conditions?.find((c) => c.type === 'BackupUpgradeable');
    expect(backup).toMatchObject({ status: 'Unknown', reason: 'BackupUnreadable' });
    expect(backup?.message).toMatch(
      /the backup query could not be read: the operator does not send a check's own PromQL with its ServiceAccount token/,
    );
    expect(readFileSync(queryLog, 'utf8')).not.toContain(TENANT_METRIC);
  });

  it('gives no token to a check that brings its own TLS trust, and says why', async () => {
    const trust: Record<string, Record<string, unknown>> = {
      'own-insecure': { insecureSkipTLSVerify: true },
      'own-ca': { caConfigMapRef: { name: 'tenant-ca' } },
    };
    for (const [name, extra] of Object.entries(trust)) {
      await checks.create(TENANT, name, {
        etcd: etcdSpec(),
        prometheus: { url: `${recorder.url}/trust`, useOperatorServiceAccount: true, ...extra },
      });
    }
    for (const name of Object.keys(trust)) {
      const check = await eventually(
        async () => {
          const c = await checks.get(TENANT, name);
          return c.status?.lastCheck ? c : undefined;
        },
        { description: `a checked status of ${name}` },
      );
      expect(sourceMessage(check.status)).toMatch(
        /^OperatorTokenTrust: .*--prometheus-sa-token-ca-file.*remove (insecureSkipTLSVerify|caConfigMapRef)/,
      );
      const reachable = check.status?.conditions?.find((c) => c.type === 'MetricsSourceReachable');
      expect(reachable?.message).toMatch(/OperatorTokenTrust/);
    }
    expect(recorder.requests.filter((r) => r.path.startsWith('/prom/trust'))).toEqual([]);
  });
});

const QUEUE_WAIT = 'etcd_health_operator_workqueue_queue_duration_seconds';
const RECONCILE = 'etcd_health_operator_reconcile_duration_seconds';

/** Cumulative bucket counts (summed over other labels) of the two histograms, by `le`. */
async function histograms(): Promise<Map<string, Map<string, number>>> {
  const text = await (await fetch(operator.metricsUrl)).text();
  const out = new Map<string, Map<string, number>>();
  for (const name of [QUEUE_WAIT, RECONCILE]) {
    const buckets = new Map<string, number>();
    for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
      const le = /le="([^"]+)"/.exec(m[1]!)?.[1] ?? '';
      buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
    }
    out.set(name, buckets);
  }
  return out;
}

/** The upper bound of the bucket holding quantile `q` of what was observed between two readings. */
function bucketQuantile(before = new Map<string, number>(), after = new Map<string, number>(), q: number) {
  const delta = [...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)] as const);
  const bound = (le: string) => (le === '+Inf' ? Infinity : Number(le));
  delta.sort((a, b) => bound(a[0]) - bound(b[0]));
  const total = delta.at(-1)?.[1] ?? 0;
  return delta.find(([, count]) => count >= q * total)?.[0] ?? '?';
}

describe('a hostile Prometheus behind one CR', () => {
  it('answers of the real Prometheus are far below the per-answer cap', async () => {
    const sizes: number[] = [];
    for (const query of operatorQueries(['job="etcd"'])) {
      const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
      sizes.push((await response.text()).length);
    }
    console.log(
      `real Prometheus answer sizes (bytes, ${cluster.members.length} members): max ${Math.max(...sizes)}, all ${sizes.join(' ')}`,
    );
    expect(Math.max(...sizes) * 100).toBeLessThan(MAX_ANSWER_BYTES);
  });

  it('takes neither the process, nor its memory, nor the schedule of 100 other checks', async () => {
    // A fake is right here: no real Prometheus answers 8 MiB to every query or trickles its body
    // on demand. It serves three kinds of answer in turn: 8 MiB with a Content-Length, 8 MiB
    // streamed without one, and a body that trickles 1 KiB every 200 ms and never ends.
    const big = Buffer.alloc(8 * 1024 * 1024, 0x20);
    big.write('{"status":"success","data":{"resultType":"vector","result":[');
    let served = 0;
    hostile.handle((_request, response: ServerResponse) => {
      const kind = served++ % 3;
      if (kind === 0) {
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': big.length });
        response.end(big);
      } else if (kind === 1) {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(big);
      } else {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.write('{"status":"success","data":{"resultType":"vector","result":[');
        const timer = setInterval(() => response.write(' '.repeat(1024)), 200);
        response.on('close', () => clearInterval(timer));
      }
    });
    await checks.create(LOAD, 'hostile', {
      etcd: etcdSpec(),
      prometheus: { url: hostile.url, timeout: '5s' },
      interval: `${INTERVAL_S}s`,
    });
    const names = Array.from({ length: LOAD_CHECKS }, (_, i) => `check-${i}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map((name) =>
          checks.create(LOAD, name, {
            etcd: etcdSpec(),
            prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
            interval: `${INTERVAL_S}s`,
          }),
        ),
      );
    }
    const lastChecks = async () => {
      const text = await (await fetch(operator.metricsUrl)).text();
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^etcd_health_check_last_check_timestamp_seconds\{([^}]*)\} (\S+)$/gm)) {
        const labels = m[1]!;
        const name = /name="([^"]+)"/.exec(labels)?.[1];
        if (labels.includes(`namespace="${LOAD}"`) && name) out.set(name, Number(m[2]));
      }
      return out;
    };
    await eventually(async () => (await lastChecks()).size >= LOAD_CHECKS + 1, {
      timeoutMs: 150_000,
      intervalMs: 1_000,
      description: 'every check of the load namespace checked once',
    });

    // Watch for six intervals: each check's completion times, the operator's RSS, and what the
    // queue and the reconciles took meanwhile (to tell waiting from working in the lag).
    const histogramsBefore = await histograms();
    const seen = new Map<string, number[]>();
    let maxRss = 0;
    const until = Date.now() + 6 * INTERVAL_S * 1000;
    while (Date.now() < until) {
      expect(operator.process.exited()).toBe(false);
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${operator.process.pid}/status`, 'utf8'));
      maxRss = Math.max(maxRss, Number(rss?.[1] ?? 0) * 1024);
      for (const [name, time] of await lastChecks()) {
        const times = seen.get(name) ?? [];
        if (times.at(-1) !== time) times.push(time);
        seen.set(name, times);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    const histogramsAfter = await histograms();
    const p99Of = (name: string) =>
      bucketQuantile(histogramsBefore.get(name), histogramsAfter.get(name), 0.99);

    // Lag: how much later than its requeue (interval + 10 % jitter at most) a check ran again.
    const lags: number[] = [];
    for (const name of names) {
      const times = seen.get(name) ?? [];
      for (let i = 1; i < times.length; i++)
        lags.push(Math.max(0, times[i]! - times[i - 1]! - INTERVAL_S * 1.1));
    }
    lags.sort((a, b) => a - b);
    const p99 = lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))] ?? Infinity;
    console.log(
      `hostile Prometheus + ${LOAD_CHECKS} checks: schedule lag p99 ${p99.toFixed(3)}s, max ${lags.at(-1)?.toFixed(3)}s over ${lags.length} intervals ` +
        `(queue wait p99 <= ${p99Of(QUEUE_WAIT)}s, reconcile p99 <= ${p99Of(RECONCILE)}s); ` +
        `operator max RSS ${(maxRss / 1024 / 1024).toFixed(1)} MiB (limit ${memoryLimitBytes / 1024 / 1024} MiB); hostile answered ${served} queries`,
    );

    expect(operator.process.exited()).toBe(false);
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(memoryLimitBytes);
    // Every check ran again within the window, and a generous bound on the lag (no timing goal).
    expect(lags.length).toBeGreaterThanOrEqual(LOAD_CHECKS * 3);
    expect(p99).toBeLessThan(INTERVAL_S);
    expect(served).toBeGreaterThan(0);

    // The hostile check's failure is its own condition, in a short line without the body.
    const hostileStatus = (await checks.get(LOAD, 'hostile')).status;
    expect(hostileStatus?.lastCheck?.prometheus.state).toBe('Error');
    expect(sourceMessage(hostileStatus)).toMatch(/larger than \d+ bytes|no answer within|memory budget/);
    expect(sourceMessage(hostileStatus)).not.toContain('{"status"');
    const reachable = hostileStatus?.conditions?.find((c) => c.type === 'MetricsSourceReachable');
    expect(reachable?.message).toMatch(/larger than \d+ bytes|no answer within|memory budget/);
    const notes = (await checks.eventsOf(LOAD, 'hostile')).map((e) => e.note ?? '');
    expect(notes.some((note) => note.includes('MetricsSourceReachable'))).toBe(true);
    for (const note of notes) expect(note).not.toContain('{"status"');
    const healthy = await checks.get(LOAD, 'check-0');
    expect(healthy.status?.lastCheck?.prometheus.state).not.toBe('Error');
  }, 420_000);
});
