// The member pods check end to end: a real kube-apiserver, a real 3-member etcd cluster, and the
// operator process reconciling a check that discovers the members from pods. There is no kubelet:
// the test creates the pods and writes their status through the status subresource, pointing
// their IPs at the real members, so the operator dials real etcd and reads the pod states the
// test chose.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type V1ContainerStatus, type V1PodStatus } from '@kubernetes/client-node';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { mergePatch } from '../harness/kube.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const NAMESPACE = 'etcd-pods';

let cp: ControlPlane;
let cluster: EtcdCluster;
let core: CoreV1Api;
let checks: NamespacedChecks;

const secondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000);

function etcdContainer(more: Partial<V1ContainerStatus>): V1ContainerStatus {
  return {
    name: 'etcd',
    image: 'registry.example/etcd:3.6',
    imageID: '',
    ready: true,
    restartCount: 0,
    ...more,
  };
}

function runningStatus(ip: string, ready: boolean, container: V1ContainerStatus): V1PodStatus {
  return {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: [container],
  };
}

async function createPod(name: string, status: V1PodStatus): Promise<void> {
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name, labels: { app: 'etcd' } },
      spec: { containers: [{ name: 'etcd', image: 'registry.example/etcd:3.6' }] },
    },
  });
  await setPodStatus(name, status);
}

async function setPodStatus(name: string, status: V1PodStatus): Promise<void> {
  await core.patchNamespacedPodStatus({ namespace: NAMESPACE, name, body: { status } }, mergePatch());
}

/** The check once its MemberPodsDegraded message satisfies `done`. */
function podsConditionWhere(
  done: (message: string) => boolean,
  description: string,
): Promise<EtcdHealthCheck> {
  return eventually(
    async () => {
      const check = await checks.get('pods');
      const message = conditionOf(check, 'MemberPodsDegraded')?.message;
      return message !== undefined && done(message) ? check : undefined;
    },
    { timeoutMs: 60_000, description },
  );
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster({ members: 3 })]);
  await cp.createNamespace(NAMESPACE);
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
  checks = checksIn(cp.kubeConfig, NAMESPACE);
  const [first, second, third] = cluster.members;
  await createPod('etcd-a', runningStatus(first!.ip, false, etcdContainer({ ready: false })));
  await createPod(
    'etcd-b',
    runningStatus(
      second!.ip,
      false,
      etcdContainer({
        ready: false,
        restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: secondsAgo(60) } },
      }),
    ),
  );
  await createPod(
    'etcd-c',
    runningStatus(
      third!.ip,
      true,
      etcdContainer({
        restartCount: 1,
        state: { running: { startedAt: secondsAgo(20) } },
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: secondsAgo(30) } },
      }),
    ),
  );
  // Scheduled nowhere, so without an IP: it must still be reported.
  await createPod('etcd-d', { phase: 'Pending' });
  await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('member-pods-operator-logs'),
    identity: 'member-pods',
  });
});

afterAll(async () => {
  await cleanupAll();
});

describe('a check that discovers its members from pods', () => {
  it('reports the not-Ready, CrashLoopBackOff and OOMKilled members by name, and the pod that does not run', async () => {
    const [first, second, third] = cluster.members;
    await checks.create('pods', {
      etcd: { discovery: { namespace: NAMESPACE, labelSelector: 'app=etcd', port: 2379, scheme: 'http' } },
      interval: '10s',
      thresholds: { degradedInertia: '0s' },
    });
    const check = await podsConditionWhere((message) => message.includes('etcd-d'), 'the pod findings');
    // The members themselves answer: the pods' states are what the operator read from their status.
    expect(check.status?.summary?.members).toBe('3/3');
    const condition = conditionOf(check, 'MemberPodsDegraded')!;
    expect(condition.status).toBe('False');
    const lines = condition.message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines).toEqual(
      expect.arrayContaining([
        `Pod etcd-a of member ${first!.name}: it is not Ready`,
        expect.stringMatching(
          new RegExp(
            `^Pod etcd-b of member ${second!.name}: container etcd is in CrashLoopBackOff, it is not Ready and the last run of container etcd ended in Error \\(exit code 1\\) 1m\\d*s? ago \\(4 restarts in total\\)$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^Pod etcd-c of member ${third!.name}: the last run of container etcd ended in OOMKilled \\(exit code 137\\) \\d+s ago \\(1 restart in total\\)$`,
          ),
        ),
        'Pod etcd-d (no member has its IP or name): it is Pending',
      ]),
    );
    const recommendations = (check.status?.recommendations ?? []).filter(
      (r) => r.type === 'InvestigateMemberPod',
    );
    expect(recommendations.map((r) => [r.reason, r.target, r.commands])).toEqual(
      expect.arrayContaining([
        [
          'CrashLoopBackOff',
          second!.name,
          [
            `kubectl -n ${NAMESPACE} describe pod etcd-b`,
            `kubectl -n ${NAMESPACE} logs etcd-b -c etcd --previous`,
          ],
        ],
        [
          'OOMKilled',
          third!.name,
          [
            `kubectl -n ${NAMESPACE} describe pod etcd-c`,
            `kubectl -n ${NAMESPACE} logs etcd-c -c etcd --previous`,
          ],
        ],
        ['PodNotReady', first!.name, [`kubectl -n ${NAMESPACE} describe pod etcd-a`]],
        ['PodNotRunning', 'etcd-d', [`kubectl -n ${NAMESPACE} describe pod etcd-d`]],
      ]),
    );
  });

  it('follows the pods: a pod that turns Ready drops out of the report', async () => {
    const [first] = cluster.members;
    await setPodStatus('etcd-a', runningStatus(first!.ip, true, etcdContainer({})));
    const check = await podsConditionWhere(
      (message) => !message.includes('etcd-a'),
      'etcd-a no longer reported',
    );
    expect(conditionOf(check, 'MemberPodsDegraded')!.message).toContain('etcd-b');
  });
});
