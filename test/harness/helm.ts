// The Helm v4 CLI, built from the Go module proxy by test/helm/build.sh and cached by version
// outside the repository, run with its cache, config and data in a directory of the test's own (so
// no run reads or writes ~/.cache/helm or another run's releases).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('../helm/build.sh', import.meta.url));
export const CHART = fileURLToPath(new URL('../../charts/etcd-health-operator', import.meta.url));

/** Runs the (cached, usually instant) build and returns the helm binary. */
export function helmBinary(): string {
  const fromEnv = process.env.EHC_HELM_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'helm'))) return join(fromEnv, 'helm');
  const output = execFileSync('bash', [BUILD_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const dir = output.trim().split('\n').pop() ?? '';
  if (!existsSync(join(dir, 'helm'))) throw new Error(`helm build did not produce a binary in ${dir}`);
  process.env.EHC_HELM_BIN = dir;
  return join(dir, 'helm');
}

export interface HelmResult {
  stdout: string;
  stderr: string;
  /** Exit code; -1 when killed by a signal (timeout). */
  code: number;
}

export interface Helm {
  /** Runs helm; never throws for a non-zero exit. */
  run(args: string[], options?: { timeoutMs?: number }): Promise<HelmResult>;
  /** Runs helm and returns its stdout; throws with its stderr for a non-zero exit. */
  ok(args: string[], options?: { timeoutMs?: number }): Promise<string>;
}

/** Helm with its state under `dir`, talking to the cluster of `kubeconfig` when given. */
export function helmIn(dir: string, kubeconfig?: string): Helm {
  const binary = helmBinary();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CACHE_HOME: join(dir, 'helm-cache'),
    HELM_CONFIG_HOME: join(dir, 'helm-config'),
    HELM_DATA_HOME: join(dir, 'helm-data'),
    KUBECONFIG: kubeconfig ?? join(dir, 'no-cluster.kubeconfig'),
  };
  const run = (args: string[], options: { timeoutMs?: number } = {}) =>
    new Promise<HelmResult>((resolve, reject) => {
      const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          code: code ?? -1,
        });
      });
    });
  return {
    run,
    async ok(args, options) {
      const result = await run(args, options);
      if (result.code !== 0)
        throw new Error(`helm ${args.join(' ')} exited ${result.code}:\n${result.stderr || result.stdout}`);
      return result.stdout;
    },
  };
}
