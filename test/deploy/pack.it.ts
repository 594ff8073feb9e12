// The package as a user gets it: `npm pack` of this repository (its prepack builds dist/), the
// tarball installed into an empty directory from the registry as `npm install` does, and the
// installed bins run against a real etcd cluster: `etcd-health`, `npx etcd-health-operator check`
// and `kubectl etcd-health` through the real kubectl's plugin lookup; then the krew archive of
// hack/krew-archive.sh, installed as krew installs it. Nothing runs from the source tree once the
// tarball exists.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneBinDir } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import * as yaml from 'js-yaml';
import { cleanupAll, makeTempDir } from '../harness/process.js';

// What is under test is the install (or the image), not the sampling of /metrics (that is
// test/cli/sample.it.ts): without Prometheus and without a sample, the metric checks are not
// checked, and a healthy idle cluster exits 0 at once.
const NO_SAMPLING = ['--sample-window', '0s'];

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user's shell: no jest flags for Node and none of the npm_* variables an
 * `npm test` parent sets (npm_config_prefix and the like would point npm back at this repo).
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([name]) =>
      name !== 'NODE_OPTIONS' && !name.toLowerCase().startsWith('npm_') && !name.startsWith('ETCDCTL_'),
  );
  // `#!/usr/bin/env node` finds node on PATH: the one running this test.
  const path = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  return { ...Object.fromEntries(inherited), PATH: path, ...extra };
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? userEnv(),
        timeout: options.timeoutMs,
        maxBuffer: 16 * 2 ** 20,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number')
          reject(
            new Error(`${command} ${args.join(' ')} did not exit by itself: ${error.message}\n${stderr}`, {
              cause: error,
            }),
          );
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Runs until the exit code is 0 (a loaded machine can make one run warn); returns that run. */
async function runUntilHealthy(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  let last: Run | undefined;
  try {
    return await eventually(
      async () => {
        last = await run(command, args, { ...options, timeoutMs: 120_000 });
        return last.code === 0 && last;
      },
      { timeoutMs: 240_000, intervalMs: 2_000, description: `${command} ${args[0]} to exit 0` },
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nlast exit ${last?.code}\n--- stdout\n${last?.stdout}\n--- stderr\n${last?.stderr}`,
      { cause: error },
    );
  }
}

interface JsonResult {
  result: { verdict: string; exitCode: number };
  status: { members: { name: string; healthy: boolean }[] };
}

let cluster: EtcdCluster;
let packedFiles: string[];
let installDir: string;
let installed: string;
let bin: string;

afterAll(async () => {
  await cluster?.stop();
  await cleanupAll();
}, 120_000);

beforeAll(async () => {
  const tarballDir = makeTempDir('pack-tarball');
  installDir = makeTempDir('pack-install');
  const pack = async () => {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', tarballDir], {
      cwd: REPO,
      timeoutMs: 300_000,
    });
    if (packed.code !== 0) throw new Error(`npm pack exited ${packed.code}:\n${packed.stderr}`);
    // The prepack build's output precedes the JSON on stdout.
    const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('\n[') + 1)) as {
      filename: string;
      files: { path: string }[];
    }[];
    packedFiles = tarball!.files.map((file) => file.path);
    return join(tarballDir, tarball!.filename);
  };
  const [tarball, started] = await Promise.all([pack(), startEtcdCluster({ members: 3 })]);
  cluster = started;
  // Into an empty directory, dependencies from the registry (cached ones first).
  expect(readdirSync(installDir)).toEqual([]);
  const install = await run(
    'npm',
    ['install', '--prefix', installDir, '--prefer-offline', '--no-audit', '--no-fund', tarball],
    { cwd: installDir, timeoutMs: 600_000 },
  );
  if (install.code !== 0)
    throw new Error(`npm install of the tarball exited ${install.code}:\n${install.stderr}`);
  installed = join(installDir, 'node_modules', manifest.name);
  bin = join(installDir, 'node_modules', '.bin');
  await cluster.waitForLeader();
}, 900_000);

describe('the packed npm package', () => {
  it('holds the built bins, the CRD, the manifests, README and LICENSE, and no sources or tests', () => {
    for (const path of [...Object.values(manifest.bin), 'crds/etcdhealthchecks.etcdhealth.io.yaml'])
      expect(packedFiles).toContain(path);
    for (const path of ['deploy/base/deployment.yaml', 'README.md', 'LICENSE'])
      expect(packedFiles).toContain(path);
    // deploy/krew names the sha256 of an archive that holds the package: it cannot be inside.
    const unwanted = packedFiles.filter((path) =>
      /^(src|test|hack|bench)\/|\.ts$|\.map$|^deploy\/argocd\/(testdata\/|health_test)|^deploy\/krew\//.test(
        path,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  it('installs the three bins, each a symlink to an executable Node script, and none of the build or test tools', () => {
    expect(Object.keys(manifest.bin).sort()).toEqual([
      'etcd-health',
      'etcd-health-operator',
      'kubectl-etcd_health',
    ]);
    for (const [name, path] of Object.entries(manifest.bin)) {
      const link = join(bin, name);
      expect([name, lstatSync(link).isSymbolicLink()]).toEqual([name, true]);
      expect(realpathSync(link)).toBe(realpathSync(join(installed, path)));
      expect([name, statSync(link).mode & 0o111]).toEqual([name, 0o111]);
      expect(readFileSync(link, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    }
    for (const dependency of Object.keys(manifest.dependencies))
      expect([dependency, existsSync(join(installDir, 'node_modules', dependency))]).toEqual([
        dependency,
        true,
      ]);
    // The build and test tools (some type packages are dependencies of client-node too).
    for (const dev of ['typescript', 'jest', 'ts-jest', 'tsx', 'eslint', 'prettier']) {
      expect(Object.keys(manifest.devDependencies)).toContain(dev);
      expect([dev, existsSync(join(installDir, 'node_modules', dev))]).toEqual([dev, false]);
    }
  });

  it('`etcd-health check --endpoints` runs from the install: a healthy cluster exits 0 and the report names every member', async () => {
    const checked = await runUntilHealthy(
      join(bin, 'etcd-health'),
      ['check', '--endpoints', cluster.endpoints.join(','), ...NO_SAMPLING],
      {
        cwd: installDir,
      },
    );
    expect(checked.stdout).toMatch(/^etcd-health check: 3 endpoints from --endpoints, at /);
    for (const member of cluster.members)
      expect(checked.stdout).toMatch(new RegExp(`  ${member.name} +${member.clientURL} +[0-9a-f]+ +3\\.`));
    expect(checked.stdout).toContain('RESULT  Healthy: every check passed (exit code 0)');
  }, 300_000);

  it('`kubectl etcd-health check` finds the plugin bin on PATH, as kubectl (and oc) look plugins up', async () => {
    const kubectl = join(controlPlaneBinDir(), 'kubectl');
    const env = userEnv({ KUBECONFIG: join(installDir, 'no-kubeconfig') });
    env.PATH = [bin, env.PATH].join(delimiter);
    const listed = await run(kubectl, ['plugin', 'list', '--name-only'], {
      cwd: installDir,
      env,
      timeoutMs: 60_000,
    });
    expect(listed.stdout.split('\n')).toContain('kubectl-etcd_health');

    const checked = await runUntilHealthy(
      kubectl,
      [
        'etcd-health',
        'check',
        '--endpoints',
        cluster.endpoints.join(','),
        ...NO_SAMPLING,
        '-o',
        'json',
        '-q',
      ],
      { cwd: installDir, env },
    );
    expect(checked.stderr).toBe('');
    const parsed = JSON.parse(checked.stdout) as JsonResult;
    expect(parsed.result).toMatchObject({ verdict: 'Healthy', exitCode: 0 });
    expect(parsed.status.members.map((m) => [m.name, m.healthy])).toEqual(
      cluster.members.map((m) => [m.name, true]),
    );
  }, 300_000);

  it('`npx etcd-health-operator@VERSION check` runs the CLI through the bin named as the package', async () => {
    const checked = await runUntilHealthy(
      'npm',
      [
        'exec',
        '--offline',
        '--',
        `${manifest.name}@${manifest.version}`,
        'check',
        '--endpoints',
        cluster.endpoints.join(','),
        ...NO_SAMPLING,
        '-o',
        'json',
        '-q',
      ],
      { cwd: installDir },
    );
    const parsed = JSON.parse(checked.stdout) as JsonResult;
    expect(parsed.result).toMatchObject({ verdict: 'Healthy', exitCode: 0 });
    expect(parsed.status.members.map((m) => m.name)).toEqual(cluster.members.map((m) => m.name));

    // Without `check` the same bin is the operator.
    const help = await run(join(bin, 'etcd-health-operator'), ['--help'], {
      cwd: installDir,
      timeoutMs: 60_000,
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: etcd-health-operator \[flags\]\n/);
    expect(help.stdout).toContain('--leader-elect');
  }, 300_000);

  it('the krew archive installs as krew installs it and `kubectl etcd-health` runs from there', async () => {
    const out = makeTempDir('krew-archive');
    const built = await run('bash', [join(REPO, 'hack/krew-archive.sh'), out], {
      cwd: REPO,
      timeoutMs: 600_000,
    });
    expect({ code: built.code, stderr: built.stderr }).toEqual({ code: 0, stderr: '' });
    const archive = join(out, `etcd-health-${manifest.version}.tar.gz`);
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    const plugin = yaml.load(readFileSync(join(out, 'etcd-health.yaml'), 'utf8')) as {
      spec: { platforms: { sha256: string; bin: string; files: { from: string; to: string }[] }[] };
    };
    expect(plugin.spec.platforms.map((platform) => platform.sha256)).toEqual(
      plugin.spec.platforms.map(() => sha256),
    );
    const platform = plugin.spec.platforms[0]!;
    expect(platform.files).toEqual([{ from: '*', to: '.' }]);

    // krew extracts regular files and directories only and refuses any other entry.
    const listed = await run('tar', ['-tvzf', archive], { cwd: out, timeoutMs: 120_000 });
    const types = new Set(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => line[0]),
    );
    expect([...types].sort()).toEqual(['-', 'd']);
    expect(listed.stdout).not.toMatch(/(^|\/)\.\.(\/|$)/m);
    const store = join(out, 'store');
    const krewBin = join(out, 'bin');
    mkdirSync(store);
    mkdirSync(krewBin);
    expect((await run('tar', ['-xzf', archive, '-C', store], { cwd: out, timeoutMs: 120_000 })).code).toBe(0);
    // What krew links into ~/.krew/bin for the plugin `etcd-health`.
    symlinkSync(join(store, platform.bin), join(krewBin, 'kubectl-etcd_health'));

    const env = userEnv({ KUBECONFIG: join(out, 'no-kubeconfig') });
    env.PATH = [krewBin, env.PATH].join(delimiter);
    const checked = await runUntilHealthy(
      join(controlPlaneBinDir(), 'kubectl'),
      [
        'etcd-health',
        'check',
        '--endpoints',
        cluster.endpoints.join(','),
        ...NO_SAMPLING,
        '-o',
        'json',
        '-q',
      ],
      { cwd: out, env },
    );
    const parsed = JSON.parse(checked.stdout) as JsonResult;
    expect(parsed.result).toMatchObject({ verdict: 'Healthy', exitCode: 0 });
    expect(parsed.status.members.map((m) => m.name)).toEqual(cluster.members.map((m) => m.name));
  }, 900_000);
});
