import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { collectionPath, customResourceSource } from '../../src/runtime/resources.js';

describe('collectionPath', () => {
  it.each([
    [{ group: '', version: 'v1', plural: 'secrets', namespace: 'ops' }, '/api/v1/namespaces/ops/secrets'],
    [
      { group: 'etcdhealth.io', version: 'v1alpha1', plural: 'etcdhealthchecks' },
      '/apis/etcdhealth.io/v1alpha1/etcdhealthchecks',
    ],
    [
      { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'kube-system' },
      '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases',
    ],
  ])('%j -> %s', (ref, path) => expect(collectionPath(ref)).toBe(path));

  it('refuses core resources for the custom-object lister', () => {
    expect(() =>
      customResourceSource(new KubeConfig(), { group: '', version: 'v1', plural: 'secrets' }),
    ).toThrow(/needs an API group/);
  });
});
