// The naive baseline the benchmark compares the operator with: the design of @dot-i/k8s-operator
// (README design notes, "Our own controller runtime instead of @dot-i/k8s-operator") driven by the
// same reconcile pieces as the real operator. It differs from the real operator only in the loop:
//
//  - list+watch with client-node 1.4's makeInformer, restarted 5 s after any error (the pattern of
//    client-node's README); no bookmarks, no backoff;
//  - one global FIFO of *events* (not keys), processed one at a time: no dedupe, no concurrency;
//  - every processed event starts its own requeue timer (setTimeout(interval)) for that object;
//  - every reconcile writes the whole status (merge patch to /status): no change detection, no
//    heartbeat logic; Events on every condition transition, with no dedupe;
//  - its own status writes are filtered the way dot-i's README does it (handle MODIFIED only when
//    metadata.generation != status.observedGeneration), or each write would trigger the next.
//
// The reconcile itself is the real one: src/sources/observe.ts (etcd gRPC + Prometheus HTTP),
// src/health/analyze.ts and KubeStatusWriter from src/kube/status-writer.ts. Credentials are not
// supported (the benchmark's CRs use none). It exposes the metric names the benchmark reads, under
// the same names as the real operator, and /readyz once its first LIST is done.
import { parseArgs } from 'node:util';
import {
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  V1MicroTime,
  makeInformer,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type EtcdHealthCheck,
} from '../src/api/v1alpha1/resource.js';
import { EtcdHealthCheckSpecSchema } from '../src/api/v1alpha1/spec.js';
import { parseDurationMs } from '../src/api/v1alpha1/units.js';
import { KubeStatusWriter } from '../src/kube/status-writer.js';
import { conditionTransitions } from '../src/controller/transitions.js';
import { statusFromAnalysis } from '../src/health/status.js';
import { analyze } from '../src/health/analyze.js';
import { serve } from '../src/observability/http-server.js';
import { observe } from '../src/sources/observe.js';
import { observeOptionsFromSpec } from '../src/sources/options.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'metrics-bind-address': { type: 'string', default: '127.0.0.1:8080' },
    'health-bind-address': { type: 'string', default: '127.0.0.1:8081' },
    'log-level': { type: 'string', default: 'info' },
  },
  strict: true,
});

const log = pino({ level: values['log-level'], base: { identity: 'naive' } });
const kubeConfig = new KubeConfig();
if (values.kubeconfig) kubeConfig.loadFromFile(values.kubeconfig);
else kubeConfig.loadFromDefault();

// --- metrics, named as the real operator's so that one harness reads both ---
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const reconciles = new Counter({
  name: 'etcd_health_operator_reconcile_total',
  help: 'Reconciles by result.',
  labelNames: ['result'],
  registers: [registry],
});
const reconcileDuration = new Histogram({
  name: 'etcd_health_operator_reconcile_duration_seconds',
  help: 'Duration of one reconcile, probes included.',
  labelNames: ['result'],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
const statusWrites = new Counter({
  name: 'etcd_health_operator_status_writes_total',
  help: 'Status writes (every reconcile).',
  labelNames: ['why'],
  registers: [registry],
});
const eventsSent = new Counter({
  name: 'etcd_health_operator_events_total',
  help: 'Events created, by type.',
  labelNames: ['type'],
  registers: [registry],
});
const queueDepth = new Gauge({
  name: 'etcd_health_operator_workqueue_depth',
  help: 'Events waiting in the FIFO.',
  registers: [registry],
});
const queueLatency = new Histogram({
  name: 'etcd_health_operator_workqueue_queue_duration_seconds',
  help: 'Time an event waited in the FIFO before it was processed.',
  buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const lastCheck = new Gauge({
  name: 'etcd_health_check_last_check_timestamp_seconds',
  help: 'When the last check of an EtcdHealthCheck completed (Unix time).',
  labelNames: ['namespace', 'name'],
  registers: [registry],
});

// --- the informer ---
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const eventsApi = kubeConfig.makeApiClient(EventsV1Api);
const statusWriter = new KubeStatusWriter(kubeConfig);
// client-node types objects with its V1ObjectMeta (Dates); the wire has strings, as our types say.
const informer = makeInformer<KubernetesObject>(
  kubeConfig,
  `/apis/${GROUP}/${VERSION}/${PLURAL}`,
  () =>
    custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }) as Promise<
      KubernetesListObject<KubernetesObject>
    >,
);
const asCheck = (object: KubernetesObject) => object as unknown as EtcdHealthCheck;

// --- one global FIFO of events, processed one at a time ---
interface Item {
  kind: 'added' | 'modified' | 'timer';
  namespace: string;
  name: string;
  object?: EtcdHealthCheck;
  queuedAt: number;
}
const fifo: Item[] = [];
let wake: (() => void) | undefined;

function enqueue(item: Omit<Item, 'queuedAt'>): void {
  fifo.push({ ...item, queuedAt: performance.now() });
  queueDepth.set(fifo.length);
  wake?.();
}

async function next(): Promise<Item> {
  while (fifo.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  wake = undefined;
  const item = fifo.shift()!;
  queueDepth.set(fifo.length);
  return item;
}

informer.on('add', (wire) => {
  const object = asCheck(wire);
  const { namespace, name } = object.metadata;
  enqueue({ kind: 'added', namespace, name, object });
});
informer.on('update', (wire) => {
  const object = asCheck(wire);
  // dot-i's README: act on MODIFIED only when the spec moved past what the status says.
  if (object.metadata.generation === object.status?.observedGeneration) return;
  const { namespace, name } = object.metadata;
  enqueue({ kind: 'modified', namespace, name, object });
});
informer.on('error', (error: unknown) => {
  log.warn({ err: error }, 'watch failed; restarting the informer in 5s');
  setTimeout(() => void informer.start().catch(() => undefined), 5_000);
});

async function reconcile(item: Item): Promise<void> {
  const cached = informer.get(item.name, item.namespace);
  const object = item.kind === 'timer' ? cached && asCheck(cached) : item.object;
  if (!object) return; // deleted: this timer chain ends
  const parsed = EtcdHealthCheckSpecSchema.safeParse(object.spec);
  if (!parsed.success) {
    log.warn({ key: `${item.namespace}/${item.name}` }, 'invalid spec; ignored');
    return;
  }
  const spec = parsed.data;
  const intervalMs = parseDurationMs(spec.interval);
  // Every processed event starts its own requeue timer: "requeue every interval by timer".
  const requeue = () =>
    setTimeout(() => enqueue({ kind: 'timer', namespace: item.namespace, name: item.name }), intervalMs);
  const started = performance.now();
  let result: 'success' | 'error' = 'success';
  try {
    const observation = await observe({ ...observeOptionsFromSpec(spec, {}) });
    const generation = object.metadata.generation ?? 0;
    const previousConditions = object.status?.conditions ?? [];
    const analysis = analyze({ observation, spec, previousConditions, generation });
    const status = statusFromAnalysis(analysis, observation, generation);
    lastCheck.set({ namespace: item.namespace, name: item.name }, observation.time.getTime() / 1000);
    await statusWriter.patch(item, undefined, status);
    statusWrites.inc({ why: 'every_reconcile' });
    log.info({ key: `${item.namespace}/${item.name}` }, 'status written');
    for (const transition of conditionTransitions(previousConditions, status.conditions ?? [])) {
      await eventsApi
        .createNamespacedEvent({
          namespace: item.namespace,
          body: {
            metadata: { generateName: `${item.name}.` },
            eventTime: new V1MicroTime(),
            reportingController: 'etcdhealth.io/naive-operator',
            reportingInstance: 'naive',
            action: 'Check',
            type: transition.eventType,
            reason: `${transition.type}${transition.to}`,
            note: `${transition.type} changed from ${transition.from} to ${transition.to}`.slice(0, 1024),
            regarding: {
              apiVersion: API_VERSION,
              kind: KIND,
              name: item.name,
              namespace: item.namespace,
              uid: object.metadata.uid,
            },
          },
        })
        .then(
          () => eventsSent.inc({ type: transition.eventType }),
          (error: unknown) => log.warn({ err: error }, 'event not created'),
        );
    }
  } catch (error) {
    result = 'error';
    log.warn({ err: error, key: `${item.namespace}/${item.name}` }, 'reconcile failed');
  } finally {
    reconciles.inc({ result });
    reconcileDuration.observe({ result }, (performance.now() - started) / 1000);
    requeue();
  }
}

async function main(): Promise<void> {
  let ready = false;
  await serve(values['metrics-bind-address'], { registry });
  await serve(values['health-bind-address'], {
    health: { liveness: () => undefined, readiness: () => (ready ? undefined : 'not listed yet') },
  });
  const stop = () => {
    void informer.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await informer.start();
  ready = true;
  log.info('caches synced');
  for (;;) {
    const item = await next();
    queueLatency.observe((performance.now() - item.queuedAt) / 1000);
    await reconcile(item);
  }
}

main().catch((error: unknown) => {
  log.error({ err: error }, 'naive operator failed');
  process.exit(1);
});
