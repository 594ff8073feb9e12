// Graceful shutdown on SIGTERM, in controller-runtime's order: stop handing out work, wait for
// in-flight reconciles (bounded), give up the lease only after all leader work has stopped, then
// stop the watches. Only the CLI entry point may exit the process; nothing here does.
import { sleep, systemClock } from './clock.js';
import type { Clock } from './clock.js';
import type { LeaderElector } from './leader-election.js';
import type { Logger } from './logger.js';
import type { WorkerPool } from './workers.js';
import type { WorkQueue } from './workqueue.js';

export interface ShutdownParts {
  workers: WorkerPool[];
  queues: WorkQueue[];
  informers: Array<{ stop(): Promise<void> }>;
  elector?: LeaderElector;
  /** How long in-flight reconciles may take to finish (controller-runtime default: 30s overall). */
  drainTimeoutMs?: number;
  /** After the drain deadline, how long aborted reconciles get to unwind. */
  abortGraceMs?: number;
  log: Logger;
  clock?: Clock;
}

export interface ShutdownReport {
  /** Every in-flight reconcile finished before the drain deadline. */
  drained: boolean;
  /** 'released', 'failed', or 'none' when there was no elector. */
  lease: 'released' | 'failed' | 'none';
  elapsedMs: number;
}

export async function shutDownGracefully(parts: ShutdownParts): Promise<ShutdownReport> {
  const clock = parts.clock ?? systemClock;
  const startedAt = clock.now();
  const { log } = parts;

  for (const pool of parts.workers) pool.stop();
  for (const queue of parts.queues) queue.shutDown();
  const finished = Promise.all(parts.workers.map((pool) => pool.finished));
  const drained = await settlesWithin(finished, parts.drainTimeoutMs ?? 25_000);
  if (!drained) {
    const inFlight = parts.workers.reduce((sum, pool) => sum + pool.inFlight(), 0);
    log.warn({ inFlight }, 'reconciles still running at the drain deadline; aborting them');
    for (const pool of parts.workers) pool.abortInFlight();
    await settlesWithin(finished, parts.abortGraceMs ?? 2_000);
  }

  let lease: ShutdownReport['lease'] = 'none';
  if (parts.elector) lease = (await parts.elector.release()) ? 'released' : 'failed';

  await Promise.all(parts.informers.map((informer) => informer.stop()));
  const report = { drained, lease, elapsedMs: Math.round(clock.now() - startedAt) };
  log.info(report, 'shut down');
  return report;
}

/** Whether `work` settles within `ms`; the timer is cleared either way. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([work.then(() => true), sleep(ms, timer.signal).then(() => false)]);
  } finally {
    timer.abort();
  }
}

/**
 * Calls `onSignal` for every SIGTERM/SIGINT (the CLI typically shuts down gracefully on the
 * first and exits on the second). Returns a function that removes the listeners.
 */
export function onTerminationSignal(
  onSignal: (signal: NodeJS.Signals) => void,
  signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): () => void {
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
