// A last-resort timeout for promises whose own deadline should already bound them.

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
