// Bounded-concurrency workers over a WorkQueue, with controller-runtime's handling of a
// reconcile's outcome (pkg/internal/controller/controller.go reconcileHandler).
import { describeError, isUnreachable } from './k8s-errors.js';
import type { Logger } from './logger.js';
import type { WorkQueue } from './workqueue.js';

/** What a reconcile asks for next. Returning nothing means "done, forget the failures". */
export interface WorkOutcome {
  /** Reconcile the key again after this delay (e.g. the next check). */
  requeueAfterMs?: number;
  /**
   * The reconcile failed: the key is retried with per-key exponential backoff, and
   * `requeueAfterMs` is ignored, as in controller-runtime. A thrown error is treated the same.
   */
  error?: unknown;
}

/**
 * A reconcile that failed because the API server could not be reached waits for it to be back
 * (WorkQueue.retryParked), but at most this long.
 */
export const PARKED_RETRY_MAX_MS = 30_000;

/** `signal` aborts when the pool gives up on in-flight work (shutdown deadline). */
export type ReconcileHandler = (key: string, signal: AbortSignal) => Promise<WorkOutcome | void>;

export interface WorkerPool {
  /** Resolves once every worker has exited. */
  readonly finished: Promise<void>;
  /** Workers finish the key they hold and take no more. */
  stop(): void;
  /** Aborts the signal handed to in-flight reconciles. */
  abortInFlight(): void;
  /** Keys being reconciled right now. */
  inFlight(): number;
}

/**
 * Starts `concurrency` workers that take keys from `queue` until it shuts down or stop() is
 * called. The queue guarantees that one key is never reconciled by two workers at once.
 */
export function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handler: ReconcileHandler,
  log: Logger,
): WorkerPool {
  const stopTaking = new AbortController();
  const inFlightAbort = new AbortController();
  let inFlight = 0;

  const reconcile = async (key: string): Promise<WorkOutcome> => {
    try {
      return (await handler(key, inFlightAbort.signal)) ?? {};
    } catch (error) {
      return { error };
    }
  };

  const applyResult = (key: string, result: WorkOutcome): void => {
    if (result.error !== undefined && isUnreachable(result.error)) {
      log.warn(
        { key, error: describeError(result.error) },
        'API server unreachable; retrying when it is back',
      );
      queue.park(key, PARKED_RETRY_MAX_MS);
      return;
    }
    if (result.error !== undefined) {
      const fields = { key, error: describeError(result.error), requeues: queue.numRequeues(key) };
      log.error(fields, 'reconcile failed; retrying with backoff');
      queue.addRateLimited(key);
      return;
    }
    queue.forget(key);
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0)
      queue.addAfter(key, result.requeueAfterMs);
  };

  const work = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get(stopTaking.signal);
      if (key === null) return;
      inFlight++;
      try {
        applyResult(key, await reconcile(key));
      } finally {
        inFlight--;
        queue.done(key);
      }
    }
  };

  const finished = Promise.all(Array.from({ length: Math.max(1, concurrency) }, work)).then(() => undefined);
  return {
    finished,
    stop: () => stopTaking.abort(),
    abortInFlight: () => inFlightAbort.abort(new Error('reconcile abandoned at shutdown')),
    inFlight: () => inFlight,
  };
}
