// A real node for a test control plane (test/harness/controlplane.ts): containerd v2 with CRI and
// runc, a CNI bridge with host-local IPAM in a test-made range, kube-scheduler,
// kube-controller-manager and a kubelet (cgroupfs driver, cgroup v1 allowed), all built by
// test/node/build.sh. Everything lives in one temp dir; every cgroup the node makes is under one
// cgroup this harness makes below the test process's own; containerd and the kubelet run in mount
// namespaces of their own where the fixed host paths they write (/run/containerd, /var/lib/cni,
// /var/log, /var/lib/kubelet/device-plugins, the sysctls the kubelet would set) are the node's.
//
// The node has a network namespace of its own (persisted as a file in the temp dir, so nothing
// appears under /run/netns): containerd and the kubelet run in it, so the CNI bridge, the pods'
// veths and the ip_forward the bridge plugin sets are the node's, and no packet has a route off
// the machine. There is no kube-proxy and no server may listen outside loopback on the host, so
// the kube-apiserver (127.0.0.1 on the host) is reached through two relays joined by a unix
// socket in the temp dir: in the node's namespace one listens on 127.0.0.1:<apiserver port> (the
// kubelet's kubeconfig works unchanged) and on the `kubernetes` Service's ClusterIP:443 (on the
// node's lo), so pods' in-cluster config (KUBERNETES_SERVICE_HOST) works; TLS passes through.
//
// stop() stops every process by PID (containerd's shims and containers too), unmounts what was
// mounted under the temp dir (the namespace's file too, which frees it with its bridge) and
// removes the cgroups.
import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, KUBERNETES_SERVICE_IP, type ControlPlane } from './controlplane.js';
import { eventually } from './eventually.js';
import { makeTempDir, registerCleanup, removeTempDir, startProcess, type ManagedProcess } from './process.js';

const HOST = '127.0.0.1';
const BUILD_SCRIPT = fileURLToPath(new URL('../node/build.sh', import.meta.url));
const RELAY_SCRIPT = fileURLToPath(new URL('./relay.mjs', import.meta.url));
/** The name test/node/build.sh gives the pause image (its io.containerd.image.name). */
export const PAUSE_IMAGE = 'localhost/etcd-health-operator/pause:1';
const CONTAINERD_NAMESPACE = 'k8s.io';

/** Runs the (cached, usually instant) node build and returns its bin dir. */
export function nodeBinDir(): string {
  const fromEnv = process.env.EHC_NODE_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'kubelet'))) return fromEnv;
  const output = execFileSync('bash', [BUILD_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const dir = output.trim().split('\n').pop() ?? '';
  if (!existsSync(join(dir, 'kubelet'))) throw new Error(`node build did not produce binaries in ${dir}`);
  process.env.EHC_NODE_BIN = dir;
  return dir;
}

export interface NodeOptions {
  /** Deadline for each start step; default 120 s. */
  startTimeoutMs?: number;
}

export interface Node {
  /** The Node object's name. */
  readonly name: string;
  /** The CNI bridge's interface name (in the node's network namespace). */
  readonly bridge: string;
  /** The node's InternalIP, on the lo of its network namespace. */
  readonly ip: string;
  /** The file the node's network namespace is bound to (for `nsenter --net=`). */
  readonly netns: string;
  /** The CIDR host-local hands pod IPs out of. */
  readonly podSubnet: string;
  /** The kubelet's cgroupRoot (the same path in every cgroup v1 hierarchy). */
  readonly cgroupRoot: string;
  readonly dir: string;
  readonly timings: { readyMs: number };
  logTail(component: NodeComponent, lines?: number): string;
  /** PIDs of the processes the node started (relays, containerd, scheduler, controller-manager, kubelet), by name. */
  pids(): Record<string, number>;
  /** ctr on the node's containerd, in the CRI's namespace (k8s.io). */
  ctr(args: string[], timeoutMs?: number): Promise<string>;
  /** Stops everything the node started and removes its mounts, bridge, cgroups and temp dir. Idempotent. */
  stop(): Promise<void>;
}

export type NodeComponent = 'containerd' | 'kubelet' | 'kube-scheduler' | 'kube-controller-manager';

function tail(path: string, lines = 40): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function run(command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`))
        : resolve(stdout),
    );
  });
}

/**
 * Mount points of the cgroup hierarchies, e.g. /sys/fs/cgroup/memory; on a hybrid machine also the
 * cgroup2 one, where runc makes each container's cgroup too.
 */
function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup' || fields[2] === 'cgroup2')
    .map((fields) => fields[1]!);
}

/** The deepest cgroup v1 path this process is in (the parent the node's cgroup goes under). */
function ownCgroupPath(): string {
  return readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length === 3 && fields[1] !== '')
    .map((fields) => fields[2]!)
    .reduce((deepest, path) => (path.length > deepest.length ? path : deepest), '/');
}

/**
 * Makes `path` in every hierarchy, remembering each directory it creates (intermediate ones too,
 * where a hierarchy lacks the test's own path) so that removeCgroups deletes exactly those.
 */
function makeCgroups(path: string): string[] {
  const made: string[] = [];
  for (const hierarchy of cgroupHierarchies()) {
    let current = hierarchy;
    for (const part of path.split('/').filter(Boolean)) {
      const parent = current;
      current = join(current, part);
      if (existsSync(current)) continue;
      mkdirSync(current);
      made.push(current);
      // A new cpuset cgroup starts with no CPUs and no memory nodes; inherit the parent's.
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(join(parent, file)))
          writeFileSync(join(current, file), readFileSync(join(parent, file), 'utf8').trim());
      }
    }
  }
  return made;
}

/** Removes the cgroups below each made directory (the kubelet's), then the made ones, deepest first. */
function removeCgroups(made: string[]): string[] {
  const failures: string[] = [];
  const removeTree = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) removeTree(join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch (error) {
      failures.push(`${dir}: ${(error as Error).message}`);
    }
  };
  for (const dir of [...made].reverse()) removeTree(dir);
  return failures;
}

/** Mount points at or below `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => !!point && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** Init PIDs of the containers in containerd's runtime state dir, from their pid files. */
function containerInitPids(stateDir: string): number[] {
  const root = join(stateDir, 'io.containerd.runtime.v2.task');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .flatMap((namespace) =>
      readdirSync(join(root, namespace)).map((id) => join(root, namespace, id, 'init.pid')),
    )
    .map((pidFile) => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN))
    .filter((pid) => Number.isInteger(pid) && pid > 1);
}

/**
 * PIDs of the shims serving this containerd: they detach from it (their parent is init) and write
 * no pid file, but each names containerd's socket, which is this node's own, on its command line.
 */
function shimPids(containerdSocket: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args[args.indexOf('-address') + 1] === containerdSocket;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/**
 * A command line that runs `command` in a mount namespace of its own where each target shows its
 * source instead (host paths a component writes to regardless of its flags). Missing target
 * directories are made, and listed in `made` for stop() to remove.
 */
function inPrivateMounts(binds: Array<[source: string, target: string]>, command: string[], made: string[]) {
  for (const [source, target] of binds) {
    if (!statSync(source).isDirectory() || existsSync(target)) continue;
    const missing: string[] = [];
    for (let d = target; !existsSync(d); d = dirname(d)) missing.push(d);
    mkdirSync(target, { recursive: true });
    made.push(...missing);
  }
  const quote = (path: string) => `'${path.replaceAll("'", "'\\''")}'`;
  const script = [
    ...binds.map(([source, target]) => `mount --bind ${quote(source)} ${quote(target)}`),
    'exec "$@"',
  ];
  return ['--mount', '--propagation=unchanged', '--', 'sh', '-ec', script.join('\n'), 'sh', ...command];
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The kubelet sets vm.overcommit_memory, kernel.panic and friends machine-wide when they differ
 * from what it expects; it runs in its own mount namespace where these files show the expected
 * values, so the machine's sysctls stay as they are. /var/log is replaced there too (the kubelet
 * writes /var/log/containers).
 */
const KUBELET_SYSCTLS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

export async function startNode(controlPlane: ControlPlane, options: NodeOptions = {}): Promise<Node> {
  const t0 = Date.now();
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const bin = nodeBinDir();
  const dir = makeTempDir('node');
  const suffix = randomBytes(3).toString('hex');
  const name = `ehc-node-${suffix}`;
  const bridge = `ehc${suffix}`;
  const logDir = join(dir, 'logs');
  const containerdRoot = join(dir, 'containerd', 'root');
  const containerdState = join(dir, 'containerd', 'state');
  const containerdSocket = join(dir, 'containerd', 'containerd.sock');
  const cniConfDir = join(dir, 'cni', 'net.d');
  const kubeletRoot = join(dir, 'kubelet');
  const staticPodDir = join(dir, 'manifests');
  const podLogsDir = join(dir, 'pod-logs');
  const varLog = join(dir, 'var-log');
  const sysctlDir = join(dir, 'sysctl');
  for (const d of [
    logDir,
    join(dir, 'var-lib-cni'),
    join(dir, 'containerd', 'run'),
    join(dir, 'device-plugins'),
    containerdRoot,
    containerdState,
    cniConfDir,
    kubeletRoot,
    staticPodDir,
    podLogsDir,
    sysctlDir,
  ])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  mkdirSync(join(varLog, 'containers'), { recursive: true });
  const cgroupRoot = `${ownCgroupPath().replace(/\/$/, '')}/ehc-node-${suffix}`;
  const netns = join(dir, 'netns');
  const apiServerSocket = join(dir, 'apiserver.sock');

  // Mount points made on the host for the components' private mounts, removed again by stop().
  const madeMountPoints: string[] = [];
  const processes: ManagedProcess[] = [];
  let madeCgroups: string[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    const problems: string[] = [];
    // The kubelet first, so that nothing restarts what is being stopped.
    for (const proc of [...processes].reverse().filter((p) => p.name !== 'containerd'))
      await proc.stop(10_000);
    const taskPids = [...containerInitPids(containerdState), ...shimPids(containerdSocket)];
    for (const pid of taskPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await eventually(() => taskPids.every((pid) => !alive(pid)), {
      timeoutMs: 10_000,
      intervalMs: 100,
      description: 'containerd shims and containers gone',
    }).catch((error: Error) => problems.push(error.message));
    for (const proc of processes.filter((p) => p.name === 'containerd')) await proc.stop(10_000);
    // Read again after each unmount: one can take others with it (stacked or propagated mounts).
    for (let point = mountsUnder(dir)[0]; point; point = mountsUnder(dir)[0]) {
      const failure = await run('umount', ['--lazy', point], 10_000).then(
        () => undefined,
        (error: Error) => error.message,
      );
      if (failure && mountsUnder(dir).includes(point)) {
        problems.push(failure);
        break;
      }
    }
    problems.push(...removeCgroups(madeCgroups));
    for (const point of madeMountPoints) {
      try {
        rmdirSync(point);
      } catch {
        // in use by another node's component
      }
    }
    removeTempDir(dir);
    if (problems.length > 0) throw new Error(`node ${name} left things behind:\n${problems.join('\n')}`);
  };
  const unregister = registerCleanup(stop);

  try {
    madeCgroups = makeCgroups(cgroupRoot);
    const podSubnet = await pickPodSubnet();
    const subnetPrefix = podSubnet.replace(/0\/24$/, '');
    // Outside host-local's range (which ends at .250), on lo: the kubelet refuses a loopback
    // address as node IP but not another address of lo.
    const ip = `${subnetPrefix}254`;
    writeFileSync(netns, '');
    await run('unshare', [`--net=${netns}`, 'true']);
    const inNetns = (command: string[]) => ['--net=' + netns, ...command];
    for (const args of [
      ['link', 'set', 'lo', 'up'],
      ['address', 'add', `${ip}/32`, 'dev', 'lo'],
      ['address', 'add', `${KUBERNETES_SERVICE_IP}/32`, 'dev', 'lo'],
    ])
      await run('nsenter', inNetns(['ip', ...args]));
    const apiServerPort = new URL(controlPlane.server).port;
    const hostRelay = startProcess({
      name: 'relay-host',
      command: process.execPath,
      args: [RELAY_SCRIPT, 'unix-to-tcp', apiServerSocket, `${HOST}:${apiServerPort}`],
      logDir,
    });
    processes.push(hostRelay);
    await waitFor(
      hostRelay,
      () => Promise.resolve(tail(hostRelay.logPath).includes('ready')),
      timeoutMs,
      'host relay',
    );
    const nodeRelay = startProcess({
      name: 'relay-node',
      command: 'nsenter',
      args: inNetns([
        process.execPath,
        RELAY_SCRIPT,
        'tcp-to-unix',
        `${HOST}:${apiServerPort},${KUBERNETES_SERVICE_IP}:443`,
        apiServerSocket,
      ]),
      logDir,
    });
    processes.push(nodeRelay);
    await waitFor(
      nodeRelay,
      () => Promise.resolve(tail(nodeRelay.logPath).includes('ready')),
      timeoutMs,
      'node relay',
    );

    writeFileSync(
      join(cniConfDir, '10-ehc.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'ehc',
        plugins: [
          {
            type: 'bridge',
            bridge,
            // The bridge gets the range's first address, so the node reaches its pods. (The
            // plugin then sets net.ipv4.ip_forward=1, in the node's namespace.)
            isGateway: true,
            // Pods reach the kubernetes Service IP (on the node's lo) through the bridge; the
            // node's namespace itself has no route off the machine.
            isDefaultGateway: true,
            ipMasq: false,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: podSubnet, rangeEnd: `${subnetPrefix}250` }]],
              dataDir: join(dir, 'cni', 'ipam'),
            },
          },
        ],
      }),
    );

    // The kubelet's mounts under its root dir must reach containerd's mount namespace (and the
    // host's), so it is a shared mount before either namespace is made.
    await run('mount', ['--bind', kubeletRoot, kubeletRoot]);
    await run('mount', ['--make-shared', kubeletRoot]);
    writeFileSync(
      join(dir, 'containerd.toml'),
      containerdConfig({ bin, containerdRoot, containerdState, containerdSocket, cniConfDir }),
    );
    const containerd = startProcess({
      name: 'containerd',
      command: 'nsenter',
      // libcni caches results in /var/lib/cni and the shims put their sockets in /run/containerd,
      // whatever the config says; in its own mount namespace those are this node's.
      args: inNetns([
        'unshare',
        ...inPrivateMounts(
          [
            [join(dir, 'var-lib-cni'), '/var/lib/cni'],
            [join(dir, 'containerd', 'run'), '/run/containerd'],
          ],
          [join(bin, 'containerd'), '--config', join(dir, 'containerd.toml')],
          madeMountPoints,
        ),
      ]),
      logDir,
      // containerd finds its shim on PATH.
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    });
    processes.push(containerd);
    const ctr = (args: string[], ctrTimeoutMs?: number) =>
      run(
        join(bin, 'ctr'),
        ['--address', containerdSocket, '--namespace', CONTAINERD_NAMESPACE, ...args],
        ctrTimeoutMs,
      );
    await waitFor(containerd, async () => (await ctr(['version'])) !== '', timeoutMs, 'containerd answers');
    await ctr(['images', 'import', '--local', join(bin, 'pause-image.tar')]);

    const kubeconfig = controlPlane.kubeconfigPath;
    const rootCaFile = join(dir, 'apiserver-ca.crt');
    writeFileSync(rootCaFile, controlPlane.caPem);
    const scheduler = startProcess({
      name: 'kube-scheduler',
      command: join(bin, 'kube-scheduler'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        `--bind-address=${HOST}`,
        `--secure-port=${await freePort()}`,
      ],
      logDir,
    });
    processes.push(scheduler);
    const controllerManager = startProcess({
      name: 'kube-controller-manager',
      command: join(bin, 'kube-controller-manager'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        `--bind-address=${HOST}`,
        `--secure-port=${await freePort()}`,
        // Legacy token Secrets need the signing key, which the control plane keeps; pods get
        // projected tokens (TokenRequest) instead.
        '--controllers=*,-serviceaccount-token',
        // Published as the kube-root-ca.crt ConfigMap, the ca.crt of projected token volumes.
        `--root-ca-file=${rootCaFile}`,
      ],
      logDir,
    });
    processes.push(controllerManager);

    // The kubelet's ports are in the node's namespace, where nothing else listens; fixed ones.
    const healthzPort = 10248;
    writeFileSync(
      join(dir, 'kubelet.json'),
      JSON.stringify({
        kind: 'KubeletConfiguration',
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        address: HOST,
        port: 10250,
        readOnlyPort: 0,
        healthzBindAddress: HOST,
        healthzPort,
        authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        // Its own default (-999) needs CAP_SYS_RESOURCE.
        oomScoreAdj: 0,
        cgroupDriver: 'cgroupfs',
        cgroupRoot,
        failCgroupV1: false,
        failSwapOn: false,
        staticPodPath: staticPodDir,
        podLogsDir,
        containerRuntimeEndpoint: `unix://${containerdSocket}`,
        // A nearly full test disk must not taint the node.
        evictionHard: {
          'memory.available': '1Mi',
          'nodefs.available': '1%',
          'imagefs.available': '1%',
          'nodefs.inodesFree': '1%',
        },
        resolvConf: existsSync('/etc/resolv.conf') ? '/etc/resolv.conf' : '',
      }),
    );
    const sysctlFiles = Object.entries(KUBELET_SYSCTLS).map(([key, value]): [string, string] => {
      const file = join(sysctlDir, key.replaceAll('/', '.'));
      writeFileSync(file, `${value}\n`);
      return [file, `/proc/sys/${key}`];
    });
    const kubelet = startProcess({
      name: 'kubelet',
      command: 'nsenter',
      args: inNetns([
        'unshare',
        ...inPrivateMounts(
          [
            ...sysctlFiles,
            [varLog, '/var/log'],
            // Not under --root-dir: a fixed path, which two kubelets would fight over.
            [join(dir, 'device-plugins'), '/var/lib/kubelet/device-plugins'],
          ],
          [
            join(bin, 'kubelet'),
            `--config=${join(dir, 'kubelet.json')}`,
            `--kubeconfig=${kubeconfig}`,
            `--root-dir=${kubeletRoot}`,
            `--cert-dir=${join(dir, 'kubelet-pki')}`,
            `--hostname-override=${name}`,
            `--node-ip=${ip}`,
          ],
          madeMountPoints,
        ),
      ]),
      logDir,
    });
    processes.push(kubelet);
    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    await waitFor(
      kubelet,
      async () => isReady(await core.readNode({ name })),
      timeoutMs,
      `node ${name} Ready`,
    );

    const logs: Record<NodeComponent, string> = {
      containerd: containerd.logPath,
      kubelet: kubelet.logPath,
      'kube-scheduler': scheduler.logPath,
      'kube-controller-manager': controllerManager.logPath,
    };
    return {
      name,
      bridge,
      ip,
      netns,
      podSubnet,
      cgroupRoot,
      dir,
      timings: { readyMs: Date.now() - t0 },
      logTail: (component, lines) => tail(logs[component], lines),
      pids: () => Object.fromEntries(processes.map((proc) => [proc.name, proc.pid])),
      ctr,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

export function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function waitFor(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  description: string,
): Promise<void> {
  try {
    const outcome = await eventually(async () => (proc.exited() ? 'exited' : (await probe()) && 'ready'), {
      timeoutMs,
      intervalMs: 250,
      description,
    });
    if (outcome === 'exited') throw new Error(`${proc.name} exited before ${description}`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- ${proc.logPath} ---\n${tail(proc.logPath)}`, {
      cause: error,
    });
  }
}

/** A /24 in 10.240.0.0/12 that no route of this machine covers (pods are reachable from it only). */
async function pickPodSubnet(): Promise<string> {
  const routes = await run('ip', ['-4', 'route', 'show']);
  for (;;) {
    const second = 240 + (randomBytes(1)[0]! % 16);
    const third = randomBytes(1)[0]!;
    const subnet = `10.${second}.${third}.0/24`;
    if (!routes.includes(`10.${second}.${third}.`)) return subnet;
  }
}

function containerdConfig(paths: {
  bin: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  cniConfDir: string;
}): string {
  const q = JSON.stringify;
  return `version = 3
root = ${q(paths.containerdRoot)}
state = ${q(paths.containerdState)}

[grpc]
  address = ${q(paths.containerdSocket)}

[ttrpc]
  address = ${q(`${paths.containerdSocket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${q(PAUSE_IMAGE)}

[plugins.'io.containerd.cri.v1.runtime']
  netns_mounts_under_state_dir = true
  # Without CAP_SYS_RESOURCE (this machine drops it) no process may lower its OOM score, and the
  # kubelet asks -998 for every pod sandbox.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = ${q(join(paths.bin, 'runc'))}
        SystemdCgroup = false
        Root = ${q(join(paths.containerdState, 'runc'))}
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [${q(paths.bin)}]
    conf_dir = ${q(paths.cniConfDir)}
    max_conf_num = 1

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'
`;
}
