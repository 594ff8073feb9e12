#!/usr/bin/env node
// `etcd-health check`: one assessment without the operator. Flags (and optionally a CR file, or a
// CR read from the cluster: ehc/NAME, see from-cluster.ts) -> the sources (observe) -> the pure
// analysis -> a report and an exit code: 0 healthy, 1 warnings,
// 2 critical, 3 could not assess. With --watch, re-runs until Ctrl-C (see watch.ts). The only place of this command that calls process.exit.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { Condition } from '../api/v1alpha1/status.js';
import { parseDurationMs } from '../api/v1alpha1/units.js';
import { analyze } from '../health/analyze.js';
import { plural } from '../health/text.js';
import { observe } from '../sources/observe.js';
import { observeOptionsFromSpec } from '../sources/options.js';
import { USAGE, parseCheckArgs } from './check-args.js';
import { buildCheckInput } from './check-input.js';
import { pastedCommandInput } from './pasted-commands.js';
import { compareStatus, renderComparison } from './compare.js';
import { loadClusterCheck } from './from-cluster.js';
import { startProgress } from './progress.js';
import { renderMachine, renderText, type CheckReport } from './report.js';
import { EXIT_INVALID_INPUT, verdictOf } from './verdict.js';
import { renderJsonLine, renderScreen, renderYamlDocument, watch, type WatchFrame } from './watch.js';

// grpc-js sets the TLS server name to the endpoint's IP address, which Node.js reports as DEP0123
// on every https:// connection: nothing a user of this command can act on.
process.noDeprecation = true;

async function main(argv: readonly string[]): Promise<number> {
  // A reader that went away (`| head`) is not a failure of the check: the exit code still tells.
  process.stdout.on('error', () => undefined);
  const parsed = parseCheckArgs(argv, process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') return fail(parsed.message);
  const args = parsed.args;

  // A CR from the cluster (ehc/NAME) brings its own observe: its credentials and discovery are
  // resolved with the user's kubeconfig, as the operator resolves them with its own.
  const built = args.cluster ? await loadClusterCheck(args.cluster) : buildCheckInput(args);
  if (!built.ok) return args.cluster ? refuse(built.error) : fail(built.error);
  const input = built.input;
  const { spec, analysisSpec, origin, notes } = input;
  const sample = 'sample' in input ? input.sample : undefined;
  if (!args.quiet) for (const note of notes) process.stderr.write(`etcd-health: note: ${note}\n`);

  // A CR from the cluster names its Secret as the operator does; local files are named by path.
  const pasted = pastedCommandInput(args, process.env, process.cwd());
  const commands =
    'namespace' in input ? { namespace: input.namespace, etcdctlVariables: pasted.etcdctlVariables } : pasted;
  const endpoints = spec.etcd.endpoints ?? [];
  const members = spec.etcd.discovery
    ? `pods ${spec.etcd.discovery.labelSelector} in ${spec.etcd.discovery.namespace}`
    : `${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}`;
  const sampling =
    sample &&
    ` and sampling /metrics of ${plural(sample.urls.length, 'member')} over ${seconds(sample.windowMs)}`;
  const what = `querying etcd (${members})${spec.prometheus ? ` and Prometheus at ${spec.prometheus.url}` : (sampling ?? '')}`;
  const textOptions = () => ({
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    width: Math.min(process.stdout.columns ?? 100, 120),
  });

  // A CR from the cluster: its status carries its generation, as the operator's does.
  const generation = 'object' in input ? (input.object.metadata.generation ?? 1) : 1;
  const check = async (options: {
    /** The spec to analyse with: the one-shot check's has no inertia of Degraded. */
    spec: EtcdHealthCheckSpec;
    previousConditions: Condition[];
    progress: boolean;
    signal?: AbortSignal;
  }): Promise<CheckReport> => {
    const progress = options.progress ? startProgress(process.stderr, what) : undefined;
    let observation;
    try {
      observation = await ('observe' in input
        ? input.observe(options.signal)
        : observe({ ...observeOptionsFromSpec(spec, input.resolved), sample, signal: options.signal }));
    } finally {
      progress?.stop();
    }
    const analysis = analyze({
      observation,
      spec: options.spec,
      previousConditions: options.previousConditions,
      generation,
      commands,
    });
    const verdict = verdictOf(analysis, observation);
    return { origin, prometheusUrl: spec.prometheus?.url, observation, analysis, verdict, generation };
  };

  if (args.watch) {
    const redraw = args.output === 'text' && process.stdout.isTTY === true;
    const render = (frame: WatchFrame) =>
      redraw
        ? renderScreen(frame, textOptions())
        : args.output === 'yaml'
          ? renderYamlDocument(frame)
          : renderJsonLine(frame);
    // Ctrl-C or SIGTERM ends the run in flight and the loop; a second Ctrl-C kills at once. A
    // reader that went away (`| head -1`) ends the loop too: nobody reads the next runs.
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    process.stdout.on('error', () => stop.abort());
    return watch({
      intervalMs: parseDurationMs(args.watch.interval ?? (args.file === undefined ? '10s' : spec.interval)),
      // A watch has history: the spec's own inertia of Degraded applies, as in the operator. One
      // progress line per run would bury a pipe's output: the spinner is for terminals only.
      check: (previousConditions, signal) =>
        check({ spec, previousConditions, progress: !args.quiet && process.stderr.isTTY, signal }),
      print: (frame) => write(render(frame)),
      sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
      now: Date.now,
      signal: stop.signal,
    });
  }

  const report = await check({
    spec: analysisSpec,
    previousConditions: 'previousConditions' in input ? input.previousConditions : [],
    progress: !args.quiet,
  });
  // Without what RBAC refused (e.g. the discovery's pod list) the report would mislead: none.
  const denied = 'denied' in input ? input.denied() : undefined;
  if (denied !== undefined) return refuse(denied);
  const comparison =
    args.cluster?.compare && 'object' in input ? compareStatus(input.object, report.analysis) : undefined;
  const output =
    args.output === 'text'
      ? `${renderText(report, textOptions())}${comparison ? `\n${renderComparison(comparison, textOptions())}` : ''}`
      : renderMachine(report, args.output, comparison && { comparison });
  await write(output);
  return report.verdict.exitCode;
}

/** 15000 -> "15s", 1500 -> "1.5s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

function fail(message: string): number {
  process.stderr.write(`etcd-health check: ${message}\n\nRun 'etcd-health check --help' for the flags.\n`);
  return EXIT_INVALID_INPUT;
}

/** A CR that could not be read or used: the message says which and why; the flags were fine. */
function refuse(message: string): number {
  process.stderr.write(`etcd-health check: ${message}\n`);
  return EXIT_INVALID_INPUT;
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

main(process.argv.slice(2)).then(
  // The gRPC channels of the etcd client may keep the event loop alive: exit explicitly.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `etcd-health check: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(EXIT_INVALID_INPUT);
  },
);
