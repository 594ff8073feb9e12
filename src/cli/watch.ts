// `etcd-health check --watch`: the check re-run every interval until Ctrl-C, each run analysed with
// the last run's conditions (so lastTransitionTime and the inertia of Degraded work as in the
// operator). A terminal gets the report redrawn in place; a pipe or -o json one JSON line per run.
// The loop takes its clock, sleep and run as parameters: no timer or process here.
import { dumpYaml } from '@kubernetes/client-node';
import type { Condition } from '../api/v1alpha1/status.js';
import { machineDocument, renderText, type CheckReport, type TextOptions } from './report.js';
import { EXIT_CODES } from './verdict.js';

/** A condition whose status changed since the last run. */
export interface Transition {
  type: string;
  from: Condition['status'];
  to: Condition['status'];
  reason: string;
}

/** One finished run of the loop. */
export interface WatchFrame {
  /** 1 for the first run. */
  run: number;
  intervalMs: number;
  report: CheckReport;
  /** Empty on the first run: there is nothing to compare with. */
  transitions: Transition[];
}

export interface WatchLoop {
  intervalMs: number;
  /** One observation and analysis; `previousConditions` is [] on the first run. */
  check(previousConditions: Condition[], signal: AbortSignal): Promise<CheckReport>;
  print(frame: WatchFrame): Promise<void>;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  now(): number;
  /** Ctrl-C: the run in flight is cancelled and the loop ends. */
  signal: AbortSignal;
}

/**
 * Runs until `signal` aborts and returns the exit code of the last finished run's verdict. A run
 * cut short by the signal is neither printed nor counted: its sources only say "cancelled".
 * Runs start every interval; a run longer than that is followed at once by the next.
 */
export async function watch(loop: WatchLoop): Promise<number> {
  let exitCode = EXIT_CODES.Unassessable;
  let previous: Condition[] = [];
  for (let run = 1; !loop.signal.aborted; run++) {
    const started = loop.now();
    const report = await loop.check(previous, loop.signal);
    if (loop.signal.aborted) break;
    const transitions = run === 1 ? [] : transitionsOf(previous, report.analysis.conditions);
    await loop.print({ run, intervalMs: loop.intervalMs, report, transitions });
    exitCode = report.verdict.exitCode;
    previous = report.analysis.conditions;
    const left = loop.intervalMs - (loop.now() - started);
    if (left > 0 && !loop.signal.aborted) await loop.sleep(left, loop.signal);
  }
  return exitCode;
}

/** Conditions present in both runs whose status differs, in the order of `current`. */
export function transitionsOf(previous: readonly Condition[], current: readonly Condition[]): Transition[] {
  const before = new Map(previous.map((condition) => [condition.type, condition.status]));
  return current.flatMap((condition) => {
    const from = before.get(condition.type);
    return from === undefined || from === condition.status
      ? []
      : [{ type: condition.type, from, to: condition.status, reason: condition.reason }];
  });
}

/** One compact JSON line: what -o json prints, with the run's number, time and transitions. */
export function renderJsonLine(frame: WatchFrame): string {
  return `${JSON.stringify(watchDocument(frame))}\n`;
}

/** One YAML document per run, each opened by `---`. */
export function renderYamlDocument(frame: WatchFrame): string {
  return `---\n${dumpYaml(watchDocument(frame), { lineWidth: -1, noRefs: true })}`;
}

function watchDocument(frame: WatchFrame) {
  return {
    watch: {
      run: frame.run,
      time: frame.report.observation.time.toISOString(),
      transitions: frame.transitions,
    },
    ...machineDocument(frame.report),
  };
}

const CLEAR_SCREEN = '\u001b[H\u001b[2J\u001b[3J';

/**
 * A whole screen: cleared, a header ("every 5s, run 3, <time>"), the transitions since the last
 * run in reverse video (or marked `>>` without colour), then the report as one-shot check prints it.
 */
export function renderScreen(frame: WatchFrame, options: TextOptions): string {
  const time = frame.report.observation.time.toISOString();
  const header = `every ${formatInterval(frame.intervalMs)}, run ${frame.run}, ${time} (Ctrl-C to stop)`;
  const lines = frame.transitions.map((t) => {
    const text = `${t.type} ${t.from} -> ${t.to} (${t.reason})`;
    return options.color ? `  \u001b[7m${text}\u001b[0m` : `>> ${text}`;
  });
  const changes =
    frame.run === 1
      ? ''
      : lines.length === 0
        ? 'no transitions since the last run\n'
        : `${lines.join('\n')}\n`;
  return `${CLEAR_SCREEN}${header}\n${changes}\n${renderText(frame.report, options)}`;
}

function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
