// A last-resort timeout for promises whose own deadline should already bound them, and the way a
// caller's AbortSignal ends a wait without waiting for that deadline.
import { setMaxListeners } from 'node:events';

/** What a source reports for work its caller cancelled (the operator is shutting down). */
export const CANCELLED = 'cancelled';

/**
 * Resolves to `promise`'s value, or to `onTimeout()` after `ms`: a last guard for calls whose own
 * deadline should have fired already, so that no single call can stall a check.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves to `promise`'s value, or to `onAbort()` as soon as `signal` aborts (at once if it already
 * has). Only the wait ends: whoever owns the work behind `promise` stops it, or its deadline does.
 */
export async function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => T,
): Promise<T> {
  if (!signal) return promise;
  let resolveAborted!: (value: T) => void;
  const aborted = new Promise<T>((resolve) => (resolveAborted = resolve));
  const listener = (): void => resolveAborted(onAbort());
  if (signal.aborted) listener();
  else signal.addEventListener('abort', listener, { once: true });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', listener);
  }
}

/**
 * A signal of our own that aborts when `parent` does, for work that hangs a listener per call in
 * flight on it (dozens in one observation): Node warns of a leak past 10 listeners on one signal,
 * and the caller's signal is not ours to reconfigure. `release()` removes the listener on `parent`.
 */
export function followSignal(parent: AbortSignal | undefined): {
  signal: AbortSignal | undefined;
  release: () => void;
} {
  if (!parent) return { signal: undefined, release: () => undefined };
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onParentAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return { signal: controller.signal, release: () => parent.removeEventListener('abort', onParentAbort) };
}
