import { describe, expect, it } from '@jest/globals';
import { memberResolver, splitHostPort, type MemberIdentity } from '../../src/sources/prometheus/members.js';

const member = (id: string, name: string, client: string, peer: string): MemberIdentity => ({
  id,
  name,
  clientURLs: [client],
  peerURLs: [peer],
});

describe('splitHostPort', () => {
  it.each([
    ['10.0.0.1:9979', { host: '10.0.0.1', port: '9979' }],
    ['10.0.0.1', { host: '10.0.0.1' }],
    ['[fd00::1]:2379', { host: 'fd00::1', port: '2379' }],
    ['fd00::1', { host: 'fd00::1' }],
    ['Master-0.Example:2379', { host: 'master-0.example', port: '2379' }],
  ])('%s', (address, parts) => expect(splitHostPort(address)).toEqual(parts));
});

describe('memberResolver', () => {
  const members = [
    member('1', 'master-0', 'https://10.0.0.1:2379', 'https://10.0.0.1:2380'),
    member('2', 'master-1', 'https://[fd00::2]:2379', 'https://[fd00::2]:2380'),
    member('3', 'master-2', 'https://master-2.example:2379', 'https://master-2.example:2380'),
  ];

  it('matches instance by host, whatever the metrics port (OpenShift scrapes 9979)', () => {
    const resolve = memberResolver(members, 'instance');
    expect(resolve({ instance: '10.0.0.1:9979' })?.name).toBe('master-0');
    expect(resolve({ instance: '[fd00::2]:9979' })?.name).toBe('master-1');
    expect(resolve({ instance: 'master-2.example:2379' })?.name).toBe('master-2');
    expect(resolve({ instance: '10.0.0.9:2379' })).toBeUndefined();
    expect(resolve({ job: 'etcd' })).toBeUndefined();
  });

  it('tells members on one host apart by port, and refuses to guess between them', () => {
    const shared = [
      member('1', 'a', 'http://127.0.0.1:2379', 'http://127.0.0.1:2380'),
      member('2', 'b', 'http://127.0.0.1:22379', 'http://127.0.0.1:22380'),
    ];
    const resolve = memberResolver(shared, 'instance');
    expect(resolve({ instance: '127.0.0.1:22379' })?.name).toBe('b');
    expect(resolve({ instance: '127.0.0.1:2379' })?.name).toBe('a');
    expect(resolve({ instance: '127.0.0.1:9979' })).toBeUndefined();
  });

  it('matches any other label by value against the member name', () => {
    const resolve = memberResolver(members, 'node');
    expect(resolve({ node: 'master-1', instance: '10.0.0.1:9979' })?.name).toBe('master-1');
    expect(resolve({ node: 'worker-1' })).toBeUndefined();
    expect(resolve({ instance: '10.0.0.1:9979' })).toBeUndefined();
  });
});
