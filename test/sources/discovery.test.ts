import { describe, expect, it } from '@jest/globals';
import {
  discoverEndpoints,
  type Discovery,
  type PodIP,
  type PodLister,
} from '../../src/sources/etcd/discovery.js';

const OPENSHIFT: Discovery = {
  namespace: 'openshift-etcd',
  labelSelector: 'app=etcd',
  port: 2379,
  scheme: 'https',
};

/** The controller implements PodLister with client-node; this fake records what it was asked. */
function lister(answer: () => Promise<PodIP[]>) {
  const calls: [string, string][] = [];
  const pods: PodLister = {
    listPodIPs: (namespace, selector) => {
      calls.push([namespace, selector]);
      return answer();
    },
  };
  return { pods, calls };
}

describe('discoverEndpoints', () => {
  it('turns pod IPs into client URLs, sorted by pod name', async () => {
    const { pods, calls } = lister(() =>
      Promise.resolve([
        { name: 'etcd-master-2', ip: '10.0.0.3' },
        { name: 'etcd-master-0', ip: '10.0.0.1' },
        { name: 'etcd-master-1', ip: 'fd00::2' },
      ]),
    );
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: true,
      endpoints: ['https://10.0.0.1:2379', 'https://[fd00::2]:2379', 'https://10.0.0.3:2379'],
      notes: [],
    });
    expect(calls).toEqual([['openshift-etcd', 'app=etcd']]);
  });

  it('skips pods without a (valid) IP and says so', async () => {
    const { pods } = lister(() =>
      Promise.resolve([
        { name: 'etcd-a', ip: '10.0.0.1' },
        { name: 'etcd-b', ip: '' },
        { name: 'etcd-c', ip: '10.0.0.1:2379' },
      ]),
    );
    expect(await discoverEndpoints({ ...OPENSHIFT, scheme: 'http', port: 12379 }, pods, 1_000)).toEqual({
      ok: true,
      endpoints: ['http://10.0.0.1:12379'],
      notes: ['pod etcd-b has no IP yet', 'pod etcd-c has an invalid IP "10.0.0.1:2379"'],
    });
  });

  it('reports pods that are not Running instead of dropping them, and does not dial them', async () => {
    const { pods } = lister(() =>
      Promise.resolve([
        { name: 'etcd-a', ip: '10.0.0.1', phase: 'Running' },
        { name: 'etcd-b', ip: '10.0.0.2', phase: 'Failed' },
        { name: 'etcd-c', ip: '', phase: 'Pending' },
      ]),
    );
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: true,
      endpoints: ['https://10.0.0.1:2379'],
      notes: ['pod etcd-b is Failed, not Running', 'pod etcd-c is Pending, not Running'],
    });
  });

  it('is an error when no pod has an IP', async () => {
    const { pods } = lister(() => Promise.resolve([]));
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: false,
      error: 'no running pods "app=etcd" in namespace openshift-etcd with an IP',
    });
  });

  it('is an error, naming them, when no pod is Running', async () => {
    const { pods } = lister(() => Promise.resolve([{ name: 'etcd-a', ip: '', phase: 'Pending' }]));
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: false,
      error:
        'no running pods "app=etcd" in namespace openshift-etcd with an IP: pod etcd-a is Pending, not Running',
    });
  });

  it('is an error when listing fails', async () => {
    const { pods } = lister(() =>
      Promise.reject(new Error('pods is forbidden: User cannot list resource "pods"')),
    );
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: false,
      error:
        'listing pods "app=etcd" in namespace openshift-etcd: pods is forbidden: User cannot list resource "pods"',
    });
  });

  it('is an error when listing never answers', async () => {
    const { pods } = lister(() => new Promise<PodIP[]>(() => undefined));
    expect(await discoverEndpoints(OPENSHIFT, pods, 100)).toEqual({
      ok: false,
      error: 'listing pods "app=etcd" in namespace openshift-etcd: no answer within 100ms',
    });
  });
});
