import { describe, expect, it } from '@jest/globals';
import { parseCheckArgs, type CheckArgs, type Environment } from '../../src/cli/check-args.js';
import {
  buildCheckInput,
  inferValue,
  yamlDocuments,
  type CheckFiles,
  type CheckInput,
} from '../../src/cli/check-input.js';

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';

const CR = `apiVersion: etcdhealth.io/v1alpha1
kind: EtcdHealthCheck
metadata:
  name: etcd
  namespace: kube-system
spec:
  etcd:
    endpoints: [https://10.0.0.11:2379, https://10.0.0.12:2379]
  prometheus:
    url: http://prometheus:9090
    labelMatchers: ['job="kube-etcd"']
  interval: 1m
  thresholds:
    walFsyncP99: { warning: 20ms }
`;

/** In-memory files; a missing one fails as Node.js does. */
function files(contents: Record<string, string>, stdin = ''): CheckFiles {
  return {
    read(path) {
      if (path === '/a-directory')
        throw Object.assign(new Error('EISDIR: illegal operation on a directory, read'), { code: 'EISDIR' });
      const text = contents[path];
      if (text === undefined)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), {
          code: 'ENOENT',
        });
      return text;
    },
    readStdin: () => stdin,
  };
}

function args(argv: string[]): CheckArgs {
  const parsed = parseCheckArgs(argv);
  if (parsed.kind !== 'run') throw new Error(JSON.stringify(parsed));
  return parsed.args;
}

function ok(argv: string[], fs: Record<string, string> = {}, stdin?: string): CheckInput {
  const result = buildCheckInput(args(argv), files(fs, stdin));
  if (!result.ok) throw new Error(result.error);
  return result.input;
}

function failure(argv: string[], fs: Record<string, string> = {}): string {
  const result = buildCheckInput(args(argv), files(fs));
  if (result.ok) throw new Error('expected an error');
  return result.error;
}

describe('buildCheckInput from flags', () => {
  it('builds a spec with the defaults the operator applies', () => {
    const input = ok(['--endpoints', 'http://127.0.0.1:2379', '--prometheus', 'http://127.0.0.1:9090']);
    expect(input.spec.etcd.endpoints).toEqual(['http://127.0.0.1:2379']);
    expect(input.spec.prometheus).toMatchObject({
      url: 'http://127.0.0.1:9090',
      labelMatchers: ['job=~".*etcd.*"'],
      rateWindow: '5m',
    });
    expect(input.spec.thresholds.walFsyncP99).toEqual({ warning: '10ms', critical: '50ms' });
    expect(input.origin).toBe('1 endpoint from --endpoints');
    expect(input.resolved).toEqual({});
    expect(input.notes).toEqual([]);
  });

  it('runs the analysis without degraded inertia: a one-shot check has no history', () => {
    const input = ok(['--endpoints', 'http://a:2379', '--set', 'thresholds.degradedInertia=5m']);
    expect(input.spec.thresholds.degradedInertia).toBe('5m');
    expect(input.analysisSpec.thresholds.degradedInertia).toBe('0s');
    expect(input.analysisSpec.thresholds.walFsyncP99).toEqual(input.spec.thresholds.walFsyncP99);
  });

  it('applies shortcuts and --set, typed as helm does, retyped to text where the schema wants text', () => {
    const input = ok([
      '--endpoints',
      'http://a:2379',
      '--prometheus',
      'http://p:9090',
      '--wal-fsync-warning',
      '5ms',
      '--wal-fsync-critical',
      '20ms',
      '--set',
      'thresholds.quotaUsage.warningPercent=70',
      '--set',
      'thresholds.databaseSize.warning=1024',
      '--set',
      'thresholds.controlPlaneNodes.warnOnSwap=false',
      '--set',
      'prometheus.labelMatchers=["job=\\"etcd\\""]',
      '--label-matcher',
      'cluster="a"',
      '--rate-window',
      '1m',
    ]);
    expect(input.spec.thresholds.walFsyncP99).toEqual({ warning: '5ms', critical: '20ms' });
    expect(input.spec.thresholds.quotaUsage.warningPercent).toBe(70);
    expect(input.spec.thresholds.databaseSize.warning).toBe('1024');
    expect(input.spec.thresholds.controlPlaneNodes.warnOnSwap).toBe(false);
    // --set runs after the flags: it wins.
    expect(input.spec.prometheus?.labelMatchers).toEqual(['job="etcd"']);
    expect(input.spec.prometheus?.rateWindow).toBe('1m');
  });

  it('infers --set values', () => {
    expect(inferValue('70')).toBe(70);
    expect(inferValue('-1.5')).toBe(-1.5);
    expect(inferValue('true')).toBe(true);
    expect(inferValue('10ms')).toBe('10ms');
    expect(inferValue('["a"]')).toEqual(['a']);
    expect(inferValue('[not json')).toBe('[not json');
  });

  it('names every invalid field by its path, with a hint and the value given', () => {
    const error = failure([
      '--endpoints',
      'http://a:2379/path',
      '--wal-fsync-warning',
      'fast',
      '--set',
      'thresholds.databaseSize.critical=big',
      '--set',
      'thresholds.walFsync.warning=1ms',
      '--set',
      'interval=5s',
      '--set',
      'thresholds.quotaUsage.warningPercent=200',
    ]);
    expect(error).toMatch(/^invalid EtcdHealthCheck spec \(7 problems\):/);
    expect(error).toContain(
      'spec.etcd.endpoints[0]: must be scheme://host:port without a path, e.g. https://10.0.0.11:2379 (got "http://a:2379/path")',
    );
    expect(error).toContain(
      'spec.thresholds.walFsyncP99.warning: must be a duration such as 500ms, 10s, 1m30s or 2h (got "fast")',
    );
    expect(error).toContain(
      'spec.thresholds.databaseSize.critical: must be a size such as 100Mi, 4Gi or 8G (got "big")',
    );
    expect(error).toContain('spec.thresholds: unknown field "walFsync"');
    expect(error).toContain('spec: interval must be at least 10s');
    expect(error).toMatch(/spec\.thresholds\.quotaUsage\.warningPercent: .*100.* \(got 200\)/);
    expect(error).toContain('spec.thresholds.quotaUsage: infoPercent <= warningPercent <= criticalPercent');
  });

  it('reports cross-field rules of the schema', () => {
    expect(failure(['--endpoints', 'http://a:2379', '--wal-fsync-warning', '60ms'])).toContain(
      'spec.thresholds.walFsyncP99: warning must not exceed critical',
    );
  });

  it('needs a Prometheus for the Prometheus flags', () => {
    expect(failure(['--endpoints', 'http://a:2379', '--label-matcher', 'job="etcd"'])).toBe(
      '--label-matcher needs a Prometheus: pass --prometheus URL (or set spec.prometheus.url in the file)',
    );
    expect(failure(['--endpoints', 'http://a:2379', '--prometheus-token-file', 't'])).toMatch(
      /^--prometheus-token-file needs a Prometheus/,
    );
  });

  it('says which --set path is not an object', () => {
    expect(failure(['--endpoints', 'http://a:2379', '--set', 'interval=30s', '--set', 'interval.x=1'])).toBe(
      '--set interval.x=1: interval is not an object',
    );
  });
});

describe('buildCheckInput from a CR file', () => {
  it('reads the spec of the EtcdHealthCheck, flags win', () => {
    const input = ok(
      ['-f', 'cr.yaml', '--wal-fsync-critical', '80ms', '--cacert', 'ca', '--cert', 'c', '--key', 'k'],
      {
        'cr.yaml': CR,
        ca: CA,
        c: CERT,
        k: KEY,
      },
    );
    expect(input.origin).toBe('EtcdHealthCheck kube-system/etcd from cr.yaml');
    expect(input.spec.etcd.endpoints).toEqual(['https://10.0.0.11:2379', 'https://10.0.0.12:2379']);
    expect(input.spec.interval).toBe('1m');
    expect(input.spec.thresholds.walFsyncP99).toEqual({ warning: '20ms', critical: '80ms' });
    expect(input.spec.prometheus?.labelMatchers).toEqual(['job="kube-etcd"']);
    expect(input.resolved).toEqual({ etcdTls: { caPem: CA, certPem: CERT, keyPem: KEY } });
  });

  it('reads stdin for "-", skips empty documents and picks the EtcdHealthCheck among other objects', () => {
    const stream = `---\napiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n---\n# comment only\n---\n${CR}---\n`;
    const input = ok(['-f', '-', '--cacert', 'ca'], { ca: CA }, stream);
    expect(input.origin).toBe('EtcdHealthCheck kube-system/etcd from stdin');
    expect(yamlDocuments(stream)).toHaveLength(2);
  });

  it('lets --endpoints replace discovery', () => {
    const cr = CR.replace(
      'endpoints: [https://10.0.0.11:2379, https://10.0.0.12:2379]',
      'discovery: {namespace: openshift-etcd}',
    );
    expect(failure(['-f', 'cr.yaml'], { 'cr.yaml': cr })).toContain(
      'spec.etcd.discovery finds the members through the Kubernetes API, which check does not use.',
    );
    const input = ok(['-f', 'cr.yaml', '--endpoints', 'http://10.0.0.1:2379'], { 'cr.yaml': cr });
    expect(input.spec.etcd.endpoints).toEqual(['http://10.0.0.1:2379']);
    expect(input.spec.etcd.discovery).toBeUndefined();
    expect(input.origin).toBe('EtcdHealthCheck kube-system/etcd from cr.yaml with --endpoints');
  });

  it('explains that Secret and ConfigMap references need the files as flags', () => {
    const cr = CR.replace(
      '  prometheus:\n',
      '    tlsSecretRef: {name: etcd-client}\n  prometheus:\n    bearerTokenSecretRef: {name: prom-token}\n    caConfigMapRef: {name: prom-ca}\n',
    );
    const error = failure(['-f', 'cr.yaml'], { 'cr.yaml': cr });
    expect(error).toContain(
      'spec.etcd.tlsSecretRef names Secret "etcd-client", which check cannot read without a cluster.',
    );
    expect(error).toContain(
      "kubectl -n kube-system get secret etcd-client -o jsonpath='{.data.tls\\.crt}' | base64 -d > tls.crt",
    );
    expect(error).toContain('--prometheus-token-file');
    expect(error).toContain(
      "kubectl -n kube-system get secret prom-token -o jsonpath='{.data.token}' | base64 -d > token",
    );
    expect(error).toContain(
      "kubectl -n kube-system get configmap prom-ca -o jsonpath='{.data.ca\\.crt}' > ca.crt",
    );
    const input = ok(
      [
        '-f',
        'cr.yaml',
        '--cacert',
        'ca',
        '--cert',
        'c',
        '--key',
        'k',
        '--prometheus-token-file',
        't',
        '--prometheus-cacert',
        'pca',
      ],
      { 'cr.yaml': cr, ca: CA, c: CERT, k: KEY, t: 'sekret\n', pca: CA },
    );
    expect(input.resolved.prometheus).toEqual({ bearerToken: 'sekret', caPem: CA });
  });

  it('notes what the check ignores or cannot do', () => {
    const cr = CR.replace(
      '  interval: 1m\n',
      '  interval: 1m\n  suspend: true\n  remediation: {mode: Automatic}\n',
    );
    const input = ok(['-f', 'cr.yaml', '--endpoints', 'https://10.0.0.1:2379'], { 'cr.yaml': cr });
    expect(input.notes).toEqual([
      "https:// endpoints without --cacert: the members' certificates are verified against the system CA bundle, and no client certificate is sent",
      'spec.suspend is true: the operator skips this EtcdHealthCheck; check runs it anyway',
      'spec.remediation.mode is Automatic: check only recommends, it never changes anything in etcd',
    ]);
    expect(ok(['--endpoints', 'http://a:2379', '--cacert', 'ca'], { ca: CA }).notes).toEqual([
      '--cacert, --cert and --key are used only for https:// endpoints; every endpoint here is http://',
    ]);
  });

  it.each([
    [['-f', 'missing.yaml'], {}, '-f missing.yaml: cannot read the file: no such file or directory'],
    [['-f', '/a-directory'], {}, '-f /a-directory: cannot read the file: it is a directory'],
    [['-f', 'bad.yaml'], { 'bad.yaml': 'spec: [unclosed\n' }, '-f bad.yaml: not valid YAML or JSON: '],
    [
      ['-f', 'cm.yaml'],
      { 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\n' },
      '-f cm.yaml: no EtcdHealthCheck in the file (found ConfigMap)',
    ],
    [
      ['-f', 'two.yaml'],
      { 'two.yaml': `${CR}---\n${CR.replace('name: etcd', 'name: other')}` },
      'the file has 2 EtcdHealthCheck objects (etcd, other): pick one with --name',
    ],
    [
      ['-f', 'two.yaml', '--name', 'x'],
      { 'two.yaml': `${CR}---\n${CR.replace('name: etcd', 'name: other')}` },
      'no EtcdHealthCheck named "x"; the file has etcd, other',
    ],
    [
      ['-f', 'old.yaml'],
      { 'old.yaml': CR.replace('v1alpha1', 'v1beta9') },
      'apiVersion "etcdhealth.io/v1beta9" is not supported',
    ],
    [
      ['-f', 'noetcd.yaml'],
      {
        'noetcd.yaml':
          'apiVersion: etcdhealth.io/v1alpha1\nkind: EtcdHealthCheck\nmetadata: {name: x}\nspec: {}\n',
      },
      'spec.etcd: required: pass the client URLs with --endpoints',
    ],
  ])('explains a bad file: %j', (argv, fs, message) => {
    expect(failure(argv, fs)).toContain(message);
  });

  it('selects a document by --name', () => {
    const input = ok(['-f', 'two.yaml', '--name', 'other', '--cacert', 'ca'], {
      'two.yaml': `${CR}---\n${CR.replace('name: etcd', 'name: other')}`,
      ca: CA,
    });
    expect(input.origin).toBe('EtcdHealthCheck kube-system/other from two.yaml');
  });
});

describe('buildCheckInput TLS files', () => {
  it('names each unreadable or non-PEM file and its flag', () => {
    const error = failure(
      [
        '--endpoints',
        'https://a:2379',
        '--cacert',
        'nope',
        '--cert',
        'plain',
        '--key',
        '/a-directory',
        '--prometheus',
        'http://p:9090',
        '--prometheus-token-file',
        'empty',
      ],
      { plain: 'hello', empty: '\n' },
    );
    expect(error.split('\n')).toEqual([
      '--cacert nope: cannot read the file: no such file or directory',
      '--cert plain: not a PEM file (expected a certificate starting with "-----BEGIN")',
      '--key /a-directory: cannot read the file: it is a directory',
      '--prometheus-token-file empty: the file is empty',
    ]);
  });

  it('accepts a CA alone: server-authenticated TLS', () => {
    expect(ok(['--endpoints', 'https://a:2379', '--cacert', 'ca'], { ca: CA }).resolved).toEqual({
      etcdTls: { caPem: CA, certPem: undefined, keyPem: undefined },
    });
  });
});

describe('buildCheckInput with etcdctl variables', () => {
  const TLS_ENV = {
    ETCDCTL_ENDPOINTS: '10.0.0.1:2379,10.0.0.2:2379',
    ETCDCTL_CACERT: '/pki/ca.crt',
    ETCDCTL_CERT: '/pki/client.crt',
    ETCDCTL_KEY: '/pki/client.key',
    ETCDCTL_DIAL_TIMEOUT: '3s',
    ETCDCTL_COMMAND_TIMEOUT: '1m',
  };
  const PKI = { '/pki/ca.crt': CA, '/pki/client.crt': CERT, '/pki/client.key': KEY };

  function fromEnvironment(argv: string[], env: Environment, fs: Record<string, string> = PKI) {
    const parsed = parseCheckArgs(argv, env);
    if (parsed.kind !== 'run') throw new Error(JSON.stringify(parsed));
    return buildCheckInput(parsed.args, files(fs));
  }

  function input(argv: string[], env: Environment, fs?: Record<string, string>): CheckInput {
    const result = fromEnvironment(argv, env, fs);
    if (!result.ok) throw new Error(result.error);
    return result.input;
  }

  it('builds the whole etcd side from ETCDCTL_* alone', () => {
    const built = input([], TLS_ENV);
    expect(built.spec.etcd).toMatchObject({
      endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      dialTimeout: '3s',
      requestTimeout: '1m',
    });
    expect(built.resolved).toEqual({ etcdTls: { caPem: CA, certPem: CERT, keyPem: KEY } });
    expect(built.origin).toBe('2 endpoints from ETCDCTL_ENDPOINTS');
    expect(built.notes).toEqual([]);
  });

  it('lets the flags win over the variables', () => {
    const built = input(
      ['--endpoints', 'https://10.0.0.9:2379', '--dial-timeout', '1s', '--command-timeout', '9s'],
      TLS_ENV,
    );
    expect(built.spec.etcd).toMatchObject({
      endpoints: ['https://10.0.0.9:2379'],
      dialTimeout: '1s',
      requestTimeout: '9s',
    });
    expect(built.origin).toBe('1 endpoint from --endpoints');
    expect(
      input(['--set', 'etcd.requestTimeout=7s', '--request-timeout', '8s'], TLS_ENV).spec.etcd.requestTimeout,
    ).toBe('8s');
  });

  it('lets the file win over the variables, and says when ETCDCTL_ENDPOINTS is not used', () => {
    const built = input(['-f', 'cr.yaml', '--prometheus', 'http://p:9090'], TLS_ENV, {
      ...PKI,
      'cr.yaml': CR,
    });
    expect(built.spec.etcd.endpoints).toEqual(['https://10.0.0.11:2379', 'https://10.0.0.12:2379']);
    // The file sets no timeouts: the variables' apply.
    expect(built.spec.etcd).toMatchObject({ dialTimeout: '3s', requestTimeout: '1m' });
    expect(built.origin).toBe('EtcdHealthCheck kube-system/etcd from cr.yaml');
    expect(built.notes).toEqual([
      'ETCDCTL_ENDPOINTS is not used: the file names the etcd members, and the file wins over the environment (--endpoints wins over both)',
    ]);

    const timed = CR.replace('  etcd:\n', '  etcd:\n    dialTimeout: 4s\n');
    expect(input(['-f', 'cr.yaml'], TLS_ENV, { ...PKI, 'cr.yaml': timed }).spec.etcd).toMatchObject({
      dialTimeout: '4s',
      requestTimeout: '1m',
    });
  });

  it('takes ETCDCTL_ENDPOINTS for a file that names no members', () => {
    const bare = CR.replace(/ {2}etcd:\n {4}endpoints: .*\n/, '');
    expect(bare).not.toContain('endpoints');
    const built = input(['-f', 'cr.yaml'], TLS_ENV, { ...PKI, 'cr.yaml': bare });
    expect(built.spec.etcd.endpoints).toEqual(['https://10.0.0.1:2379', 'https://10.0.0.2:2379']);
    expect(built.origin).toBe('EtcdHealthCheck kube-system/etcd from cr.yaml with ETCDCTL_ENDPOINTS');
    expect(built.notes).toEqual([]);
  });

  it('names the variables, not the flags, in the note about http:// endpoints', () => {
    expect(input(['--endpoints', 'http://a:2379'], TLS_ENV).notes).toEqual([
      'ETCDCTL_CACERT, ETCDCTL_CERT and ETCDCTL_KEY are used only for https:// endpoints; every endpoint here is http://',
    ]);
  });

  it('names the variable when a file it names cannot be used', () => {
    const result = fromEnvironment([], TLS_ENV, { '/pki/ca.crt': CA, '/pki/client.crt': 'hello' });
    expect(result).toEqual({
      ok: false,
      error:
        'ETCDCTL_CERT /pki/client.crt: not a PEM file (expected a certificate starting with "-----BEGIN")\n' +
        'ETCDCTL_KEY /pki/client.key: cannot read the file: no such file or directory',
    });
  });

  it('moves the Prometheus meaning of the old flag to --prometheus-insecure-skip-tls-verify', () => {
    const built = input(
      [
        '--endpoints',
        'http://a:2379',
        '--prometheus',
        'https://p:9090',
        '--prometheus-insecure-skip-tls-verify',
      ],
      {},
    );
    expect(built.spec.prometheus?.insecureSkipTLSVerify).toBe(true);
    expect(
      input(['--endpoints', 'http://a:2379', '--prometheus', 'https://p:9090'], {}).spec.prometheus
        ?.insecureSkipTLSVerify,
    ).toBe(false);
    expect(
      fromEnvironment(['--endpoints', 'http://a:2379', '--prometheus-insecure-skip-tls-verify'], {}),
    ).toEqual({
      ok: false,
      error:
        '--prometheus-insecure-skip-tls-verify needs a Prometheus: pass --prometheus URL (or set spec.prometheus.url in the file)',
    });
  });
});

describe('buildCheckInput: sampling /metrics without Prometheus', () => {
  const PKI = { '/pki/ca.crt': CA, '/pki/client.crt': CERT, '/pki/client.key': KEY };
  const tls = ['--cacert', '/pki/ca.crt', '--cert', '/pki/client.crt', '--key', '/pki/client.key'];

  it("samples each endpoint's /metrics for 15s by default, with the etcd TLS and command timeout", () => {
    const input = ok(
      ['--endpoints', 'https://10.0.0.1:2379,https://10.0.0.2:2379', ...tls, '--command-timeout', '3s'],
      PKI,
    );
    expect(input.sample).toEqual({
      urls: ['https://10.0.0.1:2379/metrics', 'https://10.0.0.2:2379/metrics'],
      windowMs: 15_000,
      tls: { caPem: CA, certPem: CERT, keyPem: KEY },
      timeoutMs: 3_000,
    });
  });

  it('samples --metrics-urls instead, over --sample-window', () => {
    const input = ok([
      '--endpoints',
      'http://10.0.0.1:2379',
      '--metrics-urls',
      'http://10.0.0.1:2381',
      '--sample-window',
      '1m',
    ]);
    expect(input.sample).toMatchObject({ urls: ['http://10.0.0.1:2381/metrics'], windowMs: 60_000 });
  });

  it('samples nothing with --sample-window 0s', () => {
    expect(ok(['--endpoints', 'http://10.0.0.1:2379', '--sample-window', '0s']).sample).toBeUndefined();
  });

  it('leaves the sample to Prometheus when one is configured, and says so when sample flags were given', () => {
    const quiet = ok(['--endpoints', 'http://10.0.0.1:2379', '--prometheus', 'http://p:9090']);
    expect(quiet.sample).toBeUndefined();
    expect(quiet.notes).toEqual([]);
    const told = ok([
      '--endpoints',
      'http://10.0.0.1:2379',
      '--prometheus',
      'http://p:9090',
      '--sample-window',
      '30s',
    ]);
    expect(told.sample).toBeUndefined();
    expect(told.notes).toContain(
      '--sample-window and --metrics-urls are not used: Prometheus is configured, and its history wins over two samples',
    );
  });
});
