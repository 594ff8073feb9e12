// The real image: built from the repository's Dockerfile with buildah as users build it (the base
// images are local stand-ins passed as the Dockerfile's build arguments, see harness/image.ts),
// exported as an OCI archive, imported into a containerd of the test's own and run by runc as
// a Deployment would run it: user 65532, read-only root filesystem, no capabilities, the
// kubeconfig mounted read-only. The operator inside must serve its probes, reconcile an
// EtcdHealthCheck against a real etcd, and exit promptly on SIGTERM. The same entrypoint with
// `check` first runs `etcd-health check`, as `podman run IMAGE check --endpoints ...` does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  chmodSync,
  lstatSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import {
  buildOperatorImage,
  buildah,
  buildahRunroot,
  ensureStandIns,
  imageConfig,
  startContainerd,
  withImageRootfs,
  type Containerd,
  type ImageConfig,
} from '../harness/image.js';
import { cleanupAll, makeTempDir, startProcess, type ManagedProcess } from '../harness/process.js';

// What is under test is the install (or the image), not the sampling of /metrics (that is
// test/cli/sample.it.ts): without Prometheus and without a sample, the metric checks are not
// checked, and a healthy idle cluster exits 0 at once.
const NO_SAMPLING = ['--sample-window', '0s'];

const REPO = fileURLToPath(new URL('../../', import.meta.url));
// Per run: concurrent runs share the cached buildah storage.
const IMAGE = `localhost/etcd-health-operator:image-test-${process.pid}`;
const CONTAINER = 'operator';
const KUBECONFIG_IN_CONTAINER = '/var/run/etcd-health-operator/kubeconfig';
const ns = 'etcd-team';
const CTR_DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

let runroot: string;
let config: ImageConfig;
let archive: string;
let containerd: Containerd;
let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: Checks;
let operator: ManagedProcess;
let healthUrl: string;

afterAll(async () => {
  // The built image is in the archive; only the stand-ins stay in the cached storage.
  if (runroot) await buildah(runroot, ['rmi', '--force', IMAGE]).catch(() => undefined);
  await cleanupAll();
}, 120_000);

/** Elapsed milliseconds of `step`, logged. */
async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await step();
  console.log(`image test: ${name} took ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

/** Every path in a tree whose name is a shell's (symlinks included, not followed). */
function shellsIn(root: string): string[] {
  const shells = new Set(['sh', 'bash', 'dash', 'ash', 'busybox']);
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (shells.has(entry.name)) found.push(path.slice(root.length));
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return found;
}

/** A line of /proc/<pid>/status, e.g. Uid or CapBnd, as its fields. */
function procStatus(pid: number, key: string): string[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}:`));
  return (
    line
      ?.slice(key.length + 1)
      .trim()
      .split(/\s+/) ?? []
  );
}

beforeAll(async () => {
  runroot = buildahRunroot();
  await timed('stand-in base images', () => ensureStandIns(runroot));
  await timed('buildah bud', () => buildOperatorImage(runroot, IMAGE));
  config = await imageConfig(runroot, IMAGE);
  archive = join(makeTempDir('image-archive'), 'image.tar');
  await timed('export', () => buildah(runroot, ['push', IMAGE, `oci-archive:${archive}:${IMAGE}`]));
  containerd = await startContainerd();
  await timed('containerd import', () =>
    containerd.ctr(['images', 'import', archive], { timeoutMs: 300_000 }),
  );
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 1 })]);
  await cp.createNamespace(ns);
  checks = checksApi(cp.kubeConfig);
}, 1_500_000);

describe('the operator image', () => {
  it('is the Dockerfile built on the stand-in bases: user 65532, the entrypoint, no shell, no devDependencies', async () => {
    expect(config.User).toBe('65532:65532');
    expect(config.Entrypoint).toEqual(['/nodejs/bin/node', 'dist/src/cli/operator.js']);
    expect(config.WorkingDir).toBe('/app');

    const shells = await withImageRootfs(runroot, IMAGE, (rootfs) => {
      const app = join(rootfs, 'app');
      // Exactly what the runtime stage copies, pruned of devDependencies by the build stage.
      expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
      for (const dev of ['typescript', 'jest', 'tsx', 'ts-jest', 'eslint']) {
        expect([dev, existsSync(join(app, 'node_modules', dev))]).toEqual([dev, false]);
      }
      // The bundle (hack/bundle.ts) holds every other dependency; node_modules only what it leaves external.
      expect(existsSync(join(app, 'node_modules', 'etcd3'))).toBe(true);
      expect(existsSync(join(app, 'node_modules', '@kubernetes', 'client-node'))).toBe(false);
      expect(existsSync(join(app, 'dist', 'src', 'cli', 'operator.js'))).toBe(true);
      expect(existsSync(join(app, 'dist', 'src', 'cli', 'check.js'))).toBe(true);
      expect(lstatSync(join(rootfs, 'nodejs', 'bin', 'node')).isFile()).toBe(true);
      return shellsIn(rootfs);
    });
    expect(shells).toEqual([]);

    const size = statSync(archive).size;
    console.log(`image test: the image's OCI archive is ${(size / 2 ** 20).toFixed(1)} MiB`);
    // Node itself is most of it; a devDependency tree or a second copy of node would double it.
    expect(size).toBeLessThan(250 * 2 ** 20);
  });

  it('runs under containerd as 65532 with a read-only root and no capabilities, serves its probes and reconciles', async () => {
    const kubeconfig = join(makeTempDir('image-kubeconfig'), 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(cp.kubeconfigPath));
    // Readable by the container's user, as a mounted Secret would be.
    chmodSync(kubeconfig, 0o444);
    const metricsPort = await freePort();
    const healthPort = await freePort();
    healthUrl = `http://127.0.0.1:${healthPort}`;
    // ctr's arguments replace the whole command line, as a Pod's command would: the image's
    // Entrypoint, then the Deployment's args.
    operator = startProcess({
      name: 'ctr-run-operator',
      command: 'ctr',
      args: [
        ...containerd.runArgs(CONTAINER),
        '--rm',
        '--net-host',
        '--read-only',
        // ctr 1.6 takes no "ALL": every capability it grants by default, dropped.
        ...CTR_DEFAULT_CAPABILITIES.flatMap((capability) => ['--cap-drop', capability]),
        '--mount',
        `type=bind,src=${kubeconfig},dst=${KUBECONFIG_IN_CONTAINER},options=rbind:ro`,
        '--env',
        `POD_NAME=${CONTAINER}`,
        IMAGE,
        CONTAINER,
        ...config.Entrypoint!,
        `--kubeconfig=${KUBECONFIG_IN_CONTAINER}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--health-bind-address=127.0.0.1:${healthPort}`,
        '--leader-elect=false',
      ],
      logDir: makeTempDir('image-operator-logs'),
    });
    const logs = () => readFileSync(operator.logPath, 'utf8').slice(-4000);
    // Ends at once when the container exits; fetch errors (not listening yet) mean "poll again".
    const state = await eventually(
      async () => (operator.exited() ? 'exited' : (await fetch(`${healthUrl}/readyz`)).ok && 'ready'),
      { timeoutMs: 90_000, description: 'the operator in its container ready' },
    );
    if (state !== 'ready') throw new Error(`the operator container exited:\n${logs()}`);
    expect((await fetch(`${healthUrl}/healthz`)).status).toBe(200);

    // The container's process, seen from the host.
    const task = (await containerd.ctr(['tasks', 'ls']))
      .split('\n')
      .find((line) => line.startsWith(CONTAINER));
    const pid = Number(task?.split(/\s+/)[1]);
    expect(task).toMatch(/RUNNING/);
    expect(procStatus(pid, 'Uid')).toEqual(['65532', '65532', '65532', '65532']);
    expect(procStatus(pid, 'Gid')).toEqual(['65532', '65532', '65532', '65532']);
    expect(procStatus(pid, 'CapEff')).toEqual(['0000000000000000']);
    expect(procStatus(pid, 'CapBnd')).toEqual(['0000000000000000']);
    const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((line) => line.split(' ')[4] === '/');
    expect(rootMount?.split(' ')[5]?.split(',')).toContain('ro');
    const kubeconfigMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((line) => line.split(' ')[4] === KUBECONFIG_IN_CONTAINER);
    expect(kubeconfigMount?.split(' ')[5]?.split(',')).toContain('ro');

    await checks.create(ns, 'main', { etcd: { endpoints: cluster.endpoints }, interval: '10s' });
    const check = await eventually(
      async () => {
        const c = await checks.get(ns, 'main');
        return c.status?.summary && conditionOf(c, 'Available') ? c : undefined;
      },
      { timeoutMs: 60_000, description: 'a status written by the operator in the container' },
    );
    expect(conditionOf(check, 'Available')).toMatchObject({ status: 'True' });
    expect(check.status?.summary?.members).toBe('1/1');
    expect(check.status?.lastCheck?.etcd.state).toBe('OK');
  });

  it('exits promptly and cleanly on SIGTERM', async () => {
    const start = Date.now();
    await containerd.ctr(['tasks', 'kill', '--signal', 'SIGTERM', CONTAINER]);
    await eventually(() => operator.exited(), { timeoutMs: 15_000, description: 'the container gone' });
    const stoppedMs = Date.now() - start;
    console.log(`image test: the container stopped ${stoppedMs} ms after SIGTERM`);
    expect(stoppedMs).toBeLessThan(10_000);
    expect(operator.child.exitCode).toBe(0);
    // --rm: neither the task nor the container is left.
    expect((await containerd.ctr(['tasks', 'ls', '--quiet'])).trim()).toBe('');
    expect((await containerd.ctr(['containers', 'ls', '--quiet'])).trim()).toBe('');
  });

  it('runs `etcd-health check` with the same entrypoint and `check` first, under the same restrictions', async () => {
    // As `podman run --rm IMAGE check ...`: the image's Entrypoint, then the arguments.
    const runCli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
        execFile(
          'ctr',
          [
            ...containerd.runArgs('cli'),
            '--rm',
            '--net-host',
            '--read-only',
            ...CTR_DEFAULT_CAPABILITIES.flatMap((capability) => ['--cap-drop', capability]),
            IMAGE,
            'cli',
            ...config.Entrypoint!,
            ...args,
          ],
          { timeout: 120_000, maxBuffer: 16 * 2 ** 20 },
          (error, stdout, stderr) => {
            if (error && typeof error.code !== 'number')
              reject(
                new Error(`ctr run did not exit by itself: ${error.message}\n${stderr}`, { cause: error }),
              );
            else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
          },
        );
      });

    const help = await runCli(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: etcd-health check \[flags\]/);

    // A machine loaded by the image build can make one run warn: poll for the healthy verdict.
    const checked = await eventually(
      async () => {
        const run = await runCli([
          'check',
          '--endpoints',
          cluster.endpoints.join(','),
          ...NO_SAMPLING,
          '-o',
          'json',
          '-q',
        ]);
        if (run.code !== 0)
          throw new Error(`exit ${run.code}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
        return run;
      },
      { timeoutMs: 120_000, intervalMs: 2_000, description: 'etcd-health check in the image to exit 0' },
    );
    const parsed = JSON.parse(checked.stdout) as {
      result: { verdict: string; exitCode: number };
      status: { members: { name: string; healthy: boolean }[] };
    };
    expect(parsed.result).toMatchObject({ verdict: 'Healthy', exitCode: 0 });
    expect(parsed.status.members.map((m) => [m.name, m.healthy])).toEqual(
      cluster.members.map((m) => [m.name, true]),
    );
    // --rm: the finished runs left no container behind.
    expect((await containerd.ctr(['containers', 'ls', '--quiet'])).trim()).toBe('');
  }, 300_000);

  it('keeps the Dockerfile to the rules the restricted Pod Security level and reviewers expect', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    // Both stages start from a build argument whose default is a pinned public image.
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([
      '${BUILD_IMAGE}',
      '${RUNTIME_IMAGE}',
    ]);
    const defaults = [...dockerfile.matchAll(/^ARG (BUILD_IMAGE|RUNTIME_IMAGE)=(\S+)$/gm)].map((m) => m[2]!);
    expect(defaults).toEqual(['node:22-bookworm-slim', 'gcr.io/distroless/nodejs22-debian12:nonroot']);
    expect(defaults.every((image) => /:[\w.-]+$/.test(image) && !image.endsWith(':latest'))).toBe(true);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });
});
