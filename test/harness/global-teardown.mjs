// See global-setup.mjs: the TypeScript teardown is loaded through tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const teardown = await tsImport('./global-teardown.ts', import.meta.url);
  await teardown.default();
}
