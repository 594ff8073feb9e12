// The reach policy on its own: which discovery namespaces and static endpoints a check may use,
// and messages that name the flag and nothing out of the check's reach.
import { describe, expect, it } from '@jest/globals';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { ReachPolicy } from '../../src/controller/reach.js';
import { EndpointPolicy } from '../../src/sources/etcd/endpoint-policy.js';

const spec = (etcd: Record<string, unknown>) => EtcdHealthCheckSpecSchema.parse({ etcd });

const policy = new ReachPolicy(['openshift-etcd'], new EndpointPolicy());

describe('ReachPolicy', () => {
  it.each([
    ['its own namespace', 'tenant-b', { discovery: { namespace: 'tenant-b' } }],
    ['an admin-listed namespace', 'tenant-b', { discovery: { namespace: 'openshift-etcd' } }],
    ['the default namespace when the admin listed it', 'tenant-b', { discovery: {} }],
    ['static endpoints without networks set', 'tenant-b', { endpoints: ['https://etcd.example:2379'] }],
  ])('allows %s', (_what, namespace, etcd) => {
    expect(policy.refusal(namespace, spec(etcd))).toBeUndefined();
  });

  it('refuses another namespace, naming the flag that would allow it and the namespaces that are allowed', () => {
    const asked = spec({ discovery: { namespace: 'tenant-a' } });
    expect(policy.refusal('tenant-b', asked)).toEqual({
      reason: 'DiscoveryNamespaceNotAllowed',
      message:
        'spec.etcd.discovery.namespace is tenant-a, but checks in namespace tenant-b may discover pods only in ' +
        "tenant-b, openshift-etcd; set it to one of these, or ask the operator's admin to allow it with --discovery-namespace=tenant-a",
    });
  });

  it('says when the refused namespace is the schema default', () => {
    const strict = new ReachPolicy([], new EndpointPolicy());
    const asked = spec({ discovery: {} });
    expect(strict.refusal('tenant-b', asked)?.message).toMatch(
      /^spec\.etcd\.discovery\.namespace is openshift-etcd \(also the default when it is not set\), but checks in namespace tenant-b may discover pods only in tenant-b;/,
    );
  });

  it('refuses static endpoints outside the networks, each one named', () => {
    const networks = new ReachPolicy([], new EndpointPolicy(['10.0.0.0/8']));
    const asked = spec({
      endpoints: ['https://10.0.0.1:2379', 'https://192.168.1.1:2379', 'https://etcd.example:2379'],
    });
    const refusal = networks.refusal('tenant-b', asked);
    expect(refusal?.reason).toBe('EtcdEndpointNotAllowed');
    expect(refusal?.message).not.toContain('10.0.0.1');
    expect(refusal?.message).toContain('https://192.168.1.1:2379 is outside the networks');
    expect(refusal?.message).toContain('https://etcd.example:2379 is not an IP address');
    expect(refusal?.message).not.toContain('10.0.0.0/8');
  });
});
