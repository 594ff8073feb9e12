// client-node 1.4 is ESM-only, so the whole suite runs as native ESM: jest is started with
// --experimental-vm-modules (see package.json) and ts-jest emits ESM.
const tsJest = [
  'ts-jest',
  { useESM: true, tsconfig: { isolatedModules: true }, diagnostics: { ignoreCodes: [151002] } },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/harness/unit-timeout.ts'],
    },
    {
      ...common,
      displayName: 'integration-etcd-3.4',
      testMatch: ['<rootDir>/test/sources/**/*.it.ts'],
      setupFiles: ['<rootDir>/test/harness/etcd-3.4.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/harness/integration-timeout.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.mjs',
      globalTeardown: '<rootDir>/test/harness/global-teardown.mjs',
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.it.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/node/'],
      setupFilesAfterEnv: ['<rootDir>/test/harness/integration-timeout.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.mjs',
      globalTeardown: '<rootDir>/test/harness/global-teardown.mjs',
    },
    // A real node: kubelet, containerd, runc and CNI from test/node/build.sh (hack/setup.sh builds
    // them, cached by version), joined to the test control plane.
    {
      ...common,
      displayName: 'node',
      testMatch: ['<rootDir>/test/node/**/*.it.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/harness/integration-timeout.ts'],
      globalSetup: '<rootDir>/test/node/global-setup.mjs',
      globalTeardown: '<rootDir>/test/harness/global-teardown.mjs',
    },
  ],
};
