// The sources against one healthy 3-member cluster and a real Prometheus, shared by the tests of
// this file; faults that do not break the cluster (fragmentation, a broken or stopped Prometheus)
// run on it too, the Prometheus stop last.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { observe } from '../../src/sources/observe.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { json, startFakePrometheus, type FakePrometheus } from '../harness/fake-prometheus.js';
import { fragment, startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import {
  analyzeObservation,
  condition,
  etcdOptions,
  leaderOf,
  metricsOf,
  observeCluster,
  prometheusOptions,
} from './support.js';

describe(`sources against a healthy 3-member etcd ${etcdVersionUnderTest()} cluster`, () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;
  let load: WriteLoad;
  let fake: FakePrometheus;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3 });
    prometheus = await startPrometheus(cluster);
    load = startWriteLoad(cluster, { perSecond: 20 });
    fake = await startFakePrometheus({ host: cluster.addresses.address(1) });
    await prometheus.waitForScrapes();
  });
  afterAll(async () => {
    await load?.stop();
    await fake?.close();
    await prometheus?.stop();
    await cluster?.stop();
  });

  it('sees every member reachable and healthy, one leader, no alarms, and every metric', async () => {
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        return o.metrics.source.state === 'OK' && o;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        description: 'Prometheus to have every signal of every member',
      },
    );
    const { etcd, metrics } = observation;

    expect(etcd.source).toEqual({ state: 'OK', durationMilliseconds: expect.any(Number) });
    expect(etcd.memberListKnown).toBe(true);
    expect(etcd.clusterId).toMatch(/^[0-9]+$/);
    expect(etcd.members.map((m) => [m.name, m.endpoint])).toEqual(
      cluster.members.map((m) => [m.name, m.clientURL]),
    );
    for (const member of etcd.members) {
      expect(member.id).toMatch(/^[0-9]+$/);
      expect(member.error).toBeUndefined();
      expect(member.health).toEqual({ healthy: true, tookMs: expect.any(Number) });
      expect(member.status).toMatchObject({
        clusterId: etcd.clusterId,
        memberId: member.id,
        isLearner: false,
        errors: [],
      });
      expect(member.status!.raftAppliedIndex).toMatch(/^[0-9]+$/);
      expect(member.status!.version.startsWith(cluster.version)).toBe(true);
      expect(member.status!.dbSize).toBeGreaterThan(0);
      expect(member.status!.dbSizeInUse).toBeGreaterThan(0);
      expect(member.status!.raftTerm).toMatch(/^[0-9]+$/);
    }
    expect(leaderOf(observation)).toBe(await cluster.leaderName());
    expect(etcd.alarms).toEqual([]);
    expect(etcd.alarmsKnown).toBe(true);

    expect(metrics.source.state).toBe('OK');
    expect(metrics.source.durationMilliseconds).toEqual(expect.any(Number));
    expect(Object.keys(metrics.members).sort()).toEqual(etcd.members.map((m) => m.id).sort());
    for (const member of cluster.members) {
      const values = metricsOf(observation, member.name)!;
      expect(values.walFsyncP99).toBeGreaterThan(0);
      expect(values.walFsyncP99).toBeLessThan(1);
      expect(values.backendCommitP99).toBeGreaterThan(0);
      expect(values.hasLeader).toBe(1);
      expect(values.grpcRequestRate).toBeGreaterThan(0);
      expect(values.grpcFailedRate).toBe(0);
      expect(values.proposalsFailedRate).toBe(0);
      expect(values.dbSizeBytes).toBeGreaterThan(0);
      expect(values.quotaBackendBytes).toBe(2 * 1024 ** 3); // etcd's default quota, 2 GiB
      expect(values.scrapeAgeSeconds).toBeLessThan(10);
    }
    expect(metrics.leaderChanges1h).toBe(0);
    expect(metrics.leaderChanges15m).toBe(0);
    // No API server and no node-exporter here: those signals are absent, not zero.
    expect(metrics.apiMutatingRequestsPerSecond).toBeUndefined();
    expect(metrics.nodes).toBeUndefined();

    const analysis = analyzeObservation(observation);
    expect(condition(analysis, 'Available')?.status).toBe('True');
    expect(analysis.members.filter((m) => m.reachable && m.healthy)).toHaveLength(3);
    expect(analysis.members.filter((m) => m.leader).map((m) => m.name)).toEqual([leaderOf(observation)]);
    // Under a light write load every member agrees and keeps up.
    expect(condition(analysis, 'ConsistencyDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
  });

  it('sees fragmentation: dbSizeInUse well below dbSize after write, delete, compact', async () => {
    await fragment(cluster, { keys: 1_000, valueBytes: 8 * 1024 });
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        const fragmented = o.etcd.members.every(
          (m) => m.status && m.status.dbSizeInUse! < 0.5 * m.status.dbSize,
        );
        const scraped = cluster.members.every((m) => {
          const v = metricsOf(o, m.name);
          return (
            v?.dbSizeInUseBytes !== undefined &&
            v.dbSizeBytes !== undefined &&
            v.dbSizeInUseBytes < 0.5 * v.dbSizeBytes
          );
        });
        return fragmented && scraped && o;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        description: 'in-use below half of the DB size, in etcd and in Prometheus',
      },
    );
    for (const member of observation.etcd.members)
      expect(member.status!.dbSize).toBeGreaterThan(8 * 1024 * 1024);
  });

  it.each([
    [
      'HTTP 500 with an error body',
      (res: ServerResponse) =>
        json(res, 500, { status: 'error', errorType: 'internal', error: 'storage is on fire' }),
      /HTTP 500: internal: storage is on fire/,
    ],
    // The body is never quoted: a hostile server's text does not reach the status.
    [
      'garbage',
      (res: ServerResponse) => json(res, 200, '<<<garbage>>>'),
      /an answer that is not JSON \(13 bytes, not shown\)(?![\s\S]*<<<garbage>>>)/,
    ],
    ['no answer at all', () => undefined, /no answer within 1500ms/],
  ])(
    'Prometheus answering %s: a clear metrics Error, the etcd part still complete',
    async (_name, respond, reason) => {
      fake.handle((_req, res) => respond(res));
      const observation = await observe({
        etcd: etcdOptions(cluster),
        prometheus: prometheusOptions(fake.url, { timeoutMs: 1_500 }),
      });
      expect(observation.metrics.source.state).toBe('Error');
      expect(observation.metrics.source.message).toContain(`Prometheus ${fake.url}: every query failed`);
      expect(observation.metrics.source.message).toMatch(reason);
      expect(observation.etcd.source.state).toBe('OK');
      expect(observation.etcd.members.filter((m) => m.health?.healthy)).toHaveLength(3);
      expect(condition(analyzeObservation(observation), 'Available')?.status).toBe('True');
    },
  );

  it('Prometheus stopped: a metrics Error naming its URL, the etcd part still complete', async () => {
    await prometheus.stop();
    const observation = await observeCluster(cluster, prometheus.url);
    expect(observation.metrics.source.state).toBe('Error');
    expect(observation.metrics.source.message).toMatch(
      new RegExp(`^Prometheus ${prometheus.url}: every query failed: .*ECONNREFUSED`),
    );
    expect(observation.metrics.members).toEqual({});
    expect(observation.etcd.source.state).toBe('OK');
    expect(observation.etcd.members.every((m) => m.status && m.health?.healthy)).toBe(true);
    const analysis = analyzeObservation(observation);
    expect(condition(analysis, 'Available')?.status).toBe('True');
  });

  it('the write load behind these observations went through: puts succeeded, none failed', async () => {
    const loaded = await load.stop();
    expect(loaded.unexpectedErrors).toEqual({});
    expect(loaded.expectedErrors).toBe(0);
    expect(loaded.writes).toBeGreaterThanOrEqual(50);
  });
});
