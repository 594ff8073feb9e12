// Jest 30 reads testTimeout only from the global config, not from a project. Unit tests that run
// promtool or talk to a local fake over loopback take well under a second on an idle machine but
// several on a loaded one (load 30+ on 2 cores in CI beside other jobs): 5 s would fail them for
// the machine's sake. Nothing in the unit project waits on a timer this long by design.
import { jest } from '@jest/globals';

jest.setTimeout(30_000);
