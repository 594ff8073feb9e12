// KubePodLister against a loopback API server that can be told not to answer: a real apiserver
// will not hang on demand. The pod list ends at its timeout or when the caller's signal aborts.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { KubePodLister } from '../../src/kube/pods.js';
import { eventually } from '../harness/eventually.js';
import { FakeApiServer, statusBody } from '../runtime/fake-apiserver.js';
import type { Denial } from '../../src/kube/failures.js';

const PODS = '/api/v1/namespaces/openshift-etcd/pods';

function pod(name: string, phase: string, podIP?: string, more: object = {}): object {
  return { metadata: { name }, status: { phase, ...(podIP ? { podIP } : {}), ...more } };
}

describe('KubePodLister', () => {
  let api: FakeApiServer;
  beforeEach(async () => {
    api = await FakeApiServer.start(PODS);
  });
  afterEach(() => api.close());

  it('lists every pod of the selector, running or not, with a signal that never aborts', async () => {
    api.objects = [pod('etcd-a', 'Running', '10.0.0.1'), pod('etcd-b', 'Pending'), pod('etcd-c', 'Running')];
    const lister = new KubePodLister(api.kubeConfig(), 5_000);
    expect(await lister.listPods('openshift-etcd', 'app=etcd', new AbortController().signal)).toEqual([
      { name: 'etcd-a', ip: '10.0.0.1', phase: 'Running', containers: [] },
      { name: 'etcd-b', ip: '', phase: 'Pending', containers: [] },
      { name: 'etcd-c', ip: '', phase: 'Running', containers: [] },
    ]);
    expect(api.lists()[0]?.query.get('labelSelector')).toBe('app=etcd');
  });

  it("reads the Ready condition, the node, deletion, and each container's restarts, waiting reason and last termination", async () => {
    api.objects = [
      {
        metadata: { name: 'etcd-a', deletionTimestamp: '2026-12-06T10:00:00Z' },
        spec: { nodeName: 'master-0', containers: [] },
        status: {
          phase: 'Running',
          podIP: '10.0.0.1',
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'False' },
          ],
          containerStatuses: [
            {
              name: 'etcd',
              ready: false,
              restartCount: 7,
              image: 'etcd',
              imageID: '',
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: {
                terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-12-06T09:59:00Z' },
              },
            },
            { name: 'etcd-metrics', ready: true, restartCount: 0, image: 'etcd', imageID: '', state: {} },
            {
              name: 'etcdctl',
              ready: true,
              restartCount: 1,
              image: 'etcd',
              imageID: '',
              lastState: { terminated: { exitCode: 2 } },
            },
          ],
        },
      },
      pod('etcd-b', 'Running', '10.0.0.2', { conditions: [{ type: 'Ready', status: 'True' }] }),
    ];
    const lister = new KubePodLister(api.kubeConfig(), 5_000);
    expect(await lister.listPods('openshift-etcd', 'app=etcd', new AbortController().signal)).toEqual([
      {
        name: 'etcd-a',
        ip: '10.0.0.1',
        phase: 'Running',
        nodeName: 'master-0',
        ready: false,
        deleting: true,
        containers: [
          {
            name: 'etcd',
            ready: false,
            restartCount: 7,
            waitingReason: 'CrashLoopBackOff',
            lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-12-06T09:59:00.000Z' },
          },
          { name: 'etcd-metrics', ready: true, restartCount: 0 },
          {
            name: 'etcdctl',
            ready: true,
            restartCount: 1,
            lastTermination: { reason: 'exit code 2', exitCode: 2 },
          },
        ],
      },
      { name: 'etcd-b', ip: '10.0.0.2', phase: 'Running', ready: true, containers: [] },
    ]);
  });

  it('names the node each pod is scheduled on (spec.nodeName), where there is one', async () => {
    api.objects = [
      { ...pod('etcd-a', 'Running', '10.0.0.1'), spec: { nodeName: 'master-0' } },
      pod('etcd-b', 'Running', '10.0.0.2'),
    ];
    const lister = new KubePodLister(api.kubeConfig(), 5_000);
    expect(await lister.listPods('openshift-etcd', 'app=etcd')).toEqual([
      { name: 'etcd-a', ip: '10.0.0.1', phase: 'Running', nodeName: 'master-0', containers: [] },
      { name: 'etcd-b', ip: '10.0.0.2', phase: 'Running', containers: [] },
    ]);
  });

  it('gives up as soon as the signal aborts, long before its timeout, and hangs up', async () => {
    api.replyToNextLists('no-response');
    const lister = new KubePodLister(api.kubeConfig(), 30_000);
    const controller = new AbortController();
    const started = Date.now();
    const listing = lister.listPods('openshift-etcd', 'app=etcd', controller.signal);
    await eventually(() => api.lists().length > 0, { timeoutMs: 3_000, description: 'the list request' });
    controller.abort();
    await expect(listing).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(3_000);
    await eventually(() => api.lists()[0]!.closed, { timeoutMs: 3_000, description: 'the request closed' });
  });

  it('reports a list RBAC refused to its listener, with the API server’s words on one line', async () => {
    const refusal =
      'pods is forbidden: User "system:serviceaccount:etcd:viewer" cannot list resource "pods" in API group "" in the namespace "openshift-etcd"';
    api.replyToNextLists({ status: 403, body: statusBody(403, 'Forbidden', `${refusal}\n`) });
    const denials: Denial[] = [];
    const lister = new KubePodLister(api.kubeConfig(), 5_000, (denial) => denials.push(denial));
    await expect(lister.listPods('openshift-etcd', 'app=etcd')).rejects.toThrow(
      'the operator may not list pods in namespace openshift-etcd',
    );
    expect(denials).toEqual([
      { verb: 'list', resource: 'pods', namespace: 'openshift-etcd', detail: refusal },
    ]);
  });

  it('still gives up at its timeout when the signal does not abort', async () => {
    api.replyToNextLists('no-response');
    const lister = new KubePodLister(api.kubeConfig(), 200);
    await expect(lister.listPods('openshift-etcd', 'app=etcd', new AbortController().signal)).rejects.toThrow(
      'no answer from the API server within the timeout',
    );
  });
});
