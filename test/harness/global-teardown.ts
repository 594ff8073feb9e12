// Runs once after the integration suite: fails the run if any process the harness started is
// still alive or any temp dir it created is still on disk.
import { rmSync } from 'node:fs';
import { findLeaks } from './leaks.js';
import { HARNESS_LEDGER } from './process.js';

export default function globalTeardown(): void {
  const leaks = findLeaks();
  if (leaks.length > 0) throw new Error(`the test harness left things behind:\n${leaks.join('\n')}`);
  rmSync(HARNESS_LEDGER, { force: true });
}
