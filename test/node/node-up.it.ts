// `make node-up` / `make node-down` as people run them: `tsx hack/node.ts up` returns with a node
// that stays up (its holder runs on in a session of its own), kubectl through the KUBECONFIG it
// prints sees the node Ready, and `down` stops the holder, which removes every process, mount,
// network namespace, cgroup and temp dir the node had. The state goes to a temp
// XDG_RUNTIME_DIR, so a node a person keeps up is not touched.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../harness/eventually.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

interface State {
  holderPid: number;
  kubeconfig: string;
  kubectl: string;
  nodeName: string;
  dirs: string[];
  netns: string;
  cgroupRoot: string;
  pids: Record<string, number>;
}

let runtimeDir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: REPO, env, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

const nodeScript = (command: 'up' | 'down', timeoutMs: number) =>
  run(TSX, ['hack/node.ts', command], { ...process.env, XDG_RUNTIME_DIR: runtimeDir }, timeoutMs);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const stateFile = () => join(runtimeDir, 'etcd-health-node', 'state.json');

beforeAll(() => {
  runtimeDir = makeTempDir('node-up');
});

afterAll(async () => {
  // After a failure midway the node may still be up.
  if (existsSync(stateFile())) await nodeScript('down', 120_000);
  await cleanupAll();
}, 150_000);

it('node-up leaves a Ready node behind that kubectl reaches through the printed KUBECONFIG; node-down removes all of it', async () => {
  const started = Date.now();
  const up = await nodeScript('up', 360_000);
  expect({ code: up.code, stderr: up.code === 0 ? '' : up.stderr }).toEqual({ code: 0, stderr: '' });
  const upSeconds = Math.round((Date.now() - started) / 1000);
  const state = JSON.parse(readFileSync(stateFile(), 'utf8')) as State;
  expect(up.stdout).toContain(`holder PID ${state.holderPid}`);
  const kubeconfig = up.stdout.match(/export KUBECONFIG=(\S+)/)?.[1];
  expect(kubeconfig).toBe(state.kubeconfig);
  // `up` has returned: the holder and everything it started run on without it.
  expect(alive(state.holderPid)).toBe(true);
  for (const pid of Object.values(state.pids)) expect(alive(pid)).toBe(true);

  const kubectl = (args: string[]) =>
    run(state.kubectl, args, { ...process.env, KUBECONFIG: kubeconfig }, 30_000);
  const ready = await eventually(
    async () => {
      const nodes = await kubectl(['get', 'nodes']);
      return /\sReady\s/.test(nodes.stdout) && nodes;
    },
    { timeoutMs: 60_000, description: 'kubectl get nodes shows the node Ready' },
  );
  expect(ready.stdout).toContain(state.nodeName);
  console.log(`$ make node-up\n${up.stdout}\n$ kubectl get nodes\n${ready.stdout}`);

  const stopping = Date.now();
  const down = await nodeScript('down', 150_000);
  expect({ code: down.code, stderr: down.stderr }).toEqual({ code: 0, stderr: '' });
  const downSeconds = Math.round((Date.now() - stopping) / 1000);
  expect(alive(state.holderPid)).toBe(false);
  expect(Object.entries(state.pids).filter(([, pid]) => alive(pid))).toEqual([]);
  for (const dir of state.dirs) expect(existsSync(dir)).toBe(false);
  expect(existsSync(state.netns)).toBe(false);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const dir of state.dirs) expect(mounts).not.toContain(dir);
  const cgroups = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup' || fields[2] === 'cgroup2')
    .map((fields) => join(fields[1]!, state.cgroupRoot));
  expect(cgroups.length).toBeGreaterThan(0);
  expect(cgroups.filter((path) => existsSync(path))).toEqual([]);
  expect(existsSync(join(runtimeDir, 'etcd-health-node'))).toBe(false);
  console.log(`node-up ${upSeconds}s, node-down ${downSeconds}s`);
}, 600_000);
