// Discovery presets: the namespace and label selector a platform's etcd pods have, filled in for
// what the author left unset, never over what they wrote.
import { describe, expect, it } from '@jest/globals';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { ReachPolicy } from '../../src/controller/reach.js';
import { EndpointPolicy } from '../../src/sources/etcd/endpoint-policy.js';

const discoveryOf = (discovery: Record<string, unknown>) =>
  EtcdHealthCheckSpecSchema.parse({ etcd: { discovery } }).etcd.discovery;

describe('spec.etcd.discovery.preset', () => {
  it.each<[string, Record<string, unknown>, { namespace: string; labelSelector: string }]>([
    [
      'nothing set: OpenShift, as before presets',
      {},
      { namespace: 'openshift-etcd', labelSelector: 'app=etcd' },
    ],
    ['OpenShift', { preset: 'OpenShift' }, { namespace: 'openshift-etcd', labelSelector: 'app=etcd' }],
    [
      'Kubeadm: the static pods of /etc/kubernetes/manifests/etcd.yaml',
      { preset: 'Kubeadm' },
      { namespace: 'kube-system', labelSelector: 'component=etcd,tier=control-plane' },
    ],
    [
      'Kubeadm with its own selector',
      { preset: 'Kubeadm', labelSelector: 'component=etcd' },
      { namespace: 'kube-system', labelSelector: 'component=etcd' },
    ],
    [
      'a CR stored before presets (the API server had filled in both)',
      { namespace: 'openshift-etcd', labelSelector: 'app=etcd' },
      { namespace: 'openshift-etcd', labelSelector: 'app=etcd' },
    ],
    [
      'explicit values win over any preset',
      { preset: 'Kubeadm', namespace: 'etcd', labelSelector: 'app=etcd' },
      { namespace: 'etcd', labelSelector: 'app=etcd' },
    ],
  ])('%s', (_name, discovery, expected) => {
    expect(discoveryOf(discovery)).toEqual({
      preset: expect.any(String),
      port: 2379,
      scheme: 'https',
      ...expected,
    });
  });

  it('refuses a preset it does not know', () => {
    const parsed = EtcdHealthCheckSpecSchema.safeParse({ etcd: { discovery: { preset: 'k3s' } } });
    expect(parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'))).toEqual([
      'etcd.discovery.preset',
    ]);
  });

  it("the reach policy judges the preset's namespace, and says it was the default", () => {
    const policy = new ReachPolicy([], new EndpointPolicy([]));
    const spec = EtcdHealthCheckSpecSchema.parse({ etcd: { discovery: { preset: 'Kubeadm' } } });
    expect(policy.refusal('kube-system', spec)).toBeUndefined();
    expect(policy.refusal('etcd-team', spec)?.message).toMatch(
      /^spec\.etcd\.discovery\.namespace is kube-system \(also the default when it is not set\).*--discovery-namespace=kube-system$/,
    );
  });
});
