// Jest 30 reads testTimeout only from the global config, not from a project; real processes on a
// loaded 2-core machine need minutes, so the integration project sets it here.
import { jest } from '@jest/globals';

jest.setTimeout(180_000);
