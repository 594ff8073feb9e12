// Operator configuration from flags and environment, validated with zod so a typo is a readable
// error at start-up rather than a surprise later. Flags win over environment variables.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { z } from 'zod';
import { prometheusUrlProblem } from '../api/v1alpha1/prometheus-url.js';
import { DURATION_PATTERN, parseDurationMs } from '../api/v1alpha1/units.js';
import { parseCidr } from '../sources/etcd/endpoint-policy.js';

const durationMs = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 15s, 2m or 1h30m')
  .transform(parseDurationMs);

const bindAddress = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:]+\]|[0-9.]*|[a-zA-Z0-9.-]+):[0-9]{1,5}$/,
    'must be host:port, e.g. :8080 or 127.0.0.1:8080',
  )
  .or(z.literal('0'));

const prometheusUrlPrefix = z.string().superRefine((url, ctx) => {
  const problem = prometheusUrlProblem(url);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${url} ${problem}` });
});
const namespaceName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name');

export const OperatorOptionsSchema = z
  .object({
    kubeconfig: z.string().optional(),
    namespaces: z.array(namespaceName),
    concurrency: z.coerce.number().int().min(1).max(256),
    leaderElect: z.boolean(),
    leaderElectionNamespace: z
      .string()
      .min(1, 'is required when leader election is on (or set POD_NAMESPACE)')
      .optional(),
    leaderElectionId: z.string().min(1),
    leaseDurationMs: durationMs,
    renewDeadlineMs: durationMs,
    retryPeriodMs: durationMs,
    identity: z.string().min(1),
    metricsBindAddress: bindAddress,
    healthBindAddress: bindAddress,
    // Prometheus policy: which URLs checks may use, which get the operator's token, and the TLS
    // trust for the token.
    prometheusUrlAllow: z.array(prometheusUrlPrefix),
    prometheusTokenUrls: z.array(prometheusUrlPrefix),
    prometheusTokenCaFiles: z.array(z.string().min(1)),
    statusHeartbeatMs: durationMs,
    statusTolerance: z.coerce.number().min(0).max(1),
    sourceCacheTtlMs: durationMs.refine(
      (ms) => ms <= 60_000,
      'must be at most 1m: answers older than that are stale',
    ),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    // What a check may make the operator reach (docs/security.md).
    discoveryNamespaces: z.array(namespaceName),
    etcdEndpointCidrs: z.array(
      z
        .string()
        .refine((text) => parseCidr(text) !== undefined, 'must be a network such as 10.0.0.0/8 or fd00::/8'),
    ),
  })
  .refine((o) => !o.leaderElect || o.leaderElectionNamespace, {
    message: 'leader election needs --leader-election-namespace or POD_NAMESPACE',
    path: ['leaderElectionNamespace'],
  })
  .refine((o) => o.renewDeadlineMs < o.leaseDurationMs && o.retryPeriodMs < o.renewDeadlineMs, {
    message: 'need retry-period < renew-deadline < lease-duration',
    path: ['renewDeadlineMs'],
  });

export type OperatorOptions = z.output<typeof OperatorOptionsSchema>;

export const USAGE = `Usage: etcd-health-operator [flags]

  --kubeconfig PATH                 kubeconfig; default $KUBECONFIG, ~/.kube/config, then in-cluster
  --namespace NS                    watch only this namespace (repeatable); default all ($WATCH_NAMESPACE, comma-separated)
  --concurrency N                   reconciles running at once across CRs (default 10)
  --leader-elect=false              disable leader election (default on)
  --leader-election-namespace NS    namespace of the Lease (default $POD_NAMESPACE)
  --leader-election-id NAME         name of the Lease (default etcd-health-operator)
  --lease-duration D                default 15s
  --renew-deadline D                default 10s
  --retry-period D                  default 2s
  --metrics-bind-address ADDR       /metrics listener (default :8080; 0 disables)
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
    metricsBindAddress: str('metrics-bind-address') ?? ':8080',
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
