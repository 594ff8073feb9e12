// `npm run bench:footprint`: the operator's idle memory, as the image runs it. Builds the tsc output
// (`npm run build`) and the bundle (`npm run bundle`), then per run starts every variant side by side
// against one real kube-apiserver with the CRD and no EtcdHealthCheck (leader election off, as
// bench/run.ts), and samples each --idle seconds after it is ready: RSS (anonymous and file-backed) and
// peak from /proc, the V8 heap from its /metrics, CPU to ready and while idle. Then, in fresh nodes,
// what each production dependency costs alone, and a heap snapshot of each variant summarised by
// constructor. Results: bench/results/footprint-<time>.{json,md} and the Markdown on stdout.
import { execFile, execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { freePort, startControlPlane, type ControlPlane } from '../test/harness/controlplane.js';
import { eventually } from '../test/harness/eventually.js';
import { makeTempDir, startProcess, type ManagedProcess } from '../test/harness/process.js';
import { Teardown } from '../test/harness/teardown.js';
import {
  median,
  renderFootprint,
  summariseHeapSnapshot,
  type FootprintReport,
  type IdleSample,
  type ModuleCost,
  type VariantResult,
  type VariantSpec,
} from './footprint-report.js';
import { cpuSeconds, fetchText, parseSamples, sumOf } from './measure.js';
import { deployedNodeArgs } from './processes.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = join(REPO, 'bench/results');
const TSC_ENTRY = 'dist/src/cli/operator.js';
const BUNDLE_ENTRY = 'dist/bundle/src/cli/operator.js';
const STEP_TIMEOUT_MS = 120_000;
/** A heap snapshot of ~50 MiB took 85 s at load 27 on 2 cores. */
const SNAPSHOT_TIMEOUT_MS = 600_000;

const USAGE = `Usage: npm run bench:footprint [-- options]

  --variant 'LABEL=ENTRY [NODE FLAG...] [VAR=VALUE...]'  a variant to measure (repeatable); ENTRY relative to the
                        repository. Default: tsc=${TSC_ENTRY} and bundle=${BUNDLE_ENTRY}, both with
                        the node flags of deploy/base/deployment.yaml's NODE_OPTIONS
  --runs 3              runs; the variants of one run side by side, medians reported
  --idle 60             seconds after /readyz before the sample
  --no-build            measure dist/ as it is (skip npm run build and npm run bundle)
  --no-modules          skip the per-dependency breakdown
  --no-heap-snapshot    skip the heap snapshots
  -h, --help
`;

const runStarted = Date.now();
function step(text: string): void {
  const s = Math.floor((Date.now() - runStarted) / 1000);
  process.stdout.write(`[${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}] ${text}\n`);
}
const teardown = new Teardown(step);

function parseVariant(text: string): VariantSpec {
  const match = /^([\w.-]+)=(\S+)((?:\s+\S+)*)$/.exec(text.trim());
  if (!match) {
    throw new Error(
      `--variant: expected 'LABEL=ENTRY [NODE FLAG...] [VAR=VALUE...]', got ${JSON.stringify(text)}`,
    );
  }
  const words = match[3]!.trim().split(/\s+/).filter(Boolean);
  const isEnv = (word: string) => /^[A-Z_][A-Z0-9_]*=/.test(word);
  return {
    label: match[1]!,
    entry: match[2]!,
    nodeArgs: words.filter((word) => !isEnv(word)),
    env: Object.fromEntries(
      words
        .filter(isEnv)
        .map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]),
    ),
  };
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
}

/** /proc/<pid>/status fields in bytes. */
function procMemory(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM'), anon: kib('RssAnon'), file: kib('RssFile') };
}

interface Running {
  spec: VariantSpec;
  process: ManagedProcess;
  metricsUrl: string;
  healthUrl: string;
  diagnosticDir: string;
  startedAt: number;
}

async function startVariant(spec: VariantSpec, cp: ControlPlane, runIndex: number): Promise<Running> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const logDir = makeTempDir(`footprint-${spec.label}`);
  const identity = `footprint-${spec.label}-${runIndex}`;
  const child = startProcess({
    name: identity,
    command: process.execPath,
    args: [
      ...spec.nodeArgs,
      // Only a handler: the snapshot is taken at the end, after the sample.
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${logDir}`,
      join(REPO, spec.entry),
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-bind-address=127.0.0.1:${healthPort}`,
      // As bench/run.ts: on a loaded machine a slow Lease renewal would end the process (by design).
      '--leader-elect=false',
      '--log-level=info',
    ],
    cwd: logDir,
    logDir,
    env: { ...process.env, ...spec.env, POD_NAME: identity, NODE_OPTIONS: '' },
  });
  return {
    spec,
    process: child,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    healthUrl: `http://127.0.0.1:${healthPort}/readyz`,
    diagnosticDir: logDir,
    startedAt: Date.now(),
  };
}

async function waitReady(variant: Running): Promise<{ readyMs: number; cpu: number }> {
  await eventually(
    async () => {
      if (variant.process.exited()) {
        throw new Error(
          `${variant.spec.label} exited:\n${readFileSync(variant.process.logPath, 'utf8').slice(-2000)}`,
        );
      }
      return (await fetch(variant.healthUrl, { signal: AbortSignal.timeout(5_000) })).ok;
    },
    { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 100, description: `${variant.spec.label} ready` },
  );
  return { readyMs: Date.now() - variant.startedAt, cpu: cpuSeconds(variant.process.pid) };
}

async function sample(variant: Running, ready: { readyMs: number; cpu: number }): Promise<IdleSample> {
  const memory = procMemory(variant.process.pid);
  const cpu = cpuSeconds(variant.process.pid);
  const samples = parseSamples(await fetchText(variant.metricsUrl), ['nodejs_']);
  return {
    rssBytes: memory.rss,
    peakRssBytes: memory.hwm,
    anonBytes: memory.anon,
    fileBytes: memory.file,
    heapUsedBytes: sumOf(samples, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: sumOf(samples, 'nodejs_heap_size_total_bytes'),
    externalBytes: sumOf(samples, 'nodejs_external_memory_bytes'),
    readyMs: ready.readyMs,
    startCpuSeconds: ready.cpu,
    idleCpuSeconds: cpu - ready.cpu,
  };
}

/** SIGUSR2 makes node write a heap snapshot into its --diagnostic-dir; waits until it is whole. */
async function heapSnapshot(variant: Running): Promise<string> {
  process.kill(variant.process.pid, 'SIGUSR2');
  return eventually(
    () => {
      if (variant.process.exited())
        throw new Error(`exited while writing it; see ${variant.process.logPath}`);
      const file = readdirSync(variant.diagnosticDir).find((name) => name.endsWith('.heapsnapshot'));
      if (!file) return undefined;
      const path = join(variant.diagnosticDir, file);
      // The strings table comes last and closes the JSON: the file is whole once it ends with "]}".
      const size = statSync(path).size;
      if (size < 2) return undefined;
      const tail = Buffer.alloc(2);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, tail, 0, 2, size - 2);
      } finally {
        closeSync(fd);
      }
      return tail.toString() === ']}' && path;
    },
    { timeoutMs: SNAPSHOT_TIMEOUT_MS, intervalMs: 1_000, description: `${variant.spec.label} heap snapshot` },
  );
}

/** RSS and heap of a fresh node after importing `specifier` and two GCs. */
function importCost(specifier: string): Promise<{ rss: number; heapUsed: number }> {
  const code =
    `${specifier ? `await import(${JSON.stringify(specifier)});` : ''}` +
    'globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); globalThis.gc();' +
    'const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed }));';
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', code],
      { cwd: REPO, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout) =>
        error
          ? reject(new Error(`importing ${specifier || 'nothing'}: ${error.message}`, { cause: error }))
          : resolve(JSON.parse(stdout) as { rss: number; heapUsed: number }),
    );
  });
}

async function moduleCosts(measureBundle: boolean): Promise<ModuleCost[]> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const targets: { what: string; specifier: string }[] = [
    { what: '(nothing: node itself)', specifier: '' },
    ...Object.keys(pkg.dependencies).map((name) => ({ what: name, specifier: name })),
    // The operator's whole module graph without running it: the manager imports every layer.
    {
      what: 'dist/src/controller/manager.js (tsc output)',
      specifier: join(REPO, 'dist/src/controller/manager.js'),
    },
  ];
  if (measureBundle) {
    const chunks = join(REPO, 'dist/bundle/chunks');
    for (const chunk of readdirSync(chunks)) {
      targets.push({
        what: `dist/bundle/chunks/${chunk} (the bundle's shared code)`,
        specifier: join(chunks, chunk),
      });
    }
  }
  const costs: ModuleCost[] = [];
  for (const target of targets) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await importCost(target.specifier));
    const mid = (values: number[]) => values.sort((a, b) => a - b)[1]!;
    costs.push({
      what: target.what,
      rssBytes: mid(runs.map((r) => r.rss)),
      heapUsedBytes: mid(runs.map((r) => r.heapUsed)),
    });
    step(`  ${target.what}: RSS ${(costs.at(-1)!.rssBytes / 2 ** 20).toFixed(1)} MiB`);
  }
  return costs;
}

/** Output bytes of the bundle by npm package (src/ as one), from esbuild's metafile. */
function bundleByPackage(): { name: string; bytes: number }[] {
  const meta = JSON.parse(readFileSync(join(REPO, 'dist/bundle-meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'src (this repository)';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 15);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', multiple: true },
      runs: { type: 'string', default: '3' },
      idle: { type: 'string', default: '60' },
      'no-build': { type: 'boolean', default: false },
      'no-modules': { type: 'boolean', default: false },
      'no-heap-snapshot': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const deployed = deployedNodeArgs();
  const specs = values.variant?.map(parseVariant) ?? [
    { label: 'tsc', entry: TSC_ENTRY, nodeArgs: deployed, env: {} },
    { label: 'bundle', entry: BUNDLE_ENTRY, nodeArgs: deployed, env: {} },
  ];
  const runs = Number(values.runs);
  const idleSeconds = Number(values.idle);
  if (!(runs >= 1) || !(idleSeconds >= 0)) throw new Error('--runs >= 1 and --idle >= 0');
  const measuresBundle = specs.some((spec) => spec.entry.startsWith('dist/bundle/'));

  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  if (!values['no-build']) {
    step('building: npm run build (tsc) and npm run bundle (esbuild)');
    run('npm', ['run', '--silent', 'build']);
    run('npm', ['run', '--silent', 'bundle']);
  }

  step('starting a kube-apiserver with the CRD');
  const cp = await startControlPlane();
  teardown.add('control plane', () => cp.stop());

  const results: VariantResult[] = specs.map((spec) => ({ ...spec, runs: [] }));
  for (let r = 0; r < runs; r++) {
    step(`run ${r + 1}/${runs}: ${specs.map((s) => s.label).join(', ')} side by side`);
    const running = await Promise.all(specs.map((spec) => startVariant(spec, cp, r)));
    const ready = await Promise.all(running.map(waitReady));
    // The idle window is the measurement itself, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const samples = await Promise.all(running.map((variant, i) => sample(variant, ready[i]!)));
    samples.forEach((s, i) => results[i]!.runs.push(s));
    step(
      `  RSS idle: ${samples.map((s, i) => `${specs[i]!.label} ${(s.rssBytes / 2 ** 20).toFixed(1)} MiB`).join(', ')}`,
    );
    if (r === runs - 1 && !values['no-heap-snapshot']) {
      for (const [i, variant] of running.entries()) {
        step(`  heap snapshot of ${variant.spec.label}`);
        // A snapshot that fails is reported as such; the samples above stand on their own.
        try {
          results[i]!.heap = summariseHeapSnapshot(await heapSnapshot(variant));
        } catch (error) {
          results[i]!.heapError = (error as Error).message;
          step(`  heap snapshot of ${variant.spec.label} failed: ${results[i]!.heapError}`);
        }
      }
    }
    await Promise.all(running.map((variant) => variant.process.stop(20_000)));
  }

  const modules = values['no-modules']
    ? []
    : (step('each dependency alone in a fresh node'), await moduleCosts(measuresBundle));
  const report: FootprintReport = {
    startedAt: new Date(runStarted).toISOString(),
    machine: {
      nproc: cpus().length,
      node: process.version,
      kernel: release(),
      loadBefore,
      loadAfter: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    idleSeconds,
    variants: results,
    modules,
    bundleByPackage: measuresBundle ? bundleByPackage() : [],
  };
  const markdown = renderFootprint(report);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = join(RESULTS_DIR, `footprint-${report.startedAt.replace(/[:.]/g, '-')}`);
  // Formatted as the repo's prettier config wants it, so that `npm run lint` stays clean.
  const prettierOptions = (await resolveConfig(`${base}.json`)) ?? {};
  writeFileSync(`${base}.json`, await format(JSON.stringify(report), { ...prettierOptions, parser: 'json' }));
  writeFileSync(`${base}.md`, markdown);
  process.stdout.write(`\n${markdown}\nwritten: ${base}.{json,md}\n`);
  for (const v of results)
    step(`${v.label}: median idle RSS ${(median(v.runs, 'rssBytes') / 2 ** 20).toFixed(1)} MiB`);
  return 0;
}

teardown.onSignals((code) => process.exit(code));
const code = await main().catch((error: unknown) => {
  process.stderr.write(
    `footprint: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
});
await teardown.run();
process.exit(code);
