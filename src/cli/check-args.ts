// Flags of `etcd-health check`, parsed with node:util parseArgs. Pure: no file is read here, so
// every rule (what a flag means, which flags go together) is testable without a filesystem.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DURATION_PATTERN, parseDurationMs } from '../api/v1alpha1/units.js';
import { parseClusterTarget, type ClusterTarget } from './cluster-args.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

/** One `--set path=value` (or a threshold shortcut turned into one), in command-line order. */
export interface SpecOverride {
  /** Dotted path inside the spec, e.g. ["thresholds", "walFsyncP99", "warning"]. */
  path: string[];
  value: string;
  /** The flag as typed, for error messages. */
  flag: string;
}

/** The process environment, or a map in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * etcdctl's variables that name spec fields. They sit below the flags and below the file: a file
 * names its cluster, and a shell's ETCDCTL_ENDPOINTS must not point the check at another one.
 */
export interface EtcdEnvironment {
  /** ETCDCTL_ENDPOINTS, with a scheme. */
  endpoints: string[];
  /** ETCDCTL_DIAL_TIMEOUT, for spec.etcd.dialTimeout. */
  dialTimeout?: string;
  /** ETCDCTL_COMMAND_TIMEOUT, for spec.etcd.requestTimeout. */
  commandTimeout?: string;
}

/** The flag or variable a TLS file was named by, for messages. */
export interface TlsOrigin {
  cacert: string;
  cert: string;
  key: string;
}

export interface CheckArgs {
  file?: string;
  /** Which EtcdHealthCheck of a multi-document file. */
  name?: string;
  /** From --endpoints only; ETCDCTL_ENDPOINTS is in `environment`. */
  endpoints: string[];
  environment: EtcdEnvironment;
  prometheus?: string;
  labelMatchers: string[];
  rateWindow?: string;
  /** --sample-window: how far apart the two samples of /metrics are, without Prometheus; "0s" samples nothing. */
  sampleWindow?: string;
  /** --metrics-urls: where the members serve /metrics, when not on their client URLs. */
  metricsUrls: string[];
  /** --cacert, --cert and --key, else ETCDCTL_CACERT, ETCDCTL_CERT and ETCDCTL_KEY. */
  cacert?: string;
  cert?: string;
  key?: string;
  tlsOrigin: TlsOrigin;
  prometheusCacert?: string;
  prometheusTokenFile?: string;
  prometheusInsecureSkipTlsVerify: boolean;
  overrides: SpecOverride[];
  output: OutputFormat;
  quiet: boolean;
  /** --watch: re-run until Ctrl-C; `interval` absent means the default (the file's spec.interval, else 10s). */
  watch?: { interval?: string };
  /** `ehc/NAME` or --from-cluster NAME: the CR is read from the cluster (see cluster-args.ts). */
  cluster?: ClusterTarget;
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
      --prometheus URL           Prometheus or Thanos querier; without it the members' own
                                 /metrics are sampled instead (see --sample-window)
      --label-matcher M          PromQL matcher added to every etcd query (repeatable), e.g.
                                 'job="etcd"' (default 'job=~".*etcd.*"')
      --rate-window D            window of rate() and histogram_quantile() (default 5m)

Without Prometheus (no --prometheus and no spec.prometheus in the file):
      --sample-window D          read every member's /metrics twice, D apart (default 15s), and
                                 compute the WAL fsync, backend commit and peer round trip p99
                                 and the slow apply, read index, proposal and gRPC failure rates
                                 from the two samples, as histogram_quantile(rate()) would; leader
                                 changes and DB growth need Prometheus' history and are skipped.
                                 etcd observes each peer's round trip every 30s: below 31s a peer
                                 may have none in the window (Unknown). 0s samples nothing: the
                                 metric-based checks are skipped
      --metrics-urls URLS        where the members serve /metrics, comma-separated or repeated,
                                 when not on their client URLs (etcd's --listen-metrics-urls,
                                 OpenShift's https://<node>:9979); a URL without a path gets
                                 /metrics; https URLs use the etcd TLS flags below

TLS, from files (a CR's Secret and ConfigMap references need a cluster, so pass the files):
      --cacert FILE              CA bundle that signed the etcd members' certificates
      --cert FILE, --key FILE    etcd client certificate and key
      --insecure-skip-tls-verify refused: the etcd client always verifies the members'
                                 certificates, so pass their CA with --cacert
      --prometheus-cacert FILE   CA bundle of Prometheus
      --prometheus-token-file F  bearer token sent to Prometheus
      --prometheus-insecure-skip-tls-verify
                                 do not verify Prometheus' certificate (tests only); formerly
                                 --insecure-skip-tls-verify, which now means etcd, as in etcdctl

Thresholds and other spec fields:
      --wal-fsync-warning D, --wal-fsync-critical D            default 10ms, 50ms
      --backend-commit-warning D, --backend-commit-critical D  default 25ms, 100ms
      --peer-rtt-warning D, --peer-rtt-critical D              default 50ms, 150ms
      --dial-timeout D           time to connect to one member (default 2s)
      --command-timeout D        time for one call to one member (default 5s);
                                 --request-timeout D is the same (spec.etcd.requestTimeout)
      --set PATH=VALUE           any spec field (repeatable, applied in order), e.g.
                                 --set thresholds.walFsyncP99.warning=10ms
                                 --set thresholds.quotaUsage.warningPercent=70

Environment, as etcdctl reads it (flags win over the file, the file over these variables):
  ETCDCTL_ENDPOINTS              --endpoints
  ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY                  --cacert, --cert, --key
  ETCDCTL_DIAL_TIMEOUT, ETCDCTL_COMMAND_TIMEOUT              --dial-timeout, --command-timeout
  Durations are written as etcdctl's: 500ms, 5s, 2m, 1m30s.

From the cluster (the CR, its Secrets, ConfigMaps and discovery read with your kubeconfig):
  ehc/NAME, etcdhealthcheck/NAME, --from-cluster NAME
                                 check this EtcdHealthCheck as the operator does; flags that
                                 change where etcd is or the spec (--endpoints, -f, --cacert,
                                 --set, ...) cannot go with it, ETCDCTL_* variables are ignored
  -n, --namespace NS             its namespace (default: the kubeconfig context's, else default)
      --kubeconfig FILE          default $KUBECONFIG, then ~/.kube/config
      --context NAME             a kubeconfig context other than the current one
      --compare                  also print the status the operator last wrote, beside the
                                 fresh verdict, with the differences marked

Output:
  -o, --output text|json|yaml    text (default) for people; json and yaml print
                                 {result: {verdict, exitCode, reasons}, status: <the CR status>}
  -w, --write-out FORMAT         the same as -o (etcdctl's name)
  -q, --quiet                    no progress line on stderr
      --watch[=D]                re-run every D (default: the file's spec.interval, else 10s)
                                 until Ctrl-C: on a terminal the report is redrawn in place,
                                 otherwise (or with -o json) one JSON line per run (-o yaml:
                                 one YAML document per run); condition transitions since the
                                 last run are highlighted, the inertia of Degraded applies, and
                                 the exit code is the last run's
  -h, --help                     this text

A one-shot check has no history, so a critical check turns Degraded to True at once: the CR's
thresholds.degradedInertia does not apply (with --watch it does). Nothing is ever changed in etcd.

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
  etcd-health check ehc/etcd -n openshift-etcd --compare
  etcd-health check --endpoints https://10.0.0.11:2379 --cacert ca.crt --cert client.crt \\
    --key client.key --metrics-urls http://10.0.0.11:2381 --sample-window 30s
  ETCDCTL_ENDPOINTS=https://10.0.0.11:2379 ETCDCTL_CACERT=ca.crt ETCDCTL_CERT=client.crt \\
    ETCDCTL_KEY=client.key etcd-health check
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
  'command-timeout': 'etcd.requestTimeout',
  'request-timeout': 'etcd.requestTimeout',
};

/** Flags whose values are checked here, to name the flag in the message rather than the spec path. */
const TIMEOUT_FLAGS = new Set(['dial-timeout', 'command-timeout', 'request-timeout']);

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  name: { type: 'string' },
  endpoints: { type: 'string', multiple: true },
  prometheus: { type: 'string' },
  'label-matcher': { type: 'string', multiple: true },
  'rate-window': { type: 'string' },
  'sample-window': { type: 'string' },
  'metrics-urls': { type: 'string', multiple: true },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'prometheus-cacert': { type: 'string' },
  'prometheus-token-file': { type: 'string' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  'prometheus-insecure-skip-tls-verify': { type: 'boolean' },
  set: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  'write-out': { type: 'string', short: 'w' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  watch: { type: 'string' },
  'from-cluster': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  compare: { type: 'boolean' },
  ...Object.fromEntries(Object.keys(SHORTCUTS).map((flag) => [flag, { type: 'string' as const }])),
} satisfies ParseArgsConfig['options'];

export function parseCheckArgs(argv: readonly string[], env: Environment = {}): ParsedCheckArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: watchWithValue(argv),
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
  const given = new Set(tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : [])));
  const cluster = parseClusterTarget(rest, values, given, Object.keys(SHORTCUTS));
  if (typeof cluster === 'string') return { kind: 'error', message: cluster };
  if (rest.length > 0 && cluster === undefined) {
    return {
      kind: 'error',
      message: `unexpected argument ${JSON.stringify(rest[0])}: every input is a flag (e.g. --endpoints ${rest[0]})`,
    };
  }

  if (values['insecure-skip-tls-verify']) {
    return {
      kind: 'error',
      message:
        "--insecure-skip-tls-verify: check cannot skip the verification of etcd's certificates (its gRPC " +
        'client always verifies them); pass the CA that signed them with --cacert (on a kubeadm node ' +
        '/etc/kubernetes/pki/etcd/ca.crt). To skip the verification of Prometheus, the flag is now ' +
        '--prometheus-insecure-skip-tls-verify',
    };
  }

  // -o and -w are one flag: the last one given wins, as a repeated flag does.
  const outputToken = tokens.findLast(
    (token) => token.kind === 'option' && (token.name === 'output' || token.name === 'write-out'),
  );
  const output = outputToken?.kind === 'option' ? (outputToken.value ?? '') : 'text';
  if (output !== 'text' && output !== 'json' && output !== 'yaml') {
    const flag = outputToken?.kind === 'option' ? outputToken.name : 'output';
    return { kind: 'error', message: `--${flag} must be text, json or yaml, not ${JSON.stringify(output)}` };
  }

  if (cluster) {
    // The CR names its cluster and credentials: nothing below (flags, ETCDCTL_*) applies.
    const args: CheckArgs = {
      endpoints: [],
      environment: { endpoints: [] },
      labelMatchers: [],
      metricsUrls: [],
      tlsOrigin: { cacert: '--cacert', cert: '--cert', key: '--key' },
      prometheusInsecureSkipTlsVerify: false,
      overrides: [],
      output,
      quiet: values.quiet ?? false,
      cluster,
    };
    return { kind: 'run', args };
  }

  const endpoints = splitEndpoints(values.endpoints ?? []);
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
      const flag = `--${token.name}`;
      if (TIMEOUT_FLAGS.has(token.name) && !isDuration(token.value))
        return { kind: 'error', message: durationError(flag, token.value) };
      overrides.push({ path: SHORTCUTS[token.name]!.split('.'), value: token.value, flag });
    }
  }

  const sampleWindow = values['sample-window'];
  if (sampleWindow !== undefined && !isDuration(sampleWindow))
    return { kind: 'error', message: durationError('--sample-window', sampleWindow) };
  const metricsUrls = splitEndpoints(values['metrics-urls'] ?? []);
  if (values['metrics-urls'] && metricsUrls.length === 0) {
    return {
      kind: 'error',
      message: '--metrics-urls is empty: give at least one URL, e.g. --metrics-urls http://127.0.0.1:2381',
    };
  }
  const badMetricsUrl = metricsUrls.find((url) => !isHttpUrl(url));
  if (badMetricsUrl !== undefined) {
    return {
      kind: 'error',
      message: `--metrics-urls ${JSON.stringify(badMetricsUrl)}: must be an http:// or https:// URL, e.g. https://10.0.0.11:2381`,
    };
  }

  let watch: CheckArgs['watch'];
  if (values.watch !== undefined) {
    if (values.watch !== '' && !isWatchInterval(values.watch)) {
      return {
        kind: 'error',
        message: `--watch ${JSON.stringify(values.watch)}: must be a duration of at least 1s such as 5s, 1m or 1m30s`,
      };
    }
    watch = values.watch === '' ? {} : { interval: values.watch };
  }

  const environment = readEnvironment(env);
  if (typeof environment === 'string') return { kind: 'error', message: environment };

  // Each TLS file from its flag, else from etcdctl's variable: a CR file cannot name files.
  const tls = { cacert: values.cacert, cert: values.cert, key: values.key };
  const tlsOrigin: TlsOrigin = { cacert: '--cacert', cert: '--cert', key: '--key' };
  for (const name of ['cacert', 'cert', 'key'] as const) {
    const variable = `ETCDCTL_${name.toUpperCase()}`;
    const value = environmentValue(env, variable);
    if (tls[name] === undefined && value !== undefined) {
      tls[name] = value;
      tlsOrigin[name] = variable;
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const given = tls.cert === undefined ? 'key' : 'cert';
    const missing = given === 'cert' ? 'key' : 'cert';
    return {
      kind: 'error',
      message: `${tlsOrigin[given]} needs --${missing} (or ETCDCTL_${missing.toUpperCase()}): a client certificate is a pair of files`,
    };
  }
  if (tls.cert !== undefined && tls.cacert === undefined) {
    const pair = tlsOrigin.cert === '--cert' ? '--cert and --key need' : 'ETCDCTL_CERT and ETCDCTL_KEY need';
    return {
      kind: 'error',
      message: `${pair} --cacert (or ETCDCTL_CACERT): the CA bundle that signed the members' certificates (ca.crt)`,
    };
  }
  const secure = tls.cacert !== undefined;

  const args: CheckArgs = {
    file: values.filename,
    name: values.name,
    endpoints: endpoints.map((endpoint) => withScheme(endpoint, secure)),
    environment: {
      ...environment,
      endpoints: environment.endpoints.map((endpoint) => withScheme(endpoint, secure)),
    },
    prometheus: values.prometheus,
    labelMatchers: values['label-matcher'] ?? [],
    rateWindow: values['rate-window'],
    sampleWindow,
    metricsUrls,
    ...tls,
    tlsOrigin,
    prometheusCacert: values['prometheus-cacert'],
    prometheusTokenFile: values['prometheus-token-file'],
    prometheusInsecureSkipTlsVerify: values['prometheus-insecure-skip-tls-verify'] ?? false,
    overrides,
    output,
    quiet: values.quiet ?? false,
    ...(watch && { watch }),
  };
  if (args.file === undefined && args.endpoints.length === 0 && args.environment.endpoints.length === 0) {
    return {
      kind: 'error',
      message:
        'nothing to check: pass the etcd client URLs with --endpoints, or an EtcdHealthCheck manifest with -f FILE ' +
        "(or set etcdctl's ETCDCTL_ENDPOINTS)",
    };
  }
  return { kind: 'run', args };
}

/** ETCDCTL_ENDPOINTS and the timeouts; an error names the variable. */
function readEnvironment(env: Environment): EtcdEnvironment | string {
  const listed = environmentValue(env, 'ETCDCTL_ENDPOINTS');
  const endpoints = splitEndpoints(listed === undefined ? [] : [listed]);
  if (listed !== undefined && endpoints.length === 0) {
    return `ETCDCTL_ENDPOINTS=${JSON.stringify(env.ETCDCTL_ENDPOINTS)} is empty: give at least one URL, e.g. ETCDCTL_ENDPOINTS=https://127.0.0.1:2379`;
  }
  const environment: EtcdEnvironment = { endpoints };
  for (const [variable, field] of [
    ['ETCDCTL_DIAL_TIMEOUT', 'dialTimeout'],
    ['ETCDCTL_COMMAND_TIMEOUT', 'commandTimeout'],
  ] as const) {
    const value = environmentValue(env, variable);
    if (value === undefined) continue;
    if (!isDuration(value)) return durationError(variable, value);
    environment[field] = value;
  }
  return environment;
}

/** A variable's value; set but empty is unset, as a shell's `ETCDCTL_CERT= cmd` means. */
function environmentValue(env: Environment, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === '' ? undefined : value;
}

function splitEndpoints(lists: readonly string[]): string[] {
  return lists
    .flatMap((list) => list.split(','))
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== '');
}

/**
 * parseArgs has no flag with an optional value: a bare `--watch` becomes `--watch=` (the default
 * interval), and `--watch 5s` takes the duration after it, as `--watch=5s`.
 */
function watchWithValue(argv: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--watch') result.push(argv[i]!);
    else if (i + 1 < argv.length && isDuration(argv[i + 1]!)) result.push(`--watch=${argv[++i]!}`);
    else result.push('--watch=');
  }
  return result;
}

/** A watch interval: a duration of at least one second (a tighter loop only loads etcd). */
function isWatchInterval(text: string): boolean {
  return isDuration(text) && parseDurationMs(text) >= 1000;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isDuration(text: string): boolean {
  return new RegExp(DURATION_PATTERN).test(text);
}

function durationError(name: string, value: string): string {
  return `${name} ${JSON.stringify(value)}: must be a duration such as 500ms, 5s, 2m or 1m30s`;
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
