// Runs the real operator entry point (src/cli/operator.ts through tsx) as a separate process,
// as a Deployment would: its own kubeconfig, flags, metrics and health ports. Stopped by PID.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './controlplane.js';
import { eventually } from './eventually.js';
import { startProcess, type ManagedProcess } from './process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface OperatorProcess {
  readonly identity: string;
  readonly metricsUrl: string;
  readonly healthUrl: string;
  readonly process: ManagedProcess;
  /** The whole log so far (pino JSON lines). */
  logs(): string;
  /** Value of one sample of /metrics (sum over series matching every given label), or undefined. */
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface OperatorOptions {
  kubeconfigPath: string;
  logDir: string;
  identity: string;
  /** Namespace of the leader-election Lease; leader election is off without it. */
  leaseNamespace?: string;
  extraArgs?: string[];
  /** NODE_OPTIONS of the operator process, e.g. the Deployment's heap bound; none by default. */
  nodeOptions?: string;
}

export async function startOperator(options: OperatorOptions): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const args = [
    '--import',
    'tsx',
    'src/cli/operator.ts',
    `--kubeconfig=${options.kubeconfigPath}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    // Tests scrape /metrics over plain HTTP; test/observability/metrics-access.it.ts passes
    // --metrics-secure=true (the later flag wins) to test the secure default.
    '--metrics-secure=false',
    `--health-bind-address=127.0.0.1:${healthPort}`,
    '--log-level=debug',
    ...(options.leaseNamespace
      ? [`--leader-election-namespace=${options.leaseNamespace}`]
      : ['--leader-elect=false']),
    ...(options.extraArgs ?? []),
  ];
  const child = startProcess({
    name: `operator-${options.identity}`,
    command: process.execPath,
    args,
    cwd: REPO,
    logDir: options.logDir,
    env: { ...process.env, POD_NAME: options.identity, NODE_OPTIONS: options.nodeOptions ?? '' },
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const logs = () => readFileSync(child.logPath, 'utf8');
  await eventually(
    async () => {
      if (child.exited()) throw new Error(`operator exited:\n${logs().slice(-4000)}`);
      const response = await fetch(`${healthUrl}/readyz`);
      return response.ok;
    },
    { timeoutMs: 90_000, description: `operator ${options.identity} ready` },
  );
  return {
    identity: options.identity,
    metricsUrl,
    healthUrl,
    process: child,
    logs,
    metric: async (name, labels = {}) => {
      const text = await (await fetch(metricsUrl)).text();
      return sumSamples(text, name, labels);
    },
    stop: () => child.stop(20_000),
    kill: () => child.kill(),
  };
}

/** Sums the samples of `name` whose labels include all of `labels`; undefined when none match. */
export function sumSamples(text: string, name: string, labels: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map(
      [...(match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) {
      sum = (sum ?? 0) + Number(match[4]);
    }
  }
  return sum;
}
