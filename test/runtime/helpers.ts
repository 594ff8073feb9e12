// Small test helpers: polling with a deadline (instead of sleeps) and a logger that records.
import type { Logger } from '../../src/runtime/logger.js';

/**
 * Polls `condition` until it returns true (or stops throwing), failing after `timeoutMs`. The
 * deadline is generous because the suite must pass on a loaded 2-core machine.
 */
export async function eventually(condition: () => boolean | void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      if (condition() !== false) return;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) {
      throw failure instanceof Error
        ? failure
        : new Error(`condition not met within ${timeoutMs}ms: ${String(condition)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  debug(fields: object, message: string): void {
    this.entries.push({ level: 'debug', message, fields: { ...fields } });
  }
  info(fields: object, message: string): void {
    this.entries.push({ level: 'info', message, fields: { ...fields } });
  }
  warn(fields: object, message: string): void {
    this.entries.push({ level: 'warn', message, fields: { ...fields } });
  }
  error(fields: object, message: string): void {
    this.entries.push({ level: 'error', message, fields: { ...fields } });
  }

  messages(level: LogEntry['level']): string[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message);
  }
}
