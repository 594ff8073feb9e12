// observe() without a real etcd: endpoints that refuse or hang, discovery that fails, Prometheus
// not configured. The real clusters are in the *.it.ts files.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { observe } from '../../src/sources/observe.js';
import { observeOptionsFromSpec } from '../../src/sources/options.js';
import { EndpointPolicy } from '../../src/sources/etcd/endpoint-policy.js';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { eventually } from '../harness/eventually.js';
import { refusingUrl, silentServer, type SilentServer } from '../harness/silent.js';

describe('observe', () => {
  let hung: SilentServer;
  let refused: string;
  beforeAll(async () => {
    hung = await silentServer();
    refused = await refusingUrl();
  });
  afterAll(() => hung.close());

  it('reports Error naming each endpoint when none answers, and Prometheus NotConfigured', async () => {
    const observation = await observe({
      etcd: { endpoints: [refused], dialTimeoutMs: 500, requestTimeoutMs: 500 },
    });
    expect(observation.etcd.source.state).toBe('Error');
    expect(observation.etcd.source.message).toBe(
      `no etcd endpoint answered; ${refused}: dial: connect ECONNREFUSED ${new URL(refused).host}`,
    );
    expect(observation.etcd.memberListKnown).toBe(false);
    expect(observation.etcd.members).toEqual([
      expect.objectContaining({
        id: '',
        name: refused,
        endpoint: refused,
        error: expect.stringContaining(`${refused}: dial: `),
      }),
    ]);
    expect(observation.metrics.source).toEqual({ state: 'NotConfigured' });
    expect(observation.etcd.source.durationMilliseconds).toEqual(expect.any(Number));
  });

  it('samples /metrics when asked, and not when Prometheus is configured too', async () => {
    const sample = { urls: [`${refused}/metrics`], windowMs: 60_000, timeoutMs: 500 };
    const etcd = { endpoints: [refused], dialTimeoutMs: 500, requestTimeoutMs: 500 };
    const sampled = await observe({ etcd, sample });
    expect(sampled.metrics.sampledOverSeconds).toBe(60);
    expect(sampled.metrics.source).toMatchObject({
      state: 'Error',
      message: expect.stringMatching(/^\/metrics sampled over 60s: every scrape failed: .*ECONNREFUSED/),
      durationMilliseconds: expect.any(Number),
    });
    // Nobody answered the first scrape: the window was not waited out.
    expect(sampled.durationMs).toBeLessThan(30_000);

    const prometheus = {
      url: refused,
      insecureSkipTLSVerify: false,
      timeoutMs: 500,
      labelMatchers: [],
      memberLabel: 'instance',
      rateWindowMs: 60_000,
      growthHorizonMs: 3_600_000,
      dataDirMountpoint: '/var/lib/etcd',
    };
    const withPrometheus = await observe({ etcd, sample, prometheus });
    expect(withPrometheus.metrics.sampledOverSeconds).toBeUndefined();
    expect(withPrometheus.metrics.source.message).toMatch(/^Prometheus /);
  });

  it('does not let a hanging endpoint stall the check beyond its dial timeout, and leaves no socket open', async () => {
    const started = Date.now();
    const observation = await observe({
      etcd: { endpoints: [hung.url, refused], dialTimeoutMs: 300, requestTimeoutMs: 400 },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    const member = observation.etcd.members.find((m) => m.endpoint === hung.url)!;
    expect(member.error).toBe(`${hung.url}: dial: no HTTP/2 answer within 300ms`);
    expect(member.health).toMatchObject({ healthy: false });
    expect(observation.etcd.source.state).toBe('Error');
    // grpc-js would keep a hung connection attempt open forever; the dial closes its own.
    await eventually(() => hung.openConnections() === 0, {
      timeoutMs: 2_000,
      description: 'no open connection',
    });
  });

  it('reports a discovery failure as an etcd Error', async () => {
    const observation = await observe({
      etcd: {
        discovery: { namespace: 'openshift-etcd', labelSelector: 'app=etcd', port: 2379, scheme: 'https' },
        pods: { listPods: () => Promise.reject(new Error('forbidden')) },
        dialTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    });
    expect(observation.etcd.source).toMatchObject({
      state: 'Error',
      message: 'listing pods "app=etcd" in namespace openshift-etcd: forbidden',
    });
  });

  it('probes discovered endpoints', async () => {
    const port = Number(new URL(refused).port);
    const observation = await observe({
      etcd: {
        discovery: { namespace: 'etcd', labelSelector: 'app=etcd', port, scheme: 'http' },
        pods: {
          listPods: () =>
            Promise.resolve([{ name: 'etcd-0', ip: '127.0.0.1', phase: 'Running', containers: [] }]),
        },
        dialTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    });
    expect(observation.etcd.members.map((m) => m.endpoint)).toEqual([refused]);
  });

  it('without a member list, makes a discovered pod that does not run a member known to be down, and carries every pod', async () => {
    const port = Number(new URL(refused).port);
    const pods = [
      { name: 'etcd-0', ip: '127.0.0.1', phase: 'Running', containers: [] },
      { name: 'etcd-1', ip: '', phase: 'Pending', containers: [] },
    ];
    const observation = await observe({
      etcd: {
        discovery: { namespace: 'etcd', labelSelector: 'app=etcd', port, scheme: 'http' },
        pods: { listPods: () => Promise.resolve(pods) },
        dialTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    });
    expect(observation.etcd.memberListKnown).toBe(false);
    expect(observation.etcd.members.map((m) => [m.name, m.endpoint, m.error])).toEqual([
      ['etcd-1', '', 'pod etcd-1 is Pending'],
      [refused, refused, expect.stringContaining(`${refused}: dial: `)],
    ]);
    expect(observation.etcd.source.message).toContain('pod etcd-1 is Pending');
    expect(observation.etcd.pods).toEqual(pods);
  });

  it('carries the pods when discovery finds none to dial', async () => {
    const pods = [{ name: 'etcd-0', ip: '', phase: 'Pending', containers: [] }];
    const observation = await observe({
      etcd: {
        discovery: { namespace: 'etcd', labelSelector: 'app=etcd', port: 2379, scheme: 'http' },
        pods: { listPods: () => Promise.resolve(pods) },
        dialTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    });
    expect(observation.etcd.source).toMatchObject({ state: 'Error' });
    expect(observation.etcd.pods).toEqual(pods);
  });

  it('gives each discovered member the node of its pod', async () => {
    const port = Number(new URL(refused).port);
    const observation = await observe({
      etcd: {
        discovery: { namespace: 'etcd', labelSelector: 'app=etcd', port, scheme: 'http' },
        pods: {
          listPods: () =>
            Promise.resolve([
              { name: 'etcd-0', ip: '127.0.0.1', phase: 'Running', nodeName: 'node-a', containers: [] },
            ]),
        },
        dialTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    });
    expect(observation.etcd.members).toEqual([
      expect.objectContaining({ endpoint: refused, node: 'node-a' }),
    ]);
  });

  it('never dials a discovered endpoint outside the endpoint policy, and says which flag refused it', async () => {
    const port = Number(new URL(hung.url).port);
    const acceptedBefore = hung.accepted();
    const observation = await observe({
      etcd: {
        discovery: { namespace: 'etcd', labelSelector: 'app=etcd', port, scheme: 'http' },
        pods: {
          listPods: () =>
            Promise.resolve([{ name: 'etcd-0', ip: '127.0.0.1', phase: 'Running', containers: [] }]),
        },
        endpointPolicy: new EndpointPolicy(['10.0.0.0/8']),
        dialTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    });
    expect(observation.etcd.source.state).toBe('Error');
    expect(observation.etcd.members[0]?.error).toBe(
      `${hung.url}: ${hung.url} is outside the networks the operator's admin allows for etcd endpoints (--etcd-endpoint-cidr)`,
    );
    expect(hung.accepted()).toBe(acceptedBefore);
  });

  it('reports Prometheus errors without touching the etcd part', async () => {
    const observation = await observe({
      etcd: { endpoints: [refused], dialTimeoutMs: 500, requestTimeoutMs: 500 },
      prometheus: {
        url: refused,
        insecureSkipTLSVerify: false,
        timeoutMs: 1_000,
        labelMatchers: ['job="etcd"'],
        memberLabel: 'instance',
        rateWindowMs: 300_000,
        growthHorizonMs: 14_400_000,
        dataDirMountpoint: '/var/lib/etcd',
      },
    });
    expect(observation.metrics.source.state).toBe('Error');
    expect(observation.metrics.source.message).toMatch(
      new RegExp(`^Prometheus ${refused}: every query failed: .*ECONNREFUSED`),
    );
    expect(observation.metrics.source.durationMilliseconds).toEqual(expect.any(Number));
  });
});

describe('observeOptionsFromSpec', () => {
  it('turns spec durations into milliseconds and passes resolved credentials on', () => {
    const spec = EtcdHealthCheckSpecSchema.parse({
      etcd: { endpoints: ['https://10.0.0.1:2379'], dialTimeout: '1s', requestTimeout: '1m30s' },
      prometheus: {
        url: 'https://thanos:9091/prefix',
        rateWindow: '2m',
        timeout: '15s',
        labelMatchers: ['job="etcd"'],
      },
      thresholds: { growth: { horizon: '6h' } },
    });
    const tls = { caPem: 'ca', certPem: 'cert', keyPem: 'key' };
    const options = observeOptionsFromSpec(spec, {
      etcdTls: tls,
      prometheus: { bearerToken: 't', caPem: 'pca' },
    });
    expect(options.etcd).toMatchObject({
      endpoints: ['https://10.0.0.1:2379'],
      tls,
      dialTimeoutMs: 1_000,
      requestTimeoutMs: 90_000,
    });
    expect(options.prometheus).toEqual({
      url: 'https://thanos:9091/prefix',
      bearerToken: 't',
      caPem: 'pca',
      insecureSkipTLSVerify: false,
      timeoutMs: 15_000,
      labelMatchers: ['job="etcd"'],
      memberLabel: 'instance',
      rateWindowMs: 120_000,
      growthHorizonMs: 21_600_000,
      dataDirMountpoint: '/var/lib/etcd',
    });
  });

  it('leaves Prometheus out when the spec has none', () => {
    const spec = EtcdHealthCheckSpecSchema.parse({ etcd: { endpoints: ['http://10.0.0.1:2379'] } });
    expect(observeOptionsFromSpec(spec, {}).prometheus).toBeUndefined();
  });
});
