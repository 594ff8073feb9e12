// The operator process across a real kube-apiserver restart (SIGTERM, start, /readyz): its
// reflector resumes, a CR created after /readyz gets its status, every CR is checked again, and
// what it sends to the recovering apiserver in the first minute stays within what its design
// allows (the apiserver's audit log of the operator's own ServiceAccount, no clock assertions).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checksApi, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import {
  clusterAdminServiceAccount,
  countRequests,
  requestAudit,
  type RequestAudit,
} from './api-requests.js';

const ns = 'restart-team';
const CHECKS = 20;
const INTERVAL_S = 10;
const names = Array.from({ length: CHECKS }, (_, i) => `ehc-${i}`);

let cp: ControlPlane;
let cluster: EtcdCluster;
let audit: RequestAudit;
let checks: Checks;
let operator: OperatorProcess;

const spec = () => ({ etcd: { endpoints: cluster.endpoints }, interval: `${INTERVAL_S}s` });

async function hasStatus(name: string): Promise<boolean> {
  const check = await checks.get(ns, name);
  return (
    check.status?.lastCheck !== undefined && check.status.observedGeneration === check.metadata.generation
  );
}

/** Unix seconds of the last completed check of each CR, from the operator's per-CR gauge. */
async function lastChecks(): Promise<Map<string, number>> {
  const text = await (await fetch(operator.metricsUrl)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^etcd_health_check_last_check_timestamp_seconds\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || !match[1]!.includes(`namespace="${ns}"`)) continue;
    const name = /name="([^"]*)"/.exec(match[1]!)?.[1];
    if (name) out.set(name, Number(match[2]));
  }
  return out;
}

beforeAll(async () => {
  const username = 'system:serviceaccount:restart-operator:operator';
  audit = requestAudit(makeTempDir('apiserver-restart-audit'), username);
  [cp, cluster] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startEtcdCluster({ members: 1 }),
  ]);
  checks = checksApi(cp.kubeConfig);
  await cp.createNamespace(ns);
  const identity = await clusterAdminServiceAccount(cp, 'restart-operator', 'operator');
  expect(identity.username).toBe(username);
  operator = await startOperator({
    kubeconfigPath: identity.kubeconfigPath,
    logDir: makeTempDir('apiserver-restart-logs'),
    identity: 'restart',
    extraArgs: ['--log-level=info'],
  });
  for (const name of names) await checks.create(ns, name, spec());
  await eventually(async () => (await Promise.all(names.map(hasStatus))).every(Boolean), {
    timeoutMs: 120_000,
    description: `a status on all ${CHECKS} checks`,
  });
});

afterAll(async () => {
  await cleanupAll();
});

describe('the operator across a kube-apiserver restart', () => {
  it('resumes its watch, serves a CR created after /readyz, checks every CR again, and sends no retry storm', async () => {
    const failedBefore =
      (await operator.metric('etcd_health_operator_reconcile_total', { result: 'error' })) ?? 0;
    const stoppedAt = Date.now();
    await cp.restartApiServer();
    const readyAt = Date.now();
    await checks.create(ns, 'after-restart', spec());

    await eventually(() => hasStatus('after-restart'), {
      timeoutMs: 90_000,
      intervalMs: 100,
      description: 'a status on the CR created after /readyz',
    });
    await eventually(
      async () => {
        const last = await lastChecks();
        return names.every((name) => (last.get(name) ?? 0) * 1000 > readyAt);
      },
      { timeoutMs: 90_000, intervalMs: 1_000, description: 'every CR checked again after /readyz' },
    );
    expect(operator.process.exited()).toBe(false);

    // The audit log holds the whole first minute once it is over.
    await eventually(() => Date.now() > readyAt + 61_000, { timeoutMs: 120_000, intervalMs: 1_000 });
    const counted = countRequests(audit.requests(), stoppedAt, readyAt, 60);
    const failed =
      ((await operator.metric('etcd_health_operator_reconcile_total', { result: 'error' })) ?? 0) -
      failedBefore;
    console.log(
      `apiserver restart: operator requests ${counted.beforeReady} before /readyz, ${counted.total} in the ` +
        `first minute (peak ${counted.peakPerSecond}/s) ${JSON.stringify(counted.byVerb)} ` +
        `codes ${JSON.stringify(counted.byCode)}; ${failed} failed reconciles`,
    );

    // What the design sends in a minute: one LIST and a watch per informer (here one; a failed
    // watch or LIST is retried with backoff once the server answers), at most one status PATCH
    // per reconcile and an Event per condition transition, and a reconcile per CR per
    // 0.9 x interval, plus the new CR. 21 CRs at 10 s: at most ~147 reconciles. A retry storm
    // (every CR retried at once, repeatedly, or relists in a loop) is far beyond both bounds.
    const reconcilesPerMinute = (CHECKS + 1) * Math.ceil(60 / (0.9 * INTERVAL_S));
    expect(counted.total).toBeGreaterThan(0);
    expect(counted.total).toBeLessThanOrEqual(2 * reconcilesPerMinute + 20);
    expect(counted.peakPerSecond).toBeLessThanOrEqual(CHECKS + 10);
    const relists = counted.byVerb['list etcdhealthchecks'] ?? 0;
    expect(relists).toBeLessThanOrEqual(10);
    // Before /readyz the apiserver either refuses connections (which the reflector retries
    // without reaching it) or answers with errors (which it backs off from).
    expect(counted.beforeReady).toBeLessThanOrEqual(20);
    // A reconcile fails only when its status write meets the outage; each CR's failures are
    // retried with per-key backoff, never more often than the reconciles themselves.
    expect(failed).toBeLessThanOrEqual(reconcilesPerMinute);
  });
});
