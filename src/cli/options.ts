// The operator's command line: flags and environment variables (flags win) into the validated
// options of src/controller/options.ts.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { OperatorOptionsSchema, type OperatorOptions } from '../controller/options.js';

export const USAGE = `Usage: etcd-health-operator [flags]
       etcd-health-operator check [flags]   the same as etcd-health check (see its --help)

  --kubeconfig PATH                 kubeconfig; default $KUBECONFIG, ~/.kube/config, then in-cluster
  --namespace NS                    watch only this namespace (repeatable); default all ($WATCH_NAMESPACE, comma-separated)
  --concurrency N                   reconciles running at once across CRs (default 10)
  --leader-elect=false              disable leader election (default on)
  --leader-election-namespace NS    namespace of the Lease (default $POD_NAMESPACE)
  --leader-election-id NAME         name of the Lease (default etcd-health-operator)
  --lease-duration D                default 15s
  --renew-deadline D                default 10s
  --retry-period D                  default 2s
  --metrics-bind-address ADDR       /metrics listener (default :8443, or :8080 with --metrics-secure=false; 0 disables)
  --metrics-secure=false            serve /metrics over plain HTTP to anyone (default: HTTPS, and only to bearer
                                    tokens the API server authenticates whose user may get /metrics)
  --metrics-cert-dir DIR            tls.crt and tls.key for /metrics, re-read when they change (default: a
                                    self-signed certificate made at start-up)
  --health-bind-address ADDR        /healthz and /readyz listener (default :8081; 0 disables)
  --prometheus-url-allow URL        checks may query only Prometheus URLs under URL (repeatable; default any)
  --prometheus-sa-token-url URL     allow the operator's ServiceAccount token for Prometheus URLs under URL (repeatable)
  --prometheus-sa-token-ca-file F   CA bundle trusted for requests carrying the operator's token (repeatable;
                                    default the system CAs plus, in a pod, the service CA)
  --status-heartbeat D              write status at least this often (default 5m)
  --status-tolerance F              relative change of a shown value that is worth a write (default 0.1)
  --source-cache-ttl D              share etcd and Prometheus answers between checks asking within D (default 5s; 0s: off)
  --log-level LEVEL                 trace, debug, info, warn, error (default info)
  --discovery-namespace NS          checks in any namespace may discover etcd pods in NS (repeatable); by default only in their own
  --etcd-endpoint-cidr CIDR         dial etcd only at IP addresses inside CIDR (repeatable); default any address
  --help                            this text
`;

export type ParsedOptions =
  { ok: true; options: OperatorOptions } | { ok: false; error: string } | { ok: 'help' };

export function parseOperatorOptions(argv: string[], env: NodeJS.ProcessEnv): ParsedOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        'leader-elect': { type: 'string' },
        'leader-election-namespace': { type: 'string' },
        'leader-election-id': { type: 'string' },
        'lease-duration': { type: 'string' },
        'renew-deadline': { type: 'string' },
        'retry-period': { type: 'string' },
        'metrics-bind-address': { type: 'string' },
        'metrics-secure': { type: 'string' },
        'metrics-cert-dir': { type: 'string' },
        'health-bind-address': { type: 'string' },
        'prometheus-url-allow': { type: 'string', multiple: true },
        'prometheus-sa-token-url': { type: 'string', multiple: true },
        'prometheus-sa-token-ca-file': { type: 'string', multiple: true },
        'status-heartbeat': { type: 'string' },
        'status-tolerance': { type: 'string' },
        'source-cache-ttl': { type: 'string' },
        'log-level': { type: 'string' },
        'discovery-namespace': { type: 'string', multiple: true },
        'etcd-endpoint-cidr': { type: 'string', multiple: true },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  if (values.help) return { ok: 'help' };
  const str = (key: string) => values[key] as string | undefined;
  const list = (key: string) => values[key] as string[] | undefined;
  const leaderElect = str('leader-elect') ?? 'true';
  if (leaderElect !== 'true' && leaderElect !== 'false') {
    return { ok: false, error: '--leader-elect: must be true or false' };
  }
  const metricsSecure = str('metrics-secure') ?? 'true';
  if (metricsSecure !== 'true' && metricsSecure !== 'false') {
    return { ok: false, error: '--metrics-secure: must be true or false' };
  }
  const candidate = {
    kubeconfig: str('kubeconfig') ?? env.KUBECONFIG,
    namespaces: list('namespace') ?? splitList(env.WATCH_NAMESPACE),
    concurrency: str('concurrency') ?? '10',
    leaderElect: leaderElect === 'true',
    leaderElectionNamespace: str('leader-election-namespace') ?? env.POD_NAMESPACE,
    leaderElectionId: str('leader-election-id') ?? 'etcd-health-operator',
    leaseDurationMs: str('lease-duration') ?? '15s',
    renewDeadlineMs: str('renew-deadline') ?? '10s',
    retryPeriodMs: str('retry-period') ?? '2s',
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    metricsBindAddress: str('metrics-bind-address') ?? (metricsSecure === 'true' ? ':8443' : ':8080'),
    metricsSecure: metricsSecure === 'true',
    metricsCertDir: str('metrics-cert-dir'),
    healthBindAddress: str('health-bind-address') ?? ':8081',
    prometheusUrlAllow: list('prometheus-url-allow') ?? splitList(env.PROMETHEUS_URL_ALLOW),
    prometheusTokenUrls: list('prometheus-sa-token-url') ?? splitList(env.PROMETHEUS_SA_TOKEN_URLS),
    prometheusTokenCaFiles: list('prometheus-sa-token-ca-file') ?? [],
    statusHeartbeatMs: str('status-heartbeat') ?? '5m',
    statusTolerance: str('status-tolerance') ?? '0.1',
    sourceCacheTtlMs: str('source-cache-ttl') ?? '5s',
    logLevel: str('log-level') ?? env.LOG_LEVEL ?? 'info',
    discoveryNamespaces: list('discovery-namespace') ?? [],
    etcdEndpointCidrs: list('etcd-endpoint-cidr') ?? [],
  };
  const parsed = OperatorOptionsSchema.safeParse(candidate);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `--${flagName(issue.path)}: ${issue.message}`);
    return { ok: false, error: lines.join('\n') };
  }
  return { ok: true, options: parsed.data };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const FLAG_NAMES: Record<string, string> = {
  namespaces: 'namespace',
  leaderElect: 'leader-elect',
  leaderElectionNamespace: 'leader-election-namespace',
  leaderElectionId: 'leader-election-id',
  leaseDurationMs: 'lease-duration',
  renewDeadlineMs: 'renew-deadline',
  retryPeriodMs: 'retry-period',
  metricsBindAddress: 'metrics-bind-address',
  metricsSecure: 'metrics-secure',
  metricsCertDir: 'metrics-cert-dir',
  healthBindAddress: 'health-bind-address',
  prometheusUrlAllow: 'prometheus-url-allow',
  prometheusTokenUrls: 'prometheus-sa-token-url',
  prometheusTokenCaFiles: 'prometheus-sa-token-ca-file',
  statusHeartbeatMs: 'status-heartbeat',
  statusTolerance: 'status-tolerance',
  sourceCacheTtlMs: 'source-cache-ttl',
  logLevel: 'log-level',
  discoveryNamespaces: 'discovery-namespace',
  etcdEndpointCidrs: 'etcd-endpoint-cidr',
};

function flagName(path: PropertyKey[]): string {
  const key = String(path[0] ?? '');
  return FLAG_NAMES[key] ?? key;
}
