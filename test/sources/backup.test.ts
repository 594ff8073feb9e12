// Reading spec.backup's evidence: each source's answers turned into Found / None / Unreadable,
// never a throw, with a deadline and the caller's signal honoured.
import { describe, expect, it } from '@jest/globals';
import { EtcdHealthCheckSpecSchema, type BackupSpec } from '../../src/api/v1alpha1/spec.js';
import { observeBackup, type BackupCondition, type BackupReader } from '../../src/sources/backup.js';
import type { PrometheusClient, QueryOutcome } from '../../src/sources/prometheus/client.js';

const NOW = new Date('2026-12-06T12:00:00Z');

function backupSpec(backup: Record<string, unknown>): BackupSpec {
  return EtcdHealthCheckSpecSchema.parse({
    etcd: { endpoints: ['https://10.0.0.1:2379'] },
    prometheus: { url: 'http://prometheus:9090' },
    backup,
  }).backup!;
}

function reader(answers: Partial<BackupReader>): BackupReader {
  const unexpected = () => Promise.reject(new Error('not asked for'));
  return { cronJobLastSuccess: unexpected, etcdBackupConditions: unexpected, ...answers };
}

function client(outcome: QueryOutcome, seen: string[] = []): PrometheusClient {
  return {
    query: (promql) => {
      seen.push(promql);
      return Promise.resolve(outcome);
    },
    close: () => undefined,
  };
}

const cronJob = backupSpec({ cronJob: { name: 'etcd-backup' } });
const openshift = backupSpec({ openshift: {} });
const query = backupSpec({ prometheus: { query: 'max(backup_last_success_timestamp_seconds)' } });
const completed = (time: string, type = 'Completed'): BackupCondition[] => [
  { type: 'Running', status: 'False', lastTransitionTime: '2026-12-01T00:00:00Z' },
  { type, status: 'True', lastTransitionTime: time },
];

describe('a CronJob', () => {
  it('reads status.lastSuccessfulTime of the named CronJob in the check namespace', async () => {
    const asked: string[] = [];
    const found = await observeBackup({
      spec: cronJob,
      namespace: 'team-a',
      timeoutMs: 1000,
      reader: reader({
        cronJobLastSuccess: (namespace, name) => {
          asked.push(`${namespace}/${name}`);
          return Promise.resolve('2026-12-06T03:00:12Z');
        },
      }),
    });
    expect(asked).toEqual(['team-a/etcd-backup']);
    expect(found).toEqual({
      state: 'Found',
      evidence: 'CronJob etcd-backup',
      lastSuccess: new Date('2026-12-06T03:00:12Z'),
    });
  });

  it('never succeeded: None', async () => {
    const found = await observeBackup({
      spec: cronJob,
      namespace: 'team-a',
      timeoutMs: 1000,
      reader: reader({ cronJobLastSuccess: () => Promise.resolve(undefined) }),
    });
    expect(found).toMatchObject({ state: 'None', evidence: 'CronJob etcd-backup' });
  });

  it("a read that fails is Unreadable with the reader's reason", async () => {
    const found = await observeBackup({
      spec: cronJob,
      namespace: 'team-a',
      timeoutMs: 1000,
      reader: reader({
        cronJobLastSuccess: () => Promise.reject(new Error('CronJob etcd-backup does not exist')),
      }),
    });
    expect(found).toEqual({
      state: 'Unreadable',
      evidence: 'CronJob etcd-backup',
      error: 'CronJob etcd-backup does not exist',
    });
  });

  it('a reader that never answers is given up after the timeout', async () => {
    const found = await observeBackup({
      spec: cronJob,
      namespace: 'team-a',
      timeoutMs: 50,
      reader: reader({ cronJobLastSuccess: () => new Promise<never>(() => undefined) }),
    });
    expect(found).toMatchObject({ state: 'Unreadable', error: 'no answer within 50ms' });
  });

  it("the caller's signal ends the wait at once", async () => {
    const controller = new AbortController();
    const pending = observeBackup(
      {
        spec: cronJob,
        namespace: 'team-a',
        timeoutMs: 60_000,
        reader: reader({ cronJobLastSuccess: () => new Promise<never>(() => undefined) }),
      },
      controller.signal,
    );
    controller.abort();
    expect(await pending).toMatchObject({ state: 'Unreadable', error: 'cancelled' });
  });

  it('without a Kubernetes API (etcd-health check) it says so', async () => {
    const found = await observeBackup({ spec: cronJob, namespace: '', timeoutMs: 1000 });
    expect(found).toMatchObject({ state: 'Unreadable' });
    expect(found.state === 'Unreadable' && found.error).toMatch(/Kubernetes API/);
  });
});

describe("OpenShift's EtcdBackups", () => {
  it('the newest completed one counts, in both condition spellings; failed and running ones do not', async () => {
    const found = await observeBackup({
      spec: openshift,
      namespace: 'openshift-etcd',
      timeoutMs: 1000,
      reader: reader({
        etcdBackupConditions: () =>
          Promise.resolve([
            completed('2026-12-04T01:00:00Z'),
            completed('2026-12-05T01:00:00Z', 'BackupCompleted'),
            completed('2026-12-06T01:00:00Z', 'Failed'),
            [{ type: 'Completed', status: 'False', lastTransitionTime: '2026-12-06T02:00:00Z' }],
            [{ type: 'Running', status: 'True', lastTransitionTime: '2026-12-06T03:00:00Z' }],
            [],
          ]),
      }),
    });
    expect(found).toEqual({
      state: 'Found',
      evidence: 'EtcdBackup objects',
      lastSuccess: new Date('2026-12-05T01:00:00Z'),
    });
  });

  it('none completed: None', async () => {
    const found = await observeBackup({
      spec: openshift,
      namespace: 'openshift-etcd',
      timeoutMs: 1000,
      reader: reader({
        etcdBackupConditions: () => Promise.resolve([completed('2026-12-06T01:00:00Z', 'Failed')]),
      }),
    });
    expect(found).toMatchObject({ state: 'None', evidence: 'EtcdBackup objects' });
  });
});

describe('a PromQL expression', () => {
  const observe = (outcome: QueryOutcome, seen?: string[]) =>
    observeBackup({
      spec: query,
      namespace: '',
      timeoutMs: 1000,
      prometheus: { client: client(outcome, seen), time: NOW },
    });

  it('sends the query and takes the newest finite value as a unix time in seconds', async () => {
    const seen: string[] = [];
    const found = await observe(
      {
        ok: true,
        warnings: [],
        samples: [
          { labels: { job: 'a' }, value: 1_765_000_000 },
          { labels: { job: 'b' }, value: 1_765_010_000.5 },
          { labels: { job: 'c' }, value: NaN },
        ],
      },
      seen,
    );
    expect(seen).toEqual(['max(backup_last_success_timestamp_seconds)']);
    expect(found).toEqual({
      state: 'Found',
      evidence: 'the backup query',
      lastSuccess: new Date(1_765_010_000_500),
    });
  });

  it('no series: None', async () => {
    expect(await observe({ ok: true, warnings: [], samples: [] })).toMatchObject({ state: 'None' });
  });

  it.each([
    ['NaN only', [NaN], 'its series hold no number (NaN or infinite)'],
    ['a count, not a time', [42], 'its newest value is not a unix time in seconds'],
    ['milliseconds', [1_765_000_000_000], 'its newest value is not a unix time in seconds'],
  ])('%s: Unreadable, without quoting the value', async (_title, values, error) => {
    const found = await observe({
      ok: true,
      warnings: [],
      samples: values.map((value) => ({ labels: {}, value })),
    });
    expect(found).toEqual({ state: 'Unreadable', evidence: 'the backup query', error });
  });

  it("a failed query is Unreadable with the client's reason", async () => {
    expect(await observe({ ok: false, error: 'HTTP 400: bad_data: parse error' })).toEqual({
      state: 'Unreadable',
      evidence: 'the backup query',
      error: 'HTTP 400: bad_data: parse error',
    });
  });

  it('without a usable spec.prometheus nothing is sent', async () => {
    const found = await observeBackup({ spec: query, namespace: '', timeoutMs: 1000 });
    expect(found).toMatchObject({ state: 'Unreadable' });
  });
});
