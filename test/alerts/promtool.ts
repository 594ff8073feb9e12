// Debian's promtool (package prometheus), run in a directory of rules and test files.
import { execFile } from 'node:child_process';

export const PROMTOOL = '/usr/bin/promtool';

export interface PromtoolResult {
  code: number;
  output: string;
}

export function promtool(args: string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd, timeout: 120_000, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      const output = `$ promtool ${args.join(' ')}\n${stdout}${stderr}`;
      if (error && typeof error.code !== 'number') {
        reject(new Error(`${output}\n${error.message}`, { cause: error }));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output });
    });
  });
}

/** Passes when promtool exited 0; otherwise fails with everything promtool printed. */
export function expectSuccess(result: PromtoolResult): void {
  if (result.code !== 0) throw new Error(`promtool failed (exit ${result.code}):\n${result.output}`);
}
