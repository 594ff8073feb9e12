// The Helm chart charts/etcd-health-operator with the real Helm v4 (test/helm/build.sh) and a real
// kube-apiserver: `helm lint --strict`; values.schema.json refusing bad values; with the release
// named etcd-health-operator in its namespace and default values the chart makes the objects of
// deploy/overlays/kubernetes (labels and three flags aside); each value does what values.yaml says;
// and every render passes a server-side dry run (schemas, strict field validation, RBAC
// escalation checks) on the API server. test/node/install.it.ts installs it on a real node.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHART_DIR, renderChart } from '../../hack/release/chart.js';
import { releaseImage, renderOverlay } from '../../hack/release/install.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { CHART, helmIn, type Helm } from '../harness/helm.js';
import { everythingIn, everythingLabelled } from '../harness/leftovers.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const MONITORING_CRDS = fileURLToPath(new URL('./fixtures/monitoring.coreos.com-crds.yaml', import.meta.url));
const RELEASE = 'etcd-health-operator';
const NAMESPACE = 'etcd-health-operator';

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

let cp: ControlPlane;
let helm: Helm;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir('chart');
  cp = await startControlPlane({ crdFiles: [MONITORING_CRDS] });
  helm = helmIn(dir, cp.kubeconfigPath);
  for (const namespace of [NAMESPACE, 'ehc', 'team-a', 'team-b']) await cp.createNamespace(namespace);
}, 300_000);

afterAll(async () => {
  await cp?.stop();
  await cleanupAll();
});

/** `helm template` of `chart` as the objects it makes (CRDs included with includeCrds). */
async function template(
  values: string[] = [],
  options: { release?: string; namespace?: string; chart?: string; extra?: string[] } = {},
): Promise<KubeObject[]> {
  const output = await helm.ok([
    'template',
    options.release ?? RELEASE,
    options.chart ?? CHART,
    '--namespace',
    options.namespace ?? NAMESPACE,
    ...values.flatMap((value) => ['--set', value]),
    ...(options.extra ?? []),
  ]);
  return (yaml.loadAll(output) as Array<KubeObject | null>).filter((o): o is KubeObject => o !== null);
}

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const find = (objects: KubeObject[], kind: string, name: string, namespace?: string) =>
  objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );
const containerOf = (objects: KubeObject[], deployment = RELEASE) =>
  (
    find(objects, 'Deployment', deployment) as unknown as {
      spec: {
        template: { spec: { containers: Array<{ args: string[]; image: string; imagePullPolicy: string }> } };
      };
    }
  ).spec.template.spec.containers[0]!;

/** Server-side apply as a dry run: the API server validates every object, nothing is stored. */
async function dryRunOnServer(objects: KubeObject[]): Promise<string> {
  const result = await cp.kubectl(
    ['apply', '--server-side', '--dry-run=server', '--field-manager=helm-test', '-f', '-'],
    {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      timeoutMs: 120_000,
    },
  );
  if (result.code !== 0) throw new Error(`server-side dry run refused the chart:\n${result.stderr}`);
  return result.stdout;
}

/**
 * An object without what the chart writes differently by design: labels (Helm's, with the
 * release), selectors (the release's instance label too), and the flags and pull policy values set.
 */
function comparable(object: KubeObject): unknown {
  const strip = (value: unknown, key = ''): unknown => {
    if (Array.isArray(value)) return value.map((item) => strip(item));
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !['labels', 'matchLabels', 'imagePullPolicy'].includes(k))
        .filter(([k]) => !(object.kind === 'Service' && key === 'spec' && k === 'selector'))
        .map(([k, v]) => [
          k,
          k === 'args' ? (v as string[]).filter((arg) => !CHART_FLAGS.test(arg)) : strip(v, k),
        ]),
    );
  };
  return strip(object);
}
const CHART_FLAGS = /^--(log-level|leader-elect|leader-election-id)=/;

describe('helm lint and values.schema.json', () => {
  it('lints clean with --strict, with the defaults and with every optional part on', async () => {
    const lint = await helm.ok(['lint', '--strict', CHART]);
    expect(lint).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const on = await helm.ok([
      'lint',
      '--strict',
      CHART,
      '--set',
      'dashboards.enabled=true,watchNamespaces={team-a},leaderElection.enabled=false,replicaCount=1',
    ]);
    expect(on).toMatch(/0 chart\(s\) failed/);
  });

  it.each([
    ['replicaCount=-1', /replicaCount/],
    ['logLevel=loud', /logLevel/],
    ['replicas=3', /replicas/],
    ['watchNamespaces={Team_A}', /watchNamespaces/],
    ['extraArgs={concurrency=20}', /extraArgs/],
    ['image.digest=latest', /digest/],
  ])('refuses %s, naming the value', async (value, named) => {
    const result = await helm.run(['template', RELEASE, CHART, '--set', value]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/schema/);
    expect(result.stderr).toMatch(named);
  });
});

describe('helm template', () => {
  it('with the defaults, makes the objects of deploy/overlays/kubernetes but the Namespace, the same but for labels and the flags values set', async () => {
    const chart = await template([], { extra: ['--include-crds'] });
    const overlay = (yaml.loadAll(await renderOverlay(releaseImage())) as KubeObject[]).filter(
      (o) => o.kind !== 'Namespace',
    );
    expect(chart.map(key).sort()).toEqual(overlay.map(key).sort());
    for (const object of overlay) {
      const made = chart.find((o) => key(o) === key(object))!;
      expect([key(object), comparable(made)]).toEqual([key(object), comparable(object)]);
    }
    // What differs by design, exactly.
    const container = containerOf(chart);
    expect(container.args.filter((arg) => CHART_FLAGS.test(arg))).toEqual([
      '--log-level=info',
      '--leader-elect=true',
      `--leader-election-id=${RELEASE}`,
    ]);
    expect(container.image).toBe(releaseImage());
    expect(find(chart, 'Deployment', RELEASE)?.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'etcd-health-operator',
      'app.kubernetes.io/instance': RELEASE,
      'app.kubernetes.io/managed-by': 'Helm',
    });
    // The alerts' own Go templates reach the PrometheusRule as they are, not as Helm's.
    const rules = JSON.stringify(find(chart, 'PrometheusRule', RELEASE));
    expect(rules).toContain('{{ $labels.namespace }}/{{ $labels.name }}');
  });

  it('passes a server-side dry run on the API server, with the defaults and with another release name and namespace', async () => {
    await dryRunOnServer(await template([], { extra: ['--include-crds'] }));
    const other = await template(
      ['credentials.namespaces={team-a}', 'discovery.namespaces={team-a,team-b}'],
      {
        release: 'ehc',
        namespace: 'ehc',
      },
    );
    // Names from the release; the ServiceAccount bound where it lives.
    expect(other.map(key)).toEqual(
      expect.arrayContaining([
        'Deployment/ehc/ehc-etcd-health-operator',
        'ClusterRole//ehc-etcd-health-operator-discovery',
        'RoleBinding/team-a/ehc-etcd-health-operator-credentials',
        'RoleBinding/team-b/ehc-etcd-health-operator-discovery',
      ]),
    );
    const binding = find(other, 'RoleBinding', 'ehc-etcd-health-operator-discovery', 'team-b') as unknown as {
      roleRef: { name: string };
      subjects: Array<{ name: string; namespace: string }>;
    };
    expect(binding.roleRef.name).toBe('ehc-etcd-health-operator-discovery');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'ehc-etcd-health-operator', namespace: 'ehc' },
    ]);
    expect(containerOf(other, 'ehc-etcd-health-operator').args).toEqual(
      expect.arrayContaining([
        '--discovery-namespace=team-a',
        '--discovery-namespace=team-b',
        '--leader-election-id=ehc-etcd-health-operator',
      ]),
    );
    await dryRunOnServer(other);
  });

  it('scopes the operator to watchNamespaces: --namespace and a RoleBinding in each instead of the ClusterRoleBinding', async () => {
    const scoped = await template(['watchNamespaces={team-a,team-b}']);
    expect(find(scoped, 'ClusterRoleBinding', RELEASE)).toBeUndefined();
    for (const namespace of ['team-a', 'team-b']) {
      const binding = find(scoped, 'RoleBinding', RELEASE, namespace) as unknown as {
        roleRef: { kind: string; name: string };
      };
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: RELEASE,
      });
    }
    expect(containerOf(scoped).args).toEqual(
      expect.arrayContaining(['--namespace=team-a', '--namespace=team-b']),
    );
    await dryRunOnServer(scoped);
  });

  it('sets the image, replicas, resources, log level, admin flags and extra flags from values', async () => {
    const objects = await template([
      'image.repository=registry.example/ehc',
      'image.tag=1.2.3',
      'replicaCount=3',
      'resources.requests.cpu=200m',
      'logLevel=debug',
      'prometheus.urlAllow={https://thanos.example:9091}',
      'prometheus.serviceAccountTokenUrls={https://thanos.example:9091/api}',
      'etcdEndpointCidrs={10.0.0.0/8}',
      'extraArgs={--concurrency=20}',
      'image.pullPolicy=Always',
    ]);
    const deployment = find(objects, 'Deployment', RELEASE) as unknown as {
      spec: { replicas: number; template: { spec: { containers: Array<{ resources: unknown }> } } };
    };
    expect(deployment.spec.replicas).toBe(3);
    // --set merges into the defaults: the CPU request changes, the memory bounds stay.
    expect(deployment.spec.template.spec.containers[0]?.resources).toMatchObject({
      requests: { cpu: '200m', memory: expect.any(String) },
      limits: { memory: expect.any(String) },
    });
    const container = containerOf(objects);
    expect(container.image).toBe('registry.example/ehc:1.2.3');
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--log-level=debug',
        '--prometheus-url-allow=https://thanos.example:9091',
        '--prometheus-sa-token-url=https://thanos.example:9091/api',
        '--etcd-endpoint-cidr=10.0.0.0/8',
        '--concurrency=20',
      ]),
    );
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(containerOf(await template([`image.digest=${digest}`])).image).toBe(
      `${releaseImage().split(':')[0]}@${digest}`,
    );
    await dryRunOnServer(objects);
  });

  it('leaves out what is switched off: leader election, the PDB with one replica, NetworkPolicy, ServiceMonitor, PrometheusRule', async () => {
    const kinds = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
    const full = kinds(await template());
    expect(full).toEqual(
      expect.arrayContaining([
        'Role/etcd-health-operator-leader-election',
        'PodDisruptionBudget/etcd-health-operator',
        'NetworkPolicy/etcd-health-operator',
        'ServiceMonitor/etcd-health-operator',
        'PrometheusRule/etcd-health-operator',
      ]),
    );
    const single = await template(['leaderElection.enabled=false', 'replicaCount=1']);
    expect(kinds(single)).not.toContain('Role/etcd-health-operator-leader-election');
    expect(kinds(single)).not.toContain('RoleBinding/etcd-health-operator-leader-election');
    expect(kinds(single)).not.toContain('PodDisruptionBudget/etcd-health-operator');
    expect(containerOf(single).args).toContain('--leader-elect=false');
    const bare = kinds(
      await template([
        'networkPolicy.enabled=false',
        'serviceMonitor.enabled=false',
        'prometheusRule.enabled=false',
      ]),
    );
    expect(bare.filter((k) => /^(NetworkPolicy|ServiceMonitor|PrometheusRule)\//.test(k))).toEqual([]);
    expect(bare).toContain('Deployment/etcd-health-operator');
  });

  it("labels the ServiceMonitor and PrometheusRule with additionalLabels (kube-prometheus-stack's release selector)", async () => {
    const objects = await template([
      'serviceMonitor.additionalLabels.release=kube-prometheus-stack',
      'prometheusRule.additionalLabels.release=kube-prometheus-stack',
    ]);
    for (const kind of ['ServiceMonitor', 'PrometheusRule'])
      expect(find(objects, kind, RELEASE)?.metadata.labels).toMatchObject({
        release: 'kube-prometheus-stack',
        'app.kubernetes.io/instance': RELEASE,
      });
    expect(find(objects, 'Deployment', RELEASE)?.metadata.labels?.release).toBeUndefined();
    await dryRunOnServer(objects);
  });

  it("renders deploy/dashboards' ConfigMaps with dashboards.enabled: Grafana's always, the console's only where the console API is served", async () => {
    const sources = makeTempDir('chart-dashboards-src');
    const configMap = (name: string, namespace: string | undefined, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, ...(namespace ? { namespace } : {}), labels },
      data: { [`${name}.json`]: '{"title": "etcd", "legendFormat": "{{member}}"}' },
    });
    writeFileSync(
      join(sources, 'dashboards.yaml'),
      [
        configMap('etcd-health-grafana', undefined, { grafana_dashboard: '1' }),
        configMap('etcd-health-console', 'openshift-config-managed', {
          'console.openshift.io/dashboard': 'true',
        }),
      ]
        .map((o) => yaml.dump(o))
        .join('---\n'),
    );
    const chartCopy = join(makeTempDir('chart-with-dashboards'), 'etcd-health-operator');
    for (const file of await renderChart(releaseImage(), { dashboardsDir: sources })) {
      const path = join(chartCopy, file.path.slice(CHART_DIR.length + 1));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.content);
    }
    const configMaps = (objects: KubeObject[]) => objects.filter((o) => o.kind === 'ConfigMap');
    expect(configMaps(await template([], { chart: chartCopy }))).toEqual([]);
    const onKubernetes = configMaps(
      await template(['dashboards.enabled=true', 'dashboards.additionalLabels.team=sre'], {
        chart: chartCopy,
      }),
    );
    expect(onKubernetes.map(key)).toEqual([`ConfigMap/${NAMESPACE}/etcd-health-grafana`]);
    expect(onKubernetes[0]?.metadata.labels).toMatchObject({
      grafana_dashboard: '1',
      team: 'sre',
      'app.kubernetes.io/instance': RELEASE,
    });
    // The dashboard JSON's own braces are data, not Helm's.
    expect(
      (onKubernetes[0] as unknown as { data: Record<string, string> }).data['etcd-health-grafana.json'],
    ).toBe('{"title": "etcd", "legendFormat": "{{member}}"}');
    const onOpenShift = configMaps(
      await template(['dashboards.enabled=true'], {
        chart: chartCopy,
        extra: ['--api-versions', 'console.openshift.io/v1'],
      }),
    );
    expect(onOpenShift.map(key).sort()).toEqual([
      'ConfigMap/etcd-health-operator/etcd-health-grafana',
      'ConfigMap/openshift-config-managed/etcd-health-console',
    ]);
    await dryRunOnServer(onKubernetes);
  });
});

describe('helm install, upgrade and uninstall on the API server', () => {
  // No kubelet here (test/node/install.it.ts runs the pods): what Helm makes and removes.
  const CRD = 'etcdhealthchecks.etcdhealth.io';
  const release = 'ehc-lifecycle';
  const namespace = 'ehc-lifecycle';
  const deployment = `${release}-etcd-health-operator`;
  const deploymentArgs = async () =>
    (
      JSON.parse(
        (await cp.kubectl(['-n', namespace, 'get', 'deployment', deployment, '-o', 'json'])).stdout,
      ) as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }
    ).spec.template.spec.containers[0]!.args;

  it('installs the CRD and every template, upgrades a value in place, and uninstalls all but the CRD', async () => {
    await helm.ok(['install', release, CHART, '--namespace', namespace, '--create-namespace'], {
      timeoutMs: 300_000,
    });
    const made = (
      yaml.loadAll(
        await helm.ok(['get', 'manifest', release, '--namespace', namespace]),
      ) as Array<KubeObject | null>
    ).filter((o): o is KubeObject => o !== null);
    const labelled = await everythingLabelled(cp, `app.kubernetes.io/instance=${release}`);
    // Every object of the manifest is there, found by its labels in a listing of every kind.
    expect(labelled.length).toBe(made.length);
    expect((await cp.kubectl(['get', 'crd', CRD])).code).toBe(0);
    expect(await deploymentArgs()).toContain('--log-level=info');

    await helm.ok(
      ['upgrade', release, CHART, '--namespace', namespace, '--reuse-values', '--set', 'logLevel=debug'],
      {
        timeoutMs: 300_000,
      },
    );
    expect(await deploymentArgs()).toEqual(expect.arrayContaining(['--log-level=debug']));
    expect(await deploymentArgs()).not.toContain('--log-level=info');

    await helm.ok(['uninstall', release, '--namespace', namespace], { timeoutMs: 300_000 });
    expect(await everythingLabelled(cp, `app.kubernetes.io/instance=${release}`)).toEqual([]);
    // Helm's own release records (Secrets) go too; without a controller-manager nothing else is there.
    expect(await everythingIn(cp, namespace)).toEqual([]);
    expect((await cp.kubectl(['get', 'crd', CRD])).code).toBe(0);
  }, 600_000);
});
