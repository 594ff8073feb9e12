import { describe, expect, it } from '@jest/globals';
import { parseOperatorOptions } from '../../src/cli/options.js';

const env = { POD_NAMESPACE: 'etcd-health-operator', POD_NAME: 'op-1' };

describe('parseOperatorOptions', () => {
  it('applies defaults', () => {
    const parsed = parseOperatorOptions([], env);
    expect(parsed).toMatchObject({
      ok: true,
      options: {
        namespaces: [],
        concurrency: 10,
        leaderElect: true,
        leaderElectionNamespace: 'etcd-health-operator',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        identity: 'op-1',
        statusHeartbeatMs: 300_000,
        sourceCacheTtlMs: 5_000,
        prometheusTokenUrls: [],
        prometheusUrlAllow: [],
        prometheusTokenCaFiles: [],
        discoveryNamespaces: [],
        etcdEndpointCidrs: [],
      },
    });
  });

  it('reads the Prometheus policy flags', () => {
    const parsed = parseOperatorOptions(
      [
        '--prometheus-url-allow=https://thanos:9091',
        '--prometheus-url-allow=https://prom.example/tenants',
        '--prometheus-sa-token-ca-file=/etc/ca/a.crt',
        '--prometheus-sa-token-ca-file=/etc/ca/b.crt',
      ],
      { ...env, PROMETHEUS_URL_ALLOW: 'https://ignored.example' },
    );
    expect(parsed).toMatchObject({
      ok: true,
      options: {
        prometheusUrlAllow: ['https://thanos:9091', 'https://prom.example/tenants'],
        prometheusTokenCaFiles: ['/etc/ca/a.crt', '/etc/ca/b.crt'],
      },
    });
  });

  it('reads the reach policy: discovery namespaces and etcd endpoint networks, repeatable', () => {
    const parsed = parseOperatorOptions(
      [
        '--discovery-namespace=openshift-etcd',
        '--discovery-namespace=kube-system',
        '--etcd-endpoint-cidr=10.0.0.0/8',
        '--etcd-endpoint-cidr=fd00::/8',
      ],
      env,
    );
    expect(parsed).toMatchObject({
      ok: true,
      options: {
        discoveryNamespaces: ['openshift-etcd', 'kube-system'],
        etcdEndpointCidrs: ['10.0.0.0/8', 'fd00::/8'],
      },
    });
  });

  it('reads repeatable flags and environment lists', () => {
    const parsed = parseOperatorOptions(['--namespace', 'a', '--namespace', 'b'], {
      ...env,
      PROMETHEUS_SA_TOKEN_URLS: 'https://thanos:9091',
    });
    expect(parsed).toMatchObject({
      ok: true,
      options: { namespaces: ['a', 'b'], prometheusTokenUrls: ['https://thanos:9091'] },
    });
  });

  it.each([
    [['--concurrency', 'lots'], /--concurrency: /],
    [['--lease-duration', '15'], /--lease-duration: must be a duration/],
    [['--renew-deadline', '20s'], /--renew-deadline: need retry-period < renew-deadline < lease-duration/],
    [['--metrics-bind-address', 'localhost'], /--metrics-bind-address: must be host:port/],
    [['--prometheus-sa-token-url', 'ftp://x'], /--prometheus-sa-token-url: /],
    [
      ['--prometheus-sa-token-url', 'https://thanos:9091/api?query=up'],
      /--prometheus-sa-token-url: https:\/\/thanos:9091\/api\?query=up must not have a query or fragment/,
    ],
    [
      ['--prometheus-url-allow', 'https://prom/a/../b'],
      /--prometheus-url-allow: .* must not have \. or \.\. path/,
    ],
    [['--leader-elect', 'maybe'], /--leader-elect: must be true or false/],
    [['--unknown'], /Unknown option '--unknown'/],
    [['--log-level', 'loud'], /--log-level: /],
    [['--source-cache-ttl', '5'], /--source-cache-ttl: must be a duration/],
    [['--source-cache-ttl', '2m'], /--source-cache-ttl: must be at most 1m/],
    [['--discovery-namespace', 'Kube_System'], /--discovery-namespace: must be a namespace name/],
    [['--etcd-endpoint-cidr', '10.0.0.1'], /--etcd-endpoint-cidr: must be a network such as 10\.0\.0\.0\/8/],
  ])('rejects %j with a readable error', (argv, message) => {
    const parsed = parseOperatorOptions(argv, env);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok === false && parsed.error).toMatch(message);
  });

  it('needs a lease namespace when leader election is on', () => {
    const parsed = parseOperatorOptions([], {});
    expect(parsed.ok === false && parsed.error).toMatch(/--leader-election-namespace: leader election needs/);
    expect(parseOperatorOptions(['--leader-elect=false'], {}).ok).toBe(true);
  });
});
