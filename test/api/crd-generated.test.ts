// The committed CRD is what the zod schemas generate, and the shipped samples are valid specs.
import { describe, expect, it } from '@jest/globals';
import { loadAllYaml } from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CRD_PATH, renderCrdYaml } from '../../hack/crd-file.js';
import { buildCrd } from '../../src/api/v1alpha1/crd.js';
import { API_VERSION, EtcdHealthCheckSpecSchema, KIND } from '../../src/api/v1alpha1/index.js';

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

describe('generated CRD', () => {
  it(`${CRD_PATH} is up to date with src/api/v1alpha1`, () => {
    const committed = readFileSync(repoFile(CRD_PATH), 'utf8');
    const generated = renderCrdYaml();
    if (committed !== generated) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const line = a.findIndex((text, i) => text !== b[i]);
      const at = line === -1 ? b.length : line;
      throw new Error(
        `${CRD_PATH} is stale: run \`make manifests\` (npm run manifests) and commit the result.\n` +
          `first difference at line ${at + 1}:\n  committed: ${JSON.stringify(a[at])}\n  generated: ${JSON.stringify(b[at])}`,
      );
    }
    expect(committed).toBe(generated);
  });

  it('parses back to exactly buildCrd(): defaults, enums and CEL rules survive serialization', () => {
    // client-node's dumpYaml goes through typed models and once dropped these silently.
    const committed = yaml.load(readFileSync(repoFile(CRD_PATH), 'utf8'));
    expect(committed).toEqual(buildCrd());
    const text = JSON.stringify(committed);
    expect(text.match(/"default":/g)?.length).toBeGreaterThan(50);
    expect(text.match(/"x-kubernetes-validations":/g)?.length).toBeGreaterThan(4);
  });
});

describe('deploy/samples', () => {
  const samples = readdirSync(repoFile('deploy/samples')).filter((f) => f.endsWith('.yaml'));

  it('has the OpenShift, the kubeadm and the plain Kubernetes sample', () => {
    expect(samples).toEqual(expect.arrayContaining(['openshift.yaml', 'kubeadm.yaml', 'kubernetes.yaml']));
  });

  it.each(samples)('%s is a valid EtcdHealthCheck', (file) => {
    const docs = loadAllYaml(readFileSync(repoFile(`deploy/samples/${file}`), 'utf8')).filter(
      Boolean,
    ) as Array<{
      apiVersion?: string;
      kind?: string;
      metadata?: { name?: string };
      spec?: unknown;
    }>;
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      expect(doc).toMatchObject({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: expect.any(String) },
      });
      const parsed = EtcdHealthCheckSpecSchema.safeParse(doc.spec);
      expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    }
  });
});
