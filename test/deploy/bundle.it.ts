// The committed OLM bundle against the real judges: the operator-framework validators (the library
// behind `operator-sdk bundle validate`: default bundle validators, OperatorHub with its standard
// categories and capabilities, good practices; test/olm, built from the Go module proxy) find no
// error and no warning, and do find a broken copy; and a real kube-apiserver with the bundle's CRD
// admits every alm-example, every extra object of bundle/manifests and the install strategy's
// Deployment and RBAC with strict field validation (server-side dry run), and refuses a misspelt
// example; and bundle.Dockerfile builds (buildah) an image whose labels are
// bundle/metadata/annotations.yaml and whose /manifests and /metadata are bundle/'s.
// test/deploy/bundle.test.ts checks staleness and the RBAC against deploy/.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane, type KubectlResult } from '../harness/controlplane.js';
import { buildah, buildahRunroot, withImageRootfs } from '../harness/image.js';
import { cleanupAll, makeTempDir, removeTempDir } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(REPO, 'bundle');
const MANIFESTS = join(BUNDLE, 'manifests');
const CSV_FILE = join(MANIFESTS, 'etcd-health-operator.clusterserviceversion.yaml');
const CRD_FILE = join(MANIFESTS, 'etcdhealth.io_etcdhealthchecks.yaml');
const MONITORING_CRDS = fileURLToPath(new URL('./fixtures/monitoring.coreos.com-crds.yaml', import.meta.url));
const NAMESPACE = 'etcd-health-operator';
const KUBECTL_TIMEOUT_MS = 120_000;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  [field: string]: unknown;
}

interface Csv extends KubeObject {
  metadata: KubeObject['metadata'] & { annotations: Record<string, string> };
  spec: {
    icon: Array<{ base64data: string; mediatype: string }>;
    install: {
      spec: {
        clusterPermissions: Array<{ serviceAccountName: string; rules: unknown[] }>;
        permissions: Array<{ serviceAccountName: string; rules: unknown[] }>;
        deployments: Array<{ name: string; label: Record<string, string>; spec: Record<string, unknown> }>;
      };
    };
  };
}

interface Report {
  bundle: string;
  errors: Array<{ type: string; message: string }>;
  warnings: Array<{ type: string; message: string }>;
}

const csv = yaml.load(readFileSync(CSV_FILE, 'utf8')) as Csv;

const VALIDATOR_BUILD_TIMEOUT_MS = 30 * 60_000;
let validatorBinary = '';
// Cached by hack/setup.sh; a cold build takes many minutes on a loaded machine.
beforeAll(() => {
  const output = execFileSync('bash', [join(REPO, 'test/olm/build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: VALIDATOR_BUILD_TIMEOUT_MS,
  });
  validatorBinary = join(output.trim().split('\n').pop() ?? '', 'olm-validate');
}, VALIDATOR_BUILD_TIMEOUT_MS);

function validate(dir: string): { code: number | null; report: Report } {
  const result = spawnSync(validatorBinary, [dir], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`olm-validate exited ${result.status}: ${result.stderr}`);
  }
  return { code: result.status, report: JSON.parse(result.stdout) as Report };
}

describe('the operator-framework validators', () => {
  it('find no error and no warning in bundle/', () => {
    const { code, report } = validate(BUNDLE);
    expect(report).toEqual({ bundle: 'etcd-health-operator.v0.1.0', errors: [], warnings: [] });
    expect(code).toBe(0);
  });

  it('do judge: a bad icon media type is an OperatorHub error, a container without requests a good-practices warning', () => {
    const dir = makeTempDir('bundle');
    try {
      cpSync(BUNDLE, dir, { recursive: true });
      const broken = JSON.parse(JSON.stringify(csv)) as Csv;
      broken.spec.icon[0]!.mediatype = 'image/bmp';
      const pod = (
        broken.spec.install.spec.deployments[0]!.spec as { template: { spec: { containers: unknown[] } } }
      ).template.spec;
      pod.containers = pod.containers.map((c) => ({ ...(c as object), resources: {} }));
      writeFileSync(
        join(dir, 'manifests/etcd-health-operator.clusterserviceversion.yaml'),
        yaml.dump(broken),
      );
      const { code, report } = validate(dir);
      expect(code).toBe(1);
      expect(report.errors.map((e) => e.message)).toEqual([expect.stringContaining('image/bmp')]);
      expect(report.warnings.map((w) => w.message)).toEqual([
        expect.stringContaining('unable to find the resource requests for the container: (operator)'),
      ]);
    } finally {
      removeTempDir(dir);
    }
  });
});

describe('the bundle on a real kube-apiserver', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane({ crdFiles: [CRD_FILE, MONITORING_CRDS] });
    await cp.createNamespace(NAMESPACE);
    await cp.createNamespace('openshift-etcd');
    await cp.createNamespace('kube-system');
  });

  afterAll(async () => {
    await cp?.stop();
    await cleanupAll();
  });

  /** Server-side dry run with strict field validation: the apiserver's schema, defaults and admission, nothing stored. */
  function dryRun(objects: KubeObject[], namespace: string): Promise<KubectlResult> {
    const input = objects.map((o) => yaml.dump(o)).join('---\n');
    return cp.kubectl(['create', '--dry-run=server', '--validate=strict', '-n', namespace, '-f', '-'], {
      input,
      timeoutMs: KUBECTL_TIMEOUT_MS,
    });
  }

  const examples = () => JSON.parse(csv.metadata.annotations['alm-examples']!) as KubeObject[];

  it.each(['openshift-etcd', 'kube-system'])('admits every alm-example in %s', async (namespace) => {
    const result = await dryRun(examples(), namespace);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(
      examples().map(() => 'etcdhealthcheck.etcdhealth.io/etcd created (server dry run)'),
    );
  });

  it('refuses an alm-example with a misspelt field or a value the CRD rules out', async () => {
    const [example] = examples();
    const spec = example!.spec as Record<string, unknown>;
    const misspelt = { ...example!, spec: { ...spec, intervall: '30s' } };
    const tooShort = { ...example!, spec: { ...spec, interval: '1s' } };
    const unknown = await dryRun([misspelt], 'openshift-etcd');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown field "spec.intervall"');
    const invalid = await dryRun([tooShort], 'openshift-etcd');
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('interval must be at least 10s');
  });

  it('admits every other object of bundle/manifests in the operator namespace', async () => {
    const extra = readdirSync(MANIFESTS)
      .filter(
        (file) =>
          file !== 'etcd-health-operator.clusterserviceversion.yaml' && !file.startsWith('etcdhealth.io_'),
      )
      .flatMap((file) => yaml.loadAll(readFileSync(join(MANIFESTS, file), 'utf8')) as KubeObject[]);
    expect(extra.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceMonitor',
    ]);
    const result = await dryRun(extra, NAMESPACE);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it("admits the install strategy's Deployment (restricted Pod Security) and its RBAC as OLM creates them", async () => {
    const restricted = ['enforce', 'warn'].map((mode) => `pod-security.kubernetes.io/${mode}=restricted`);
    expect((await cp.kubectl(['label', 'namespace', NAMESPACE, ...restricted, '--overwrite'])).code).toBe(0);
    const { deployments, clusterPermissions, permissions } = csv.spec.install.spec;
    const rbac = 'rbac.authorization.k8s.io/v1';
    const objects: KubeObject[] = [
      ...deployments.map((d) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: d.name, labels: d.label },
        spec: d.spec,
      })),
      ...clusterPermissions.map((p, i) => ({
        apiVersion: rbac,
        kind: 'ClusterRole',
        metadata: { name: `${p.serviceAccountName}-csv-${i}` },
        rules: p.rules,
      })),
      ...permissions.map((p, i) => ({
        apiVersion: rbac,
        kind: 'Role',
        metadata: { name: `${p.serviceAccountName}-csv-${i}` },
        rules: p.rules,
      })),
    ];
    const result = await dryRun(objects, NAMESPACE);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deployment.apps/etcd-health-operator created (server dry run)');
  });
});

describe('bundle.Dockerfile', () => {
  afterAll(async () => {
    await cleanupAll();
  });

  it('builds the bundle image: the annotations as labels, bundle/manifests and bundle/metadata as its files', async () => {
    const runroot = buildahRunroot();
    const ref = `localhost/etcd-health-operator-bundle:test-${process.pid}`;
    await buildah(
      runroot,
      ['bud', '--isolation', 'chroot', '--file', join(REPO, 'bundle.Dockerfile'), '--tag', ref, REPO],
      {
        timeoutMs: 600_000,
      },
    );
    try {
      const inspect = JSON.parse(await buildah(runroot, ['inspect', '--type', 'image', ref])) as {
        OCIv1: { config: { Labels?: Record<string, string> } };
      };
      const { annotations } = yaml.load(readFileSync(join(BUNDLE, 'metadata/annotations.yaml'), 'utf8')) as {
        annotations: Record<string, string>;
      };
      expect(inspect.OCIv1.config.Labels).toEqual(expect.objectContaining(annotations));
      await withImageRootfs(runroot, ref, (rootfs) => {
        expect(readdirSync(rootfs).sort()).toEqual(['manifests', 'metadata']);
        expect(readdirSync(join(rootfs, 'manifests')).sort()).toEqual(readdirSync(MANIFESTS).sort());
        for (const file of readdirSync(MANIFESTS)) {
          expect(readFileSync(join(rootfs, 'manifests', file), 'utf8')).toBe(
            readFileSync(join(MANIFESTS, file), 'utf8'),
          );
        }
        expect(readFileSync(join(rootfs, 'metadata/annotations.yaml'), 'utf8')).toBe(
          readFileSync(join(BUNDLE, 'metadata/annotations.yaml'), 'utf8'),
        );
      });
    } finally {
      await buildah(runroot, ['rmi', ref]);
    }
  });
});
