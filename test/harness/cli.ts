// `etcd-health check` as a user runs it: its own process from the repository's source, with the
// environment the test gives it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface CheckRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the check with `args`, in an environment of this process's variables without those
 * `dropped` says to leave out, plus `added`. Resolves with the exit code; rejects only when the
 * process did not exit by itself (the 90 s timeout).
 */
export function runCheck(
  args: string[],
  { dropped, added = {} }: { dropped: (name: string) => boolean; added?: Record<string, string> },
): Promise<CheckRun> {
  const inherited = Object.entries(process.env).filter(([name]) => !dropped(name));
  // jest's --experimental-vm-modules would only add a warning to the child's stderr.
  const env = { ...Object.fromEntries(inherited), ...added, NODE_OPTIONS: '' };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/check.ts', ...args],
      { cwd: REPO, env, timeout: 90_000, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number')
          reject(new Error(`etcd-health check did not exit by itself: ${error.message}`, { cause: error }));
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
