// `etcd-health check ehc/NAME`: the forms that name a CR, the flags that go with one, and the
// flags that cannot.
import { describe, expect, it } from '@jest/globals';
import { parseCheckArgs, type CheckArgs, type Environment } from '../../src/cli/check-args.js';

function run(argv: string[], env: Environment = {}): CheckArgs {
  const parsed = parseCheckArgs(argv, env);
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(parsed)}`);
  return parsed.args;
}

function error(argv: string[]): string {
  const parsed = parseCheckArgs(argv, {});
  if (parsed.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe('parseCheckArgs with a CR from the cluster', () => {
  it.each([
    [['ehc/etcd']],
    [['check', 'ehc/etcd']],
    [['etcdhealthcheck/etcd']],
    [['etcdhealthchecks/etcd']],
    [['etcdhealthchecks.etcdhealth.io/etcd']],
    [['EHC/etcd']],
    [['ehc', 'etcd']],
    [['--from-cluster', 'etcd']],
    [['check', '--from-cluster=etcd']],
  ])('reads the CR named by %j', (argv) => {
    expect(run(argv).cluster).toEqual({ name: 'etcd', compare: false });
  });

  it('takes the namespace, kubeconfig, context and --compare', () => {
    expect(
      run([
        'ehc/etcd',
        '-n',
        'openshift-etcd',
        '--kubeconfig',
        '/tmp/kc',
        '--context',
        'admin@prod',
        '--compare',
        '-o',
        'json',
        '-q',
      ]),
    ).toMatchObject({
      cluster: {
        name: 'etcd',
        namespace: 'openshift-etcd',
        kubeconfig: '/tmp/kc',
        context: 'admin@prod',
        compare: true,
      },
      output: 'json',
      quiet: true,
    });
    expect(run(['ehc/etcd', '--namespace=kube-system']).cluster?.namespace).toBe('kube-system');
    expect(run(['ehc/etcd', '-w', 'yaml']).output).toBe('yaml');
  });

  it('ignores etcdctl’s variables: the CR names its cluster and credentials', () => {
    const args = run(['ehc/etcd'], {
      ETCDCTL_ENDPOINTS: 'https://10.0.0.1:2379',
      ETCDCTL_CERT: 'client.crt',
      ETCDCTL_DIAL_TIMEOUT: 'not-a-duration',
    });
    expect(args.endpoints).toEqual([]);
    expect(args.environment.endpoints).toEqual([]);
    expect(args.cert).toBeUndefined();
  });

  it.each([
    [['ehc/etcd', '--endpoints', 'http://a:2379'], '--endpoints'],
    [['--from-cluster', 'etcd', '--endpoints', 'http://a:2379'], '--endpoints'],
    [['ehc/etcd', '-f', 'ehc.yaml'], '--filename'],
    [['ehc/etcd', '--cacert', 'ca.crt'], '--cacert'],
    [['ehc/etcd', '--prometheus', 'http://p:9090'], '--prometheus'],
    [['ehc/etcd', '--set', 'interval=5s'], '--set'],
    [['ehc/etcd', '--wal-fsync-warning', '5ms'], '--wal-fsync-warning'],
    [['ehc/etcd', '--dial-timeout', '1s'], '--dial-timeout'],
    [['ehc/etcd', '--watch'], '--watch'],
    [['ehc/etcd', '--sample-window', '30s'], '--sample-window'],
    [['ehc/etcd', '--metrics-urls', 'http://a:2381'], '--metrics-urls'],
  ])('refuses %j: %s cannot go with a CR from the cluster', (argv, flag) => {
    const message = error(argv);
    expect(message).toContain(`${flag} cannot go with a CR from the cluster`);
    expect(message).toContain('-f ehc.yaml');
  });

  it('names every conflicting flag at once', () => {
    expect(error(['ehc/etcd', '--endpoints', 'http://a:2379', '--cacert', 'ca.crt'])).toMatch(
      /^--endpoints, --cacert cannot go/,
    );
  });

  it('refuses two CRs, a CR without a name, and a second argument', () => {
    expect(error(['ehc/a', '--from-cluster', 'b'])).toBe(
      '--from-cluster b and ehc/a both name a CR: give one of them',
    );
    expect(error(['ehc/'])).toBe('"ehc/" names no CR: write ehc/NAME');
    expect(error(['ehc'])).toBe('"ehc" names no CR: write ehc/NAME');
    expect(error(['ehc/a', 'b'])).toBe('unexpected argument "b": check takes one CR');
    expect(error(['ehc', 'a', 'b'])).toBe('unexpected argument "b": check takes one CR');
  });

  it('refuses names and namespaces Kubernetes would not accept (they go into the request path)', () => {
    expect(error(['ehc/../secrets'])).toMatch(/^"..\/secrets" is not an object name/);
    expect(error(['ehc/Etcd'])).toMatch(/^"Etcd" is not an object name/);
    expect(error(['ehc/etcd', '-n', 'a.b'])).toMatch(/^--namespace "a.b" is not a namespace name/);
    expect(error(['ehc/etcd', '-n', 'x'.repeat(64)])).toMatch(/is not a namespace name/);
  });

  it('refuses the cluster flags without a CR, and other arguments as before', () => {
    expect(error(['--endpoints', 'http://a:2379', '-n', 'etcd'])).toMatch(
      /^--namespace is for a CR read from the cluster/,
    );
    expect(error(['--endpoints', 'http://a:2379', '--compare'])).toMatch(/^--compare is for a CR/);
    expect(error(['pods/etcd'])).toMatch(/^unexpected argument "pods\/etcd": every input is a flag/);
    expect(run(['--endpoints', 'http://a:2379']).cluster).toBeUndefined();
  });
});
