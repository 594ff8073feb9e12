// The secure /metrics contract of each overlay, rendered with the built `kubectl kustomize` and
// applied to a real kube-apiserver: the ServiceMonitor scrapes the Service's HTTPS port with a
// bearer token and a TLS configuration that fits where the certificate comes from, the Service
// port leads to the port the operator listens on, and the real RBAC authorizer lets the operator
// create its reviews and each variant's scraper get /metrics.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane, type KubectlResult } from '../harness/controlplane.js';
import { OPERATOR_USER } from '../harness/operator-rbac.js';
import { cleanupAll } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MONITORING_CRDS = fileURLToPath(new URL('./fixtures/monitoring.coreos.com-crds.yaml', import.meta.url));
const NAMESPACE = 'etcd-health-operator';
const SERVICE = 'etcd-health-operator-metrics';
const READER_ROLE = 'etcd-health-operator-metrics-reader';

const OVERLAYS = [
  'deploy/overlays/kubernetes',
  'deploy/overlays/openshift',
  'deploy/overlays/openshift-user-workload',
] as const;
type Overlay = (typeof OVERLAYS)[number];

// The Endpoint fields of the Prometheus Operator's ServiceMonitor CRD (v0.84) these overlays may
// use; the test fixture's CRD keeps unknown fields, so a misspelt one would pass it silently.
const ENDPOINT_FIELDS = [
  'port',
  'interval',
  'scheme',
  'honorLabels',
  'relabelings',
  'bearerTokenFile',
  'authorization',
  'tlsConfig',
];
const TLS_FIELDS = ['ca', 'caFile', 'serverName', 'insecureSkipVerify'];

interface K8sObject {
  apiVersion: string;
  kind: string;
  type?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

interface Endpoint {
  port: string;
  scheme?: string;
  honorLabels?: boolean;
  bearerTokenFile?: string;
  authorization?: { type?: string; credentials?: { name: string; key: string } };
  tlsConfig?: {
    insecureSkipVerify?: boolean;
    caFile?: string;
    serverName?: string;
    ca?: { configMap?: { name: string; key: string } };
  };
}

interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

let cp: ControlPlane;
const rendered = new Map<Overlay, K8sObject[]>();
const renderedText = new Map<Overlay, string>();

beforeAll(async () => {
  cp = await startControlPlane({ crdFiles: [MONITORING_CRDS] });
  await cp.createNamespace('openshift-etcd');
  for (const overlay of OVERLAYS) {
    const result = await kubectlOk(['kustomize', join(REPO, overlay)]);
    renderedText.set(overlay, result.stdout);
    rendered.set(overlay, yaml.loadAll(result.stdout).filter(Boolean) as K8sObject[]);
  }
});

afterAll(async () => {
  await cp?.stop();
  await cleanupAll();
});

async function kubectlOk(args: string[], input?: string): Promise<KubectlResult> {
  const result = await cp.kubectl(args, { input, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}\n${result.stderr}`);
  return result;
}

function find(overlay: Overlay, kind: string, name: string): K8sObject {
  const found = rendered.get(overlay)!.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${overlay} renders no ${kind} ${name}`);
  return found;
}

const has = (overlay: Overlay, kind: string, name: string) =>
  rendered.get(overlay)!.some((o) => o.kind === kind && o.metadata.name === name);

const endpointOf = (overlay: Overlay) =>
  (find(overlay, 'ServiceMonitor', 'etcd-health-operator').spec as { endpoints: Endpoint[] }).endpoints;

function operatorContainer(overlay: Overlay): Container {
  const spec = find(overlay, 'Deployment', 'etcd-health-operator').spec as {
    template: {
      spec: { containers: Container[]; volumes?: Array<{ name: string; secret?: { secretName: string } }> };
    };
  };
  return spec.template.spec.containers[0]!;
}

const volumesOf = (overlay: Overlay) =>
  (
    find(overlay, 'Deployment', 'etcd-health-operator').spec as {
      template: { spec: { volumes?: Array<{ name: string; secret?: { secretName: string } }> } };
    }
  ).template.spec.volumes ?? [];

const flag = (container: Container, name: string) =>
  container.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);

/** Subjects bound to the metrics-reader ClusterRole in the rendered overlay. */
const readers = (overlay: Overlay) =>
  rendered
    .get(overlay)!
    .filter((o) => o.kind === 'ClusterRoleBinding' && o.roleRef?.name === READER_ROLE)
    .flatMap((o) => o.subjects ?? []);

describe.each(OVERLAYS)('%s', (overlay) => {
  it('scrapes over HTTPS with a bearer token, using only fields the ServiceMonitor CRD has', () => {
    const endpoints = endpointOf(overlay);
    expect(endpoints).toHaveLength(1);
    const [endpoint] = endpoints as [Endpoint];
    expect(endpoint).toMatchObject({ port: 'metrics', scheme: 'https', honorLabels: true });
    expect(Object.keys(endpoint).filter((key) => !ENDPOINT_FIELDS.includes(key))).toEqual([]);
    expect(Object.keys(endpoint.tlsConfig ?? {}).filter((key) => !TLS_FIELDS.includes(key))).toEqual([]);
    // Exactly one way of sending a token.
    expect([endpoint.bearerTokenFile, endpoint.authorization].filter(Boolean)).toHaveLength(1);
  });

  it('the Service port leads to the port the operator serves /metrics on, and the default stays secure', () => {
    const service = find(overlay, 'Service', SERVICE).spec as {
      ports: Array<{ name: string; port: number; targetPort: string }>;
    };
    const servicePort = service.ports.find((p) => p.name === 'metrics')!;
    const container = operatorContainer(overlay);
    const containerPort = container.ports.find((p) => p.name === servicePort.targetPort)!;
    const bindPort = Number(flag(container, 'metrics-bind-address')?.split(':').pop());
    expect({ service: servicePort.port, container: containerPort.containerPort, bind: bindPort }).toEqual({
      service: 8443,
      container: 8443,
      bind: 8443,
    });
    expect(flag(container, 'metrics-secure')).toBeUndefined();
    // The probes stay on their own plain HTTP port.
    expect(flag(container, 'health-bind-address')).toBe(':8081');
  });
});

describe('deploy/overlays/kubernetes', () => {
  const overlay = 'deploy/overlays/kubernetes';

  it('skips verification because, and only because, the certificate is self-signed', () => {
    const [endpoint] = endpointOf(overlay) as [Endpoint];
    expect(flag(operatorContainer(overlay), 'metrics-cert-dir')).toBeUndefined();
    expect(endpoint.tlsConfig).toEqual({ insecureSkipVerify: true });
    expect(endpoint.bearerTokenFile).toBe('/var/run/secrets/kubernetes.io/serviceaccount/token');
  });
});

describe('deploy/overlays/openshift (platform monitoring)', () => {
  const overlay = 'deploy/overlays/openshift';

  it('serves the service CA certificate of its Service, mounted where --metrics-cert-dir points', () => {
    const secretName = find(overlay, 'Service', SERVICE).metadata.annotations?.[
      'service.beta.openshift.io/serving-cert-secret-name'
    ];
    expect(secretName).toBe('etcd-health-operator-metrics-tls');
    const volume = volumesOf(overlay).find((v) => v.secret?.secretName === secretName)!;
    const mount = operatorContainer(overlay).volumeMounts?.find((m) => m.name === volume.name);
    expect(mount).toMatchObject({ readOnly: true });
    expect(flag(operatorContainer(overlay), 'metrics-cert-dir')).toBe(mount!.mountPath);
  });

  it('prometheus-k8s scrapes with its own token and verifies the certificate for the Service name', () => {
    const [endpoint] = endpointOf(overlay) as [Endpoint];
    expect(endpoint.bearerTokenFile).toBe('/var/run/secrets/kubernetes.io/serviceaccount/token');
    expect(endpoint.tlsConfig).toEqual({
      caFile: '/etc/prometheus/configmaps/serving-certs-ca-bundle/service-ca.crt',
      serverName: `${SERVICE}.${NAMESPACE}.svc`,
    });
    expect(find(overlay, 'Namespace', NAMESPACE).metadata.labels?.['openshift.io/cluster-monitoring']).toBe(
      'true',
    );
    expect(readers(overlay)).toEqual([
      { kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'openshift-monitoring' },
    ]);
    expect(has(overlay, 'RoleBinding', 'prometheus-k8s')).toBe(true);
  });
});

describe('deploy/overlays/openshift-user-workload', () => {
  const overlay = 'deploy/overlays/openshift-user-workload';

  it('reads no file (the user-workload Prometheus refuses bearerTokenFile and caFile)', () => {
    const [endpoint] = endpointOf(overlay) as [Endpoint];
    expect(JSON.stringify(endpoint)).not.toMatch(/File"/);
  });

  it('sends the token of a ServiceAccount bound to the reader role, from a Secret in its namespace', () => {
    const [endpoint] = endpointOf(overlay) as [Endpoint];
    expect(endpoint.authorization).toMatchObject({ type: 'Bearer', credentials: { key: 'token' } });
    const secret = find(overlay, 'Secret', endpoint.authorization!.credentials!.name);
    expect(secret.type).toBe('kubernetes.io/service-account-token');
    expect(secret.metadata.namespace).toBe(NAMESPACE);
    const account = secret.metadata.annotations?.['kubernetes.io/service-account.name'];
    expect(find(overlay, 'ServiceAccount', account!).metadata.namespace).toBe(NAMESPACE);
    expect(readers(overlay)).toEqual([{ kind: 'ServiceAccount', name: account, namespace: NAMESPACE }]);
  });

  it('verifies the certificate with the service CA bundle injected into a ConfigMap, for the Service name', () => {
    const [endpoint] = endpointOf(overlay) as [Endpoint];
    expect(endpoint.tlsConfig?.serverName).toBe(`${SERVICE}.${NAMESPACE}.svc`);
    const ref = endpoint.tlsConfig!.ca!.configMap!;
    expect(ref.key).toBe('service-ca.crt');
    const configMap = find(overlay, 'ConfigMap', ref.name);
    expect(configMap.metadata.namespace).toBe(NAMESPACE);
    expect(configMap.metadata.annotations).toEqual({ 'service.beta.openshift.io/inject-cabundle': 'true' });
    // The same serving certificate as the platform overlay.
    expect(flag(operatorContainer(overlay), 'metrics-cert-dir')).toBe('/etc/metrics-tls');
  });

  it('is not a platform namespace and keeps nothing of the platform Prometheus', () => {
    expect(find(overlay, 'Namespace', NAMESPACE).metadata.labels).not.toHaveProperty(
      'openshift.io/cluster-monitoring',
    );
    expect(has(overlay, 'Role', 'prometheus-k8s')).toBe(false);
    expect(has(overlay, 'RoleBinding', 'prometheus-k8s')).toBe(false);
    expect(has(overlay, 'PrometheusRule', 'etcd-health-operator')).toBe(true);
    // The rest is the platform overlay's.
    expect(has(overlay, 'ClusterRoleBinding', 'etcd-health-operator-cluster-monitoring-view')).toBe(true);
  });
});

describe('applied to a real kube-apiserver, asked of the real RBAC authorizer', () => {
  /** kubectl auth can-i as `user`: exit 0 is yes, 1 is no. */
  async function canI(user: string, ...args: string[]): Promise<boolean> {
    const result = await cp.kubectl(['auth', 'can-i', ...args, `--as=${user}`]);
    if (result.code !== 0 && result.code !== 1)
      throw new Error(`kubectl auth can-i exited ${result.code}\n${result.stderr}`);
    return result.code === 0;
  }

  const apply = async (overlay: Overlay) => {
    const result = await kubectlOk(
      ['apply', '--server-side', '--field-manager=ehc-metrics-test', '-f', '-'],
      renderedText.get(overlay),
    );
    expect(result.stderr).toBe('');
  };

  it('platform: the operator may create its reviews; prometheus-k8s may get /metrics', async () => {
    await apply('deploy/overlays/openshift');
    const prometheus = 'system:serviceaccount:openshift-monitoring:prometheus-k8s';
    expect({
      tokenReviews: await canI(OPERATOR_USER, 'create', 'tokenreviews.authentication.k8s.io'),
      accessReviews: await canI(OPERATOR_USER, 'create', 'subjectaccessreviews.authorization.k8s.io'),
      prometheusMetrics: await canI(prometheus, 'get', '/metrics'),
      operatorMetrics: await canI(OPERATOR_USER, 'get', '/metrics'),
    }).toEqual({ tokenReviews: true, accessReviews: true, prometheusMetrics: true, operatorMetrics: false });
  });

  it('user workload: applies cleanly; its scraper may get /metrics and nothing else', async () => {
    await apply('deploy/overlays/openshift-user-workload');
    const scraper = `system:serviceaccount:${NAMESPACE}:etcd-health-operator-metrics-scraper`;
    expect({
      metrics: await canI(scraper, 'get', '/metrics'),
      secrets: await canI(scraper, 'get', 'secrets', '-n', NAMESPACE),
      pods: await canI(scraper, 'list', 'pods', '-n', NAMESPACE),
      checks: await canI(scraper, 'list', 'etcdhealthchecks.etcdhealth.io', '--all-namespaces'),
    }).toEqual({ metrics: true, secrets: false, pods: false, checks: false });
  });
});
