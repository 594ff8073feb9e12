// Flags of `etcd-health check`, parsed with node:util parseArgs. Pure: no file is read here, so
// every rule (what a flag means, which flags go together) is testable without a filesystem.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OutputFormat = 'text' | 'json' | 'yaml';

/** One `--set path=value` (or a threshold shortcut turned into one), in command-line order. */
export interface SpecOverride {
  /** Dotted path inside the spec, e.g. ["thresholds", "walFsyncP99", "warning"]. */
  path: string[];
  value: string;
  /** The flag as typed, for error messages. */
  flag: string;
}

export interface CheckArgs {
  file?: string;
  /** Which EtcdHealthCheck of a multi-document file. */
  name?: string;
  endpoints: string[];
  prometheus?: string;
  labelMatchers: string[];
  rateWindow?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  prometheusCacert?: string;
  prometheusTokenFile?: string;
  insecureSkipTlsVerify: boolean;
  overrides: SpecOverride[];
  output: OutputFormat;
  quiet: boolean;
}

export type ParsedCheckArgs =
  { kind: 'run'; args: CheckArgs } | { kind: 'help' } | { kind: 'error'; message: string };

export const USAGE = `Usage: etcd-health check [flags]

Runs one health assessment of an etcd cluster, without Kubernetes, and prints what the operator
would write to an EtcdHealthCheck: the conditions, the members and the recommendations.

Where to look (a CR file, flags, or both; flags win over the file):
  -f, --filename FILE            an EtcdHealthCheck manifest, YAML or JSON ("-" reads stdin)
      --name NAME                which EtcdHealthCheck, when FILE holds several
      --endpoints URLS           etcd client URLs, comma-separated or repeated, e.g.
                                 https://10.0.0.11:2379; without a scheme, https:// when --cacert
                                 is given and http:// otherwise (as etcdctl does)
      --prometheus URL           Prometheus or Thanos querier; without it the metric-based checks
                                 (disk latency, leader changes, peer round trip, ...) are skipped
      --label-matcher M          PromQL matcher added to every etcd query (repeatable), e.g.
                                 'job="etcd"' (default 'job=~".*etcd.*"')
      --rate-window D            window of rate() and histogram_quantile() (default 5m)

TLS, from files (a CR's Secret and ConfigMap references need a cluster, so pass the files):
      --cacert FILE              CA bundle that signed the etcd members' certificates
      --cert FILE, --key FILE    etcd client certificate and key
      --prometheus-cacert FILE   CA bundle of Prometheus
      --prometheus-token-file F  bearer token sent to Prometheus
      --insecure-skip-tls-verify do not verify Prometheus' certificate (tests only)

Thresholds and other spec fields:
      --wal-fsync-warning D, --wal-fsync-critical D            default 10ms, 50ms
      --backend-commit-warning D, --backend-commit-critical D  default 25ms, 100ms
      --peer-rtt-warning D, --peer-rtt-critical D              default 50ms, 150ms
      --dial-timeout D, --request-timeout D                    etcd timeouts, default 2s, 5s
      --set PATH=VALUE           any spec field (repeatable, applied in order), e.g.
                                 --set thresholds.walFsyncP99.warning=10ms
                                 --set thresholds.quotaUsage.warningPercent=70

Output:
  -o, --output text|json|yaml    text (default) for people; json and yaml print
                                 {result: {verdict, exitCode, reasons}, status: <the CR status>}
  -q, --quiet                    no progress line on stderr
  -h, --help                     this text

A one-shot check has no history, so a critical check turns Degraded to True at once: the CR's
thresholds.degradedInertia does not apply. Nothing is ever changed in etcd.

Exit codes:
  0  healthy: every check passed
  1  warnings: something needs attention, or a configured source answered only in part
     (e.g. a member down while quorum holds, a latency above its warning threshold)
  2  critical: a check is critical (no quorum, no leader, a latency or size above its
     critical threshold, an alarm)
  3  could not assess: invalid input, or no etcd member answered

Examples:
  etcd-health check --endpoints https://10.0.0.11:2379,https://10.0.0.12:2379 \\
    --cacert ca.crt --cert client.crt --key client.key --prometheus http://prometheus:9090
  etcd-health check -f deploy/samples/kubernetes.yaml --cacert ca.crt --cert tls.crt --key tls.key
  etcd-health check --endpoints http://127.0.0.1:2379 -o json | jq .result
`;

/** Shortcut flags and the spec field each one sets. */
const SHORTCUTS: Record<string, string> = {
  'wal-fsync-warning': 'thresholds.walFsyncP99.warning',
  'wal-fsync-critical': 'thresholds.walFsyncP99.critical',
  'backend-commit-warning': 'thresholds.backendCommitP99.warning',
  'backend-commit-critical': 'thresholds.backendCommitP99.critical',
  'peer-rtt-warning': 'thresholds.peerRoundTripP99.warning',
  'peer-rtt-critical': 'thresholds.peerRoundTripP99.critical',
  'dial-timeout': 'etcd.dialTimeout',
  'request-timeout': 'etcd.requestTimeout',
};

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  name: { type: 'string' },
  endpoints: { type: 'string', multiple: true },
  prometheus: { type: 'string' },
  'label-matcher': { type: 'string', multiple: true },
  'rate-window': { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'prometheus-cacert': { type: 'string' },
  'prometheus-token-file': { type: 'string' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  set: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(Object.keys(SHORTCUTS).map((flag) => [flag, { type: 'string' as const }])),
} satisfies ParseArgsConfig['options'];

export function parseCheckArgs(argv: readonly string[]): ParsedCheckArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    // parseArgs' messages name the flag ("Unknown option '--endpoint'"); the hint says where to look.
    return { kind: 'error', message: `${(error as Error).message.replace(/\. To specify.*$/s, '')}` };
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) return { kind: 'help' };

  // `etcd-health check ...` (the bin) and `tsx src/cli/check.ts ...` (no subcommand) both work.
  const rest = positionals[0] === 'check' ? positionals.slice(1) : positionals;
  if (rest.length > 0) {
    return {
      kind: 'error',
      message: `unexpected argument ${JSON.stringify(rest[0])}: every input is a flag (e.g. --endpoints ${rest[0]})`,
    };
  }

  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json' && output !== 'yaml') {
    return { kind: 'error', message: `--output must be text, json or yaml, not ${JSON.stringify(output)}` };
  }

  const endpoints = (values.endpoints ?? [])
    .flatMap((list) => list.split(','))
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== '');
  if (values.endpoints && endpoints.length === 0) {
    return {
      kind: 'error',
      message: '--endpoints is empty: give at least one URL, e.g. --endpoints http://127.0.0.1:2379',
    };
  }

  const overrides: SpecOverride[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || token.value === undefined) continue;
    if (token.name === 'set') {
      const override = parseSet(token.value);
      if (typeof override === 'string') return { kind: 'error', message: override };
      overrides.push(override);
    } else if (token.name in SHORTCUTS) {
      overrides.push({
        path: SHORTCUTS[token.name]!.split('.'),
        value: token.value,
        flag: `--${token.name}`,
      });
    }
  }

  if ((values.cert === undefined) !== (values.key === undefined)) {
    return {
      kind: 'error',
      message: `${values.cert === undefined ? '--key' : '--cert'} needs ${values.cert === undefined ? '--cert' : '--key'}: a client certificate is a pair of files`,
    };
  }
  if (values.cert !== undefined && values.cacert === undefined) {
    return {
      kind: 'error',
      message: "--cert and --key need --cacert: the CA bundle that signed the members' certificates (ca.crt)",
    };
  }

  const args: CheckArgs = {
    file: values.filename,
    name: values.name,
    endpoints: endpoints.map((endpoint) => withScheme(endpoint, values.cacert !== undefined)),
    prometheus: values.prometheus,
    labelMatchers: values['label-matcher'] ?? [],
    rateWindow: values['rate-window'],
    cacert: values.cacert,
    cert: values.cert,
    key: values.key,
    prometheusCacert: values['prometheus-cacert'],
    prometheusTokenFile: values['prometheus-token-file'],
    insecureSkipTlsVerify: values['insecure-skip-tls-verify'] ?? false,
    overrides,
    output,
    quiet: values.quiet ?? false,
  };
  if (args.file === undefined && args.endpoints.length === 0) {
    return {
      kind: 'error',
      message:
        'nothing to check: pass the etcd client URLs with --endpoints, or an EtcdHealthCheck manifest with -f FILE',
    };
  }
  return { kind: 'run', args };
}

function parseSet(text: string): SpecOverride | string {
  const equals = text.indexOf('=');
  const rawPath = equals < 0 ? '' : text.slice(0, equals).trim();
  if (equals < 0 || rawPath === '') {
    return `--set ${JSON.stringify(text)}: expected PATH=VALUE, e.g. --set thresholds.walFsyncP99.warning=10ms`;
  }
  const path = rawPath.replace(/^spec\./, '').split('.');
  if (path.some((part) => part === '')) {
    return `--set ${JSON.stringify(text)}: the path ${JSON.stringify(rawPath)} has an empty part`;
  }
  return { path, value: text.slice(equals + 1), flag: `--set ${text}` };
}

/** etcdctl's rule: an endpoint without a scheme is https when a CA is given, http otherwise. */
export function withScheme(endpoint: string, tls: boolean): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${tls ? 'https' : 'http'}://${endpoint}`;
}
