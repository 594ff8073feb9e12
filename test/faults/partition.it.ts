// A network partition of one member, on the operator process: a real 3-member TLS etcd cluster
// whose members live in network namespaces of the test's making (test/harness/netns-cluster.ts),
// a real Prometheus and kube-apiserver, the operator as its own process.
//   - Peer link cut: the member still answers Status on its client port but, after an election
//     timeout, knows no leader and fails the linearizable read; the other two keep the quorum.
//     It must be reported isolated (not down), Available by quorum maths, with its real raft lag
//     once writes move the leader more than 5000 entries ahead; everything recovers when the
//     link returns.
//   - Client link cut: the member is unreachable from the operator while its peers keep it in the
//     quorum: reported unreachable, never isolated.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Etcd3 } from 'etcd3';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { putSecret, tlsSecretData } from '../harness/credentials.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { pidAlive } from '../harness/leaks.js';
import { startNetnsEtcdCluster, type NetnsCluster } from '../harness/netns-cluster.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus } from '../harness/prometheus.js';

const NS = 'partition';
const NAME = 'partitioned';
const SECRET = 'etcd-client';
/** consistency.ts MAX_LEADER_LAG: the lag the test must exceed for real. */
const MAX_LEADER_LAG = 5000;

let cp: ControlPlane;
let cluster: NetnsCluster;
let operator: OperatorProcess;
let checks: NamespacedChecks;
let operatorPid: number;

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startNetnsEtcdCluster({ members: 3 })]);
  const prometheus = await startPrometheus(cluster);
  await cp.createNamespace(NS);
  await putSecret(cp.kubeConfig, NS, SECRET, tlsSecretData(cluster.tls.client, cluster.tls.ca));
  checks = checksIn(cp.kubeConfig, NS);
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('partition-operator-logs'),
    identity: 'partition',
  });
  operatorPid = operator.process.pid;
  await prometheus.waitForScrapes(2);
  await checks.create(NAME, {
    etcd: { endpoints: cluster.endpoints, tlsSecretRef: { name: SECRET } },
    prometheus: { url: prometheus.url, labelMatchers: ['job="etcd"'] },
    interval: '10s',
    // Faults here are about the network between members; the shared test machine's disks are not
    // production disks, so latency stays out of the way, and Degraded follows a check at once.
    thresholds: {
      degradedInertia: '0s',
      walFsyncP99: { warning: '1s', critical: '2s' },
      backendCommitP99: { warning: '1s', critical: '2s' },
      peerRoundTripP99: { warning: '1s', critical: '2s' },
    },
  });
  await checkWhen((c) => conditionOf(c, 'EtcdMembersDegraded')?.status === 'False', 'all members healthy');
}, 180_000);

afterAll(async () => {
  await cleanupAll();
});

/** The check once `done` holds for it. */
function checkWhen(done: (check: EtcdHealthCheck) => boolean, description: string, timeoutMs = 90_000) {
  return eventually(
    async () => {
      const check = await checks.get(NAME);
      return done(check) ? check : undefined;
    },
    { timeoutMs, intervalMs: 1_000, description },
  );
}

async function conditionEvent(reason: string, since: Date) {
  return eventually(
    async () =>
      (await checks.eventsOf(NAME)).find(
        (event) =>
          event.reason === reason && new Date(event.eventTime ?? 0).getTime() >= since.getTime() - 1_000,
      ),
    { timeoutMs: 60_000, description: `a ${reason} Event` },
  );
}

function expectOperatorAlive(): void {
  expect(operator.process.pid).toBe(operatorPid);
  expect(operator.process.exited()).toBe(false);
  expect(pidAlive(operatorPid)).toBe(true);
}

/** `count` puts, each its own raft entry, `parallel` at a time. */
async function putEntries(client: Etcd3, count: number, parallel = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await client
        .put(`/partition/${n % 100}`)
        .value(String(n))
        .exec();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

describe('a member whose peer link is cut', () => {
  let leader: string;
  let isolated: string;
  let cutAt: Date;

  it('is reported isolated, not down: Available by quorum maths, Degraded, an Event and a metric', async () => {
    leader = await cluster.waitForLeader();
    isolated = cluster.members.find((m) => m.name !== leader)!.name;
    cutAt = new Date();
    await cluster.cutPeerLink(isolated);

    // The real process first: its client port answers Status, and it knows no leader.
    const alone = await eventually(
      async () => {
        const status = await cluster.memberStatus(isolated);
        return status.leaderId === '0' ? status : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `${isolated} to drop its leader` },
    );
    expect(alone.memberId).not.toBe('0');
    const quorum = cluster.members.map((m) => m.name).filter((name) => name !== isolated);
    expect(await cluster.leaderName(quorum)).toBe(leader);

    const check = await checkWhen(
      (c) => conditionOf(c, 'EtcdMembersDegraded')?.reason === 'MemberIsolated',
      'EtcdMembersDegraded MemberIsolated',
    );
    expect(conditionOf(check, 'EtcdMembersDegraded')).toMatchObject({ status: 'True' });
    expect(conditionOf(check, 'EtcdMembersDegraded')?.message).toContain(
      `Member ${isolated} is isolated: its client port answers Status but it has no leader, while the quorum follows ${leader}`,
    );
    expect(conditionOf(check, 'Available')).toMatchObject({ status: 'True' });
    expect(conditionOf(check, 'EtcdMembersAvailable')).toMatchObject({
      status: 'True',
      message: `2 of 3 members are available, ${isolated} is isolated`,
    });
    expect(conditionOf(check, 'Degraded')).toMatchObject({ status: 'True' });
    expect(conditionOf(check, 'Degraded')?.reason).toContain('EtcdMembers_MemberIsolated');
    const member = check.status?.members?.find((m) => m.name === isolated);
    expect(member).toMatchObject({ reachable: true, healthy: false, leader: false });
    expect(check.status?.summary?.leader).toBe(leader);
    expect(check.status?.recommendations).toContainEqual(
      expect.objectContaining({ type: 'InvestigateNetwork', reason: 'MemberIsolated', target: isolated }),
    );

    const event = await conditionEvent('EtcdMembersDegradedTrue', cutAt);
    expect(event.type).toBe('Warning');
    expect(event.note).toContain(`${isolated} is isolated`);
    expect(
      await operator.metric('etcd_health_check_condition', {
        name: NAME,
        type: 'EtcdMembersDegraded',
        status: 'True',
      }),
    ).toBe(1);
    expect(
      await operator.metric('etcd_health_check_condition', { name: NAME, type: 'Available', status: 'True' }),
    ).toBe(1);
    expectOperatorAlive();
  }, 150_000);

  it('reports its real lag once writes move the leader more than 5000 entries ahead', async () => {
    const writer = cluster.client([cluster.member(leader).clientURL]);
    await putEntries(writer, MAX_LEADER_LAG + 500);
    const [ahead, behind] = await Promise.all([cluster.memberStatus(leader), cluster.memberStatus(isolated)]);
    // It still answers Status, stuck where the cut left it.
    expect(behind.leaderId).toBe('0');
    const lag = ahead.raftIndex - behind.raftIndex;
    expect(lag).toBeGreaterThan(MAX_LEADER_LAG);

    // The first check past 5000 may have run while the last puts were still going, and a later
    // check with a larger lag changes only the message, which is not rewritten: the reported lag is
    // a real one read from Status, past the bound and at most the lag after the check.
    const check = await checkWhen(
      (c) => conditionOf(c, 'ConsistencyDegraded')?.reason === 'BehindLeader',
      'ConsistencyDegraded BehindLeader',
    );
    const message = conditionOf(check, 'ConsistencyDegraded')?.message ?? '';
    const reported = new RegExp(`Member ${isolated} is (\\d+) raft entries behind the leader ${leader}`).exec(
      message,
    );
    expect({ message, matched: reported !== null }).toEqual({ message, matched: true });
    expect(Number(reported![1])).toBeGreaterThan(MAX_LEADER_LAG);
    // The leader's index moved past the lag read above in one CI run (5502 > 5501): the bound is
    // read after the check, as raft indexes only grow.
    const aheadAfter = await cluster.memberStatus(leader);
    expect(Number(reported![1])).toBeLessThanOrEqual(aheadAfter.raftIndex - behind.raftIndex);
    const member = check.status?.members?.find((m) => m.name === isolated);
    expect(Number(member?.raftIndex)).toBe(behind.raftIndex);
    // Still isolated, still available.
    expect(conditionOf(check, 'EtcdMembersDegraded')?.reason).toBe('MemberIsolated');
    expect(conditionOf(check, 'Available')?.status).toBe('True');
    expectOperatorAlive();
  }, 180_000);

  it('recovers when the link returns: it catches up, the conditions clear, with an Event', async () => {
    const restoredAt = new Date();
    await cluster.restorePeerLink(isolated);
    await cluster.waitForLeader();
    const check = await checkWhen(
      (c) =>
        conditionOf(c, 'EtcdMembersDegraded')?.status === 'False' &&
        conditionOf(c, 'ConsistencyDegraded')?.reason === 'AsExpected',
      'EtcdMembersDegraded False and ConsistencyDegraded AsExpected',
    );
    expect(conditionOf(check, 'EtcdMembersDegraded')?.reason).toBe('AsExpected');
    expect(conditionOf(check, 'Degraded')?.reason ?? '').not.toContain('EtcdMembers_');
    expect(check.status?.members?.find((m) => m.name === isolated)).toMatchObject({ healthy: true });
    const event = await conditionEvent('EtcdMembersDegradedFalse', restoredAt);
    expect(event.type).toBe('Normal');
    expect(
      await operator.metric('etcd_health_check_condition', {
        name: NAME,
        type: 'EtcdMembersDegraded',
        status: 'False',
      }),
    ).toBe(1);
    expectOperatorAlive();
  }, 150_000);
});

describe('a member whose client link is cut', () => {
  it('is unreachable from the operator, never isolated, and recovers', async () => {
    const leader = await cluster.waitForLeader();
    const cut = cluster.members.find((m) => m.name !== leader)!.name;
    await cluster.cutClientLink(cut);
    const check = await checkWhen(
      (c) => conditionOf(c, 'EtcdMembersAvailable')?.message.includes(`${cut} is unhealthy`) === true,
      `${cut} unhealthy`,
    );
    expect(conditionOf(check, 'Available')).toMatchObject({ status: 'True' });
    expect(check.status?.members?.find((m) => m.name === cut)).toMatchObject({ reachable: false });
    const members = conditionOf(check, 'EtcdMembersDegraded');
    expect(members?.status).toBe('False');
    expect(members?.message).toMatch(new RegExp(`Member ${cut} is unreachable`));
    expect(members?.message).not.toContain('isolated');
    // Its peers still have it: it runs, in the quorum, and is back at once with its client link.
    expect(cluster.member(cut).running()).toBe(true);

    await cluster.restoreClientLink(cut);
    await checkWhen(
      (c) => conditionOf(c, 'EtcdMembersDegraded')?.message.includes('unreachable') === false,
      'the member reachable again',
    );
    expectOperatorAlive();
  }, 150_000);
});
