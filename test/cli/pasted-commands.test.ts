// The CLI's input to the recommended commands: its TLS files by absolute path, and which ETCDCTL_*
// variables the shell sets.
import { describe, expect, it } from '@jest/globals';
import { pastedCommandInput } from '../../src/cli/pasted-commands.js';

describe('pastedCommandInput', () => {
  it('resolves the TLS files against the directory the check ran in, keeps absolute ones', () => {
    expect(
      pastedCommandInput(
        { cacert: 'pki/ca.crt', cert: '/etc/etcd/client.crt', key: '../client.key' },
        {},
        '/home/me/work',
      ).tlsFiles,
    ).toEqual({
      cacert: '/home/me/work/pki/ca.crt',
      cert: '/etc/etcd/client.crt',
      key: '/home/me/client.key',
    });
  });

  it('leaves out the files that were not given', () => {
    expect(pastedCommandInput({}, {}, '/tmp').tlsFiles).toEqual({
      cacert: undefined,
      cert: undefined,
      key: undefined,
    });
  });

  it("names the shell's ETCDCTL_* variables, sorted, and no others", () => {
    expect(
      pastedCommandInput(
        {},
        { PATH: '/bin', ETCDCTL_ENDPOINTS: 'https://a:2379', ETCDCTL_CACERT: '/ca', ETCDCTL_KEY: undefined },
        '/tmp',
      ).etcdctlVariables,
    ).toEqual(['ETCDCTL_CACERT', 'ETCDCTL_ENDPOINTS']);
  });
});
