// Runs once before the node suite: the integration suite's setup, plus the node binaries (a cold
// build takes many minutes, longer than any test's timeout).
import integrationSetup from '../harness/global-setup.js';
import { nodeBinDir } from '../harness/node.js';

export default function globalSetup(): void {
  integrationSetup();
  nodeBinDir();
}
