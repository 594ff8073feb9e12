// A follower that stops applying, on a real 3-member cluster under a write load: SIGSTOP, then
// SIGCONT. What is true while it is stopped: the process answers nothing (the kernel accepts TCP,
// the handshake never comes), so its lag cannot be read from its Status; the check reports it as
// unreachable and does not invent a lag for it, while the leader's raft index moves on without it.
// After SIGCONT it catches up: its own Status shows it past every entry committed while it was
// stopped, and the consistency check finds it keeping up with the leader.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Observation } from '../../src/health/observation.js';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { analyzeObservation, memberNamed, observeCluster } from './support.js';

// Writes that meet the stopped follower: etcd3 may have picked it for a put.
const FOLLOWER_STOPPED = /UNAVAILABLE|DEADLINE_EXCEEDED|CANCELLED|[Dd]eadline exceeded/;

function raftIndexOf(observation: Observation, name: string): number {
  const index = memberNamed(observation, name).status?.raftIndex;
  if (index === undefined) throw new Error(`${name} reported no raft index`);
  return Number(index);
}

describe(`a follower that stops applying on etcd ${etcdVersionUnderTest()}`, () => {
  let cluster: EtcdCluster;
  let load: WriteLoad;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3 });
    load = startWriteLoad(cluster, { perSecond: 20, expectedErrors: FOLLOWER_STOPPED });
  });
  afterAll(async () => {
    await load?.stop();
    await cluster?.stop();
  });

  it('is unreachable while stopped, with no lag invented for it, and keeps up with the leader once resumed', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.members.find((member) => member.name !== leader)!;
    const others = cluster.members.filter((member) => member !== follower).map((member) => member.name);
    await eventually(() => load.verify({ minWrites: 20 }), {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: '20 puts before the fault',
    });
    const before = await observeCluster(cluster);
    const indexBefore = raftIndexOf(before, follower.name);

    cluster.freezeMember(follower.name);
    let indexWhileStopped: number;
    try {
      const stoppedAt = load.report();
      // The leader commits without the stopped follower: quorum holds, and the log moves on.
      const stopped = await eventually(
        async () => {
          load.verify({ minWrites: 50, since: stoppedAt });
          const o = await observeCluster(cluster);
          return raftIndexOf(o, leader) > indexBefore + 50 && o;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          description: '50 puts committed while the follower is stopped',
        },
      );
      indexWhileStopped = raftIndexOf(stopped, leader);
      const member = memberNamed(stopped, follower.name);
      expect(member.status).toBeUndefined();
      expect(member.error).toMatch(new RegExp(`^${follower.clientURL}: dial: no HTTP/2 answer within`));

      const analysis = analyzeObservation(stopped);
      expect(analysis.findings.find((f) => f.check === 'Quorum' && f.target === follower.name)).toMatchObject(
        {
          severity: 'Warning',
          reason: 'MemberUnreachable',
        },
      );
      // Its lag cannot be read, and is not made up: no Consistency finding names it.
      expect(
        analysis.findings.filter((f) => f.check === 'Consistency' && f.target === follower.name),
      ).toEqual([]);
      for (const name of others) {
        const lag = analysis.findings.find(
          (f) =>
            f.check === 'Consistency' &&
            f.target === name &&
            ['Leader', 'KeepsUpWithLeader'].includes(f.reason),
        );
        expect(lag?.severity).toBe('OK');
      }
    } finally {
      cluster.thawMember(follower.name);
    }

    // Resumed, it receives what it missed and applies it.
    const resumed = await eventually(
      async () => {
        const o = await observeCluster(cluster);
        const status = memberNamed(o, follower.name).status;
        return status !== undefined && Number(status.raftAppliedIndex) >= indexWhileStopped && o;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: `${follower.name} to apply what it missed` },
    );
    const analysis = analyzeObservation(resumed);
    expect(analysis.findings.find((f) => f.check === 'Quorum' && f.target === follower.name)).toMatchObject({
      severity: 'OK',
      reason: 'MemberHealthy',
    });
    const lag = analysis.findings.find(
      (f) => f.check === 'Consistency' && f.target === follower.name && f.reason === 'KeepsUpWithLeader',
    );
    expect(lag).toMatchObject({ severity: 'OK', threshold: 5000 });
    expect(lag!.value).toBeLessThanOrEqual(5000);
    expect(
      analysis.findings.find(
        (f) => f.check === 'Consistency' && f.target === follower.name && f.reason === 'ApplyKeepsUp',
      ),
    ).toMatchObject({ severity: 'OK' });

    // The load went on through the fault; every failed put was one the stopped follower explains.
    const after = load.report();
    await eventually(() => load.verify({ minWrites: 10, since: after }), {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: '10 puts after the follower resumed',
    });
    expect((await load.stop()).unexpectedErrors).toEqual({});
  });
});
