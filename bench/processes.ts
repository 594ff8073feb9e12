// The two operators under test, each as its own process the way a Deployment runs it: the real one
// through the test harness (src/cli/operator.ts), the naive baseline (bench/naive-operator.ts) the
// same way, with its own metrics and health ports on 127.0.0.1.
import { execFileSync, execSync } from 'node:child_process';
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/harness/controlplane.js';
import { eventually } from '../test/harness/eventually.js';
import { startOperator } from '../test/harness/operator.js';
import { makeTempDir, startProcess } from '../test/harness/process.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** The node flags deploy/base gives the operator (NODE_OPTIONS): benchmarks run it as deployed. */
export function deployedNodeArgs(): string[] {
  const deployment = readFileSync(join(REPO, 'deploy/base/deployment.yaml'), 'utf8');
  const value = /- name: NODE_OPTIONS\s*\n\s*value:\s*(.+)/.exec(deployment)?.[1]?.trim();
  if (!value) throw new Error('deploy/base/deployment.yaml sets no NODE_OPTIONS for the operator');
  return value
    .replace(/^["']|["']$/g, '')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * real: the operator; naive: bench/naive-operator.ts; real-unshared: the operator with
 * --source-cache-ttl=0s, i.e. every check sends its own queries and dials etcd itself.
 */
export const OPERATOR_KINDS = ['real', 'naive', 'real-unshared'] as const;
export type OperatorKind = (typeof OPERATOR_KINDS)[number];

/**
 * How the operators run: `build` compiles both entry points with tsc first and runs the JavaScript,
 * as the container image does (`node dist/src/cli/operator.js`); `tsx` runs the TypeScript through
 * tsx as test/harness/operator.ts does, which costs memory (a loader thread, esbuild, source maps).
 */
export type RunMode = 'build' | 'tsx';

export interface Builds {
  /** The compiled operator and naive baseline. */
  plain: string;
  /** The image's bundle of the operator (hack/bundle.ts); when set, the real operators run it. */
  bundle?: string;
}

/**
 * Compiles src/cli/operator.ts and bench/naive-operator.ts (and what they import) into a temp dir
 * that resolves the repo's node_modules. Takes about 20 s on 2 cores.
 */
export function buildOperators(): Builds {
  const dir = makeTempDir('bench-build');
  const out = join(dir, 'out');
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: {
        rootDir: REPO,
        outDir: out,
        noEmit: false,
        sourceMap: false,
        typeRoots: [join(REPO, 'node_modules/@types')],
      },
      include: [],
      files: [join(REPO, 'src/cli/operator.ts'), join(REPO, 'bench/naive-operator.ts')],
    }),
  );
  execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // ESM needs "type": "module" above the .js files; bare imports resolve through the symlink.
  copyFileSync(join(REPO, 'package.json'), join(out, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));

  return { plain: out };
}

/** `npm run bundle`: the operator as the image runs it, in dist/bundle (src/cli/operator.js there). */
export function bundleOperator(): string {
  execFileSync('npm', ['run', '--silent', 'bundle'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  return join(REPO, 'dist/bundle');
}

export interface OperatorUnderTest {
  readonly kind: OperatorKind;
  /** PID of the node process itself (the harness spawns process.execPath, not a shell). */
  readonly pid: number;
  readonly metricsUrl: string;
  readonly logPath: string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  kubeconfigPath: string;
  logDir: string;
  /** The output of buildOperators(); without it the operators run through tsx. */
  builds?: Builds;
  /** Write a V8 CPU profile of the operator into this dir when it exits (node --cpu-prof). */
  cpuProfileDir?: string;
  /** Flags for node itself, before the entry point (e.g. --max-old-space-size=160). */
  nodeArgs?: string[];
  /** Extra flags for the real operator (e.g. --concurrency=20). */
  realArgs?: string[];
}

export async function startUnderTest(kind: OperatorKind, options: StartOptions): Promise<OperatorUnderTest> {
  if (kind === 'real' && !options.builds && !options.cpuProfileDir && !options.nodeArgs?.length) {
    // One replica, leader election off: an apiserver restart longer than the renew deadline (10s)
    // would otherwise end the process (by design: a fresh process competes again), and nothing
    // here restarts it. Log level info, as deployed (the harness defaults to debug).
    const operator = await startOperator({
      kubeconfigPath: options.kubeconfigPath,
      logDir: options.logDir,
      identity: 'bench-real',
      extraArgs: ['--log-level=info', ...(options.realArgs ?? [])],
    });
    return {
      kind,
      pid: operator.process.pid,
      metricsUrl: operator.metricsUrl,
      logPath: operator.process.logPath,
      exited: () => operator.process.exited(),
      stop: () => operator.stop(),
    };
  }
  // The same flags as test/harness/operator.ts, on the compiled entry point or through tsx.
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const source = kind === 'naive' ? 'bench/naive-operator.ts' : 'src/cli/operator.ts';
  const buildDir =
    kind === 'naive' ? options.builds?.plain : (options.builds?.bundle ?? options.builds?.plain);
  const entry = [
    ...(options.nodeArgs ?? []),
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    ...(buildDir ? [join(buildDir, source.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', source]),
  ];
  const child = startProcess({
    name: `operator-bench-${kind}`,
    command: process.execPath,
    args: [
      ...entry,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-bind-address=127.0.0.1:${healthPort}`,
      '--log-level=info',
      // The bench samples /metrics over plain HTTP, without a token.
      ...(kind === 'naive'
        ? []
        : ['--leader-elect=false', '--metrics-secure=false', ...(options.realArgs ?? [])]),
      ...(kind === 'real-unshared' ? ['--source-cache-ttl=0s'] : []),
    ],
    cwd: REPO,
    logDir: options.logDir,
    env: { ...process.env, POD_NAME: `bench-${kind}`, NODE_OPTIONS: '' },
  });
  await eventually(
    async () => {
      if (child.exited()) throw new Error(`${kind} operator exited; see ${child.logPath}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok;
    },
    { timeoutMs: 90_000, description: `${kind} operator ready` },
  );
  return {
    kind,
    pid: child.pid,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logPath: child.logPath,
    exited: () => child.exited(),
    stop: () => child.stop(20_000),
  };
}

/** A shell command's output for a report of the machine; a failure is reported in its place. */
export function shellOutput(command: string): string {
  try {
    return execSync(command, { encoding: 'utf8' }).trim();
  } catch (error) {
    return `(${(error as Error).message})`;
  }
}
