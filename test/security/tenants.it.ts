// Tenants: a CR author gets the reach of their own namespace and of what the admin allowed by
// flag, never the operator's. The operator runs as its own process with the RBAC of deploy/base,
// and its discovery role is bound even in tenant-a: the operator's policy, not RBAC, must be what
// keeps a tenant-b check out of tenant-a. The kube-apiserver's audit log shows which pods the
// operator listed; recording TCP listeners on loopback show which addresses it dialled. Pods get
// their IPs through the status subresource (there is no kubelet): tenant-b's and etcd-pods' point
// at a real etcd cluster, tenant-a's at the listeners.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:net';
import { allocateAddressBlock, type AddressBlock } from '../harness/addresses.js';
import { auditLog, type AuditLog } from '../harness/audit.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { mergePatch } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  OPERATOR_USER,
  applyBaseManifests,
  bindToOperator,
} from '../harness/operator-rbac.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const TENANT_A = 'tenant-a';
const TENANT_B = 'tenant-b';
/** Allowed for every check by --discovery-namespace. */
const ETCD_PODS = 'etcd-pods';
const TENANT_A_PODS = ['tenant-a-db-0', 'tenant-a-db-1'];

/** A TCP listener that records every connection it accepts (and closes it). */
interface RecordingListener {
  readonly address: string;
  readonly connections: number;
  close(): Promise<void>;
}

async function recordingListener(host: string, port: number): Promise<RecordingListener> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    address: host,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let cp: ControlPlane;
let audit: AuditLog;
let cluster: EtcdCluster;
let outside: AddressBlock;
let listeners: RecordingListener[];
let checks: Checks;

const discovery = (namespace?: string) => ({
  discovery: { ...(namespace ? { namespace } : {}), labelSelector: 'app=etcd', port: 2379, scheme: 'http' },
});

const podListsIn = (namespace: string) =>
  audit
    .requests({ username: OPERATOR_USER, resource: 'pods' })
    .filter((r) => r.verb === 'list' && r.objectRef?.namespace === namespace);

/** Pods a tenant could only learn of by listing tenant-a, and the addresses behind them. */
const tenantASecrets = () => [...TENANT_A_PODS, ...listeners.map((l) => l.address)];

async function statusAndEvents(namespace: string, name: string): Promise<string> {
  const [check, events] = await Promise.all([checks.get(namespace, name), checks.eventsOf(namespace, name)]);
  return JSON.stringify({ status: check.status, events: events.map((e) => [e.reason, e.note]) });
}

async function createPods(namespace: string, prefix: string, ips: string[]): Promise<void> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const [i, ip] of ips.entries()) {
    const name = `${prefix}-${i}`;
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { app: 'etcd' } },
        spec: { containers: [{ name: 'etcd', image: 'registry.example/etcd:3.6' }] },
      },
    });
    await core.patchNamespacedPodStatus(
      { namespace, name, body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } } },
      mergePatch(),
    );
  }
}

beforeAll(async () => {
  audit = auditLog(makeTempDir('tenants-audit'));
  [cp, cluster, outside] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startEtcdCluster({ members: 3 }),
    allocateAddressBlock(),
  ]);
  listeners = await Promise.all([2, 3, 4].map((host) => recordingListener(outside.address(host), 2379)));
  checks = checksApi(cp.kubeConfig);
  await applyBaseManifests(cp);
  for (const namespace of [TENANT_A, TENANT_B, ETCD_PODS]) {
    await cp.createNamespace(namespace);
    // RBAC would let the operator list pods in every one of them, tenant-a included.
    await bindToOperator(cp, namespace, { clusterRole: 'etcd-health-operator-discovery' });
  }
  const memberIPs = cluster.members.map((m) => m.ip);
  await createPods(TENANT_A, 'tenant-a-db', [listeners[0]!.address, listeners[1]!.address]);
  await createPods(TENANT_B, 'etcd-b', memberIPs);
  await createPods(ETCD_PODS, 'etcd', memberIPs);
  const token = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(token, OPERATOR_NAMESPACE),
    logDir: makeTempDir('tenants-operator-logs'),
    identity: 'tenants',
    extraArgs: [
      `--discovery-namespace=${ETCD_PODS}`,
      `--etcd-endpoint-cidr=${cluster.addresses.prefix}.0/24`,
    ],
  });
});

afterAll(async () => {
  await Promise.all((listeners ?? []).map((l) => l.close()));
  outside?.release();
  await cleanupAll();
});

const specDegraded = (namespace: string, name: string, reason: string) =>
  eventually(
    async () => {
      const condition = conditionOf(await checks.get(namespace, name), 'SpecDegraded');
      return condition?.reason === reason ? condition : undefined;
    },
    { description: `${namespace}/${name} SpecDegraded ${reason}` },
  );

describe('a check in tenant-b and the pods of tenant-a', () => {
  it('cannot make the operator list or dial pods of tenant-a, and its status and Events reveal nothing of them', async () => {
    await checks.create(TENANT_B, 'peek', { etcd: discovery(TENANT_A) });
    const condition = await specDegraded(TENANT_B, 'peek', 'DiscoveryNamespaceNotAllowed');
    expect(condition.status).toBe('True');
    expect(condition.message).toContain(`--discovery-namespace=${TENANT_A}`);
    expect(condition.message).toContain(`may discover pods only in ${TENANT_B}, ${ETCD_PODS}`);
    // The Events of the transition are sent after the status write.
    await eventually(async () => (await checks.eventsOf(TENANT_B, 'peek')).length >= 2, {
      description: 'Events of the refusal',
    });
    const seen = await statusAndEvents(TENANT_B, 'peek');
    expect(tenantASecrets().filter((secret) => seen.includes(secret))).toEqual([]);
    expect(podListsIn(TENANT_A)).toEqual([]);
    expect(listeners.map((l) => l.connections)).toEqual([0, 0, 0]);
  });

  it('says when the refused namespace is the schema default (openshift-etcd), and which flag allows it', async () => {
    await checks.create(TENANT_B, 'defaulted', { etcd: discovery() });
    const condition = await specDegraded(TENANT_B, 'defaulted', 'DiscoveryNamespaceNotAllowed');
    expect(condition.message).toMatch(
      /^spec\.etcd\.discovery\.namespace is openshift-etcd \(also the default when it is not set\).*--discovery-namespace=openshift-etcd$/,
    );
    expect(podListsIn('openshift-etcd')).toEqual([]);
  });

  it.each([TENANT_B, ETCD_PODS])('an allowed namespace still works: discovery in %s', async (namespace) => {
    const name = `in-${namespace}`;
    await checks.create(TENANT_B, name, { etcd: discovery(namespace) });
    const status = await eventually(
      async () => {
        const check = await checks.get(TENANT_B, name);
        return conditionOf(check, 'Available')?.status === 'True' ? check.status : undefined;
      },
      { description: `${name} Available` },
    );
    expect(status.summary?.members).toBe('3/3');
    expect(podListsIn(namespace).length).toBeGreaterThan(0);
    expect(listeners.map((l) => l.connections)).toEqual([0, 0, 0]);
  });

  it('an etcd endpoint outside --etcd-endpoint-cidr is refused with the condition and never dialled', async () => {
    const target = listeners[2]!;
    await checks.create(TENANT_B, 'scan', {
      etcd: { endpoints: [`http://${target.address}:2379`, 'http://localhost:2379'] },
    });
    const condition = await specDegraded(TENANT_B, 'scan', 'EtcdEndpointNotAllowed');
    expect(condition.message).toContain(
      `http://${target.address}:2379 is outside the networks the operator's admin allows for etcd endpoints (--etcd-endpoint-cidr)`,
    );
    expect(condition.message).toContain('http://localhost:2379 is not an IP address in canonical form');
    expect(conditionOf(await checks.get(TENANT_B, 'scan'), 'Available')?.status).toBe('Unknown');
    expect(target.connections).toBe(0);
  });

  it('over the whole run: no pod list in tenant-a, no connection to its pods or the refused endpoint', () => {
    expect(podListsIn(TENANT_A)).toEqual([]);
    expect(listeners.map((l) => l.connections)).toEqual([0, 0, 0]);
  });
});
