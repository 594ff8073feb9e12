// Stopping what a long-running script (the demo, the benchmark) started: each part in reverse
// order of starting, each with a deadline, then whatever the harness ledger still tracks, and a
// report of anything left behind. Ctrl-C runs the same teardown.
import { rmSync } from 'node:fs';
import { findLeaks } from './leaks.js';
import { HARNESS_LEDGER, cleanupAll } from './process.js';

const STOP_DEADLINE_MS = 45_000;

export class Teardown {
  private readonly parts: { what: string; stop: () => Promise<void> }[] = [];
  private running: Promise<void> | undefined;

  /** `say` prints one progress line. */
  constructor(private readonly say: (text: string) => void) {}

  /** Registers a part to stop; parts stop in the reverse order of their registration. */
  add(what: string, stop: () => Promise<void>): void {
    this.parts.push({ what, stop });
  }

  /** Stops everything once; later calls wait for the same run. */
  run(): Promise<void> {
    this.running ??= this.stopAll();
    return this.running;
  }

  /** SIGINT/SIGTERM start the teardown, then `exit`; a third signal exits at once. */
  onSignals(exit: (code: number) => never, exitCode = 130): void {
    // One Ctrl-C arrives more than once: the terminal signals the whole process group, and npm
    // and tsx relay it to their child too. Repeats within 2 seconds count as the same one.
    let first = 0;
    let count = 0;
    const handle = (signal: NodeJS.Signals) => {
      const now = Date.now();
      if (first !== 0 && now - first < 2_000) return;
      count++;
      if (count === 1) {
        first = now;
        process.stdout.write(`\n${signal}: stopping everything\n`);
        void this.run().then(() => exit(exitCode));
      } else if (count === 2) {
        process.stdout.write(
          `\n${signal} again: still cleaning up; once more exits at once and may leave processes behind\n`,
        );
      } else {
        exit(exitCode);
      }
    };
    process.on('SIGINT', handle);
    process.on('SIGTERM', handle);
  }

  private async stopAll(): Promise<void> {
    const started = Date.now();
    this.say('cleaning up: stopping everything this run started, by PID');
    for (const { what, stop } of [...this.parts].reverse()) {
      try {
        await Promise.race([
          stop(),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new Error(`no end after ${STOP_DEADLINE_MS / 1000}s`)),
              STOP_DEADLINE_MS,
            ).unref(),
          ),
        ]);
      } catch (error) {
        this.say(`  stopping ${what}: ${(error as Error).message}`);
      }
    }
    await cleanupAll();
    const leaks = findLeaks();
    if (leaks.length === 0) {
      rmSync(HARNESS_LEDGER, { force: true });
      this.say(
        `cleaned up in ${Math.round((Date.now() - started) / 1000)}s: no process or temp dir left behind`,
      );
    } else {
      this.say(`cleanup left these behind (listed in ${HARNESS_LEDGER}):\n${leaks.join('\n')}`);
    }
  }
}
