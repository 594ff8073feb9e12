// KubePodLister against a loopback API server that can be told not to answer: a real apiserver
// will not hang on demand. The pod list ends at its timeout or when the caller's signal aborts.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { KubePodLister } from '../../src/kube/pods.js';
import { eventually } from '../harness/eventually.js';
import { FakeApiServer } from '../runtime/fake-apiserver.js';

const PODS = '/api/v1/namespaces/openshift-etcd/pods';

function pod(name: string, phase: string, podIP?: string): object {
  return { metadata: { name }, status: { phase, ...(podIP ? { podIP } : {}) } };
}

describe('KubePodLister', () => {
  let api: FakeApiServer;
  beforeEach(async () => {
    api = await FakeApiServer.start(PODS);
  });
  afterEach(() => api.close());

  it('lists every pod with its phase and IP (discovery dials only the Running ones), with a signal that never aborts', async () => {
    api.objects = [pod('etcd-a', 'Running', '10.0.0.1'), pod('etcd-b', 'Pending'), pod('etcd-c', 'Running')];
    const lister = new KubePodLister(api.kubeConfig(), 5_000);
    expect(await lister.listPodIPs('openshift-etcd', 'app=etcd', new AbortController().signal)).toEqual([
      { name: 'etcd-a', ip: '10.0.0.1', phase: 'Running' },
      { name: 'etcd-b', ip: '', phase: 'Pending' },
      { name: 'etcd-c', ip: '', phase: 'Running' },
    ]);
    expect(api.lists()[0]?.query.get('labelSelector')).toBe('app=etcd');
  });

  it('gives up as soon as the signal aborts, long before its timeout, and hangs up', async () => {
    api.replyToNextLists('no-response');
    const lister = new KubePodLister(api.kubeConfig(), 30_000);
    const controller = new AbortController();
    const started = Date.now();
    const listing = lister.listPodIPs('openshift-etcd', 'app=etcd', controller.signal);
    await eventually(() => api.lists().length > 0, { timeoutMs: 3_000, description: 'the list request' });
    controller.abort();
    await expect(listing).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(3_000);
    await eventually(() => api.lists()[0]!.closed, { timeoutMs: 3_000, description: 'the request closed' });
  });

  it('still gives up at its timeout when the signal does not abort', async () => {
    api.replyToNextLists('no-response');
    const lister = new KubePodLister(api.kubeConfig(), 200);
    await expect(
      lister.listPodIPs('openshift-etcd', 'app=etcd', new AbortController().signal),
    ).rejects.toThrow('no answer from the API server within the timeout');
  });
});
