// The release artifacts are current: dist/install.yaml and charts/etcd-health-operator are what
// `make release` generates from deploy/ now (the generators' --check, run in-process), so a change
// to deploy/ without `make release` fails CI. Also how the check reports a stale file, and what the
// chart generator refuses. Rendering needs the control plane's kubectl (test/controlplane/build.sh).
import { describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, chartFromRender, renderChart } from '../../hack/release/chart.js';
import {
  INSTALL_PATH,
  packageVersion,
  REPO,
  releaseImage,
  renderInstall,
  renderOverlay,
  staleness,
} from '../../hack/release/install.js';

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

const RENDER_TIMEOUT_MS = 120_000;

describe('make release --check', () => {
  it(
    'dist/install.yaml is the render of the CRD and deploy/overlays/kubernetes with the release image',
    async () => {
      const generated = await renderInstall();
      expect(generated.map((file) => file.path)).toEqual([INSTALL_PATH]);
      expect(staleness(generated)).toEqual([]);
      const objects = yaml.loadAll(readFileSync(join(REPO, INSTALL_PATH), 'utf8')) as KubeObject[];
      const kinds = objects.map((o) => o.kind);
      expect(kinds).toEqual(expect.arrayContaining(['CustomResourceDefinition', 'Namespace', 'Deployment']));
      const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: { template: { spec: { containers: Array<{ image: string }> } } };
      };
      expect(deployment.spec.template.spec.containers[0]?.image).toBe(releaseImage());
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'charts/etcd-health-operator is what hack/release/chart.ts generates, with no file of its own',
    async () => {
      const generated = await renderChart();
      expect(staleness(generated, [CHART_DIR])).toEqual([]);
      for (const file of generated) {
        // Every marker was replaced by Helm text, every default of values.yaml filled in.
        expect([file.path, file.content]).not.toEqual([
          file.path,
          expect.stringMatching(/__HELM_\d+__|__deploy_/),
        ]);
      }
      const paths = generated.map((file) => file.path.slice(CHART_DIR.length + 1));
      expect(paths).toEqual(
        expect.arrayContaining([
          'Chart.yaml',
          'values.yaml',
          'values.schema.json',
          'crds/etcdhealthchecks.etcdhealth.io.yaml',
          'templates/deployment.yaml',
          'templates/rbac.yaml',
          'templates/servicemonitor.yaml',
          'templates/prometheusrule.yaml',
          'templates/pdb.yaml',
          'templates/networkpolicy.yaml',
          'templates/dashboards.yaml',
          'files/prometheus-rules.yaml',
        ]),
      );
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'takes the chart defaults from deploy/: replicas, resources, PDB, discovery and credentials namespaces',
    async () => {
      const rendered = await renderOverlay(releaseImage());
      const objects = yaml.loadAll(rendered) as KubeObject[];
      const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: { replicas: number; template: { spec: { containers: Array<{ resources: unknown }> } } };
      };
      const values = yaml.load(readFileSync(join(REPO, CHART_DIR, 'values.yaml'), 'utf8')) as {
        replicaCount: number;
        resources: unknown;
        image: { repository: string; tag: string };
        discovery: { namespaces: string[] };
        credentials: { namespaces: string[] };
        podDisruptionBudget: { minAvailable: unknown };
      };
      expect(values.replicaCount).toBe(deployment.spec.replicas);
      expect(values.resources).toEqual(deployment.spec.template.spec.containers[0]?.resources);
      expect(`${values.image.repository}:${values.image.tag || packageVersion()}`).toBe(releaseImage());
      expect(values.podDisruptionBudget.minAvailable).toBe(
        objects.find((o) => o.kind === 'PodDisruptionBudget')?.spec?.minAvailable,
      );
      const boundIn = (role: string) =>
        objects
          .filter(
            (o) =>
              o.kind === 'RoleBinding' &&
              (o as unknown as { roleRef: { name: string } }).roleRef.name === `etcd-health-operator-${role}`,
          )
          .map((o) => o.metadata.namespace);
      expect(values.discovery.namespaces).toEqual(boundIn('discovery'));
      expect(values.credentials.namespaces).toEqual(boundIn('credentials'));
      expect(values.discovery.namespaces).toEqual(['kube-system']);
    },
    RENDER_TIMEOUT_MS,
  );
});

describe('staleness', () => {
  it(
    'names a file that differs, with the first differing line, and one that is missing',
    async () => {
      const [install] = await renderInstall();
      const edited = install!.content.replace('replicas: 2', 'replicas: 3');
      expect(edited).not.toBe(install!.content);
      const problems = staleness([
        { path: INSTALL_PATH, content: edited },
        { path: 'dist/absent.yaml', content: '' },
      ]);
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(
        /^dist\/install\.yaml: differs from line \d+: checked in "\s*replicas: 2", generated "\s*replicas: 3"$/,
      );
      expect(problems[1]).toBe('dist/absent.yaml: missing');
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'names a file in an owned directory that the generator does not make',
    async () => {
      const generated = (await renderChart()).filter((file) => !file.path.endsWith('/values.yaml'));
      expect(staleness(generated, [CHART_DIR])).toEqual([
        `${CHART_DIR}/values.yaml: not generated (remove it, or generate it)`,
      ]);
    },
    RENDER_TIMEOUT_MS,
  );
});

describe('the chart generator', () => {
  it(
    'refuses an object in another namespace that no value covers, rather than leaving it out',
    async () => {
      const rendered = await renderOverlay(releaseImage());
      const stray = yaml.dump({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'etcd-health-operator-monitoring', namespace: 'monitoring' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [],
      });
      expect(() => chartFromRender(`${rendered}---\n${stray}`, releaseImage())).toThrow(
        /RoleBinding\/etcd-health-operator-monitoring in namespace monitoring, which no value of the chart covers/,
      );
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'refuses discovery flags that disagree with the discovery RoleBindings',
    async () => {
      const rendered = await renderOverlay(releaseImage());
      const widened = rendered.replace('- --discovery-namespace=kube-system', '- --discovery-namespace=etcd');
      expect(widened).not.toBe(rendered);
      expect(() => chartFromRender(widened, releaseImage())).toThrow(/allows discovery in \[etcd\]/);
    },
    RENDER_TIMEOUT_MS,
  );
});
