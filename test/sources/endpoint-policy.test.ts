import { describe, expect, it } from '@jest/globals';
import { EndpointPolicy, parseCidr } from '../../src/sources/etcd/endpoint-policy.js';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
  ])('reads %s', (text, cidr) => expect(parseCidr(text)).toEqual(cidr));

  it.each(['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'etcd/24', '10.0.0.0/8 ', ''])('refuses %j', (text) =>
    expect(parseCidr(text)).toBeUndefined(),
  );
});

describe('EndpointPolicy', () => {
  const policy = new EndpointPolicy(['10.0.0.0/8', 'fd00::/8']);

  it('allows every endpoint without networks', () => {
    expect(new EndpointPolicy().refusal('https://169.254.169.254:80')).toBeUndefined();
    expect(new EndpointPolicy().refusal('https://etcd.example:2379')).toBeUndefined();
  });

  it.each([
    'https://10.1.2.3:2379',
    'http://[fd00::1]:2379',
    'https://[FD00::1]:2379',
    'https://[::ffff:a00:1]:2379',
  ])('allows %s inside the networks', (endpoint) => expect(policy.refusal(endpoint)).toBeUndefined());

  it.each([
    'https://11.0.0.1:2379',
    'https://169.254.169.254:80',
    'https://127.0.0.1:2379',
    'https://[fe80::1]:2379',
  ])('refuses %s outside the networks, naming the flag', (endpoint) =>
    expect(policy.refusal(endpoint)).toBe(
      `${endpoint} is outside the networks the operator's admin allows for etcd endpoints (--etcd-endpoint-cidr)`,
    ),
  );

  // A name would be resolved again by the gRPC client; other spellings of an address are names to it.
  it.each([
    'https://etcd.example:2379',
    'https://10.1:2379',
    'https://0x0a.0.0.1:2379',
    'https://[fd00:0::1]:2379',
    'https://10.0.0.1.:2379',
  ])('refuses %s: not an IP address in canonical form', (endpoint) =>
    expect(policy.refusal(endpoint)).toMatch(/is not an IP address in canonical form.*--etcd-endpoint-cidr/),
  );
});
