// `make manifests`: writes the CRD and the API reference generated from src/api to the repository.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml, CRD_PATH } from './crd-file.js';
import { renderApiReference, API_REFERENCE_PATH } from '../src/api/v1alpha1/reference.js';

for (const [path, render] of [
  [CRD_PATH, renderCrdYaml],
  [API_REFERENCE_PATH, renderApiReference],
] as const) {
  writeFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), render());
  console.log(`wrote ${path}`);
}
