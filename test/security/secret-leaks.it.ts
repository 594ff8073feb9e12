// Secret material never leaves the operator: with a known Prometheus bearer token, an etcd client
// key and an unrelated Secret value in the checks' namespace, the operator at debug log level (the
// harness starts it so) writes none of the three to its logs, the CRs' Events, their status or
// /metrics, on the success path and on failure paths (a Prometheus that refuses with 401 and
// echoes the request's headers, an etcd endpoint that refuses the connection). The credentials
// RBAC is a Role with resourceNames (as credentials-by-name.yaml in the overlays), and the
// kube-apiserver's audit log shows the operator asked only for the referenced Secrets, by name.
//
// The Prometheus here is a fake: a real one ignores bearer tokens, and the echoing 401 is the
// fault under test.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { auditLog, type AuditLog } from '../harness/audit.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { json, startFakePrometheus, vector, type FakePrometheus } from '../harness/fake-prometheus.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  OPERATOR_USER,
  applyBaseManifests,
  bindToOperator,
} from '../harness/operator-rbac.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const NS = 'platform';
const TOKEN = 'prom-token-7f3c9a1e5b2d4f60a8c1e3b5d7f9a2c4';
const OTHER_VALUE = 'unrelated-secret-value-1b2d3f4a5c6e7a8b';
const EXTRA_KEY_VALUE = 'extra-key-in-tls-secret-9e8d7c6b5a4f';
const REFERENCED = ['prometheus-token', 'etcd-client'];

let cp: ControlPlane;
let audit: AuditLog;
let cluster: EtcdCluster;
let prometheus: FakePrometheus;
let refusing: FakePrometheus;
let operator: OperatorProcess;
let checks: Checks;

/** Every form in which a secret could leak: as written, and base64 as in a Secret's data. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64')];
}

/** The needles: the token, each base64 line of the client key's PEM body, the other values. */
function needles(): string[] {
  const keyLines = cluster
    .tls!.client.keyPem.split('\n')
    .filter((line) => line.length >= 40 && !line.startsWith('-----'));
  expect(keyLines.length).toBeGreaterThan(0);
  return [
    ...forms(TOKEN),
    ...keyLines,
    ...forms(cluster.tls!.client.keyPem),
    ...forms(OTHER_VALUE),
    ...forms(EXTRA_KEY_VALUE),
  ];
}

beforeAll(async () => {
  audit = auditLog(makeTempDir('secret-leaks-audit'));
  [cp, cluster, prometheus, refusing] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startEtcdCluster({ members: 3, tls: true }),
    startFakePrometheus(),
    startFakePrometheus(),
  ]);
  prometheus.handle((request, response) =>
    request.headers.authorization === `Bearer ${TOKEN}`
      ? json(response, 200, vector([]))
      : json(response, 403, { status: 'error', errorType: 'forbidden', error: 'wrong token' }),
  );
  // A proxy or Prometheus that refuses and reflects everything it was sent, header and body.
  refusing.handle((request, response) => {
    response.writeHead(401, {
      'Content-Type': 'application/json',
      'WWW-Authenticate': `Bearer realm="${request.headers.authorization ?? ''}"`,
      'X-Echo-Authorization': request.headers.authorization ?? '',
    });
    response.end(
      JSON.stringify({ status: 'error', error: `unauthorized: ${JSON.stringify(request.headers)}` }),
    );
  });
  checks = checksApi(cp.kubeConfig);
  await applyBaseManifests(cp);
  await cp.createNamespace(NS);
  // The shape of credentials-by-name.yaml: only the referenced Secrets, by name.
  const role = await cp.kubectl([
    'create',
    'role',
    'etcd-health-operator-credentials-by-name',
    '-n',
    NS,
    '--verb=get,list,watch',
    '--resource=secrets',
    ...REFERENCED.map((name) => `--resource-name=${name}`),
  ]);
  expect(role.code).toBe(0);
  await bindToOperator(cp, NS, { role: 'etcd-health-operator-credentials-by-name' });
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const tls = cluster.tls!;
  for (const [name, stringData] of [
    ['prometheus-token', { token: TOKEN }],
    [
      'etcd-client',
      {
        'ca.crt': tls.ca.certPem,
        'tls.crt': tls.client.certPem,
        'tls.key': tls.client.keyPem,
        unused: EXTRA_KEY_VALUE,
      },
    ],
    ['unrelated', { password: OTHER_VALUE }],
  ] as const) {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name }, stringData } });
  }
  const token = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  operator = await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(token, OPERATOR_NAMESPACE),
    logDir: makeTempDir('secret-leaks-operator-logs'),
    identity: 'secret-leaks',
  });
});

afterAll(async () => {
  await Promise.all([prometheus?.close(), refusing?.close()]);
  await cleanupAll();
});

describe('secret material at debug log level', () => {
  it('is used: the checks succeed with the token and the client key, and fail where they should', async () => {
    const etcd = { endpoints: cluster.endpoints, tlsSecretRef: { name: 'etcd-client' } };
    const bearer = { bearerTokenSecretRef: { name: 'prometheus-token' } };
    await checks.create(NS, 'good', { etcd, prometheus: { url: prometheus.url, ...bearer } });
    await checks.create(NS, 'refused', { etcd, prometheus: { url: refusing.url, ...bearer } });
    // A member address nothing listens on: the dial fails with the client key loaded.
    const dead = `https://${cluster.addresses.address(9)}:2379`;
    await checks.create(NS, 'partly', {
      etcd: { ...etcd, endpoints: [cluster.endpoints[0]!, dead] },
      prometheus: { url: refusing.url, ...bearer },
    });
    const good = await eventually(
      async () => {
        const check = await checks.get(NS, 'good');
        if (conditionOf(check, 'Available')?.status === 'True') return check;
        throw new Error(JSON.stringify(check.status?.lastCheck ?? check.status?.conditions ?? 'no status'));
      },
      { description: 'good: Available' },
    );
    expect(good.status?.summary?.members).toBe('3/3');
    expect(prometheus.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    for (const name of ['refused', 'partly']) {
      await eventually(
        async () => (await checks.get(NS, name)).status?.lastCheck?.prometheus?.state === 'Error',
        { description: `${name}: the Prometheus source failed` },
      );
    }
    expect(refusing.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // Events are sent after the status write that carries the transition.
    await eventually(async () => (await checks.eventsOf(NS, 'refused')).length > 0, {
      description: 'Events of the refused check',
    });
  });

  it('appears in none of: the operator logs, the Events, the CR status, /metrics', async () => {
    const logs = operator.logs();
    expect(logs).toContain('"msg":"status written"');
    const [events, statuses, metrics] = await Promise.all([
      Promise.all(['good', 'refused', 'partly'].map((name) => checks.eventsOf(NS, name))),
      Promise.all(['good', 'refused', 'partly'].map(async (name) => (await checks.get(NS, name)).status)),
      fetch(operator.metricsUrl).then((r) => r.text()),
    ]);
    const places = {
      logs,
      events: JSON.stringify(events.flat().map((e) => [e.reason, e.note])),
      status: JSON.stringify(statuses),
      metrics,
    };
    expect(places.events).not.toBe('[]');
    const found = Object.entries(places).flatMap(([place, text]) =>
      needles()
        .filter((needle) => text.includes(needle))
        .map((needle) => `${place}: ${needle.slice(0, 12)}...`),
    );
    expect(found).toEqual([]);
  });

  it('is read only where referenced: the operator asked the API server for the referenced Secrets by name, and never for others', () => {
    const requests = audit.requests({ username: OPERATOR_USER, resource: 'secrets' });
    expect(requests.length).toBeGreaterThan(0);
    const unnamed = requests.filter((r) => !REFERENCED.includes(r.objectRef?.name ?? ''));
    expect(unnamed.map((r) => `${r.verb} ${r.requestURI}`)).toEqual([]);
    expect(requests.filter((r) => r.responseStatus?.code === 403).map((r) => r.requestURI)).toEqual([]);
    expect(new Set(requests.map((r) => r.verb))).toEqual(new Set(['list', 'watch']));
  });
});
