// spec.backup.cronJob on real parts: a real kube-apiserver with the CRD and the RBAC of deploy/, a
// CronJob whose status the test sets (no controller-manager runs here, so nothing else writes it),
// a real etcd member, and the operator process running as its ServiceAccount. A last success older
// than maxAge makes BackupStale and Upgradeable=False; a fresh one clears both. Admission enforces
// the spec.backup rules as zod does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchV1Api, type V1CronJob } from '@kubernetes/client-node';
import {
  BACKUP_MAX_AGE_RULE,
  BACKUP_PROMETHEUS_RULE,
  BACKUP_SOURCE_RULE,
  EtcdHealthCheckSpecSchema,
} from '../../src/api/v1alpha1/spec.js';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/resource.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { apiErrorStatus, mergePatch } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  applyBaseManifests,
  bindToOperator,
} from '../harness/operator-rbac.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

const GRANTED = 'etcd-backups';
const NOT_GRANTED = 'etcd-elsewhere';
const CRONJOB = 'etcd-backup';
const HOUR_MS = 3_600_000;

let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: Checks;
let batch: BatchV1Api;
let prometheus: PrometheusServer;

const cronJob = (name: string): V1CronJob => ({
  metadata: { name },
  spec: {
    schedule: '0 3 * * *',
    jobTemplate: {
      spec: {
        template: {
          spec: {
            restartPolicy: 'OnFailure',
            containers: [{ name: 'snapshot', image: 'registry.example/etcd-backup:1', command: ['/backup'] }],
          },
        },
      },
    },
  },
});

/** What the CronJob controller would write after a successful run at `time`. */
async function lastSucceededAt(namespace: string, time: Date): Promise<void> {
  await batch.patchNamespacedCronJobStatus(
    {
      namespace,
      name: CRONJOB,
      body: { status: { lastScheduleTime: time.toISOString(), lastSuccessfulTime: time.toISOString() } },
    },
    mergePatch(),
  );
}

const specOf = (maxAge = '1h') => ({
  etcd: { endpoints: cluster.endpoints },
  interval: '10s',
  backup: { cronJob: { name: CRONJOB }, maxAge },
  thresholds: { degradedInertia: '0s' },
});

const upgradeable = (check: EtcdHealthCheck) => ({
  backup: conditionOf(check, 'BackupUpgradeable'),
  union: conditionOf(check, 'Upgradeable'),
  recommendations: (check.status?.recommendations ?? []).map((r) => r.type),
});

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 1 })]);
  prometheus = await startPrometheus(cluster);
  checks = checksApi(cp.kubeConfig);
  batch = cp.kubeConfig.makeApiClient(BatchV1Api);
  await applyBaseManifests(cp);
  for (const namespace of [GRANTED, NOT_GRANTED]) {
    await cp.createNamespace(namespace);
    await batch.createNamespacedCronJob({ namespace, body: cronJob(CRONJOB) });
  }
  // As an admin would where checks name a backup CronJob: in GRANTED only.
  await bindToOperator(cp, GRANTED, { clusterRole: 'etcd-health-operator-backups' });
  const token = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(token, OPERATOR_NAMESPACE),
    logDir: makeTempDir('operator-backup-logs'),
    identity: 'operator-backup',
    leaseNamespace: OPERATOR_NAMESPACE,
  });
});

afterAll(async () => {
  await cleanupAll();
});

describe('spec.backup.cronJob with the operator as its ServiceAccount', () => {
  it('a last success older than maxAge: BackupStale, Upgradeable=False and a TakeBackup recommendation', async () => {
    await lastSucceededAt(GRANTED, new Date(Date.now() - 48 * HOUR_MS));
    await checks.create(GRANTED, 'etcd', specOf());
    const seen = await eventually(
      async () => {
        const state = upgradeable(await checks.get(GRANTED, 'etcd'));
        return state.backup?.status === 'False' ? state : undefined;
      },
      { timeoutMs: 60_000, description: 'BackupUpgradeable=False' },
    );
    expect(seen.backup).toMatchObject({ reason: 'BackupStale' });
    expect(seen.backup?.message).toMatch(
      /^The last etcd backup \(CronJob etcd-backup, \S+\) is 4[78]h\d*m?\d*s? old/,
    );
    expect(seen.union).toMatchObject({ status: 'False' });
    expect(seen.union?.reason.split('::')).toContain('Backup_BackupStale');
    expect(seen.recommendations).toContain('TakeBackup');
  });

  it('a fresh lastSuccessfulTime clears both at the next check', async () => {
    await lastSucceededAt(GRANTED, new Date());
    const seen = await eventually(
      async () => {
        const state = upgradeable(await checks.get(GRANTED, 'etcd'));
        return state.backup?.status === 'True' ? state : undefined;
      },
      // The interval is 10s; nothing watches the CronJob, so the next periodic check sees it.
      { timeoutMs: 60_000, description: 'BackupUpgradeable=True' },
    );
    expect(seen.backup).toMatchObject({ reason: 'AsExpected' });
    expect(seen.backup?.message).toMatch(/within the maximum age of 1h$/);
    expect(seen.union?.reason ?? '').not.toContain('Backup_');
    expect(seen.recommendations).not.toContain('TakeBackup');
    const check = await checks.get(GRANTED, 'etcd');
    expect(conditionOf(check, 'BackupDegraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('a CronJob the operator may not read: Unknown, naming the ClusterRole that would allow it', async () => {
    await lastSucceededAt(NOT_GRANTED, new Date());
    await checks.create(NOT_GRANTED, 'etcd', specOf());
    const backup = await eventually(
      async () => conditionOf(await checks.get(NOT_GRANTED, 'etcd'), 'BackupUpgradeable'),
      { timeoutMs: 60_000, description: 'BackupUpgradeable' },
    );
    expect(backup).toMatchObject({ status: 'Unknown', reason: 'BackupUnreadable' });
    expect(backup.message).toContain('etcd-health-operator-backups');
  });
});

describe('spec.backup.prometheus through a real Prometheus', () => {
  // The query is evaluated by Prometheus: its value is a unix time computed there.
  const specWithQuery = (query: string) => ({
    etcd: { endpoints: cluster.endpoints },
    prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
    interval: '10s',
    backup: { prometheus: { query }, maxAge: '1h' },
  });
  const backupCondition = async () => conditionOf(await checks.get(GRANTED, 'by-query'), 'BackupUpgradeable');

  it('a value two hours ago is stale; a query answering now clears it', async () => {
    await checks.create(GRANTED, 'by-query', specWithQuery('vector(time() - 7200)'));
    const stale = await eventually(
      async () => {
        const condition = await backupCondition();
        return condition?.status === 'False' ? condition : undefined;
      },
      { timeoutMs: 60_000, description: 'BackupUpgradeable=False from the query' },
    );
    expect(stale).toMatchObject({ reason: 'BackupStale' });
    expect(stale.message).toMatch(/^The last etcd backup \(the backup query, \S+\) is 2h\d*m?\d*s? old/);

    await checks.patchSpec(GRANTED, 'by-query', { backup: { prometheus: { query: 'vector(time())' } } });
    const fresh = await eventually(
      async () => {
        const condition = await backupCondition();
        return condition?.status === 'True' ? condition : undefined;
      },
      { timeoutMs: 60_000, description: 'BackupUpgradeable=True from the query' },
    );
    expect(fresh).toMatchObject({ reason: 'AsExpected' });
  });

  it('a query Prometheus refuses: Unknown with its error', async () => {
    await checks.create(GRANTED, 'bad-query', specWithQuery('max(up'));
    const condition = await eventually(
      async () => conditionOf(await checks.get(GRANTED, 'bad-query'), 'BackupUpgradeable'),
      { timeoutMs: 60_000, description: 'BackupUpgradeable' },
    );
    expect(condition).toMatchObject({ status: 'Unknown', reason: 'BackupUnreadable' });
    expect(condition.message).toMatch(/the backup query could not be read: HTTP 400: bad_data/);
  });
});

describe('spec.backup at admission: the API server rejects what zod rejects', () => {
  const etcd = { endpoints: ['https://10.0.0.1:2379'] };
  const cases: Array<[string, Record<string, unknown>, string | RegExp, string]> = [
    [
      'two sources',
      { etcd, backup: { cronJob: { name: 'b' }, openshift: {} } },
      BACKUP_SOURCE_RULE,
      'spec.backup',
    ],
    ['no source', { etcd, backup: {} }, BACKUP_SOURCE_RULE, 'spec.backup'],
    [
      'maxAge below 1m',
      { etcd, backup: { openshift: {}, maxAge: '30s' } },
      BACKUP_MAX_AGE_RULE,
      'spec.backup.maxAge',
    ],
    [
      'a query without spec.prometheus',
      { etcd, backup: { prometheus: { query: 'max(x)' } } },
      BACKUP_PROMETHEUS_RULE,
      'spec.backup',
    ],
    [
      'a query with a newline',
      {
        etcd,
        prometheus: { url: 'http://prometheus:9090' },
        backup: { prometheus: { query: 'max(x)\nor vector(1)' } },
      },
      /should match/,
      'spec.backup.prometheus.query',
    ],
    [
      'a CronJob name with capitals',
      { etcd, backup: { cronJob: { name: 'Backup' } } },
      /should match/,
      'spec.backup.cronJob.name',
    ],
  ];

  it.each(cases)('%s', async (_title, spec, message, field) => {
    const status = await checks
      .create(GRANTED, `invalid-${Math.random().toString(36).slice(2, 8)}`, spec)
      .then(
        () => undefined,
        (error: unknown) => apiErrorStatus(error),
      );
    expect(status).toMatchObject({ code: 422, reason: 'Invalid' });
    const causes = status?.details?.causes ?? [];
    expect(causes.map((c) => c.field)).toContain(field);
    expect(causes.find((c) => c.field === field)?.message).toMatch(message);
    const parsed = EtcdHealthCheckSpecSchema.safeParse(spec);
    expect(parsed.success).toBe(false);
    const fields = parsed.success ? [] : parsed.error.issues.map((i) => ['spec', ...i.path].join('.'));
    expect(fields).toContain(field);
  });

  it('accepts a valid query with quotes and braces', async () => {
    const spec = {
      etcd,
      prometheus: { url: 'http://prometheus:9090' },
      backup: { prometheus: { query: 'max(etcdbr_snapshot_latest_timestamp{kind="Full"})' } },
      // Only admission is under test: the operator leaves a suspended check alone.
      suspend: true,
    };
    await checks.create(GRANTED, 'valid-query', spec);
    const stored = await checks.get(GRANTED, 'valid-query');
    expect(stored.spec).toMatchObject({ backup: { prometheus: spec.backup.prometheus, maxAge: '24h' } });
  });
});
