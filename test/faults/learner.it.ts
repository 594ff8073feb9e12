// A learner that does not catch up, on the operator process: a 4th member added with
// `member add --learner` to a real 3-member TLS etcd cluster in network namespaces
// (test/harness/netns-cluster.ts), then its peer link cut while the leader keeps writing. The
// learner still answers Status with a raft index that no longer moves; the operator, comparing
// with its previous check, reports LearnerNotCatchingUp, and nothing once the link is back.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { putSecret, tlsSecretData } from '../harness/credentials.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { eventually } from '../harness/eventually.js';
import { startNetnsEtcdCluster, type NetnsCluster } from '../harness/netns-cluster.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const NS = 'learner';
const NAME = 'with-learner';
const SECRET = 'etcd-client';

let cp: ControlPlane;
let cluster: NetnsCluster;
let operator: OperatorProcess;
let checks: NamespacedChecks;

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startNetnsEtcdCluster({ members: 3 })]);
  await cp.createNamespace(NS);
  await putSecret(cp.kubeConfig, NS, SECRET, tlsSecretData(cluster.tls.client, cluster.tls.ca));
  checks = checksIn(cp.kubeConfig, NS);
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('learner-operator-logs'),
    identity: 'learner',
  });
  // No Prometheus: the learner's progress comes from etcd's Status alone.
  await checks.create(NAME, {
    etcd: { endpoints: cluster.endpoints, tlsSecretRef: { name: SECRET } },
    interval: '10s',
  });
}, 180_000);

afterAll(async () => {
  await cleanupAll();
});

function checkWhen(done: (check: EtcdHealthCheck) => boolean, description: string) {
  return eventually(
    async () => {
      const check = await checks.get(NAME);
      return done(check) ? check : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1_000, description },
  );
}

const consistencyMessage = (check: EtcdHealthCheck) =>
  conditionOf(check, 'ConsistencyDegraded')?.message ?? '';

it('reports a learner whose raft index stops while the leader writes, and stops once it catches up', async () => {
  const pid = operator.process.pid;
  const learner = await cluster.addLearner();
  await checkWhen(
    (c) => c.status?.members?.some((m) => m.name === learner.name && m.learner) === true,
    `${learner.name} in the status as a learner`,
  );
  const leader = await cluster.waitForLeader(cluster.members.slice(0, 3).map((m) => m.name));

  await cluster.cutPeerLink(learner.name);
  const writer = cluster.client([cluster.member(leader).clientURL]);
  for (let n = 0; n < 200; n++)
    await writer
      .put(`/learner/${n % 10}`)
      .value(String(n))
      .exec();
  const [ahead, stuck] = await Promise.all([
    cluster.memberStatus(leader),
    cluster.memberStatus(learner.name),
  ]);
  expect(stuck.isLearner).toBe(true);
  expect(ahead.raftIndex - stuck.raftIndex).toBeGreaterThanOrEqual(200);

  const check = await checkWhen(
    (c) => consistencyMessage(c).includes('not catching up'),
    'ConsistencyDegraded naming a learner that is not catching up',
  );
  // Its index is exactly where the cut left it; the leader may have appended an entry of its own
  // since the test read it, so the raft lag is at least the 200 puts, the revision lag exactly.
  const said = new RegExp(
    `Learner ${learner.name} is ([0-9]+) raft entries behind the leader ${leader} \\(200 revisions\\), and not catching up: its raft index is still ${stuck.raftIndex},`,
  ).exec(consistencyMessage(check));
  expect(said).not.toBeNull();
  expect(Number(said![1])).toBeGreaterThanOrEqual(ahead.raftIndex - stuck.raftIndex);
  expect(check.status?.recommendations).toContainEqual(
    expect.objectContaining({ reason: 'LearnerNotCatchingUp', target: learner.name }),
  );
  // A learner does not vote: the three voting members are all there is to quorum.
  expect(conditionOf(check, 'Available')?.status).toBe('True');

  await cluster.restorePeerLink(learner.name);
  await checkWhen((c) => !consistencyMessage(c).includes('not catching up'), 'the learner caught up');
  expect(operator.process.pid).toBe(pid);
  expect(operator.process.exited()).toBe(false);
}, 240_000);
