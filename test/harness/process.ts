// Processes and temp dirs that tests start, tracked so that each is stopped by PID (SIGTERM, then
// SIGKILL after a deadline: etcd members can hang on shutdown when their peers are gone) and
// removed, also when a test fails. Never kills anything by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A ledger lists every process and temp dir the harness started during one jest run, so that the
// global teardown can prove nothing was left behind. Global setup picks a file per run and passes
// it to the workers through the environment.
const HARNESS_STATE_DIR = join(tmpdir(), 'etcd-health-operator-harness');
mkdirSync(HARNESS_STATE_DIR, { recursive: true });
const LEDGER = process.env.EHC_HARNESS_LEDGER ?? join(HARNESS_STATE_DIR, `ledger-${process.pid}`);

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logPath: string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would. */
  kill(): Promise<void>;
}

const running = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
const cleanups = new Set<() => Promise<void>>();

/**
 * Runs `stop` in cleanupAll() before the processes are signalled: for composites that know better
 * than a SIGTERM per process (an etcd member under strace, which ignores SIGTERM and leaves its
 * tracee running). Returns a function that unregisters it, for a composite stopped on its own.
 */
export function registerCleanup(stop: () => Promise<void>): () => void {
  cleanups.add(stop);
  return () => cleanups.delete(stop);
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ehc-${prefix}-`));
  tempDirs.add(dir);
  appendFileSync(LEDGER, `dir ${dir}\n`);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startProcess(options: StartOptions): ManagedProcess {
  const logPath = join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.name}: ${options.command}`);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exitedFlag = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exitedFlag = true;
      log.end();
      resolve();
    });
  });
  child.once('error', (error) => appendFileSync(logPath, `spawn error: ${error.message}\n`));
  const pid = child.pid;
  appendFileSync(LEDGER, `pid ${pid} ${options.name}\n`);

  const managed: ManagedProcess = {
    name: options.name,
    pid,
    child,
    logPath,
    exited: () => exitedFlag,
    async stop(graceMs = 10_000) {
      if (!exitedFlag) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      running.delete(managed);
    },
    async kill() {
      if (!exitedFlag) child.kill('SIGKILL');
      await exit;
      running.delete(managed);
    },
  };
  running.add(managed);
  return managed;
}

/** Stops every process and removes every temp dir this test file's harness created. */
export async function cleanupAll(): Promise<void> {
  const composites = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(composites.map((stop) => stop()));
  await Promise.all([...running].map((p) => p.stop(5_000)));
  for (const dir of tempDirs) removeTempDir(dir);
}

/** Starts this run's ledger; global setup calls it once, before any worker starts. */
export function startLedger(): void {
  process.env.EHC_HARNESS_LEDGER = LEDGER;
  writeFileSync(LEDGER, '');
}

export { LEDGER as HARNESS_LEDGER };
