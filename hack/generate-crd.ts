// `make manifests`: writes the CRD generated from src/api to crds/.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml, CRD_PATH } from '../src/api/v1alpha1/crd-file.js';

const target = fileURLToPath(new URL(`../${CRD_PATH}`, import.meta.url));
writeFileSync(target, renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
