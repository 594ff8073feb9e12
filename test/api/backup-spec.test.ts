// spec.backup as zod reads it: one evidence source, a sane maxAge, a query without control
// characters. test/controller/backup.it.ts proves the same rules at admission on a real apiserver.
import { describe, expect, it } from '@jest/globals';
import {
  BACKUP_MAX_AGE_RULE,
  BACKUP_PROMETHEUS_RULE,
  BACKUP_SOURCE_RULE,
  EtcdHealthCheckSpecSchema,
} from '../../src/api/v1alpha1/spec.js';

const etcd = { endpoints: ['https://10.0.0.1:2379'] };
const prometheus = { url: 'http://prometheus:9090' };

function problems(spec: unknown): { field: string; message: string }[] {
  const parsed = EtcdHealthCheckSpecSchema.safeParse(spec);
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
}

describe('spec.backup', () => {
  it('is optional: without it nothing about backups is set', () => {
    const parsed = EtcdHealthCheckSpecSchema.parse({ etcd });
    expect(parsed.backup).toBeUndefined();
  });

  it('defaults maxAge to 24h', () => {
    const parsed = EtcdHealthCheckSpecSchema.parse({ etcd, backup: { cronJob: { name: 'etcd-backup' } } });
    expect(parsed.backup).toEqual({ cronJob: { name: 'etcd-backup' }, maxAge: '24h' });
  });

  it.each([
    ['a CronJob', { cronJob: { name: 'etcd-backup' } }],
    ["OpenShift's EtcdBackups", { openshift: {} }],
    ['a PromQL query', { prometheus: { query: 'max(etcdbr_snapshot_latest_timestamp{kind="Full"})' } }],
  ])('accepts %s as the one source', (_title, backup) => {
    expect(problems({ etcd, prometheus, backup: { ...backup, maxAge: '36h' } })).toEqual([]);
  });

  const cases: Array<[string, unknown, string, string | RegExp]> = [
    ['no source', {}, 'backup', BACKUP_SOURCE_RULE],
    ['two sources', { cronJob: { name: 'etcd-backup' }, openshift: {} }, 'backup', BACKUP_SOURCE_RULE],
    ['maxAge below 1m', { openshift: {}, maxAge: '30s' }, 'backup.maxAge', BACKUP_MAX_AGE_RULE],
    ['maxAge not a duration', { openshift: {}, maxAge: '1 day' }, 'backup.maxAge', /Invalid string/],
    [
      'a CronJob name with capitals',
      { cronJob: { name: 'Etcd-Backup' } },
      'backup.cronJob.name',
      /a CronJob name: lowercase letters/,
    ],
    [
      'a CronJob name over 52 characters',
      { cronJob: { name: 'a'.repeat(53) } },
      'backup.cronJob.name',
      /<=52/,
    ],
    ['a CronJob without a name', { cronJob: {} }, 'backup.cronJob.name', /expected string/],
    [
      'an unknown field in openshift',
      { openshift: { namespace: 'x' } },
      'backup.openshift',
      /Unrecognized key/,
    ],
    ['an unknown field in backup', { openshift: {}, schedule: '@daily' }, 'backup', /Unrecognized key/],
    ['an empty query', { prometheus: { query: '' } }, 'backup.prometheus.query', />=1/],
    [
      'a query with a newline',
      { prometheus: { query: 'max(x)\nor vector(0)' } },
      'backup.prometheus.query',
      'one line of PromQL, without control characters',
    ],
    [
      'a query over 1024 characters',
      { prometheus: { query: 'x'.repeat(1025) } },
      'backup.prometheus.query',
      /<=1024/,
    ],
  ];

  it.each(cases)('rejects %s, naming the field', (_title, backup, field, message) => {
    const found = problems({ etcd, prometheus, backup });
    expect(found.map((problem) => problem.field)).toContain(field);
    expect(found.find((problem) => problem.field === field)?.message).toMatch(message);
  });

  it('rejects a PromQL source without spec.prometheus, where the query would run', () => {
    expect(problems({ etcd, backup: { prometheus: { query: 'max(x)' } } })).toEqual([
      { field: 'backup', message: BACKUP_PROMETHEUS_RULE },
    ]);
  });
});
