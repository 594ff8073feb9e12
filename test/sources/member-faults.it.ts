// Member faults on one 3-member cluster, in order: a hung member, the leader killed, a second member
// killed (no quorum), both restarted. Each step builds on the one before.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Observation } from '../../src/health/observation.js';
import { observe } from '../../src/sources/observe.js';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { analyzeObservation, condition, leaderOf, memberNamed, observeCluster } from './support.js';

// What a put meets while a member is hung or killed, or quorum is lost: the faults made on purpose.
// CANCELLED: etcd3 cancels the calls in flight on a member's channel when it gives that member up.
const MEMBER_DOWN =
  /UNAVAILABLE|DEADLINE_EXCEEDED|CANCELLED|[Dd]eadline exceeded|request timed out|no leader|leader changed/;

describe(`sources against member faults of etcd ${etcdVersionUnderTest()}`, () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;
  let load: WriteLoad;
  let killedLeader: string;

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

  it('a hung member (SIGSTOP) costs one dial timeout and names its endpoint; the others are probed in full', async () => {
    // No fault yet: every put went through.
    expect(load.verify({ minWrites: 10 }).expectedErrors).toBe(0);
    const leader = await cluster.waitForLeader();
    const hung = cluster.members.find((m) => m.name !== leader)!;
    cluster.freezeMember(hung.name);
    try {
      const started = Date.now();
      const observation = await observe({
        etcd: { endpoints: cluster.endpoints, dialTimeoutMs: 1_000, requestTimeoutMs: 2_000 },
      });
      // The kernel still accepts TCP for the stopped process; the HTTP/2 handshake never comes.
      expect(Date.now() - started).toBeLessThan(4_000);
      const member = memberNamed(observation, hung.name);
      const error = `${hung.clientURL}: dial: no HTTP/2 answer within 1000ms`;
      expect(member.error).toBe(error);
      expect(member.health).toMatchObject({ healthy: false, error });
      expect(observation.etcd.source.state).toBe('Partial');
      expect(observation.etcd.source.message).toBe(`2/3 members answered; ${hung.name}: ${error}`);
      const others = observation.etcd.members.filter((m) => m.name !== hung.name);
      expect(others.every((m) => m.status && m.health?.healthy)).toBe(true);
    } finally {
      cluster.thawMember(hung.name);
    }
    await eventually(async () => (await observeCluster(cluster)).etcd.source.state === 'OK', {
      timeoutMs: 60_000,
      description: `${hung.name} to answer again after SIGCONT`,
    });
  });

  it('the leader killed: a new leader, the dead member unreachable by endpoint, quorum kept, leader changes from Prometheus', async () => {
    killedLeader = await cluster.killLeader();
    const dead = cluster.member(killedLeader);
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        const leader = leaderOf(o);
        return leader !== undefined && leader !== killedLeader && (o.metrics.leaderChanges1h ?? 0) > 0 && o;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        description: 'a new leader, and Prometheus to count the leader change',
      },
    );
    expect(observation.metrics.leaderChanges1h).toBeGreaterThanOrEqual(1);
    expect(observation.metrics.leaderChanges15m).toBeGreaterThanOrEqual(1);
    // Counted without extrapolation: whole changes.
    expect(Number.isInteger(observation.metrics.leaderChanges1h)).toBe(true);
    // Prometheus cannot scrape the dead member either, and says so.
    expect(observation.metrics.source.state).toBe('Partial');
    expect(observation.metrics.source.message).toContain(`${killedLeader}: the last scrape failed (up=0)`);

    const { etcd } = observation;
    expect(etcd.memberListKnown).toBe(true);
    expect(etcd.source.state).toBe('Partial');
    expect(etcd.source.message).toBe(
      `2/3 members answered; ${killedLeader}: ${dead.clientURL}: dial: connect ECONNREFUSED ${dead.ip}:2379`,
    );
    const member = memberNamed(observation, killedLeader);
    expect(member.status).toBeUndefined();
    expect(member.error).toBe(`${dead.clientURL}: dial: connect ECONNREFUSED ${dead.ip}:2379`);
    expect(member.health?.healthy).toBe(false);
    const alive = etcd.members.filter((m) => m.name !== killedLeader);
    expect(alive.every((m) => m.health?.healthy)).toBe(true);
    expect(etcd.alarmsKnown).toBe(true);

    const analysis = analyzeObservation(observation);
    expect(condition(analysis, 'Available')?.status).toBe('True');
    expect(analysis.members.find((m) => m.name === killedLeader)).toMatchObject({ reachable: false });
    // The dead member alone makes Prometheus Partial, and explains it: no broken metrics source,
    // and no NoData for its own series.
    expect(observation.metrics.partialMembers).toEqual([member.id]);
    expect(analysis.recommendations.map((r) => r.type)).not.toContain('FixMetricsSource');
    expect(condition(analysis, 'MetricsSourceReachable')).toMatchObject({
      status: 'True',
      reason: 'MetricsAvailable',
    });
    expect(analysis.findings.filter((f) => f.target === killedLeader && f.reason === 'NoData')).toEqual([]);
  });

  it('two of three killed: no quorum is visible, and what the survivor says is still reported', async () => {
    const second = cluster.members.find((m) => m.name !== killedLeader && m.running())!;
    await cluster.killMember(second.name);
    const survivor = cluster.members.find((m) => m.running())!;
    const answerOf = (o: Observation) => o.etcd.members.find((m) => m.endpoint === survivor.clientURL);
    const observation = await eventually(
      async () => {
        const o = await observe({
          etcd: { endpoints: cluster.endpoints, dialTimeoutMs: 1_000, requestTimeoutMs: 2_000 },
        });
        // The survivor gives up on the dead leader after an election timeout.
        return answerOf(o)?.status?.leaderId === '0' && o;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: `${survivor.name} to know it has no leader` },
    );
    const { etcd } = observation;
    expect(etcd.source.state).toBe('Partial');
    expect(etcd.source.message).toContain('1/3 members answered');
    if (cluster.version === '3.4') {
      // MemberListRequest.linearizable is 3.5+: etcd 3.4 answers the member list from local state.
      expect(etcd.memberListKnown).toBe(true);
    } else {
      expect(etcd.memberListKnown).toBe(false);
      expect(etcd.source.message).toMatch(/^member list failed on every endpoint \(no quorum\?\)/);
      // Without the member list, members are the configured endpoints; Status still tells the ID.
      expect(etcd.members.map((m) => m.name)).toEqual([...cluster.endpoints].sort());
    }
    const alive = answerOf(observation)!;
    expect(alive.id).toMatch(/^[0-9]+$/);
    expect(alive.status?.errors.join()).toMatch(/no leader/);
    expect(alive.health).toMatchObject({ healthy: false });
    expect(etcd.alarmsKnown).toBe(false);

    const analysis = analyzeObservation(observation);
    expect(condition(analysis, 'Available')?.status).toBe('False');
  });

  it('both restarted: the cluster is whole again', async () => {
    const down = cluster.members.filter((m) => !m.running());
    await Promise.all(down.map((m) => cluster.restartMember(m.name)));
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        return o.etcd.source.state === 'OK' && o.etcd.members.every((m) => m.health?.healthy) && o;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: 'all members healthy after the restart' },
    );
    expect(leaderOf(observation)).toBeDefined();
    expect(observation.etcd.members).toHaveLength(3);
    // Puts go through again, and every failure during the faults was one of the faults' own.
    const restarted = load.report();
    await eventually(() => load.verify({ minWrites: 10, since: restarted }), {
      timeoutMs: 30_000,
      intervalMs: 500,
      description: '10 puts after the restart',
    });
    const loaded = await load.stop();
    // How many puts the faults failed varies (a put can wait out an election); none failed otherwise.
    expect(loaded.unexpectedErrors).toEqual({});
  });
});
