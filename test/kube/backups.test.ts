// KubeBackupReader against a loopback API server: what it reads of a CronJob and of EtcdBackups,
// and its failures in words that name the RBAC that would allow the read. The real apiserver and
// RBAC are in test/controller/backup.it.ts.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeBackupReader } from '../../src/kube/backups.js';
import { FakeApiServer, statusBody } from '../runtime/fake-apiserver.js';

const CRONJOB = '/apis/batch/v1/namespaces/team-a/cronjobs/etcd-backup';
const ETCDBACKUPS = '/apis/operator.openshift.io/v1alpha1/etcdbackups';

describe('KubeBackupReader', () => {
  let api: FakeApiServer | undefined;
  afterEach(() => api?.close());

  const serve = async (path: string) => {
    api = await FakeApiServer.start(path);
    return new KubeBackupReader(api.kubeConfig(), 2_000);
  };

  it("reads a CronJob's lastSuccessfulTime, and undefined when it never succeeded", async () => {
    const reader = await serve(CRONJOB);
    const cronJob = (status: object) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'etcd-backup', namespace: 'team-a' },
      spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { containers: [] } } } } },
      status,
    });
    api!.replyToNextLists(
      { status: 200, body: cronJob({ lastSuccessfulTime: '2026-12-06T03:00:12Z' }) },
      { status: 200, body: cronJob({}) },
    );
    expect(await reader.cronJobLastSuccess('team-a', 'etcd-backup')).toBe('2026-12-06T03:00:12.000Z');
    expect(await reader.cronJobLastSuccess('team-a', 'etcd-backup')).toBeUndefined();
  });

  it.each([
    [403, /may not get CronJobs in namespace team-a; .* ClusterRole etcd-health-operator-backups there/],
    [404, /^CronJob etcd-backup does not exist in namespace team-a$/],
    [500, /^the API server answered 500/],
  ])('a CronJob read answered %i fails in words', async (code, message) => {
    const reader = await serve(CRONJOB);
    api!.replyToNextLists({ status: code, body: statusBody(code, 'Scripted') });
    await expect(reader.cronJobLastSuccess('team-a', 'etcd-backup')).rejects.toThrow(message);
  });

  it('lists the conditions of every EtcdBackup, one page', async () => {
    const reader = await serve(ETCDBACKUPS);
    const completed = { type: 'Completed', status: 'True', lastTransitionTime: '2026-12-06T01:00:00Z' };
    api!.objects = [
      { metadata: { name: 'a' }, status: { conditions: [completed] } },
      { metadata: { name: 'b' } },
    ];
    expect(await reader.etcdBackupConditions()).toEqual([[completed], []]);
    expect(api!.lists()[0]?.query.get('limit')).toBe('1000');
  });

  it.each([
    [
      403,
      /may not list etcdbackups\.operator\.openshift\.io; .* ClusterRole etcd-health-operator-etcdbackups/,
    ],
    [404, /does not serve etcdbackups\.operator\.openshift\.io/],
  ])('an EtcdBackup list answered %i fails in words', async (code, message) => {
    const reader = await serve(ETCDBACKUPS);
    api!.replyToNextLists({ status: code, body: statusBody(code, 'Scripted') });
    await expect(reader.etcdBackupConditions()).rejects.toThrow(message);
  });

  it('an EtcdBackup list of another shape is refused, not guessed at', async () => {
    const reader = await serve(ETCDBACKUPS);
    api!.replyToNextLists({ status: 200, body: { items: [{ status: { conditions: 'Completed' } }] } });
    await expect(reader.etcdBackupConditions()).rejects.toThrow(
      'the EtcdBackup list is not in the expected shape',
    );
  });

  it('gives up at its timeout', async () => {
    api = await FakeApiServer.start(ETCDBACKUPS);
    api.replyToNextLists('no-response');
    const reader = new KubeBackupReader(api.kubeConfig(), 200);
    await expect(reader.etcdBackupConditions()).rejects.toThrow(
      'no answer from the API server within the timeout',
    );
  });
});
