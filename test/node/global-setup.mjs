// Jest loads globalSetup outside its module mapper and transformer, so this plain ESM shim loads
// the TypeScript setup through tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const setup = await tsImport('./global-setup.ts', import.meta.url);
  await setup.default();
}
