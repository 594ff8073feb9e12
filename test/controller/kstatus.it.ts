// kstatus on real parts: the operator process, a real kube-apiserver and a real etcd member. Every
// version of the object the apiserver stores is read through a watch and computed with kstatus'
// rules, so Flux, `kstatus` and `kubectl wait` would see what this test sees.
//
// The CRD is installed without its CEL rules, as on a cluster whose admin applied an older or
// trimmed CRD: a spec the admission would refuse then reaches the operator, which must report it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Watch } from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir, registerCleanup } from '../harness/process.js';

const ns = 'kstatus';
let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: NamespacedChecks;
/** Every version of every check in the namespace, in the order the apiserver stored them. */
const versions: EtcdHealthCheck[] = [];

type KstatusResult = { status: 'InProgress' | 'Failed' | 'Current'; message: string };

/**
 * sigs.k8s.io/cli-utils/pkg/kstatus/status Compute for a custom resource (generic.go,
 * checkGenericProperties and checkGeneration; status.go: no rule matched means Current).
 */
function kstatus(object: EtcdHealthCheck): KstatusResult {
  const generation = object.metadata.generation;
  const observed = object.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed !== generation)
    return { status: 'InProgress', message: `generation ${generation}, observed ${observed}` };
  for (const condition of object.status?.conditions ?? []) {
    if (condition.type === 'Reconciling' && condition.status === 'True')
      return { status: 'InProgress', message: condition.message };
    if (condition.type === 'Stalled' && condition.status === 'True')
      return { status: 'Failed', message: condition.message };
  }
  return { status: 'Current', message: 'Resource is current' };
}

/** The CRD of crds/ without its CEL rules, in a file of its own. */
function crdWithoutCel(): string {
  const crdPath = fileURLToPath(new URL('../../crds/etcdhealthchecks.etcdhealth.io.yaml', import.meta.url));
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== 'x-kubernetes-validations')
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  const file = join(makeTempDir('kstatus-crd'), 'crd.yaml');
  writeFileSync(file, yaml.dump(strip(yaml.load(readFileSync(crdPath, 'utf8')))));
  return file;
}

const versionsOf = (name: string) => versions.filter((object) => object.metadata.name === name);

beforeAll(async () => {
  [cp, cluster] = await Promise.all([
    startControlPlane({ crdFiles: [crdWithoutCel()] }),
    startEtcdCluster({ members: 1 }),
  ]);
  await cp.createNamespace(ns);
  checks = checksIn(cp.kubeConfig, ns);
  const watch = new Watch(cp.kubeConfig);
  const stopWatch = await watch.watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`,
    {},
    (phase, object: EtcdHealthCheck) => {
      if (phase === 'ADDED' || phase === 'MODIFIED') versions.push(object);
    },
    () => undefined,
  );
  registerCleanup(() => Promise.resolve(stopWatch.abort()));
  await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('operator-logs'),
    identity: 'operator-kstatus',
  });
});

afterAll(async () => {
  await cleanupAll();
});

describe('kstatus Reconciling and Stalled, written by the operator', () => {
  it('an invalid spec is Stalled (kstatus Failed) with a readable reason; fixing it makes the check Current', async () => {
    await checks.create('broken', { etcd: { endpoints: cluster.endpoints }, interval: '5s' });
    const stalled = await eventually(
      async () => {
        const check = await checks.get('broken');
        return conditionOf(check, 'Stalled')?.status === 'True' ? check : undefined;
      },
      { timeoutMs: 60_000, description: 'Stalled=True for an interval of 5s' },
    );
    expect(stalled.status?.observedGeneration).toBe(stalled.metadata.generation);
    expect(conditionOf(stalled, 'Stalled')).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringContaining('interval must be at least 10s'),
      observedGeneration: stalled.metadata.generation,
    });
    expect(conditionOf(stalled, 'Reconciling')).toMatchObject({ status: 'False', reason: 'Stalled' });
    expect(kstatus(stalled)).toEqual({
      status: 'Failed',
      message: expect.stringContaining('interval must be at least 10s'),
    });

    await checks.patchSpec('broken', { interval: '10s' });
    const fixed = await eventually(
      async () => {
        const check = await checks.get('broken');
        return check.metadata.generation === 2 &&
          check.status?.observedGeneration === 2 &&
          check.status.lastCheck !== undefined &&
          conditionOf(check, 'Reconciling')?.status === 'False'
          ? check
          : undefined;
      },
      { timeoutMs: 60_000, description: 'generation 2 checked' },
    );
    expect(conditionOf(fixed, 'Stalled')).toMatchObject({ status: 'False', observedGeneration: 2 });
    expect(conditionOf(fixed, 'Reconciling')).toMatchObject({ reason: 'AsExpected', observedGeneration: 2 });
    expect(conditionOf(fixed, 'Available')?.status).toBe('True');
    expect(kstatus(fixed).status).toBe('Current');
    // The operator checked the fixed spec: a Normal StalledFalse Event says so.
    const events = await eventually(
      async () => {
        const list = await checks.eventsOf('broken');
        return list.some((event) => event.reason === 'StalledFalse') ? list : undefined;
      },
      { description: 'a StalledFalse Event' },
    );
    expect(events.find((event) => event.reason === 'StalledTrue')?.type).toBe('Warning');
    expect(events.find((event) => event.reason === 'StalledFalse')?.type).toBe('Normal');
  });

  it('a new check is never Current before its first check, and Current after it', async () => {
    await checks.create('fresh', { etcd: { endpoints: cluster.endpoints }, interval: '30s' });
    await eventually(
      async () => {
        const check = await checks.get('fresh');
        return check.status?.lastCheck !== undefined && kstatus(check).status === 'Current';
      },
      { timeoutMs: 60_000, description: 'the first check of "fresh"' },
    );
    // The watch saw every version the apiserver stored, from the creation on.
    const seen = versionsOf('fresh');
    const firstChecked = seen.findIndex((object) => object.status?.lastCheck !== undefined);
    expect(firstChecked).toBeGreaterThan(0);
    // Before the first check: the object as created (no status; kstatus alone would call it
    // Current, the reason the operator marks it at once), then the Reconciling mark.
    const marks = seen.slice(1, firstChecked);
    expect(marks.length).toBeGreaterThan(0);
    for (const object of marks) {
      expect(kstatus(object)).toEqual({
        status: 'InProgress',
        message: 'Generation 1 is being checked for the first time',
      });
      expect(object.status?.observedGeneration).toBeUndefined();
    }
    for (const object of seen.slice(firstChecked)) {
      expect(object.status?.observedGeneration).toBe(1);
      expect(kstatus(object).status).toBe('Current');
    }
  });

  it('a spec edit is InProgress until its check, then Current with observedGeneration current', async () => {
    const before = versionsOf('fresh').length;
    await checks.patchSpec('fresh', { interval: '20s' });
    const checked = await eventually(
      async () => {
        const check = await checks.get('fresh');
        return check.status?.observedGeneration === 2 && kstatus(check).status === 'Current'
          ? check
          : undefined;
      },
      { timeoutMs: 60_000, description: 'generation 2 of "fresh" checked' },
    );
    expect(conditionOf(checked, 'Reconciling')).toMatchObject({ status: 'False', observedGeneration: 2 });
    const edited = versionsOf('fresh').slice(before);
    const current = edited.findIndex((object) => kstatus(object).status === 'Current');
    // The edit itself, then the mark: both InProgress, neither ever Failed.
    expect(current).toBeGreaterThanOrEqual(2);
    expect(edited.slice(0, current).map((object) => kstatus(object).status)).toEqual(
      Array(current).fill('InProgress'),
    );
    expect(
      edited.slice(0, current).some((object) => conditionOf(object, 'Reconciling')?.status === 'True'),
    ).toBe(true);
  });
});
