// Packet loss between members on a real cluster scraped by a real Prometheus: a member killed makes
// the others' sends to it fail, which etcd counts in etcd_network_peer_sent_failures_total. The
// analysis must explain those failures by the dead member (Info), not call the network faulty.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { analyzeObservation, condition, metricsOf, observeCluster } from './support.js';

// What a put meets while a member is killed: the fault made on purpose.
const MEMBER_DOWN = /UNAVAILABLE|DEADLINE_EXCEEDED|CANCELLED|[Dd]eadline exceeded|request timed out/;

describe('network signals on a real cluster', () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;
  let load: WriteLoad;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3 });
    prometheus = await startPrometheus(cluster);
    load = startWriteLoad(cluster, { perSecond: 10, expectedErrors: MEMBER_DOWN });
    await prometheus.waitForScrapes();
  });
  afterAll(async () => {
    await load?.stop();
    await prometheus?.stop();
    await cluster?.stop();
  });

  it('sees no failed sends on a healthy cluster, and says gRPC latency is not exposed with --metrics=basic', async () => {
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        const names = cluster.members.map((m) => m.name);
        return names.every((name) => metricsOf(o, name)?.peerSentFailuresRate !== undefined) && o;
      },
      { timeoutMs: 60_000, description: 'peer failure rates of every member' },
    );
    for (const member of cluster.members) {
      expect(metricsOf(observation, member.name)).toMatchObject({
        peerSentFailuresRate: 0,
        heartbeatSendFailuresRate: 0,
      });
    }
    const analysis = analyzeObservation(observation);
    expect(analysis.findings.filter((f) => f.check === 'PeerFailures').map((f) => f.reason)).toEqual([
      'AsExpected',
      'AsExpected',
      'AsExpected',
    ]);
    expect(analysis.findings.filter((f) => f.check === 'GrpcLatency')).toEqual([
      expect.objectContaining({ reason: 'NotExposed', target: 'cluster' }),
    ]);
  });

  it('a killed follower makes the others fail to send to it, explained by it being down, with no network recommendation', async () => {
    expect(load.verify({ minWrites: 10 }).expectedErrors).toBe(0);
    const leader = await cluster.waitForLeader();
    const victim = cluster.members.find((m) => m.name !== leader)!;
    await cluster.killMember(victim.name);
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        return ((metricsOf(o, leader)?.peerSentFailuresRate ?? 0) > 0 && o) || undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, description: `the leader's failed sends to ${victim.name}` },
    );
    const analysis = analyzeObservation(observation);
    const finding = analysis.findings.find((f) => f.check === 'PeerFailures' && f.target === leader);
    expect(finding).toMatchObject({ severity: 'Info', reason: 'PeerDown' });
    expect(finding?.message).toContain(`explained by ${victim.name} being down`);
    expect(analysis.findings.filter((f) => f.check === 'PeerFailures' && f.severity === 'Warning')).toEqual(
      [],
    );
    expect(analysis.recommendations.filter((r) => r.type === 'InvestigateNetwork')).toEqual([]);
    expect(condition(analysis, 'NetworkDegraded')?.status).not.toBe('True');
  });
});
