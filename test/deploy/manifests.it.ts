// The deploy/ manifests against a real kube-apiserver: the base and both overlays render with the
// built `kubectl kustomize` and apply with server-side apply (schema and strict field validation
// catch mistakes; the monitoring.coreos.com kinds get the minimal CRDs of test/deploy/fixtures);
// the Deployment's pod template is admitted at the restricted Pod Security level and a
// non-compliant variant is not; the real RBAC authorizer grants the operator exactly what it
// needs; `kubectl wait --for=condition=Available` works on an EtcdHealthCheck; and the Argo CD
// health check gives the expected health on objects as the apiserver returns them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane, type KubectlResult } from '../harness/controlplane.js';
import { cleanupAll, makeTempDir, removeTempDir } from '../harness/process.js';
import { loadPrometheusRule } from '../alerts/rules.js';
import { ARGOCD_DIR, HealthRunner, type Health } from './argocd.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MONITORING_CRDS = fileURLToPath(new URL('./fixtures/monitoring.coreos.com-crds.yaml', import.meta.url));
const OPERATOR_NAMESPACE = 'etcd-health-operator';
const OPERATOR_SA = `system:serviceaccount:${OPERATOR_NAMESPACE}:etcd-health-operator`;
const FIELD_MANAGER = 'ehc-deploy-test';
const KUBECTL_TIMEOUT_MS = 120_000;

const TARGETS = ['deploy/base', 'deploy/overlays/kubernetes', 'deploy/overlays/openshift'] as const;
type Target = (typeof TARGETS)[number];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; generation?: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    serviceAccountName: string;
    securityContext?: Record<string, unknown>;
    containers: Array<{
      name: string;
      args?: string[];
      ports?: Array<{ name: string; containerPort: number }>;
      securityContext?: Record<string, unknown>;
    }>;
  };
}

let cp: ControlPlane;
let runner: HealthRunner;
const rendered = new Map<Target, string>();
const applied = new Map<Target, Promise<KubectlResult>>();

beforeAll(async () => {
  cp = await startControlPlane({ crdFiles: [MONITORING_CRDS] });
  runner = new HealthRunner();
  // Namespaces the overlays' credential RoleBindings live in (kube-system exists already).
  await cp.createNamespace('openshift-etcd');
  await cp.createNamespace('kube-system');
  for (const target of TARGETS) {
    rendered.set(target, (await kubectlOk(['kustomize', join(REPO, target)])).stdout);
  }
});

afterAll(async () => {
  runner?.close();
  await cp?.stop();
  await cleanupAll();
});

async function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  return cp.kubectl(args, { input, timeoutMs: KUBECTL_TIMEOUT_MS });
}

/** kubectl that must succeed; a failure shows its output. */
async function kubectlOk(args: string[], input?: string): Promise<KubectlResult> {
  const result = await kubectl(args, input);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}\n${result.stderr}\n${result.stdout}`);
  }
  return result;
}

const objectsOf = (target: Target): K8sObject[] =>
  yaml.loadAll(rendered.get(target)!).filter(Boolean) as K8sObject[];

function find(target: Target, kind: string, name?: string): K8sObject {
  const found = objectsOf(target).find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (!found) throw new Error(`${target} renders no ${kind}${name ? ` ${name}` : ''}`);
  return found;
}

const podTemplate = (target: Target) =>
  (find(target, 'Deployment', 'etcd-health-operator').spec as { template: PodTemplate }).template;

/** Server-side apply of one rendered target, once (later tests build on it). */
function ensureApplied(target: Target): Promise<KubectlResult> {
  let result = applied.get(target);
  if (!result) {
    result = kubectlOk(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
      rendered.get(target),
    );
    applied.set(target, result);
  }
  return result;
}

async function ensureAllApplied(): Promise<void> {
  // In order: base, then each overlay on top of it (the same field manager owns everything).
  for (const target of TARGETS) await ensureApplied(target);
  await kubectlOk([
    'wait',
    '--for=condition=Established',
    'crd/etcdhealthchecks.etcdhealth.io',
    '--timeout=90s',
  ]);
}

describe('rendering with kubectl kustomize', () => {
  it.each(TARGETS)('%s renders the operator, its RBAC and its CRD', (target) => {
    const kinds = objectsOf(target).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/etcd-health-operator',
        'CustomResourceDefinition/etcdhealthchecks.etcdhealth.io',
        'ServiceAccount/etcd-health-operator',
        'ClusterRole/etcd-health-operator',
        'Deployment/etcd-health-operator',
        'Service/etcd-health-operator-metrics',
      ]),
    );
    for (const object of objectsOf(target)) {
      const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
      if (clusterScoped.includes(object.kind)) continue;
      // Credential and discovery RoleBindings deliberately live where the EtcdHealthChecks and etcd pods are.
      if (
        ['etcd-health-operator-credentials', 'etcd-health-operator-discovery'].includes(object.metadata.name)
      ) {
        continue;
      }
      expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(
        `${object.kind}/${object.metadata.name} in ${OPERATOR_NAMESPACE}`,
      );
    }
  });

  it.each(TARGETS)('%s: the metrics Service selects the pods and names their metrics port', (target) => {
    const service = find(target, 'Service', 'etcd-health-operator-metrics').spec as {
      selector: Record<string, string>;
      ports: Array<{ name: string; targetPort: string }>;
    };
    const template = podTemplate(target);
    expect(template.metadata.labels).toEqual(expect.objectContaining(service.selector));
    const metricsPort = service.ports.find((p) => p.name === 'metrics')!;
    expect(template.spec.containers[0]!.ports!.map((p) => p.name)).toContain(metricsPort.targetPort);
  });

  it.each(['deploy/overlays/kubernetes', 'deploy/overlays/openshift'] as const)(
    '%s: the ServiceMonitor scrapes that Service with honorLabels, and the PrometheusRule ships unchanged',
    (target) => {
      const service = find(target, 'Service', 'etcd-health-operator-metrics');
      const monitor = find(target, 'ServiceMonitor', 'etcd-health-operator');
      const spec = monitor.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{
          port: string;
          honorLabels?: boolean;
          relabelings?: Array<{ targetLabel?: string; replacement?: string }>;
        }>;
      };
      expect(monitor.metadata.namespace).toBe(OPERATOR_NAMESPACE);
      expect(service.metadata.labels).toEqual(expect.objectContaining(spec.selector.matchLabels));
      expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', honorLabels: true })]);

      const rule = find(target, 'PrometheusRule', 'etcd-health-operator');
      expect(rule.metadata.namespace).toBe(OPERATOR_NAMESPACE);
      expect(rule.spec).toEqual(loadPrometheusRule().spec);
      // The ServiceMonitor names the job (not after the Service, which the etcd mixin would count:
      // test/alerts/anchor-rules.test.ts); the rules' job matchers must agree.
      const job = spec.endpoints[0]!.relabelings?.findLast((r) => r.targetLabel === 'job')?.replacement;
      expect(job).toBe('ehc-operator');
      const jobs = new Set([...JSON.stringify(rule.spec).matchAll(/job=\\"([^"\\]+)\\"/g)].map((m) => m[1]));
      expect([...jobs]).toEqual([job]);
    },
  );

  it.each(TARGETS)(
    '%s: the PodDisruptionBudget and the NetworkPolicy select the pods and name their ports',
    (target) => {
      const labels = podTemplate(target).metadata.labels;
      const pdb = find(target, 'PodDisruptionBudget', 'etcd-health-operator').spec as {
        minAvailable: number;
        selector: { matchLabels: Record<string, string> };
      };
      // Two replicas: a drain evicts one, never both.
      expect(pdb.minAvailable).toBe(1);
      expect(labels).toEqual(expect.objectContaining(pdb.selector.matchLabels));
      const policy = find(target, 'NetworkPolicy', 'etcd-health-operator').spec as {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: Array<{ ports: Array<{ port: string }> }>;
      };
      expect(labels).toEqual(expect.objectContaining(policy.podSelector.matchLabels));
      expect(policy.policyTypes).toEqual(['Ingress']);
      const ports = podTemplate(target).spec.containers[0]!.ports!.map((p) => p.name);
      expect(policy.ingress.flatMap((rule) => rule.ports.map((p) => p.port)).sort()).toEqual(
        [...ports].sort(),
      );
    },
  );

  it.each([
    ['deploy/overlays/kubernetes', 'kube-system'],
    ['deploy/overlays/openshift', 'openshift-etcd'],
  ] as const)('%s: discovery may read %s, where the operator may list pods', (target, namespace) => {
    expect(podTemplate(target).spec.containers[0]!.args).toContain(`--discovery-namespace=${namespace}`);
    expect(find(target, 'RoleBinding', 'etcd-health-operator-discovery').metadata.namespace).toBe(namespace);
  });

  it('openshift: the namespace is scraped by platform monitoring and the Thanos querier URL is allowlisted', () => {
    expect(find('deploy/overlays/openshift', 'Namespace').metadata.labels).toEqual(
      expect.objectContaining({
        'openshift.io/cluster-monitoring': 'true',
        'pod-security.kubernetes.io/enforce': 'restricted',
      }),
    );
    expect(podTemplate('deploy/overlays/openshift').spec.containers[0]!.args).toContain(
      '--prometheus-sa-token-url=https://thanos-querier.openshift-monitoring.svc:9091',
    );
  });
});

describe('server-side apply to a real kube-apiserver', () => {
  it.each(TARGETS)('%s applies cleanly, with no Pod Security warning', async (target) => {
    const result = await ensureApplied(target);
    expect(result.stderr).not.toMatch(/would violate PodSecurity|Warning:/);
    expect(result.stdout).toMatch(/deployment\.apps\/etcd-health-operator serverside-applied/);
  });

  it('everything applied is stored: the PrometheusRule and ServiceMonitor read back as rendered', async () => {
    await ensureAllApplied();
    const rule = JSON.parse(
      (
        await kubectlOk([
          'get',
          'prometheusrule',
          'etcd-health-operator',
          '-n',
          OPERATOR_NAMESPACE,
          '-o',
          'json',
        ])
      ).stdout,
    ) as K8sObject;
    expect(rule.spec).toEqual(loadPrometheusRule().spec);
    const monitor = JSON.parse(
      (
        await kubectlOk([
          'get',
          'servicemonitor',
          'etcd-health-operator',
          '-n',
          OPERATOR_NAMESPACE,
          '-o',
          'json',
        ])
      ).stdout,
    ) as K8sObject;
    expect(monitor.spec).toEqual(find('deploy/overlays/openshift', 'ServiceMonitor').spec);
    const namespace = JSON.parse(
      (await kubectlOk(['get', 'namespace', OPERATOR_NAMESPACE, '-o', 'json'])).stdout,
    ) as K8sObject;
    expect(namespace.metadata.labels).toEqual(
      expect.objectContaining({ 'pod-security.kubernetes.io/enforce': 'restricted' }),
    );
  });

  it('schema errors are caught: a misspelt Deployment field and an invalid rule duration are rejected', async () => {
    // Dry runs of namespaced objects need their namespace to exist.
    await ensureAllApplied();
    const base = rendered.get('deploy/base')!;
    expect(base).toContain('readOnlyRootFilesystem: true');
    const typo = await kubectl(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--dry-run=server', '-f', '-'],
      base.replace('readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true'),
    );
    expect(typo.code).not.toBe(0);
    // SSA reports it while building the typed patch ("field not declared in schema").
    expect(typo.stderr).toMatch(
      /readOnlyRootFileSystem: field not declared in schema|unknown field.*readOnlyRootFileSystem/,
    );

    const overlay = rendered.get('deploy/overlays/kubernetes')!;
    expect(overlay).toMatch(/for: 10m/);
    const badDuration = await kubectl(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--dry-run=server', '-f', '-'],
      overlay.replace(/for: 10m/, 'for: 10 minutes'),
    );
    expect(badDuration.code).not.toBe(0);
    expect(badDuration.stderr).toMatch(
      /PrometheusRule "etcd-health-operator" is invalid: .*\.for: Invalid value: "10 minutes"/,
    );
  });
});

describe('Pod Security: the restricted level admits the operator pod', () => {
  const RESTRICTED_NAMESPACE = 'psa-restricted';
  let pods = 0;

  beforeAll(async () => {
    await ensureApplied('deploy/base');
    await kubectlOk(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: RESTRICTED_NAMESPACE,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      }),
    );
  });

  /**
   * A Pod made of a Deployment's pod template, as the ReplicaSet controller would create it. There
   * is no kubelet, so it never runs, but admission (PodSecurity included) decides as for a real one.
   * The harness runs kube-apiserver with --disable-admission-plugins=ServiceAccount, so the
   * ServiceAccount need not exist in psa-restricted and no token volume is injected; on a real
   * cluster that plugin adds a projected volume, which the restricted level allows.
   */
  function podOf(template: PodTemplate, namespace: string): K8sObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `operator-${++pods}`, namespace, labels: template.metadata.labels },
      spec: { ...template.spec },
    };
  }

  const createPod = (pod: K8sObject) => kubectl(['create', '-f', '-'], JSON.stringify(pod));

  it.each(TARGETS)(
    '%s: its pod is admitted in the operator namespace and in a restricted namespace',
    async (target) => {
      for (const namespace of [OPERATOR_NAMESPACE, RESTRICTED_NAMESPACE]) {
        const pod = podOf(podTemplate(target), namespace);
        const result = await createPod(pod);
        expect({ namespace, code: result.code, stderr: result.stderr }).toEqual({
          namespace,
          code: 0,
          stderr: '',
        });
        await kubectlOk(['get', 'pod', pod.metadata.name, '-n', namespace]);
      }
    },
  );

  it('a variant that allows privilege escalation and adds a capability is rejected', async () => {
    const template = structuredClone(podTemplate('deploy/base'));
    const container = template.spec.containers[0]!;
    container.securityContext = {
      ...container.securityContext,
      allowPrivilegeEscalation: true,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
    };
    for (const namespace of [OPERATOR_NAMESPACE, RESTRICTED_NAMESPACE]) {
      const result = await createPod(podOf(template, namespace));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('violates PodSecurity "restricted:latest"');
      expect(result.stderr).toMatch(/allowPrivilegeEscalation != false/);
      expect(result.stderr).toMatch(/NET_ADMIN/);
    }
  });

  it('a variant without runAsNonRoot and seccomp profile is rejected', async () => {
    const template = structuredClone(podTemplate('deploy/base'));
    template.spec.securityContext = {};
    const result = await createPod(podOf(template, RESTRICTED_NAMESPACE));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/runAsNonRoot != true/);
    expect(result.stderr).toMatch(/seccompProfile/);
  });
});

describe('RBAC, asked of the real authorizer', () => {
  /** kubectl auth can-i as the operator's ServiceAccount: exit 0 is yes, 1 is no. */
  async function canI(verb: string, resource: string, scope: { namespace?: string; subresource?: string }) {
    const args = ['auth', 'can-i', verb, resource, `--as=${OPERATOR_SA}`];
    args.push(...(scope.namespace ? ['-n', scope.namespace] : ['--all-namespaces']));
    if (scope.subresource) args.push(`--subresource=${scope.subresource}`);
    const result = await kubectl(args);
    if (result.code !== 0 && result.code !== 1) {
      throw new Error(`kubectl ${args.join(' ')} exited ${result.code}\n${result.stderr}`);
    }
    return result.code === 0;
  }

  const EHC = 'etcdhealthchecks.etcdhealth.io';
  const cases: Array<[string, string, { namespace?: string; subresource?: string }, boolean]> = [
    ['list', EHC, {}, true],
    ['watch', EHC, {}, true],
    ['patch', EHC, { namespace: 'team-a', subresource: 'status' }, true],
    ['get', EHC, { namespace: 'team-a', subresource: 'status' }, true],
    ['update', EHC, { namespace: 'team-a', subresource: 'status' }, false],
    ['update', EHC, { namespace: 'team-a' }, false],
    ['patch', EHC, { namespace: 'team-a' }, false],
    ['delete', EHC, { namespace: 'team-a' }, false],
    ['list', 'pods', { namespace: 'openshift-etcd' }, true],
    ['list', 'pods', { namespace: 'kube-system' }, true],
    ['list', 'pods', { namespace: 'team-a' }, false],
    ['list', 'pods', {}, false],
    ['get', 'pods', { namespace: 'openshift-etcd' }, false],
    ['delete', 'pods', { namespace: 'openshift-etcd' }, false],
    ['create', 'events.events.k8s.io', { namespace: 'team-a' }, true],
    ['update', 'leases.coordination.k8s.io', { namespace: OPERATOR_NAMESPACE }, true],
    ['create', 'leases.coordination.k8s.io', { namespace: OPERATOR_NAMESPACE }, true],
    ['update', 'leases.coordination.k8s.io', { namespace: 'kube-system' }, false],
    ['delete', 'leases.coordination.k8s.io', { namespace: OPERATOR_NAMESPACE }, false],
    ['get', 'secrets', { namespace: 'kube-system' }, true],
    ['get', 'secrets', { namespace: 'openshift-etcd' }, true],
    ['list', 'configmaps', { namespace: 'openshift-etcd' }, true],
    ['get', 'secrets', { namespace: 'default' }, false],
    ['list', 'secrets', {}, false],
    ['create', 'secrets', { namespace: 'kube-system' }, false],
    ['update', 'configmaps', { namespace: 'openshift-etcd' }, false],
    ['create', 'clusterrolebindings.rbac.authorization.k8s.io', {}, false],
  ];

  it('grants what the operator needs and nothing more', async () => {
    await ensureAllApplied();
    const answers: string[] = [];
    for (const [verb, resource, scope, expected] of cases) {
      const got = await canI(verb, resource, scope);
      if (got !== expected) {
        answers.push(
          `${verb} ${resource} ${JSON.stringify(scope)}: expected ${expected ? 'yes' : 'no'}, got ${got ? 'yes' : 'no'}`,
        );
      }
    }
    expect(answers).toEqual([]);
  });
});

describe('kubectl wait on EtcdHealthCheck conditions', () => {
  const NS = 'wait-test';
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: now(),
  });
  const patchStatus = (status: unknown) =>
    kubectlOk([
      'patch',
      'ehc',
      'etcd',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);

  beforeAll(async () => {
    await ensureAllApplied();
    await cp.createNamespace(NS);
    await kubectlOk(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
      JSON.stringify({
        apiVersion: 'etcdhealth.io/v1alpha1',
        kind: 'EtcdHealthCheck',
        metadata: { name: 'etcd', namespace: NS },
        spec: { etcd: { endpoints: ['https://10.0.0.11:2379'] } },
      }),
    );
  });

  it('--for=condition=Available waits while Available is False and returns when it turns True', async () => {
    await patchStatus({
      observedGeneration: 1,
      conditions: [
        condition(
          'Available',
          'False',
          'EtcdMembers_NoLeader',
          'EtcdMembersAvailable: No member knows a leader',
        ),
        condition(
          'Degraded',
          'True',
          'EtcdMembers_NoLeader',
          'EtcdMembersDegraded: No member knows a leader',
        ),
      ],
    });
    const notYet = await kubectl(['wait', '--for=condition=Available', 'ehc/etcd', '-n', NS, '--timeout=3s']);
    expect(notYet.code).not.toBe(0);
    expect(notYet.stderr).toMatch(/timed out waiting for the condition/);

    const waiting = kubectl(['wait', '--for=condition=Available', 'ehc/etcd', '-n', NS, '--timeout=120s']);
    await patchStatus({
      observedGeneration: 1,
      conditions: [
        condition('Available', 'True', 'AsExpected', '3 members are available'),
        condition('Degraded', 'False', 'AsExpected', 'All is well'),
      ],
    });
    const met = await waiting;
    expect({ code: met.code, stdout: met.stdout.trim() }).toEqual({
      code: 0,
      stdout: 'etcdhealthcheck.etcdhealth.io/etcd condition met',
    });
  });

  it('other standard forms work too: Degraded=False, all objects by short name, observedGeneration', async () => {
    await kubectlOk(['wait', '--for=condition=Degraded=False', 'ehc/etcd', '-n', NS, '--timeout=30s']);
    await kubectlOk(['wait', '--for=condition=Available=True', 'ehc', '--all', '-n', NS, '--timeout=30s']);
    await kubectlOk([
      'wait',
      '--for=jsonpath={.status.observedGeneration}=1',
      'ehc/etcd',
      '-n',
      NS,
      '--timeout=30s',
    ]);
    const degraded = await kubectl([
      'wait',
      '--for=condition=Degraded',
      'ehc/etcd',
      '-n',
      NS,
      '--timeout=2s',
    ]);
    expect(degraded.code).not.toBe(0);
  });
});

describe('Argo CD health on objects as the apiserver returns them', () => {
  const NS = 'argocd-health';

  interface HealthCase {
    healthStatus: Health;
    inputPath: string;
  }
  const cases = (
    yaml.load(readFileSync(join(ARGOCD_DIR, 'health_test.yaml'), 'utf8')) as { tests: HealthCase[] }
  ).tests;
  const nameOf = (inputPath: string) => inputPath.replace(/^testdata\/|\.yaml$/g, '');

  beforeAll(async () => {
    await ensureAllApplied();
    await cp.createNamespace(NS);
  });

  const live = async (name: string) =>
    JSON.parse((await kubectlOk(['get', 'ehc', name, '-n', NS, '-o', 'json'])).stdout) as K8sObject;

  /** Creates the test object's spec, then writes its status through /status (schema-checked). */
  async function createFrom(inputPath: string): Promise<string> {
    const object = yaml.load(readFileSync(join(ARGOCD_DIR, inputPath), 'utf8')) as K8sObject;
    const name = nameOf(inputPath);
    await kubectlOk(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name, namespace: NS },
        spec: object.spec,
      }),
    );
    if (object.status) {
      await kubectlOk([
        'patch',
        'ehc',
        name,
        '-n',
        NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: object.status }),
      ]);
    }
    return name;
  }

  it('every test object is valid for the CRD (spec and status) and gets its expected health', async () => {
    const mismatches: string[] = [];
    for (const testCase of cases) {
      const name = await createFrom(testCase.inputPath);
      // stale-generation needs a real generation bump: covered by the next test.
      if (name === 'stale-generation') continue;
      const got = await runner.health(await live(name));
      if (got.status !== testCase.healthStatus.status || got.message !== testCase.healthStatus.message) {
        mismatches.push(
          `${name}: expected ${JSON.stringify(testCase.healthStatus)}, got ${JSON.stringify(got)}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('a spec change not yet observed makes a Healthy object Progressing', async () => {
    const name = 'generation-bump';
    await kubectlOk(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'etcdhealth.io/v1alpha1',
        kind: 'EtcdHealthCheck',
        metadata: { name, namespace: NS },
        spec: { etcd: { endpoints: ['https://10.0.0.11:2379'] } },
      }),
    );
    const healthy = yaml.load(readFileSync(join(ARGOCD_DIR, 'testdata/healthy.yaml'), 'utf8')) as K8sObject;
    await kubectlOk([
      'patch',
      'ehc',
      name,
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { ...healthy.status, observedGeneration: 1 } }),
    ]);
    expect((await runner.health(await live(name))).status).toBe('Healthy');
    await kubectlOk([
      'patch',
      'ehc',
      name,
      '-n',
      NS,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { interval: '2m' } }),
    ]);
    const bumped = await live(name);
    expect(bumped.metadata.generation).toBe(2);
    expect(await runner.health(bumped)).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to check generation 2',
    });
  });
});

describe('docs/gitops.md', () => {
  it('the Argo CD kustomization renders: CRD in wave -1, the EtcdHealthCheck in wave 1, the rest in wave 0', async () => {
    const doc = readFileSync(join(REPO, 'docs/gitops.md'), 'utf8');
    const marker = doc.indexOf('<!-- tested: argocd-kustomization');
    expect(marker).toBeGreaterThan(0);
    const block = /```yaml\n([\s\S]*?)```/.exec(doc.slice(marker))![1]!;
    const remote =
      /https:\/\/github\.com\/etcd-health-operator\/etcd-health-operator\/\/deploy\/overlays\/openshift\?ref=\S+/;
    expect(block).toMatch(remote);
    const dir = makeTempDir('gitops-doc');
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        block.replace(remote, relative(dir, join(REPO, 'deploy/overlays/openshift'))),
      );
      writeFileSync(
        join(dir, 'etcdhealthcheck.yaml'),
        readFileSync(join(REPO, 'deploy/samples/openshift.yaml')),
      );
      const objects = yaml.loadAll((await kubectlOk(['kustomize', dir])).stdout).filter(Boolean) as Array<
        K8sObject & { metadata: { annotations?: Record<string, string> } }
      >;
      const waves = Object.fromEntries(
        objects.map((o) => [
          `${o.kind}/${o.metadata.name}`,
          o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0',
        ]),
      );
      expect(waves['CustomResourceDefinition/etcdhealthchecks.etcdhealth.io']).toBe('-1');
      expect(waves['EtcdHealthCheck/etcd']).toBe('1');
      expect(
        Object.entries(waves).filter(
          ([key, wave]) => wave !== '0' && !/^(CustomResourceDefinition|EtcdHealthCheck)\//.test(key),
        ),
      ).toEqual([]);
      expect(Object.keys(waves)).toEqual(
        expect.arrayContaining(['Deployment/etcd-health-operator', 'PrometheusRule/etcd-health-operator']),
      );
    } finally {
      removeTempDir(dir);
    }
  });
});
