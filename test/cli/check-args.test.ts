import { describe, expect, it } from '@jest/globals';
import { USAGE, parseCheckArgs, withScheme, type CheckArgs } from '../../src/cli/check-args.js';

function run(argv: string[]): CheckArgs {
  const parsed = parseCheckArgs(argv);
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(parsed)}`);
  return parsed.args;
}

function error(argv: string[]): string {
  const parsed = parseCheckArgs(argv);
  if (parsed.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe('parseCheckArgs', () => {
  it('answers --help and -h with the usage', () => {
    expect(parseCheckArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCheckArgs(['check', '-h'])).toEqual({ kind: 'help' });
    expect(USAGE).toContain('Exit codes:');
    for (const code of ['0  healthy', '1  warnings', '2  critical', '3  could not assess'])
      expect(USAGE).toContain(code);
  });

  it('takes the endpoints comma-separated or repeated, with or without the check subcommand', () => {
    const args = run(['check', '--endpoints', 'http://a:2379,http://b:2379', '--endpoints', 'http://c:2379']);
    expect(args.endpoints).toEqual(['http://a:2379', 'http://b:2379', 'http://c:2379']);
    expect(run(['--endpoints', 'http://a:2379']).endpoints).toEqual(['http://a:2379']);
  });

  it('adds a scheme as etcdctl does: https with --cacert, http without', () => {
    expect(run(['--endpoints', '10.0.0.1:2379']).endpoints).toEqual(['http://10.0.0.1:2379']);
    expect(
      run(['--endpoints', '10.0.0.1:2379', '--cacert', 'ca.crt', '--cert', 'c.crt', '--key', 'c.key'])
        .endpoints,
    ).toEqual(['https://10.0.0.1:2379']);
    expect(withScheme('https://x:1', false)).toBe('https://x:1');
  });

  it('applies defaults', () => {
    expect(run(['--endpoints', 'http://a:2379'])).toEqual({
      endpoints: ['http://a:2379'],
      labelMatchers: [],
      insecureSkipTlsVerify: false,
      overrides: [],
      output: 'text',
      quiet: false,
      file: undefined,
      name: undefined,
      prometheus: undefined,
      rateWindow: undefined,
      cacert: undefined,
      cert: undefined,
      key: undefined,
      prometheusCacert: undefined,
      prometheusTokenFile: undefined,
    });
  });

  it('reads every flag', () => {
    const args = run([
      '-f',
      'cr.yaml',
      '--name',
      'etcd',
      '--prometheus',
      'http://p:9090',
      '--label-matcher',
      'job="etcd"',
      '--label-matcher',
      'cluster="a"',
      '--rate-window',
      '1m',
      '--cacert',
      'ca',
      '--cert',
      'c',
      '--key',
      'k',
      '--prometheus-cacert',
      'pca',
      '--prometheus-token-file',
      'tok',
      '--insecure-skip-tls-verify',
      '-o',
      'json',
      '-q',
    ]);
    expect(args).toMatchObject({
      file: 'cr.yaml',
      name: 'etcd',
      prometheus: 'http://p:9090',
      labelMatchers: ['job="etcd"', 'cluster="a"'],
      rateWindow: '1m',
      cacert: 'ca',
      cert: 'c',
      key: 'k',
      prometheusCacert: 'pca',
      prometheusTokenFile: 'tok',
      insecureSkipTlsVerify: true,
      output: 'json',
      quiet: true,
    });
  });

  it('turns threshold shortcuts and --set into spec overrides, in command-line order', () => {
    const args = run([
      '--endpoints',
      'http://a:2379',
      '--set',
      'thresholds.walFsyncP99.warning=5ms',
      '--wal-fsync-warning',
      '10ms',
      '--backend-commit-critical',
      '200ms',
      '--set',
      'spec.thresholds.quotaUsage.warningPercent=70',
      '--peer-rtt-warning=60ms',
      '--dial-timeout',
      '1s',
      '--request-timeout',
      '3s',
    ]);
    expect(args.overrides.map((o) => [o.path.join('.'), o.value])).toEqual([
      ['thresholds.walFsyncP99.warning', '5ms'],
      ['thresholds.walFsyncP99.warning', '10ms'],
      ['thresholds.backendCommitP99.critical', '200ms'],
      ['thresholds.quotaUsage.warningPercent', '70'],
      ['thresholds.peerRoundTripP99.warning', '60ms'],
      ['etcd.dialTimeout', '1s'],
      ['etcd.requestTimeout', '3s'],
    ]);
    expect(args.overrides[1]!.flag).toBe('--wal-fsync-warning');
    expect(args.overrides[0]!.flag).toBe('--set thresholds.walFsyncP99.warning=5ms');
  });

  it('keeps "=" inside a --set value', () => {
    const args = run([
      '--endpoints',
      'http://a:2379',
      '--set',
      'prometheus.labelMatchers=["job=\\"etcd\\""]',
    ]);
    expect(args.overrides[0]).toMatchObject({
      path: ['prometheus', 'labelMatchers'],
      value: '["job=\\"etcd\\""]',
    });
  });

  it.each([
    [
      [],
      /nothing to check: pass the etcd client URLs with --endpoints, or an EtcdHealthCheck manifest with -f FILE/,
    ],
    [['--endpoint', 'x'], /Unknown option '--endpoint'/],
    [['--endpoints', 'x', 'extra'], /unexpected argument "extra"/],
    [['--endpoints', ','], /--endpoints is empty/],
    [['--endpoints', 'x', '-o', 'xml'], /--output must be text, json or yaml, not "xml"/],
    [['--endpoints', 'x', '--set', 'novalue'], /--set "novalue": expected PATH=VALUE/],
    [['--endpoints', 'x', '--set', '=1'], /expected PATH=VALUE/],
    [['--endpoints', 'x', '--set', 'a..b=1'], /has an empty part/],
    [['--endpoints', 'x', '--cert', 'c'], /--cert needs --key/],
    [['--endpoints', 'x', '--key', 'k'], /--key needs --cert/],
    [['--endpoints', 'x', '--cert', 'c', '--key', 'k'], /--cert and --key need --cacert/],
    [['--endpoints'], /argument missing|requires an argument|--endpoints/],
  ])('refuses %j with a message that says what to do', (argv, message) => {
    expect(error(argv)).toMatch(message);
  });

  it('accepts a file without --endpoints', () => {
    expect(run(['-f', 'cr.yaml']).file).toBe('cr.yaml');
  });
});
