// deploy/base/user-roles.yaml on a real kube-apiserver with the real ClusterRole aggregation
// controller (kube-controller-manager running only that controller): a person bound to Kubernetes'
// `view` in a namespace reads that namespace's EtcdHealthChecks and cannot change them; `edit` and
// `admin` may create, patch and delete them; nobody but the operator writes their status. The
// answers come from real requests as those users (kubectl --as), not from can-i alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane, type KubectlResult } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { nodeBinDir } from '../harness/node.js';
import { cleanupAll, makeTempDir, startProcess } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NAMESPACE = 'team-a';
const CHECK = 'etcd';
const ROLES = { alice: 'view', bob: 'edit', carol: 'admin' } as const;
type Person = keyof typeof ROLES;

let cp: ControlPlane;

function as(person: Person, args: string[], input?: string): Promise<KubectlResult> {
  return cp.kubectl([`--as=${person}`, '-n', NAMESPACE, ...args], { input });
}

const manifest = (name: string) =>
  JSON.stringify({
    apiVersion: 'etcdhealth.io/v1alpha1',
    kind: 'EtcdHealthCheck',
    metadata: { name, namespace: NAMESPACE },
    spec: { etcd: { endpoints: ['https://10.0.0.10:2379'] } },
  });

beforeAll(async () => {
  cp = await startControlPlane();
  const rendered = await cp.kubectl(['kustomize', join(REPO, 'deploy/base')]);
  expect(rendered.code).toBe(0);
  const applied = await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: rendered.stdout });
  expect(applied.stderr).toBe('');
  // Aggregation into view/edit/admin is the controller-manager's job, as in a real cluster.
  startProcess({
    name: 'kube-controller-manager',
    command: join(nodeBinDir(), 'kube-controller-manager'),
    args: [
      `--kubeconfig=${cp.kubeconfigPath}`,
      '--leader-elect=false',
      '--controllers=clusterrole-aggregation',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
    ],
    logDir: makeTempDir('user-roles-logs'),
  });
  await cp.createNamespace(NAMESPACE);
  for (const [person, role] of Object.entries(ROLES)) {
    const bound = await cp.kubectl([
      'create',
      'rolebinding',
      `${person}-${role}`,
      `--clusterrole=${role}`,
      `--user=${person}`,
      '-n',
      NAMESPACE,
    ]);
    expect(bound.stderr).toBe('');
  }
  await eventually(
    async () => {
      const view = await cp.kubectl(['get', 'clusterrole', 'view', '-o', 'jsonpath={.rules[*].resources}']);
      return view.stdout.includes('etcdhealthchecks');
    },
    { timeoutMs: 60_000, description: 'etcdhealthchecks aggregated into the view ClusterRole' },
  );
  const created = await cp.kubectl(['apply', '-f', '-'], { input: manifest(CHECK) });
  expect(created.stderr).toBe('');
});

afterAll(async () => {
  await cleanupAll();
  await cp?.stop();
});

describe('people bound to the aggregated roles', () => {
  it('view reads EtcdHealthChecks and their status, and cannot change, create or delete them', async () => {
    const list = await as('alice', ['get', 'ehc', '-o', 'name']);
    expect({ code: list.code, stdout: list.stdout.trim() }).toEqual({
      code: 0,
      stdout: `etcdhealthcheck.etcdhealth.io/${CHECK}`,
    });
    expect((await as('alice', ['get', 'ehc', CHECK, '--subresource=status', '-o', 'name'])).code).toBe(0);
    const watch = await as('alice', ['auth', 'can-i', 'watch', 'etcdhealthchecks.etcdhealth.io']);
    expect(watch.stdout.trim()).toBe('yes');

    const patch = await as('alice', [
      'patch',
      'ehc',
      CHECK,
      '--type=merge',
      '-p',
      '{"spec":{"interval":"1m"}}',
    ]);
    expect(patch.code).not.toBe(0);
    expect(patch.stderr).toMatch(/forbidden: User "alice" cannot patch resource "etcdhealthchecks"/);
    const create = await as('alice', ['create', '-f', '-'], manifest('alice-made'));
    expect(create.stderr).toMatch(/forbidden: User "alice" cannot create resource "etcdhealthchecks"/);
    const remove = await as('alice', ['delete', 'ehc', CHECK]);
    expect(remove.stderr).toMatch(/forbidden: User "alice" cannot delete resource "etcdhealthchecks"/);
    // Nothing was lost: the object is as it was.
    const kept = await cp.kubectl(['-n', NAMESPACE, 'get', 'ehc', CHECK, '-o', 'jsonpath={.spec.interval}']);
    expect(kept.stdout).not.toBe('1m');
  });

  it.each(['bob', 'carol'] as const)('%s (edit/admin) creates, patches and deletes them', async (person) => {
    const name = `${person}-made`;
    expect((await as(person, ['create', '-f', '-'], manifest(name))).stderr).toBe('');
    const patched = await as(person, [
      'patch',
      'ehc',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"interval":"1m"}}',
    ]);
    expect(patched.stderr).toBe('');
    const interval = await as(person, ['get', 'ehc', name, '-o', 'jsonpath={.spec.interval}']);
    expect(interval.stdout).toBe('1m');
    const deleted = await as(person, ['delete', 'ehc', name, '--wait=false']);
    expect(deleted.stderr).toBe('');
  });

  it.each(Object.keys(ROLES) as Person[])(
    '%s cannot write the status, which only the operator writes',
    async (person) => {
      const status = await as(person, [
        'patch',
        'ehc',
        CHECK,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"observedGeneration":99}}',
      ]);
      expect(status.code).not.toBe(0);
      expect(status.stderr).toMatch(
        new RegExp(`forbidden: User "${person}" cannot patch resource "etcdhealthchecks/status"`),
      );
    },
  );

  it('nobody bound in team-a reads EtcdHealthChecks of another namespace', async () => {
    await cp.createNamespace('team-b');
    const other = await cp.kubectl(['--as=alice', '-n', 'team-b', 'get', 'ehc']);
    expect(other.stderr).toMatch(/forbidden: User "alice" cannot list resource "etcdhealthchecks"/);
  });
});
