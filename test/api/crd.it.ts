// The EtcdHealthCheck CRD against a real kube-apiserver: it installs, kubectl knows its names, the
// samples are accepted, the apiserver's defaults equal zod's, every invalid spec is rejected both by
// admission (OpenAPI + CEL) and by zod with the same message, the status subresource is separate,
// and the printer columns show.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiextensionsV1Api, CustomObjectsApi, loadAllYaml } from '@kubernetes/client-node';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PRINTER_COLUMNS, buildCrd } from '../../src/api/v1alpha1/crd.js';
import {
  API_VERSION,
  CATEGORIES,
  GROUP,
  KIND,
  PLURAL,
  SHORT_NAMES,
  VERSION,
  EtcdHealthCheckSpecSchema,
  type EtcdHealthCheck,
  type EtcdHealthCheckStatus,
} from '../../src/api/v1alpha1/index.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { apiErrorStatus, mergePatch, type ApiErrorStatus } from '../harness/kube.js';
import { cleanupAll } from '../harness/process.js';

const SAMPLES_DIR = fileURLToPath(new URL('../../deploy/samples/', import.meta.url));
const ENDPOINTS = { endpoints: ['https://10.0.0.1:2379'] };

let cp: ControlPlane;
let custom: CustomObjectsApi;
let ns: string;
let counter = 0;

beforeAll(async () => {
  cp = await startControlPlane();
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  ns = await cp.createNamespace('crd-it');
});

afterAll(async () => {
  await cp?.stop();
  await cleanupAll();
});

const uniqueName = (prefix: string) => `${prefix}-${++counter}`;

function manifest(name: string, spec: unknown, namespace = ns): Record<string, unknown> {
  const body: Record<string, unknown> = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
  };
  if (spec !== undefined) body.spec = spec;
  return body;
}

const ref = (namespace: string, name: string) => ({
  group: GROUP,
  version: VERSION,
  plural: PLURAL,
  namespace,
  name,
});

async function create(name: string, spec: unknown, namespace = ns): Promise<EtcdHealthCheck> {
  return (await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    body: manifest(name, spec, namespace),
  })) as EtcdHealthCheck;
}

async function get(name: string, namespace = ns): Promise<EtcdHealthCheck> {
  return (await custom.getNamespacedCustomObject(ref(namespace, name))) as EtcdHealthCheck;
}

/** Creates the object and returns the rejection, or fails if the apiserver accepted it. */
async function rejection(name: string, spec: unknown): Promise<ApiErrorStatus> {
  try {
    await create(name, spec);
  } catch (error) {
    return apiErrorStatus(error);
  }
  throw new Error(`the apiserver accepted ${JSON.stringify(spec)}`);
}

/** zod's issue path as a Kubernetes field path below spec: etcd.endpoints[0]. */
const fieldPath = (path: PropertyKey[]) =>
  ['spec', ...path]
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .slice(1);

/** kubectl's table output as one record per row, cut at the header's column starts. */
function parseTable(output: string, headers: string[]): Array<Record<string, string>> {
  const [header = '', ...rows] = output.trimEnd().split('\n');
  let from = 0;
  const starts = headers.map((h) => {
    const at = header.indexOf(h, from);
    if (at < 0) throw new Error(`column ${h} missing in header ${JSON.stringify(header)}`);
    from = at + h.length;
    return at;
  });
  return rows.map((row) =>
    Object.fromEntries(headers.map((h, i) => [h, row.slice(starts[i], starts[i + 1] ?? row.length).trim()])),
  );
}

/**
 * zod's parse of `input` as the API server stores it: the discovery's namespace and label selector
 * come from its preset in zod only, the API server leaves them out when the author did.
 */
function withoutPresetValues(parsed: ReturnType<typeof EtcdHealthCheckSpecSchema.parse>, input: unknown) {
  const discovery = parsed.etcd.discovery;
  const written = (input as { etcd?: { discovery?: Record<string, unknown> } }).etcd?.discovery;
  if (discovery === undefined || written === undefined) return parsed;
  const { namespace, labelSelector, ...rest } = discovery;
  return {
    ...parsed,
    etcd: {
      ...parsed.etcd,
      discovery: {
        ...rest,
        ...('namespace' in written ? { namespace } : {}),
        ...('labelSelector' in written ? { labelSelector } : {}),
      },
    },
  };
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function sampleStatus(): EtcdHealthCheckStatus {
  const at = now();
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: at,
  });
  return {
    observedGeneration: 1,
    conditions: [
      condition('Available', 'True', 'QuorumHealthy', '3 of 3 voting members are healthy'),
      condition('Progressing', 'False', 'Idle', ''),
      condition('Degraded', 'True', 'SlowWalFsync', 'member etcd-1: WAL fsync p99 62ms >= 50ms'),
      condition('Upgradeable', 'True', 'AsExpected', ''),
    ],
    summary: {
      members: '3/3',
      leader: 'etcd-0',
      dbSize: '1.2 GiB',
      walFsyncP99: '62ms',
      backendCommitP99: '12ms',
      quotaUsage: '14%',
      recommendations: '1 Warning',
      lastTransitionTime: at,
    },
    lastCheck: { time: at, durationMilliseconds: 412, etcd: { state: 'OK' }, prometheus: { state: 'OK' } },
  };
}

async function patchStatus(name: string, body: unknown): Promise<EtcdHealthCheck> {
  return (await custom.patchNamespacedCustomObjectStatus(
    { ...ref(ns, name), body },
    mergePatch(),
  )) as EtcdHealthCheck;
}

describe('EtcdHealthCheck CRD on a real kube-apiserver', () => {
  it('is installed, Established, with the names and category from src/api', async () => {
    const crd = await cp.kubeConfig
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    const conditions = Object.fromEntries((crd.status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({ Established: 'True', NamesAccepted: 'True' });
    expect(crd.status?.acceptedNames).toMatchObject({
      kind: KIND,
      plural: PLURAL,
      shortNames: SHORT_NAMES,
      categories: CATEGORIES,
    });
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([[VERSION, true, true]]);
  });

  it('is served with exactly the schema generated from zod (nothing lost in YAML or by the apiserver)', async () => {
    // Raw JSON from kubectl, not client-node's typed models, so every keyword is compared as is.
    const result = await cp.kubectl(['get', 'crd', `${PLURAL}.${GROUP}`, '-o', 'json']);
    expect(result.code).toBe(0);
    const installed = JSON.parse(result.stdout) as ReturnType<typeof buildCrd>;
    const generated = buildCrd();
    expect(installed.spec.versions).toEqual(JSON.parse(JSON.stringify(generated.spec.versions)));
    expect(installed.spec.names).toEqual(generated.spec.names);
  });

  it('is listed by kubectl under its short name and its category', async () => {
    const name = uniqueName('names');
    await create(name, { etcd: ENDPOINTS });

    const byShortName = await cp.kubectl(['get', 'ehc', '-n', ns, '-o', 'name']);
    expect(byShortName).toMatchObject({ code: 0, stderr: '' });
    expect(byShortName.stdout.split('\n')).toContain(`${KIND.toLowerCase()}.${GROUP}/${name}`);

    const byCategory = await cp.kubectl(['get', 'etcd', '-n', ns, '-o', 'name']);
    expect(byCategory).toMatchObject({ code: 0, stderr: '' });
    expect(byCategory.stdout.split('\n')).toContain(`${KIND.toLowerCase()}.${GROUP}/${name}`);

    const resources = await cp.kubectl(['api-resources', `--api-group=${GROUP}`, '--no-headers']);
    expect(resources.code).toBe(0);
    expect(resources.stdout).toMatch(
      new RegExp(`^${PLURAL}\\s+${SHORT_NAMES.join(',')}\\s+${API_VERSION}\\s+true\\s+${KIND}`, 'm'),
    );
  });

  describe('samples', () => {
    const samples = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.yaml'));

    it.each(samples)(
      'deploy/samples/%s is accepted by kubectl apply and defaulted like zod',
      async (file) => {
        const namespace = await cp.createNamespace(`sample-${file.replace(/\.yaml$/, '')}`);
        const result = await cp.kubectl(['apply', '-n', namespace, '-f', `${SAMPLES_DIR}${file}`]);
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/created/);

        const docs = loadAllYaml(readFileSync(`${SAMPLES_DIR}${file}`, 'utf8')).filter(
          Boolean,
        ) as EtcdHealthCheck[];
        for (const doc of docs) {
          const stored = await get(doc.metadata.name, namespace);
          expect(withoutPresetValues(EtcdHealthCheckSpecSchema.parse(doc.spec), doc.spec)).toEqual(
            stored.spec,
          );
          expect(EtcdHealthCheckSpecSchema.parse(stored.spec)).toEqual(
            EtcdHealthCheckSpecSchema.parse(doc.spec),
          );
        }
      },
    );
  });

  describe('defaults', () => {
    it('a discovery preset is stored as written and resolved by zod, not defaulted by the API server', async () => {
      const created = await create(uniqueName('kubeadm'), { etcd: { discovery: { preset: 'Kubeadm' } } });
      const stored = await get(created.metadata.name);
      expect(stored.spec.etcd.discovery).toEqual({ preset: 'Kubeadm', port: 2379, scheme: 'https' });
      expect(EtcdHealthCheckSpecSchema.parse(stored.spec).etcd.discovery).toMatchObject({
        namespace: 'kube-system',
        labelSelector: 'component=etcd,tier=control-plane',
      });
      const rejected = await rejection(uniqueName('preset'), { etcd: { discovery: { preset: 'k3s' } } });
      expect(rejected.message).toMatch(/Unsupported value: "k3s"/);
    });

    // The apiserver applies the CRD's `default`s (and `{}` for prefaulted objects, whose fields then
    // get their own defaults); zod's .default/.prefault must produce exactly the same object.
    it.each([
      ['static endpoints only', { etcd: ENDPOINTS }],
      [
        'empty discovery and a bare Prometheus URL',
        { etcd: { discovery: {} }, prometheus: { url: 'http://prometheus:9090' } },
      ],
      [
        'partly set nested objects',
        {
          etcd: { ...ENDPOINTS, dialTimeout: '1s' },
          thresholds: {
            walFsyncP99: { warning: '20ms' },
            quotaUsage: { criticalPercent: 90 },
            apiChurn: { inflightRequests: {} },
          },
          remediation: { mode: 'Automatic', compaction: { enabled: true } },
        },
      ],
    ])('%s: the stored spec equals EtcdHealthCheckSpecSchema.parse', async (_title, minimal) => {
      const created = await create(uniqueName('defaults'), minimal);
      const stored = await get(created.metadata.name);
      const expected = withoutPresetValues(EtcdHealthCheckSpecSchema.parse(minimal), minimal);
      expect(created.spec).toEqual(expected);
      expect(stored.spec).toEqual(expected);
    });
  });

  describe('sizes: int-or-string', () => {
    it('stores integers and quantities as written, and zod reads the same bytes from them', async () => {
      const thresholds = {
        databaseSize: { warning: 3 * 2 ** 30, critical: '7.5e9' },
        fragmentation: { minDatabaseSize: '+64Mi' },
      };
      const created = await create(uniqueName('sizes'), { etcd: ENDPOINTS, thresholds });
      const stored = await get(created.metadata.name);
      expect(stored.spec.thresholds?.databaseSize).toEqual(thresholds.databaseSize);
      expect(stored.spec.thresholds?.fragmentation).toMatchObject(thresholds.fragmentation);
      const parsed = EtcdHealthCheckSpecSchema.parse(stored.spec);
      expect(parsed.thresholds.databaseSize).toEqual({ warning: String(3 * 2 ** 30), critical: '7.5e9' });
      expect(parsed.thresholds.fragmentation.minDatabaseSize).toBe('+64Mi');
    });

    it('a negative quantity passes the pattern (the grammar has signs) and is refused by zod, readably', async () => {
      const spec = { etcd: ENDPOINTS, thresholds: { databaseSize: { warning: '-1Gi' } } };
      await create(uniqueName('negative'), spec);
      const parsed = EtcdHealthCheckSpecSchema.safeParse(spec);
      expect(parsed.success ? [] : parsed.error.issues.map((i) => i.message)).toEqual(['"-1Gi" is negative']);
    });
  });

  describe('validation: admission and zod reject the same specs', () => {
    const NO_SPEC = undefined;
    const prometheus = { url: 'http://prometheus:9090' };
    // [title, spec, message the apiserver returns, field below which the error is reported]
    const cases: Array<[string, unknown, string | RegExp, string]> = [
      ['missing spec', NO_SPEC, 'Required value', 'spec'],
      ['missing etcd', {}, 'Required value', 'spec.etcd'],
      [
        'both endpoints and discovery',
        { etcd: { ...ENDPOINTS, discovery: {} } },
        'exactly one of endpoints and discovery must be set',
        'spec.etcd',
      ],
      [
        'neither endpoints nor discovery',
        { etcd: {} },
        'exactly one of endpoints and discovery must be set',
        'spec.etcd',
      ],
      ['interval below 10s', { etcd: ENDPOINTS, interval: '5s' }, 'interval must be at least 10s', 'spec'],
      ['malformed duration', { etcd: ENDPOINTS, interval: '10 seconds' }, /should match/, 'spec.interval'],
      [
        'latency warning above critical',
        { etcd: ENDPOINTS, thresholds: { walFsyncP99: { warning: '100ms', critical: '50ms' } } },
        'warning must not exceed critical',
        'spec.thresholds.walFsyncP99',
      ],
      [
        'latency warning above the defaulted critical',
        { etcd: ENDPOINTS, thresholds: { backendCommitP99: { warning: '200ms' } } },
        'warning must not exceed critical',
        'spec.thresholds.backendCommitP99',
      ],
      [
        'quota percents out of order',
        { etcd: ENDPOINTS, thresholds: { quotaUsage: { infoPercent: 80, warningPercent: 75 } } },
        'infoPercent <= warningPercent <= criticalPercent',
        'spec.thresholds.quotaUsage',
      ],
      [
        'percent above 100',
        { etcd: ENDPOINTS, thresholds: { quotaUsage: { criticalPercent: 101 } } },
        /less than or equal to 100/,
        'spec.thresholds.quotaUsage.criticalPercent',
      ],
      [
        'endpoint without scheme',
        { etcd: { endpoints: ['10.0.0.1:2379'] } },
        /should match/,
        'spec.etcd.endpoints[0]',
      ],
      [
        'endpoint with a path',
        { etcd: { endpoints: ['https://10.0.0.1:2379/v3'] } },
        /should match/,
        'spec.etcd.endpoints[0]',
      ],
      [
        'unknown remediation mode',
        { etcd: ENDPOINTS, remediation: { mode: 'Aggressive' } },
        /Unsupported value: "Aggressive"/,
        'spec.remediation.mode',
      ],
      [
        'unknown discovery scheme',
        { etcd: { discovery: { scheme: 'grpc' } } },
        /Unsupported value: "grpc"/,
        'spec.etcd.discovery.scheme',
      ],
      [
        'label matcher without quotes',
        { etcd: ENDPOINTS, prometheus: { ...prometheus, labelMatchers: ['job=etcd'] } },
        /should match/,
        'spec.prometheus.labelMatchers[0]',
      ],
      [
        'both CA references',
        {
          etcd: ENDPOINTS,
          prometheus: { ...prometheus, caSecretRef: { name: 'ca' }, caConfigMapRef: { name: 'ca' } },
        },
        'at most one of caSecretRef and caConfigMapRef may be set',
        'spec.prometheus',
      ],
      [
        'bearer token and operator ServiceAccount',
        {
          etcd: ENDPOINTS,
          prometheus: {
            ...prometheus,
            bearerTokenSecretRef: { name: 'token' },
            useOperatorServiceAccount: true,
          },
        },
        'bearerTokenSecretRef and useOperatorServiceAccount are mutually exclusive',
        'spec.prometheus',
      ],
      [
        'negative integer size',
        { etcd: ENDPOINTS, thresholds: { databaseSize: { warning: -1 } } },
        /greater than or equal to 0/,
        'spec.thresholds.databaseSize.warning',
      ],
      [
        'size with a unit Kubernetes does not know',
        { etcd: ENDPOINTS, thresholds: { fragmentation: { minDatabaseSize: '100MB' } } },
        /should match/,
        'spec.thresholds.fragmentation.minDatabaseSize',
      ],
      [
        'size that is neither an integer nor a string',
        { etcd: ENDPOINTS, thresholds: { databaseSize: { critical: 1.5 } } },
        /must be of type integer|Invalid value/,
        'spec.thresholds.databaseSize.critical',
      ],
    ];

    it.each(cases)('%s', async (_title, spec, message, field) => {
      const status = await rejection(uniqueName('invalid'), spec);
      expect(status.code).toBe(422);
      expect(status.reason).toBe('Invalid');
      expect(status.message).toMatch(message);
      const causes = status.details?.causes ?? [];
      expect(causes.map((c) => c.field)).toContain(field);
      expect(causes.find((c) => c.field === field)?.message).toMatch(message);

      const parsed = EtcdHealthCheckSpecSchema.safeParse(spec);
      expect(parsed.success).toBe(false);
      const issues = parsed.success
        ? []
        : parsed.error.issues.map((i) => ({ field: fieldPath(i.path), message: i.message }));
      expect(issues.map((i) => i.field)).toContain(field);
      if (typeof message === 'string' && message !== 'Required value') {
        // A CEL rule: zod's refinement carries the very same message at the very same place.
        expect(issues).toContainEqual({ field, message });
      }
    });

    it('an unknown field is rejected under strict field validation (as kubectl sends it) and by zod', async () => {
      const spec = { etcd: ENDPOINTS, intervall: '30s' };
      const status = await custom
        .createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: ns,
          body: manifest(uniqueName('unknown-field'), spec),
          fieldValidation: 'Strict',
        })
        .then(
          () => undefined,
          (error: unknown) => apiErrorStatus(error),
        );
      expect(status).toMatchObject({ code: 400, reason: 'BadRequest' });
      expect(status?.message).toContain('unknown field "spec.intervall"');
      const parsed = EtcdHealthCheckSpecSchema.safeParse(spec);
      expect(parsed.success ? [] : parsed.error.issues.map((i) => i.code)).toEqual(['unrecognized_keys']);
    });

    it('kubectl shows the rule message to a human', async () => {
      const body = manifest(uniqueName('kubectl-invalid'), {
        etcd: { ...ENDPOINTS, discovery: {} },
        interval: '5s',
      });
      const result = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(body) });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('exactly one of endpoints and discovery must be set');
      expect(result.stderr).toContain('interval must be at least 10s');
    });
  });

  describe('status subresource', () => {
    it('a /status merge patch changes status but not spec', async () => {
      const name = uniqueName('status');
      const created = await create(name, { etcd: ENDPOINTS });
      expect(created.status).toBeUndefined();

      const status = sampleStatus();
      const patched = await patchStatus(name, { spec: { interval: '99s' }, status });
      expect(patched.status).toEqual(status);
      expect(patched.spec).toEqual(created.spec);

      const stored = await get(name);
      expect(stored.status).toEqual(status);
      expect(stored.spec).toEqual(created.spec);
      expect(stored.metadata.generation).toBe(created.metadata.generation);
    });

    it('a spec update does not change status, and bumps the generation', async () => {
      const name = uniqueName('spec-update');
      const created = await create(name, { etcd: ENDPOINTS });
      const status = sampleStatus();
      await patchStatus(name, { status });

      const updated = (await custom.patchNamespacedCustomObject(
        {
          ...ref(ns, name),
          body: { spec: { interval: '45s' }, status: { summary: { ...status.summary, members: '0/3' } } },
        },
        mergePatch(),
      )) as EtcdHealthCheck;
      expect(updated.spec.interval).toBe('45s');
      expect(updated.status).toEqual(status);
      expect(updated.metadata.generation).toBe(created.metadata.generation! + 1);

      const replaced = (await custom.replaceNamespacedCustomObject({
        ...ref(ns, name),
        body: { ...updated, spec: { ...updated.spec, suspend: true }, status: { observedGeneration: 99 } },
      })) as EtcdHealthCheck;
      expect(replaced.spec.suspend).toBe(true);
      expect(replaced.status).toEqual(status);
    });
  });

  describe('printer columns', () => {
    const columns = (priority: number) =>
      PRINTER_COLUMNS.filter((c) => (c.priority ?? 0) <= priority).map((c) => c.name.toUpperCase());
    let name: string;

    beforeAll(async () => {
      name = uniqueName('columns');
      await create(name, { etcd: ENDPOINTS });
      await patchStatus(name, { status: sampleStatus() });
    });

    it('kubectl get ehc shows the default columns', async () => {
      const result = await cp.kubectl(['get', 'ehc', name, '-n', ns]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const headers = ['NAME', ...columns(0)];
      expect(
        result.stdout
          .split('\n')[0]!
          .trim()
          .split(/\s{2,}/),
      ).toEqual(headers);
      const [row] = parseTable(result.stdout, headers);
      expect(row).toMatchObject({
        NAME: name,
        AVAILABLE: 'True',
        PROGRESSING: 'False',
        DEGRADED: 'True',
        MEMBERS: '3/3',
        LEADER: 'etcd-0',
        'DB SIZE': '1.2 GiB',
        'FSYNC P99': '62ms',
      });
      expect(row!.SINCE).toMatch(/^\d+(s|m)/);
      expect(row!.AGE).toMatch(/^\d+(s|m)/);
    });

    it('kubectl get ehc -o wide adds the priority-1 columns', async () => {
      const result = await cp.kubectl(['get', 'ehc', name, '-n', ns, '-o', 'wide']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const headers = ['NAME', ...columns(1)];
      expect(headers.length).toBeGreaterThan(columns(0).length + 1);
      const [row] = parseTable(result.stdout, headers);
      expect(row).toMatchObject({
        NAME: name,
        MEMBERS: '3/3',
        UPGRADEABLE: 'True',
        QUOTA: '14%',
        'COMMIT P99': '12ms',
        RECOMMENDATIONS: '1 Warning',
        MESSAGE: 'member etcd-1: WAL fsync p99 62ms >= 50ms',
      });
      expect(row!['LAST CHECK']).toMatch(/^\d+(s|m)/);
    });

    it('an object without status shows empty status columns rather than failing', async () => {
      const bare = uniqueName('bare');
      await create(bare, { etcd: ENDPOINTS });
      const result = await cp.kubectl(['get', 'ehc', bare, '-n', ns, '-o', 'wide']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const { NAME, AGE, ...statusColumns } = parseTable(result.stdout, ['NAME', ...columns(1)])[0]!;
      expect(NAME).toBe(bare);
      expect(AGE).toMatch(/^\d+(s|m)/);
      expect(Object.values(statusColumns).every((value) => value === '')).toBe(true);
    });
  });
});
