// `make demo` / `npm run demo`: the operator on real components, on this machine, in about three
// minutes once the control plane is built. A 3-member etcd cluster under a small write load, a
// Prometheus scraping it, a kube-apiserver with the CRD and the operator as its own process; an
// EtcdHealthCheck is applied, a slow disk is injected on one member (strace delays its fsyncs),
// the CR turns Degraded with a storage recommendation, the disk is healed and the CR recovers.
// Everything is stopped by PID at the end, on failure and on Ctrl-C; --keep leaves it running.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../src/api/v1alpha1/index.js';
import { controlPlaneBinDir } from '../test/harness/binaries.js';
import { startControlPlane } from '../test/harness/controlplane.js';
import { startEtcdClusterWithSlowDisk } from '../test/harness/etcd-cluster.js';
import { eventually } from '../test/harness/eventually.js';
import { startWriteLoad } from '../test/harness/faults.js';
import { startOperator } from '../test/harness/operator.js';
import { makeTempDir } from '../test/harness/process.js';
import { Teardown } from '../test/harness/teardown.js';
import { startPrometheus } from '../test/harness/prometheus.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const NAMESPACE = 'etcd-demo';
const NAME = 'etcd';
const SLOW_DELAY_US = 80_000;
const POLL_MS = 2_000;

const USAGE = `Usage: npm run demo [-- --keep]

Starts a 3-member etcd cluster, Prometheus, a kube-apiserver with the EtcdHealthCheck CRD and the
operator on this machine, applies an EtcdHealthCheck, injects a slow disk on one member, shows the
CR turn Degraded with a storage recommendation, heals the disk and shows it recover. Runs
hack/setup.sh first (Debian packages, npm ci, the control plane build: about 7 minutes on 2 cores
the first time, cached afterwards). Everything it starts is stopped by PID when it ends or on Ctrl-C.

  --keep    leave everything running at the end and print how to look at it; Ctrl-C stops it
  -h, --help
`;

const started = Date.now();
const teardown = new Teardown(step);
/** Logs worth showing when a step fails. */
const logs: { what: string; path: string }[] = [];

function clock(from = started): string {
  const s = Math.floor((Date.now() - from) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function step(text: string): void {
  process.stdout.write(`[${clock()}] ${text}\n`);
}

function detail(text: string): void {
  process.stdout.write(`${text.replace(/^/gm, '        ')}\n`);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

function runSetup(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['hack/setup.sh'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`hack/setup.sh exited with ${code}`)),
    );
  });
}

function crManifest(endpoints: readonly string[], prometheusUrl: string): string {
  return `apiVersion: ${GROUP}/${VERSION}
kind: EtcdHealthCheck
metadata:
  name: ${NAME}
  namespace: ${NAMESPACE}
spec:
  etcd:
    endpoints:
${endpoints.map((endpoint) => `      - ${endpoint}`).join('\n')}
  prometheus:
    url: ${prometheusUrl}
    labelMatchers: ['job="etcd"']
    rateWindow: 1m
  interval: 10s
  thresholds:
    degradedInertia: 20s
    walFsyncP99: { warning: 30ms, critical: 50ms }
    backendCommitP99: { warning: 60ms, critical: 100ms }
`;
}

type Check = EtcdHealthCheck;

function conditionOf(check: Check | undefined, type: string) {
  return check?.status?.conditions?.find((c) => c.type === type);
}

function statusOf(check: Check | undefined, type: string): string {
  return conditionOf(check, type)?.status ?? '-';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  teardown.onSignals((code) => process.exit(code));

  step(
    'etcd-health-operator demo: real etcd, Prometheus, kube-apiserver and operator processes on this machine',
  );
  step(
    'setup: hack/setup.sh installs what is missing (Debian packages, npm ci, the control plane built from the Go module proxy: about 7 minutes on 2 cores the first time, cached afterwards)',
  );
  const setupStarted = Date.now();
  await runSetup();
  step(`setup done in ${seconds(Date.now() - setupStarted)}`);

  step('starting a 3-member etcd cluster, Prometheus and a kube-apiserver with the EtcdHealthCheck CRD');
  const t0 = Date.now();
  const [cp, cluster] = await Promise.all([
    startControlPlane().then((controlPlane) => {
      teardown.add('kube-apiserver', () => controlPlane.stop());
      return controlPlane;
    }),
    startEtcdClusterWithSlowDisk({ members: 3 }).then((etcd) => {
      teardown.add('etcd', () => etcd.stop());
      return etcd;
    }),
  ]);
  const prometheus = await startPrometheus(cluster);
  teardown.add('Prometheus', () => prometheus.stop());
  await prometheus.waitForScrapes(2);
  const leader = await cluster.waitForLeader();
  step(`started in ${seconds(Date.now() - t0)}:`);
  detail(
    [
      `etcd ${cluster.version}      ${cluster.members.map((m) => `${m.name} ${m.clientURL}`).join(', ')}; leader ${leader}`,
      `Prometheus    ${prometheus.url}, scraping every member every second (job "etcd")`,
      `kube-apiserver ${cp.server}, CRD etcdhealthchecks.etcdhealth.io installed`,
    ].join('\n'),
  );

  const load = startWriteLoad(cluster, { perSecond: 20 });
  teardown.add('write load', async () => void (await load.stop()));
  step('write load: 20 small puts a second, so that the WAL fsync and backend commit latencies have samples');

  await cp.createNamespace(NAMESPACE);
  const logDir = makeTempDir('demo-operator');
  const operator = await startOperator({ kubeconfigPath: cp.kubeconfigPath, logDir, identity: 'demo' });
  teardown.add('operator', () => operator.stop());
  logs.push({ what: 'operator', path: operator.process.logPath });
  step(`operator running as its own process (PID ${operator.process.pid}), log ${operator.process.logPath}`);

  const manifest = crManifest(cluster.endpoints, prometheus.url);
  step('applying this EtcdHealthCheck:');
  detail(manifest.trimEnd());
  detail(
    [
      'interval 10s: one check every 10 seconds (default 30s).',
      'degradedInertia 20s: a check must stay critical for 20s before Degraded turns True (default 2m), so the demo is quick.',
      'rateWindow 1m: latencies are p99 over the last minute (default 5m), so recovery shows within a minute.',
      "WAL fsync warning 30ms (default 10ms), backend commit warning 60ms (default 25ms): this machine's disk",
      'is shared and not a production disk; the critical thresholds are the defaults, 50ms and 100ms.',
    ].join('\n'),
  );
  const applied = await cp.kubectl(['apply', '-f', '-'], { input: manifest });
  if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
  detail(applied.stdout.trim());
  const appliedAt = Date.now();

  const api = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const getCheck = async () =>
    (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      name: NAME,
    })) as Check;
  let shownSignature = '';
  let shownAt = 0;
  const printTable = async () => {
    const table = await cp.kubectl(['get', 'etcdhealthcheck', '-n', NAMESPACE]);
    process.stdout.write(`[${clock()}] $ kubectl get etcdhealthcheck -n ${NAMESPACE}\n`);
    detail((table.stdout || table.stderr).trimEnd());
    shownAt = Date.now();
  };
  /** Polls the CR, printing the kubectl table whenever a condition, the members or the leader change. */
  const waitFor = async (description: string, timeoutMs: number, ready: (check: Check) => boolean) => {
    const check = await eventually(
      async () => {
        const current = await getCheck();
        const signature =
          ['Available', 'Progressing', 'Degraded'].map((t) => statusOf(current, t)).join('/') +
          ` ${current.status?.summary?.members ?? ''} ${current.status?.summary?.leader ?? ''}`;
        if (signature !== shownSignature) {
          shownSignature = signature;
          await printTable();
        }
        return ready(current) && current;
      },
      { timeoutMs, intervalMs: POLL_MS, description },
    );
    // The table as it is when the wait ends, unless it was just printed.
    if (Date.now() - shownAt > POLL_MS) await printTable();
    return check;
  };
  /** Every check has data and passes: not only the unions, whose inertia also delays Unknown. */
  const allChecksPass = (c: Check) =>
    statusOf(c, 'Available') === 'True' &&
    statusOf(c, 'MetricsSourceReachable') === 'True' &&
    (c.status?.conditions ?? [])
      .filter((x) => x.type.endsWith('Degraded'))
      .every((x) => x.status === 'False');

  step('waiting for the operator to write the status');
  await waitFor('a first status', 90_000, (c) => conditionOf(c, 'Available') !== undefined);
  step(
    `first status ${seconds(Date.now() - appliedAt)} after the apply; waiting until every check has data (peer round trips take a few samples) and passes`,
  );
  const healthy = await waitFor('every check to have data and pass', 180_000, allChecksPass);
  step(
    `healthy ${seconds(Date.now() - appliedAt)} after the apply: Available=True, Degraded=False, members ${healthy.status?.summary?.members}, WAL fsync p99 ${healthy.status?.summary?.walFsyncP99}`,
  );

  const current = await cluster.waitForLeader();
  const slow = cluster.members
    .map((m) => m.name)
    .reverse()
    .find((name) => name !== current)!;
  step(
    `fault: restarting ${slow} (a follower) under strace, every fsync/fdatasync delayed by ${SLOW_DELAY_US / 1000}ms: a slow disk`,
  );
  const faultAt = Date.now();
  await cluster.slowDownMember(slow, SLOW_DELAY_US);
  step(
    `${slow} is back, its etcd (PID ${cluster.member(slow).etcdPid()}) traced; waiting for its p99 to cross 50ms and the 20s inertia to pass`,
  );
  const degraded = await waitFor('Degraded=True', 240_000, (c) => statusOf(c, 'Degraded') === 'True');
  const degradedCondition = conditionOf(degraded, 'Degraded');
  step(
    `Degraded=True ${seconds(Date.now() - faultAt)} after the fault, reason ${degradedCondition?.reason}:`,
  );
  detail(degradedCondition?.message ?? '');
  const storage =
    degraded.status?.recommendations?.filter((r) => r.target === slow || r.severity === 'Critical') ?? [];
  step(`recommendation${storage.length === 1 ? '' : 's'} in status.recommendations:`);
  for (const r of storage) {
    detail(`${r.severity} ${r.type} on ${r.target} (${r.reason})\n${r.message}`);
    for (const command of r.commands ?? []) detail(`  $ ${command}`);
  }

  step(`healing: restarting ${slow} without strace`);
  const healAt = Date.now();
  await cluster.restoreMember(slow);
  step(`${slow} is back on a normal disk; the 1m rate window has to forget the slow fsyncs`);
  const recovered = await waitFor('Degraded=False', 240_000, (c) => statusOf(c, 'Degraded') === 'False');
  step(
    `recovered ${seconds(Date.now() - healAt)} after the heal: Degraded=False, WAL fsync p99 ${recovered.status?.summary?.walFsyncP99}, recommendations ${recovered.status?.summary?.recommendations}`,
  );
  const events = await cp.kubectl(['get', 'events', '-n', NAMESPACE, '--sort-by=.eventTime']);
  process.stdout.write(`[${clock()}] $ kubectl get events -n ${NAMESPACE} --sort-by=.eventTime\n`);
  detail((events.stdout || events.stderr).trimEnd());

  if (values.keep) {
    const kubectl = join(controlPlaneBinDir(), 'kubectl');
    step('--keep: everything keeps running. Try:');
    detail(
      [
        `export KUBECONFIG=${cp.kubeconfigPath}`,
        `${kubectl} get ehc -n ${NAMESPACE} -o wide`,
        `${kubectl} get ehc -n ${NAMESPACE} ${NAME} -o yaml`,
        `${kubectl} get events -n ${NAMESPACE}`,
        `curl -s ${operator.metricsUrl} | grep ^etcd_health`,
        `ETCDCTL_API=3 etcdctl --endpoints=${cluster.endpoints.join(',')} endpoint status -w table`,
        `npm run check -- --endpoints ${cluster.endpoints.join(',')} --prometheus ${prometheus.url} --rate-window 1m`,
        `(operator log: ${operator.process.logPath})`,
      ].join('\n'),
    );
    step('press Ctrl-C to stop everything and clean up');
    await new Promise<void>(() => undefined);
  }
  await teardown.run();
  step(`demo done in ${clock()}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    step(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    for (const { what, path } of logs) {
      try {
        detail(
          `--- last lines of the ${what} log (${path}):\n${readFileSync(path, 'utf8').trimEnd().split('\n').slice(-20).join('\n')}`,
        );
      } catch {
        // already removed
      }
    }
    if (process.argv.includes('--keep')) {
      step('--keep: leaving everything running for a look; Ctrl-C stops it');
      return;
    }
    await teardown.run();
    process.exit(1);
  },
);
