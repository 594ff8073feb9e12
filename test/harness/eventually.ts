// Polling with a deadline: the only way tests wait for something. Never a bare sleep.
import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown in the error when the deadline passes. */
  description?: string;
}

/**
 * Calls `probe` until it returns a value other than undefined/false (or stops throwing), and
 * returns that value; fails with the last error or value after the deadline.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 250, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${description}; last: ${detail}`);
    }
    await delay(intervalMs);
  }
}
