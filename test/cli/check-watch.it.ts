// The real `etcd-health check --watch=1s -o json` (its own process) against a real 3-member
// cluster: one JSON line per run, a killed member seen as a transition in a later line, and a
// prompt exit on Ctrl-C with the last run's exit code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { cleanupAll } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface WatchLine {
  watch: { run: number; time: string; transitions: { type: string; from: string; to: string }[] };
  result: { verdict: string; exitCode: number };
  status: { members: { name: string; reachable: boolean }[] };
}

interface Watcher {
  child: ChildProcess;
  lines: WatchLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWatch(args: string[]): Watcher {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('ETCDCTL_'));
  // jest's --experimental-vm-modules would only add a warning to the child's stderr.
  const env = { ...Object.fromEntries(inherited), NODE_OPTIONS: '' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/check.ts', ...args], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: WatchLine[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const line of complete) lines.push(JSON.parse(line) as WatchLine);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, stderr: () => stderr, exited };
}

describe('etcd-health check --watch against a 3-member cluster', () => {
  let cluster: EtcdCluster;
  let watcher: Watcher | undefined;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3 });
  });

  afterAll(async () => {
    if (watcher && watcher.child.exitCode === null && watcher.child.signalCode === null)
      watcher.child.kill('SIGKILL');
    await cluster?.stop();
    await cleanupAll();
  });

  it('prints a JSON line per run, the killed member as a transition, and stops on Ctrl-C', async () => {
    // No /metrics sample: it would make every run last its window.
    watcher = startWatch([
      '--endpoints',
      cluster.endpoints.join(','),
      '--sample-window',
      '0s',
      '--watch=1s',
      '-o',
      'json',
      '-q',
    ]);
    const { lines } = watcher;
    const describeState = () => `${lines.length} lines; stderr: ${watcher!.stderr()}`;

    await eventually(() => lines.length >= 2 && lines.slice(0, 2).every((l) => l.result.exitCode === 0), {
      timeoutMs: 60_000,
      description: `two healthy runs (${describeState()})`,
    });
    expect(lines.slice(0, 2).map((line) => line.watch.run)).toEqual([1, 2]);
    expect(lines[0]!.watch.transitions).toEqual([]);
    expect(lines[0]!.status.members.every((member) => member.reachable)).toBe(true);

    const leader = await cluster.waitForLeader();
    const victim = cluster.members.map((m) => m.name).find((name) => name !== leader)!;
    const before = lines.length;
    await cluster.killMember(victim);

    const changed = await eventually(
      () =>
        lines
          .slice(before)
          .find((line) =>
            line.watch.transitions.some(
              (t) => t.type === 'EtcdMembersUpgradeable' && t.from === 'True' && t.to === 'False',
            ),
          ),
      { timeoutMs: 60_000, description: `the killed member as a transition (${describeState()})` },
    );
    expect(changed.result).toMatchObject({ verdict: 'Warning', exitCode: 1 });
    expect(changed.status.members.find((member) => member.name === victim)?.reachable).toBe(false);
    // The runs go on, numbered in order.
    expect(lines.map((line) => line.watch.run)).toEqual(lines.map((_, index) => index + 1));

    const stopped = Date.now();
    watcher.child.kill('SIGINT');
    const exit = await watcher.exited;
    expect(Date.now() - stopped).toBeLessThan(10_000);
    // Exited by itself with the last run's verdict (a member down: a warning), not killed by the signal.
    expect(exit).toEqual({ code: 1, signal: null });
    expect(lines.at(-1)!.result.exitCode).toBe(1);
  }, 180_000);
});
