// The control-plane harness itself: loopback only, real ServiceAccount tokens under real RBAC,
// kubectl with the admin kubeconfig, an apiserver restart that keeps etcd (and so resource
// versions, which a watch resumes from), and a stop that leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuthenticationV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  Watch,
} from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type EtcdHealthCheck,
} from '../../src/api/v1alpha1/index.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { apiErrorStatus, mergePatch } from '../harness/kube.js';
import { cleanupAll } from '../harness/process.js';

let cp: ControlPlane;
let ns: string;

beforeAll(async () => {
  cp = await startControlPlane();
  ns = await cp.createNamespace('harness-it');
});

afterAll(async () => {
  await cp?.stop();
  await cleanupAll();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const ehc = (name: string) => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name, namespace: ns },
  spec: { etcd: { endpoints: ['https://10.0.0.1:2379'] } },
});

interface WatchOutcome {
  event?: { phase: string; object: unknown };
  statusCode?: number;
  error?: string;
}

/** Opens a watch on this namespace's EtcdHealthChecks and resolves with its first event or error. */
async function firstWatchOutcome(resourceVersion: string, timeoutMs = 10_000): Promise<WatchOutcome> {
  let settle!: (outcome: WatchOutcome) => void;
  const outcome = new Promise<WatchOutcome>((resolve) => (settle = resolve));
  const timer = setTimeout(() => settle({ error: `no event within ${timeoutMs}ms` }), timeoutMs);
  const controller = await new Watch(cp.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`,
    { resourceVersion },
    (phase, object: unknown) => settle({ event: { phase, object } }),
    (error: { statusCode?: number; message?: string } | null) =>
      settle({ statusCode: error?.statusCode, error: error?.message ?? 'closed' }),
  );
  try {
    return await outcome;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe('control plane harness', () => {
  it('serves on loopback only, with a kubeconfig kubectl uses', async () => {
    expect(new URL(cp.server).hostname).toBe('127.0.0.1');
    expect(new URL(cp.etcdUrl).hostname).toBe('127.0.0.1');
    expect(readFileSync(cp.kubeconfigPath, 'utf8')).toContain(cp.server);

    const version = await cp.kubectl(['version', '-o', 'json']);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({
      serverVersion: { gitVersion: expect.stringMatching(/^v1\.\d+\.\d+/) },
    });

    const whoami = await cp.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      status: { userInfo: { username: 'admin', groups: expect.arrayContaining(['system:masters']) } },
    });

    const failing = await cp.kubectl(['get', 'ehc', 'does-not-exist', '-n', ns]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('NotFound');
  });

  it('creates namespaces idempotently', async () => {
    await expect(cp.createNamespace(ns)).resolves.toBe(ns);
    const listed = await cp.kubectl(['get', 'ns', ns, '-o', 'name']);
    expect(listed.stdout.trim()).toBe(`namespace/${ns}`);
  });

  it('mints ServiceAccount tokens that RBAC governs', async () => {
    const token = await cp.mintServiceAccountToken(ns, 'reader', 600);
    const kc = cp.kubeConfigForToken(token, ns);

    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:reader`);

    const custom = kc.makeApiClient(CustomObjectsApi);
    const list = () =>
      custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL });
    const denied = await list().then(
      () => undefined,
      (error: unknown) => apiErrorStatus(error),
    );
    expect(denied).toMatchObject({ code: 403, reason: 'Forbidden' });

    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'ehc-reader' },
        rules: [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'ehc-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ehc-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    await eventually(
      async () => {
        await list();
        return true;
      },
      { timeoutMs: 30_000, description: 'the Role to take effect' },
    );

    const kubeconfig = cp.writeKubeconfigForToken(token, ns);
    const canI = await cp.kubectl([`--kubeconfig=${kubeconfig}`, 'auth', 'can-i', 'delete', PLURAL]);
    expect(canI.stdout.trim()).toBe('no');
  });

  it('restarts kube-apiserver on the same URL with etcd kept, and watches behave as after a real restart', async () => {
    const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name: 'restart' };
    const created = (await custom.createNamespacedCustomObject({
      ...ref,
      body: ehc('restart'),
    })) as EtcdHealthCheck;
    // A later write, so the restarted watch cache starts past the object's creation.
    await custom.patchNamespacedCustomObject({ ...ref, body: { spec: { interval: '40s' } } }, mergePatch());
    const pidsBefore = cp.pids();

    let downProbe: unknown;
    await cp.restartApiServer({
      whileDown: async () => {
        downProbe = await cp.kubectl(['get', 'ns', 'default', '--request-timeout=2s']);
      },
    });
    expect(downProbe).toMatchObject({ code: 1, stderr: expect.stringMatching(/refused/) });
    expect(cp.pids().etcd).toBe(pidsBefore.etcd);
    expect(cp.pids().apiServer).not.toBe(pidsBefore.apiServer);
    expect(alive(pidsBefore.apiServer)).toBe(false);

    const read = (await custom.getNamespacedCustomObject(ref)) as EtcdHealthCheck;
    expect(read.metadata.uid).toBe(created.metadata.uid);
    expect(read.spec.interval).toBe('40s');

    // A watch from a pre-restart resourceVersion gets 429 while the new watch cache initializes,
    // then 410 Expired: a client must relist, as it must after any real apiserver restart.
    const stale = await eventually(
      async () => {
        const outcome = await firstWatchOutcome(created.metadata.resourceVersion!);
        return outcome.statusCode === 429 ? false : outcome;
      },
      { timeoutMs: 60_000, description: 'a watch past the 429s of the initializing watch cache' },
    );
    expect(stale.event).toMatchObject({ phase: 'ERROR', object: { code: 410, reason: 'Expired' } });

    // Relist, then watch from the list's resourceVersion: changes arrive.
    const list = (await custom.listNamespacedCustomObject(ref)) as { metadata: { resourceVersion: string } };
    const next = firstWatchOutcome(list.metadata.resourceVersion, 30_000);
    await custom.patchNamespacedCustomObject({ ...ref, body: { spec: { interval: '45s' } } }, mergePatch());
    expect((await next).event).toMatchObject({ phase: 'MODIFIED', object: { spec: { interval: '45s' } } });
  });

  it('logs each component to a file in its temp dir', () => {
    expect(cp.logs.apiServer.startsWith(cp.dir)).toBe(true);
    expect(existsSync(cp.logs.etcd)).toBe(true);
    expect(cp.logTail('apiServer', 5).length).toBeGreaterThan(0);
    expect(cp.timings.apiServerReadyMs).toBeGreaterThan(0);
  });

  it('stop() ends both processes and removes the temp dir', async () => {
    const { etcd, apiServer } = cp.pids();
    expect(etcd).toBeDefined();
    await cp.stop();
    expect(alive(etcd!)).toBe(false);
    expect(alive(apiServer)).toBe(false);
    expect(existsSync(cp.dir)).toBe(false);
    await expect(cp.stop()).resolves.toBeUndefined();
  });
});
