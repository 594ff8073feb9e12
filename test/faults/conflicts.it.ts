// A second writer of the EtcdHealthCheck status (another controller adding its own condition, as
// fast as the apiserver lets it) while the operator, as its own process, defragments in mode
// Automatic and records each step in status.remediation with resourceVersion preconditions. What
// the remediator wrote must survive (no lost update), its 409s must stay bounded and stop when the
// other writer stops (no endless conflict loop), and the conditions must converge.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import type { Condition } from '../../src/api/v1alpha1/status.js';
import { auditLog, type AuditLog } from '../harness/audit.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { fragment } from '../harness/faults.js';
import { apiErrorStatus, mergePatch } from '../harness/kube.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  OPERATOR_USER,
  applyBaseManifests,
} from '../harness/operator-rbac.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { defragIntervals, historyOf, story } from '../remediation/e2e-support.js';

const ns = 'etcd-team';
const NAME = 'main';
const FOREIGN = 'ExternalAudit';

let cp: ControlPlane;
let cluster: EtcdCluster;
let prometheus: PrometheusServer;
let audit: AuditLog;
let operator: OperatorProcess;
let checks: NamespacedChecks;

interface SecondWriter {
  /** Status patches that went through, and those refused with 409. */
  readonly written: number;
  readonly conflicts: number;
  stop(): Promise<void>;
}

/**
 * Another controller: reads the object, sets its own condition (a new message each time) and
 * writes the conditions back with the resourceVersion it read as a precondition, in a loop.
 */
function startSecondWriter(): SecondWriter {
  const api = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const where = { group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: NAME };
  let running = true;
  const counts = { written: 0, conflicts: 0 };
  const loop = (async () => {
    for (let pass = 0; running; pass++) {
      const object = (await api.getNamespacedCustomObject(where)) as EtcdHealthCheck;
      const conditions: Condition[] = [
        ...(object.status?.conditions ?? []).filter((c) => c.type !== FOREIGN),
        {
          type: FOREIGN,
          status: 'True',
          reason: 'Audited',
          message: `pass ${pass}`,
          lastTransitionTime: new Date().toISOString(),
          observedGeneration: object.metadata.generation ?? 0,
        },
      ];
      try {
        await api.patchNamespacedCustomObjectStatus(
          {
            ...where,
            body: { metadata: { resourceVersion: object.metadata.resourceVersion }, status: { conditions } },
          },
          mergePatch(),
        );
        counts.written++;
      } catch (error) {
        if (apiErrorStatus(error).code !== 409) throw error;
        counts.conflicts++;
      }
    }
  })();
  return {
    get written() {
      return counts.written;
    },
    get conflicts() {
      return counts.conflicts;
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The operator's status PATCHes the apiserver refused with 409 Conflict. */
function operatorConflicts(): number {
  const ids = new Set<string>();
  for (const request of audit.requests({ username: OPERATOR_USER, resource: PLURAL })) {
    if (request.verb === 'patch' && request.responseStatus?.code === 409 && request.auditID)
      ids.add(request.auditID);
  }
  return ids.size;
}

const reconciles = async () => (await operator.metric('etcd_health_operator_reconcile_total')) ?? 0;

beforeAll(async () => {
  audit = auditLog(makeTempDir('conflicts-audit'), { allResources: true });
  [cp, cluster] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startEtcdCluster({ members: 3 }),
  ]);
  prometheus = await startPrometheus(cluster);
  await applyBaseManifests(cp);
  await cp.createNamespace(ns);
  checks = checksIn(cp.kubeConfig, ns);
  const token = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  operator = await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(token, OPERATOR_NAMESPACE),
    logDir: makeTempDir('conflicts-operator-logs'),
    identity: 'conflicts',
    leaseNamespace: OPERATOR_NAMESPACE,
  });
  await prometheus.waitForScrapes(2);
});

afterAll(async () => {
  await cluster?.stop();
  await cleanupAll();
});

describe('a second writer of the status during Automatic remediation', () => {
  it('loses no remediation record, bounds the 409s, and the conditions converge', async () => {
    await fragment(cluster, { keys: 600, valueBytes: 16 * 1024 });
    await checks.create(NAME, {
      etcd: { endpoints: cluster.endpoints },
      prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'], rateWindow: '1m' },
      interval: '10s',
      thresholds: {
        degradedInertia: '0s',
        fragmentation: { minDatabaseSize: '1Mi' },
        walFsyncP99: { warning: '1s', critical: '2s' },
        backendCommitP99: { warning: '1s', critical: '2s' },
        peerRoundTripP99: { warning: '1s', critical: '2s' },
      },
      remediation: { mode: 'Automatic', settleTime: '3s', memberCooldown: '1h' },
    });
    const writer = startSecondWriter();
    let done: EtcdHealthCheck;
    try {
      done = await eventually(
        async () => {
          const check = await checks.get(NAME);
          const defragmented = historyOf(check).filter(
            (r) => r.action === 'Defragment' && r.phase === 'Succeeded',
          );
          if (defragmented.length === 3 && check.status?.remediation?.current === undefined) return check;
          throw new Error(
            `history: ${story(historyOf(check)).join(', ') || 'none'}; operator 409s ${operatorConflicts()}; ` +
              `second writer ${writer.written} written, ${writer.conflicts} refused`,
          );
        },
        { timeoutMs: 150_000, intervalMs: 500, description: 'every member defragmented' },
      );
    } finally {
      await writer.stop();
    }
    const conflictsWhileWriting = operatorConflicts();
    console.log(
      `second writer: ${writer.written} status writes, ${writer.conflicts} refused; ` +
        `operator: ${conflictsWhileWriting} status PATCHes refused with 409; ${story(historyOf(done)).join(', ')}`,
    );
    // The other writer really wrote in between, many times.
    expect(writer.written).toBeGreaterThan(20);

    // No lost update: each defragmentation etcd logged is in the history, none twice.
    const history = historyOf(done);
    expect(history.filter((r) => r.action === 'Defragment')).toHaveLength(defragIntervals(cluster).length);
    expect(new Set(history.filter((r) => r.action === 'Defragment').map((r) => r.member)).size).toBe(3);

    // Bounded: a step's write retried a few times at most, not a loop.
    expect(conflictsWhileWriting).toBeLessThanOrEqual(60);

    // The conditions converge, and the 409s stop once the other writer has.
    await eventually(
      async () => {
        const check = await checks.get(NAME);
        return (
          conditionOf(check, 'Progressing')?.status === 'False' &&
          conditionOf(check, 'RemediationProgressing')?.status === 'False'
        );
      },
      { timeoutMs: 60_000, description: 'Progressing and RemediationProgressing False' },
    );
    const settled = operatorConflicts();
    const before = await reconciles();
    await eventually(async () => (await reconciles()) >= before + 3, {
      timeoutMs: 90_000,
      description: 'three more reconciles',
    });
    expect(operatorConflicts()).toBe(settled);
    const final = await checks.get(NAME);
    expect(historyOf(final)).toEqual(history);
    expect(conditionOf(final, 'Available')?.status).toBe('True');

    // One owner per condition: a status write of the operator (here for a new generation) keeps
    // the other writer's condition as that writer left it.
    const theirs = conditionOf(final, FOREIGN);
    expect(theirs?.message).toMatch(/^pass \d+$/);
    await checks.patchSpec(NAME, { interval: '11s' });
    const rewritten = await eventually(
      async () => {
        const check = await checks.get(NAME);
        return check.status?.observedGeneration === (final.metadata.generation ?? 0) + 1 && check;
      },
      { timeoutMs: 60_000, description: 'the status of the new generation' },
    );
    expect(conditionOf(rewritten, FOREIGN)).toEqual(theirs);
  });
});
