import { describe, expect, it } from '@jest/globals';
import {
  USAGE,
  parseCheckArgs,
  withScheme,
  type CheckArgs,
  type Environment,
} from '../../src/cli/check-args.js';

function run(argv: string[], env: Environment = {}): CheckArgs {
  const parsed = parseCheckArgs(argv, env);
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(parsed)}`);
  return parsed.args;
}

function error(argv: string[], env: Environment = {}): string {
  const parsed = parseCheckArgs(argv, env);
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
      environment: { endpoints: [] },
      labelMatchers: [],
      prometheusInsecureSkipTlsVerify: false,
      tlsOrigin: { cacert: '--cacert', cert: '--cert', key: '--key' },
      overrides: [],
      output: 'text',
      quiet: false,
      file: undefined,
      name: undefined,
      prometheus: undefined,
      rateWindow: undefined,
      sampleWindow: undefined,
      metricsUrls: [],
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
      '--prometheus-insecure-skip-tls-verify',
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
      prometheusInsecureSkipTlsVerify: true,
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

describe('parseCheckArgs, etcdctl conventions', () => {
  const TLS_ENV = {
    ETCDCTL_ENDPOINTS: '10.0.0.1:2379, https://10.0.0.2:2379',
    ETCDCTL_CACERT: '/pki/ca.crt',
    ETCDCTL_CERT: '/pki/client.crt',
    ETCDCTL_KEY: '/pki/client.key',
    ETCDCTL_DIAL_TIMEOUT: '3s',
    ETCDCTL_COMMAND_TIMEOUT: '1m30s',
  };

  it('runs from ETCDCTL_* alone, adding https:// as the CA comes from ETCDCTL_CACERT', () => {
    const args = run([], TLS_ENV);
    expect(args).toMatchObject({
      endpoints: [],
      environment: {
        endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
        dialTimeout: '3s',
        commandTimeout: '1m30s',
      },
      cacert: '/pki/ca.crt',
      cert: '/pki/client.crt',
      key: '/pki/client.key',
      tlsOrigin: { cacert: 'ETCDCTL_CACERT', cert: 'ETCDCTL_CERT', key: 'ETCDCTL_KEY' },
      overrides: [],
    });
    expect(run([], { ETCDCTL_ENDPOINTS: '10.0.0.1:2379' }).environment.endpoints).toEqual([
      'http://10.0.0.1:2379',
    ]);
  });

  it('lets each flag win over its variable', () => {
    const args = run(
      [
        '--endpoints',
        '10.0.0.9:2379',
        '--cacert',
        'flag-ca.crt',
        '--key',
        'flag.key',
        '--dial-timeout',
        '1s',
        '--command-timeout',
        '9s',
      ],
      TLS_ENV,
    );
    expect(args.endpoints).toEqual(['https://10.0.0.9:2379']);
    expect(args).toMatchObject({
      cacert: 'flag-ca.crt',
      cert: '/pki/client.crt',
      key: 'flag.key',
      tlsOrigin: { cacert: '--cacert', cert: 'ETCDCTL_CERT', key: '--key' },
    });
    // The timeouts of the environment sit below the file (check-input); the flags are overrides.
    expect(args.overrides.map((o) => [o.flag, o.path.join('.'), o.value])).toEqual([
      ['--dial-timeout', 'etcd.dialTimeout', '1s'],
      ['--command-timeout', 'etcd.requestTimeout', '9s'],
    ]);
  });

  it('treats a variable set to nothing as unset, as `ETCDCTL_CACERT= cmd` means', () => {
    const args = run(['--endpoints', 'a:2379'], {
      ETCDCTL_ENDPOINTS: '',
      ETCDCTL_CACERT: ' ',
      ETCDCTL_DIAL_TIMEOUT: '',
    });
    expect(args.environment).toEqual({ endpoints: [] });
    expect(args.cacert).toBeUndefined();
    expect(args.endpoints).toEqual(['http://a:2379']);
  });

  it('reads -w and --write-out as -o, the last one given winning', () => {
    expect(run(['--endpoints', 'a:2379', '-w', 'json']).output).toBe('json');
    expect(run(['--endpoints', 'a:2379', '--write-out=yaml']).output).toBe('yaml');
    expect(run(['--endpoints', 'a:2379', '-o', 'json', '-w', 'yaml']).output).toBe('yaml');
    expect(run(['--endpoints', 'a:2379', '-w', 'yaml', '-o', 'text']).output).toBe('text');
  });

  it('documents the variables, the renamed flags and the aliases in --help', () => {
    for (const text of [
      'ETCDCTL_ENDPOINTS',
      'ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY',
      'ETCDCTL_DIAL_TIMEOUT, ETCDCTL_COMMAND_TIMEOUT',
      '--command-timeout D',
      '--prometheus-insecure-skip-tls-verify',
      '-w, --write-out FORMAT',
      'flags win over the file, the file over these variables',
    ])
      expect(USAGE).toContain(text);
    expect(USAGE).toMatch(/--insecure-skip-tls-verify refused: .* pass their CA with --cacert/s);
  });

  const at = ['--endpoints', 'http://a:2379'];
  it.each([
    [at, { ETCDCTL_DIAL_TIMEOUT: '5' }, /^ETCDCTL_DIAL_TIMEOUT "5": must be a duration such as 500ms, 5s/],
    [at, { ETCDCTL_COMMAND_TIMEOUT: 'soon' }, /^ETCDCTL_COMMAND_TIMEOUT "soon": must be a duration/],
    [[...at, '--command-timeout', '5'], {}, /^--command-timeout "5": must be a duration/],
    [[...at, '--dial-timeout=-1s'], {}, /^--dial-timeout "-1s": must be a duration/],
    [[...at, '--request-timeout', '1d'], {}, /^--request-timeout "1d": must be a duration/],
    [[], { ETCDCTL_ENDPOINTS: ' , ' }, /^ETCDCTL_ENDPOINTS=" , " is empty: give at least one URL/],
    [
      at,
      { ETCDCTL_CERT: 'c' },
      /^ETCDCTL_CERT needs --key \(or ETCDCTL_KEY\): a client certificate is a pair/,
    ],
    [[...at, '--key', 'k'], {}, /^--key needs --cert \(or ETCDCTL_CERT\)/],
    [
      at,
      { ETCDCTL_CERT: 'c', ETCDCTL_KEY: 'k' },
      /^ETCDCTL_CERT and ETCDCTL_KEY need --cacert \(or ETCDCTL_CACERT\)/,
    ],
    [[...at, '-w', 'table'], {}, /^--write-out must be text, json or yaml, not "table"/],
    [
      [...at, '--insecure-skip-tls-verify'],
      { ETCDCTL_CACERT: 'ca' },
      /^--insecure-skip-tls-verify: check cannot skip the verification of etcd's certificates .* pass the CA that signed them with --cacert .* the flag is now --prometheus-insecure-skip-tls-verify$/s,
    ],
    [[], {}, /nothing to check: .* \(or set etcdctl's ETCDCTL_ENDPOINTS\)/],
  ])('refuses %j with %j, naming the flag or the variable', (argv, env, message) => {
    expect(error(argv, env)).toMatch(message);
  });
});

describe('parseCheckArgs --watch', () => {
  const endpoints = ['--endpoints', 'http://127.0.0.1:2379'];

  it('is off without the flag', () => {
    expect(run(endpoints).watch).toBeUndefined();
  });

  it.each([
    [['--watch'], {}],
    [['--watch', '--quiet'], {}],
    [['--watch=5s'], { interval: '5s' }],
    [['--watch', '1m30s'], { interval: '1m30s' }],
  ])('reads %j as %j', (flags, watch) => {
    expect(run([...endpoints, ...flags]).watch).toEqual(watch);
  });

  it('leaves the argument after a bare --watch alone when it is not a duration', () => {
    expect(run(['--watch', ...endpoints])).toMatchObject({ watch: {}, endpoints: ['http://127.0.0.1:2379'] });
  });

  it.each(['5', 'soon', '500ms', '0s'])('refuses --watch=%s, naming the flag', (interval) => {
    expect(error([...endpoints, `--watch=${interval}`])).toBe(
      `--watch ${JSON.stringify(interval)}: must be a duration of at least 1s such as 5s, 1m or 1m30s`,
    );
  });

  it('documents the flag', () => {
    expect(USAGE).toContain('--watch[=D]');
  });
});

describe('parseCheckArgs: sampling /metrics without Prometheus', () => {
  const base = ['--endpoints', 'https://10.0.0.1:2379'];

  it('reads --sample-window and --metrics-urls, comma-separated or repeated', () => {
    const parsed = parseCheckArgs([
      ...base,
      '--sample-window',
      '30s',
      '--metrics-urls',
      'http://10.0.0.1:2381,http://10.0.0.2:2381',
      '--metrics-urls',
      'https://10.0.0.3:9979/metrics',
    ]);
    expect(parsed).toMatchObject({
      kind: 'run',
      args: {
        sampleWindow: '30s',
        metricsUrls: ['http://10.0.0.1:2381', 'http://10.0.0.2:2381', 'https://10.0.0.3:9979/metrics'],
      },
    });
  });

  it.each([
    [['--sample-window', '15'], '--sample-window "15": must be a duration such as 500ms, 5s, 2m or 1m30s'],
    [
      ['--metrics-urls', ' , '],
      '--metrics-urls is empty: give at least one URL, e.g. --metrics-urls http://127.0.0.1:2381',
    ],
    [
      ['--metrics-urls', '10.0.0.1:2381'],
      '--metrics-urls "10.0.0.1:2381": must be an http:// or https:// URL, e.g. https://10.0.0.11:2381',
    ],
    [
      ['--metrics-urls', 'ftp://10.0.0.1/metrics'],
      '--metrics-urls "ftp://10.0.0.1/metrics": must be an http:// or https:// URL, e.g. https://10.0.0.11:2381',
    ],
  ])('refuses %j', (flags, message) => {
    expect(parseCheckArgs([...base, ...flags])).toEqual({ kind: 'error', message });
  });

  it('documents both flags in --help', () => {
    expect(USAGE).toContain('--sample-window D');
    expect(USAGE).toContain('--metrics-urls URLS');
  });
});
