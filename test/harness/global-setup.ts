// Runs once before the integration suite: resolve (and if needed build) the real binaries, and
// start a fresh ledger of the processes and temp dirs the harness creates.
import { controlPlaneBinDir } from './binaries.js';
import { startLedger } from './process.js';

export default function globalSetup(): void {
  startLedger();
  controlPlaneBinDir();
}
