// An aborted signal ends observe() at once, whatever hangs: a Prometheus, an etcd member that
// accepts and never speaks, one that completes HTTP/2 but never answers a call, a pod list. The
// timeouts here are long on purpose: only the abort can end these observations within the test.
// Fakes are needed because a real Prometheus or etcd cannot be made to hang on demand.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { getEventListeners } from 'node:events';
import type { PodLister } from '../../src/sources/etcd/discovery.js';
import { observe } from '../../src/sources/observe.js';
import { SharedSources } from '../../src/sources/shared.js';
import { eventually } from '../harness/eventually.js';
import { json, startFakePrometheus, vector, type FakePrometheus } from '../harness/fake-prometheus.js';
import { refusingUrl, silentHttp2Server, silentServer } from '../harness/silent.js';
import { prometheusOptions } from './support.js';

const LONG_MS = 30_000;
/** Deadline of the polls that wait for a call to be in flight, generous for a loaded machine. */
const SETUP_MS = 15_000;
/** Far below LONG_MS: an observation that ends this soon after the abort ended because of it. */
const AFTER_ABORT_MS = LONG_MS / 3;
// Above a setup and an end after the abort, and above what a timeout would take.
jest.setTimeout(2 * LONG_MS);

const cancelled = { state: 'Error', message: 'cancelled' };

describe('observe with an aborted signal', () => {
  let prometheus: FakePrometheus;
  let refused: string;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    prometheus = await startFakePrometheus();
    refused = await refusingUrl();
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  afterAll(() => prometheus.close());

  it('ends fast with a Prometheus that never answers, and reports it as Error "cancelled"', async () => {
    // Accepts every query and never replies.
    prometheus.handle(() => undefined);
    const before = prometheus.requests.length;
    const controller = new AbortController();
    const observing = observe({
      etcd: { endpoints: [refused], dialTimeoutMs: LONG_MS, requestTimeoutMs: LONG_MS },
      prometheus: prometheusOptions(prometheus.url, { timeoutMs: LONG_MS }),
      signal: controller.signal,
    });
    await eventually(() => prometheus.requests.length > before, {
      timeoutMs: SETUP_MS,
      description: 'queries in flight',
    });
    controller.abort();
    const aborted = Date.now();
    const observation = await observing;
    expect(Date.now() - aborted).toBeLessThan(AFTER_ABORT_MS);
    expect(observation.metrics.source).toMatchObject(cancelled);
    expect(observation.metrics.members).toEqual({});
  });

  it('ends fast with an etcd endpoint that accepts and never speaks, and closes its socket', async () => {
    const hung = await silentServer();
    closers.push(() => hung.close());
    const controller = new AbortController();
    const observing = observe({
      etcd: { endpoints: [hung.url], dialTimeoutMs: LONG_MS, requestTimeoutMs: LONG_MS },
      signal: controller.signal,
    });
    await eventually(() => hung.accepted() > 0, { timeoutMs: SETUP_MS, description: 'the dial' });
    controller.abort();
    const aborted = Date.now();
    const observation = await observing;
    expect(Date.now() - aborted).toBeLessThan(AFTER_ABORT_MS);
    expect(observation.etcd.source).toMatchObject(cancelled);
    expect(observation.etcd.members).toEqual([]);
    await eventually(() => hung.openConnections() === 0, {
      timeoutMs: SETUP_MS,
      description: 'no open socket',
    });
  });

  it('ends fast with an etcd member whose gRPC calls hang, and closes its connection', async () => {
    const hung = await silentHttp2Server();
    closers.push(() => hung.close());
    const controller = new AbortController();
    const observing = observe({
      etcd: { endpoints: [hung.url], dialTimeoutMs: LONG_MS, requestTimeoutMs: LONG_MS },
      signal: controller.signal,
    });
    await eventually(() => hung.streams() > 0, { timeoutMs: SETUP_MS, description: 'a gRPC call in flight' });
    controller.abort();
    const aborted = Date.now();
    const observation = await observing;
    expect(Date.now() - aborted).toBeLessThan(AFTER_ABORT_MS);
    expect(observation.etcd.source).toMatchObject(cancelled);
    await eventually(() => hung.openConnections() === 0, {
      timeoutMs: SETUP_MS,
      description: 'no open connection',
    });
  });

  it('hands the signal to the pod lister and does not wait for one that ignores it', async () => {
    let given: AbortSignal | undefined;
    const pods: PodLister = {
      listPods: (_namespace, _selector, signal) => {
        given = signal;
        return new Promise(() => undefined);
      },
    };
    const controller = new AbortController();
    const observing = observe({
      etcd: {
        discovery: { namespace: 'openshift-etcd', labelSelector: 'app=etcd', port: 2379, scheme: 'https' },
        pods,
        dialTimeoutMs: LONG_MS,
        requestTimeoutMs: LONG_MS,
      },
      signal: controller.signal,
    });
    await eventually(() => given !== undefined, { timeoutMs: SETUP_MS, description: 'the pod list' });
    controller.abort();
    const aborted = Date.now();
    const observation = await observing;
    expect(Date.now() - aborted).toBeLessThan(AFTER_ABORT_MS);
    expect(given?.aborted).toBe(true);
    expect(observation.etcd.source).toMatchObject(cancelled);
  });

  it('asks nothing at all when the signal aborted before', async () => {
    const hung = await silentServer();
    closers.push(() => hung.close());
    const before = prometheus.requests.length;
    const observation = await observe({
      etcd: { endpoints: [hung.url], dialTimeoutMs: LONG_MS, requestTimeoutMs: LONG_MS },
      prometheus: prometheusOptions(prometheus.url, { timeoutMs: LONG_MS }),
      signal: AbortSignal.abort(),
    });
    expect(observation.etcd.source).toMatchObject(cancelled);
    expect(observation.metrics.source).toMatchObject(cancelled);
    expect(hung.accepted()).toBe(0);
    expect(prometheus.requests.length).toBe(before);
  });
});

describe("the caller's signal", () => {
  it('carries one listener per source while observing and none after: a reconcile signal outlives many calls', async () => {
    const members = await Promise.all([silentServer(), silentServer(), silentHttp2Server()]);
    const prometheus = await startFakePrometheus();
    prometheus.handle(() => undefined);
    try {
      const controller = new AbortController();
      const observing = observe({
        etcd: { endpoints: members.map((m) => m.url), dialTimeoutMs: 300, requestTimeoutMs: 300 },
        prometheus: prometheusOptions(prometheus.url, { timeoutMs: 1_000 }),
        signal: controller.signal,
      });
      await eventually(() => prometheus.requests.length > 0 && members.every((m) => m.accepted() > 0), {
        timeoutMs: SETUP_MS,
        description: 'every call in flight',
      });
      // Dozens of calls are in flight; Node warns of a leak past 10 listeners on one signal.
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(2);
      const observation = await observing;
      expect(observation.etcd.source.state).toBe('Error');
      expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    } finally {
      await prometheus.close();
      await Promise.all(members.map((m) => m.close()));
    }
  });
});

describe('a shared answer and one waiter that aborts', () => {
  it('keeps the shared etcd observation going for the other check', async () => {
    const hung = await silentServer();
    const shared = new SharedSources({ ttlMs: 5_000 });
    try {
      const options = { endpoints: [hung.url], dialTimeoutMs: 1_000, requestTimeoutMs: LONG_MS };
      const controller = new AbortController();
      const aborting = shared.observeEtcd(options, false, controller.signal);
      const waiting = shared.observeEtcd(options, false);
      await eventually(() => hung.accepted() > 0, { timeoutMs: SETUP_MS, description: 'the dial' });
      controller.abort();
      expect((await aborting).source).toMatchObject(cancelled);
      // The other check gets the shared call's own answer: the dial ran to its timeout.
      const other = await waiting;
      expect(other.source.state).toBe('Error');
      expect(other.source.message).toContain('dial: no HTTP/2 answer within 1000ms');
      expect(hung.accepted()).toBe(1);
    } finally {
      shared.close();
      await hung.close();
    }
  });

  it('keeps the shared Prometheus query going for the other check', async () => {
    const prometheus = await startFakePrometheus();
    const shared = new SharedSources({ ttlMs: 5_000 });
    try {
      let answer: (() => void) | undefined;
      prometheus.handle((_request, response) => {
        answer = () => json(response, 200, vector([{ metric: { instance: 'a' }, value: '1' }]));
      });
      const connection = { url: prometheus.url, insecureSkipTLSVerify: false, timeoutMs: LONG_MS };
      const at = new Date();
      const controller = new AbortController();
      const aborting = shared.prometheusClient(connection).query('up', at, controller.signal);
      const waiting = shared.prometheusClient(connection).query('up', at);
      await eventually(() => answer !== undefined, { timeoutMs: SETUP_MS, description: 'the query' });
      controller.abort();
      expect(await aborting).toEqual({ ok: false, error: 'cancelled' });
      answer!();
      expect(await waiting).toMatchObject({ ok: true, samples: [{ labels: { instance: 'a' }, value: 1 }] });
      expect(prometheus.requests.length).toBe(1);
    } finally {
      shared.close();
      await prometheus.close();
    }
  });
});
