import { describe, expect, it } from '@jest/globals';
import { discoverEndpoints, type Discovery, type PodLister } from '../../src/sources/etcd/discovery.js';
import type { MemberPod } from '../../src/health/observation.js';

const OPENSHIFT: Discovery = {
  namespace: 'openshift-etcd',
  labelSelector: 'app=etcd',
  port: 2379,
  scheme: 'https',
};

const running = (name: string, ip: string): MemberPod => ({ name, ip, phase: 'Running', containers: [] });

/** The controller implements PodLister with client-node; this fake records what it was asked. */
function lister(answer: () => Promise<MemberPod[]>) {
  const calls: [string, string][] = [];
  const pods: PodLister = {
    listPods: (namespace, selector) => {
      calls.push([namespace, selector]);
      return answer();
    },
  };
  return { pods, calls };
}

describe('discoverEndpoints', () => {
  it('turns pod IPs into client URLs, sorted by pod name, with their nodes', async () => {
    const { pods, calls } = lister(() =>
      Promise.resolve([
        { ...running('etcd-master-2', '10.0.0.3'), nodeName: 'master-2' },
        { ...running('etcd-master-0', '10.0.0.1'), nodeName: 'master-0' },
        running('etcd-master-1', 'fd00::2'),
      ]),
    );
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: true,
      endpoints: ['https://10.0.0.1:2379', 'https://[fd00::2]:2379', 'https://10.0.0.3:2379'],
      // The node of each pod that names one: where commands on the member's host go.
      nodes: { 'https://10.0.0.1:2379': 'master-0', 'https://10.0.0.3:2379': 'master-2' },
      withoutEndpoint: [],
      pods: [
        { ...running('etcd-master-0', '10.0.0.1'), nodeName: 'master-0' },
        running('etcd-master-1', 'fd00::2'),
        { ...running('etcd-master-2', '10.0.0.3'), nodeName: 'master-2' },
      ],
    });
    expect(calls).toEqual([['openshift-etcd', 'app=etcd']]);
  });

  it('skips pods without a (valid) IP and says so', async () => {
    const { pods } = lister(() =>
      Promise.resolve([
        running('etcd-a', '10.0.0.1'),
        running('etcd-b', ''),
        running('etcd-c', '10.0.0.1:2379'),
      ]),
    );
    expect(await discoverEndpoints({ ...OPENSHIFT, scheme: 'http', port: 12379 }, pods, 1_000)).toEqual({
      ok: true,
      endpoints: ['http://10.0.0.1:12379'],
      nodes: {},
      withoutEndpoint: [
        { pod: 'etcd-b', why: 'has no IP yet' },
        { pod: 'etcd-c', why: 'has an invalid IP "10.0.0.1:2379"' },
      ],
      pods: [running('etcd-a', '10.0.0.1'), running('etcd-b', ''), running('etcd-c', '10.0.0.1:2379')],
    });
  });

  it('dials no pod that does not run, even with an IP, and hands every pod on', async () => {
    const pending: MemberPod = { name: 'etcd-b', ip: '', phase: 'Pending', containers: [] };
    const failed: MemberPod = { name: 'etcd-c', ip: '10.0.0.3', phase: 'Failed', containers: [] };
    const unreported: MemberPod = { name: 'etcd-d', ip: '10.0.0.4', phase: '', containers: [] };
    const { pods } = lister(() =>
      Promise.resolve([unreported, failed, pending, running('etcd-a', '10.0.0.1')]),
    );
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: true,
      endpoints: ['https://10.0.0.1:2379'],
      nodes: {},
      withoutEndpoint: [
        { pod: 'etcd-b', why: 'is Pending' },
        { pod: 'etcd-c', why: 'is Failed' },
        { pod: 'etcd-d', why: 'is in no phase yet' },
      ],
      pods: [running('etcd-a', '10.0.0.1'), pending, failed, unreported],
    });
  });

  it('is an error that still carries the pods when none runs with an IP', async () => {
    const pending: MemberPod = { name: 'etcd-a', ip: '', phase: 'Pending', containers: [] };
    const { pods } = lister(() => Promise.resolve([pending]));
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: false,
      error: 'no pods "app=etcd" in namespace openshift-etcd with an IP: pod etcd-a is Pending',
      pods: [pending],
    });
  });

  it('is an error when no pod has an IP', async () => {
    const { pods } = lister(() => Promise.resolve([]));
    expect(await discoverEndpoints(OPENSHIFT, pods, 1_000)).toEqual({
      ok: false,
      error: 'no pods "app=etcd" in namespace openshift-etcd with an IP',
      pods: [],
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
    const { pods } = lister(() => new Promise<MemberPod[]>(() => undefined));
    expect(await discoverEndpoints(OPENSHIFT, pods, 100)).toEqual({
      ok: false,
      error: 'listing pods "app=etcd" in namespace openshift-etcd: no answer within 100ms',
    });
  });
});
