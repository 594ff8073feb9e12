// `make node-up` / `make node-down`: the node the node suite runs on (test/harness/node.ts joined to
// a control plane of test/harness/controlplane.ts), kept up for people until they take it down.
// `up` builds what is missing (cached), then starts a holder process in its own session that
// starts the control plane and the node and waits for SIGTERM; `down` sends it SIGTERM (SIGKILL
// after a deadline), and the holder stops everything it started by PID and removes its mounts,
// network namespace, cgroups and temp dirs. The holder's state (its PID, the temp dirs, every PID
// it started) is a JSON file in ${XDG_RUNTIME_DIR:-/tmp}/etcd-health-node/. Needs root.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneBinDir } from '../test/harness/binaries.js';
import { startControlPlane, type ControlPlane } from '../test/harness/controlplane.js';
import { eventually } from '../test/harness/eventually.js';
import { nodeBinDir, startNode, type Node } from '../test/harness/node.js';
import { cleanupAll } from '../test/harness/process.js';

/** How long down waits for the holder to stop everything before it SIGKILLs it. */
const DOWN_DEADLINE_S = 90;

const USAGE = `Usage: tsx hack/node.ts up|down|status

  up      build (or reuse) the binaries, start a control plane and a node that stay up, print how
          to use them
  down    stop the node started by up: SIGTERM to its holder process, SIGKILL after ${DOWN_DEADLINE_S}s;
          the holder removes its processes, mounts, network namespace, cgroups and temp dirs
  status  print the state of the node started by up

State: ${stateDir()}/state.json (root only: the node needs root).
`;

/** What the holder writes once the node is Ready; `error` instead when it could not start it. */
interface State {
  holderPid: number;
  ready: boolean;
  error?: string;
  kubeconfig?: string;
  kubectl?: string;
  nodeName?: string;
  /** The temp dirs of the control plane and the node, removed by the holder on down. */
  dirs?: string[];
  /** The node's network namespace file (inside the node's dir). */
  netns?: string;
  /** The cgroup (the same path in every hierarchy) everything of the node runs under. */
  cgroupRoot?: string;
  /** ctr on the node's containerd, in the CRI's namespace. */
  ctr?: string;
  /** Every process the holder started, by name. */
  pids?: Record<string, number>;
}

function stateDir(): string {
  return join(process.env.XDG_RUNTIME_DIR || '/tmp', 'etcd-health-node');
}

const stateFile = () => join(stateDir(), 'state.json');
const holderLog = () => join(stateDir(), 'holder.log');

function readState(): State | undefined {
  if (!existsSync(stateFile())) return undefined;
  return JSON.parse(readFileSync(stateFile(), 'utf8')) as State;
}

function writeState(state: State): void {
  const file = stateFile();
  writeFileSync(`${file}.new`, JSON.stringify(state, null, 2));
  // Renamed into place, so that a reader never sees half a file.
  renameSync(`${file}.new`, file);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function tail(path: string, lines = 30): string {
  return existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

async function up(): Promise<number> {
  const previous = readState();
  if (previous && alive(previous.holderPid)) {
    process.stderr.write(
      `a node is up already (holder PID ${previous.holderPid}); make node-down first\n${usage(previous)}`,
    );
    return 1;
  }
  if (previous) {
    const left = (previous.dirs ?? []).filter((dir) => existsSync(dir));
    process.stderr.write(
      `the holder of an earlier node (PID ${previous.holderPid}) is gone without node-down${left.length > 0 ? `; it left ${left.join(', ')}` : ''}\n`,
    );
  }
  rmSync(stateDir(), { recursive: true, force: true });
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  // Builds in the foreground, with their progress; the holder inherits the bin dirs.
  const kubectl = join(controlPlaneBinDir(), 'kubectl');
  nodeBinDir();
  const log = openSync(holderLog(), 'a');
  const holder = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'hold'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      EHC_NODE_KUBECTL: kubectl,
      // The harness's ledger of what it started, beside the state instead of in /tmp.
      EHC_HARNESS_LEDGER: join(stateDir(), 'ledger'),
    },
  });
  holder.unref();
  const holderPid = holder.pid;
  if (holderPid === undefined) throw new Error(`could not start the holder: ${process.execPath}`);
  process.stdout.write(
    `starting the control plane and the node (holder PID ${holderPid}, log ${holderLog()})\n`,
  );
  const state = await eventually(
    () => {
      const current = readState();
      if (current?.ready || current?.error) return current;
      if (!alive(holderPid)) return { holderPid, ready: false, error: 'the holder exited' };
      return undefined;
    },
    { timeoutMs: 300_000, intervalMs: 500, description: 'the node Ready' },
  ).catch((error: Error): State => ({ holderPid, ready: false, error: error.message }));
  if (!state.ready) {
    process.stderr.write(
      `the node did not come up: ${state.error}\n--- ${holderLog()} ---\n${tail(holderLog())}\n`,
    );
    if (alive(holderPid)) process.kill(holderPid, 'SIGTERM');
    return 1;
  }
  process.stdout.write(usage(state));
  return 0;
}

function usage(state: State): string {
  return `node ${state.nodeName} is up (holder PID ${state.holderPid}, state ${stateFile()})

  export KUBECONFIG=${state.kubeconfig}
  export PATH=${state.kubectl ? join(state.kubectl, '..') : ''}:$PATH
  kubectl get nodes -o wide

There is no registry: import images into the node's containerd (and use imagePullPolicy: Never)
  ${state.ctr} images import --local <image.tar>
Pods get IPs on a bridge in the node's own network namespace; reach them from there:
  nsenter --net=${state.netns} <command>
Stop everything with: make node-down
`;
}

async function down(): Promise<number> {
  const state = readState();
  if (!state) {
    process.stdout.write(`no node is up (no ${stateFile()})\n`);
    return 0;
  }
  const { holderPid } = state;
  if (alive(holderPid)) {
    process.kill(holderPid, 'SIGTERM');
    const gone = await eventually(() => !alive(holderPid), {
      timeoutMs: DOWN_DEADLINE_S * 1000,
      intervalMs: 250,
      description: `holder ${holderPid} gone`,
    }).then(
      () => true,
      () => false,
    );
    if (!gone) {
      process.stderr.write(`the holder ${holderPid} did not stop within ${DOWN_DEADLINE_S}s: SIGKILL\n`);
      process.kill(holderPid, 'SIGKILL');
    }
  }
  const leftPids = Object.entries(state.pids ?? {}).filter(([, pid]) => alive(pid));
  const leftDirs = (state.dirs ?? []).filter((dir) => existsSync(dir));
  if (leftPids.length > 0 || leftDirs.length > 0) {
    process.stderr.write(
      `left behind: ${[...leftPids.map(([name, pid]) => `${name} PID ${pid}`), ...leftDirs].join(', ')}\n--- ${holderLog()} ---\n${tail(holderLog())}\n`,
    );
    return 1;
  }
  rmSync(stateDir(), { recursive: true, force: true });
  process.stdout.write(`node ${state.nodeName ?? ''} stopped; everything it made is removed\n`);
  return 0;
}

function status(): number {
  const state = readState();
  if (!state) {
    process.stdout.write('no node is up\n');
    return 0;
  }
  if (!alive(state.holderPid)) {
    process.stdout.write(`the holder (PID ${state.holderPid}) is gone; make node-down cleans up its state\n`);
    return 1;
  }
  process.stdout.write(state.ready ? usage(state) : `starting (holder PID ${state.holderPid})\n`);
  return 0;
}

/** The holder: starts the control plane and the node, writes the state, stops both on SIGTERM. */
async function hold(): Promise<number> {
  const stopRequested = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
      process.once(signal, () => resolve(signal));
  });
  let controlPlane: ControlPlane | undefined;
  let node: Node | undefined;
  const stop = async () => {
    try {
      await node?.stop();
    } finally {
      await controlPlane?.stop();
      await cleanupAll();
    }
  };
  try {
    controlPlane = await startControlPlane({ serviceAccountAdmission: true });
    node = await startNode(controlPlane);
  } catch (error) {
    writeState({ holderPid: process.pid, ready: false, error: (error as Error).message });
    await stop().catch((stopError: Error) => console.error(stopError.message));
    return 1;
  }
  const pids = controlPlane.pids();
  writeState({
    holderPid: process.pid,
    ready: true,
    kubeconfig: controlPlane.kubeconfigPath,
    kubectl: process.env.EHC_NODE_KUBECTL ?? join(controlPlaneBinDir(), 'kubectl'),
    nodeName: node.name,
    dirs: [controlPlane.dir, node.dir],
    netns: node.netns,
    cgroupRoot: node.cgroupRoot,
    ctr: `${join(nodeBinDir(), 'ctr')} --address ${join(node.dir, 'containerd', 'containerd.sock')} --namespace k8s.io`,
    pids: {
      ...(pids.etcd === undefined ? {} : { etcd: pids.etcd }),
      'kube-apiserver': pids.apiServer,
      ...node.pids(),
    },
  });
  console.log(`node ${node.name} Ready in ${Math.round(node.timings.readyMs / 1000)}s`);
  console.log(`${await stopRequested}: stopping`);
  try {
    await stop();
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  console.log('stopped');
  return 0;
}

const commands: Record<string, () => Promise<number> | number> = { up, down, status, hold };
const command = commands[process.argv[2] ?? ''];
if (!command) {
  process.stderr.write(USAGE);
  process.exit(2);
}
// At once: the harness's clients may keep handles open after everything is stopped.
process.exit(await command());
