// Time sources and timers shared by the runtime. Every timer here is unref'd: a pending retry or
// deadline must never keep the process alive after everything else has shut down.

/** A monotonic clock in milliseconds; injectable so tests can drive time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

/** Random numbers in [0, 1); injectable so tests can pin the jitter. */
export type Random = () => number;

/** Waits `ms`, or less if `signal` aborts first. Never rejects: callers check their own state. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `work` with a signal that aborts after `ms` or when `parent` aborts. Unlike
 * `AbortSignal.any`, it leaves no listener behind on the long-lived parent, so it is cheap to use
 * once per API call.
 */
export async function withDeadline<T>(
  ms: number,
  parent: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(() => controller.abort(new Error(`deadline of ${ms}ms exceeded`)), ms);
  timer.unref();
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
}
