// The flags of `etcd-health check ehc/NAME` (a CR read from the cluster): which CR, which
// kubeconfig and context, --compare, and which of the other flags cannot go with it. Pure.

/** An EtcdHealthCheck to read from the cluster through the user's kubeconfig. */
export interface ClusterTarget {
  name: string;
  /** -n/--namespace; absent means the kubeconfig context's namespace, else "default". */
  namespace?: string;
  /** --kubeconfig; absent means $KUBECONFIG, then ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** --context; absent means the kubeconfig's current context. */
  context?: string;
  /** --compare: print the status the operator last wrote beside the fresh verdict. */
  compare: boolean;
}

/** The values of the flags this module reads, as node:util parseArgs returns them. */
export interface ClusterFlags {
  'from-cluster'?: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  compare?: boolean;
}

/** How kubectl names the kind: `ehc/NAME`, `etcdhealthcheck/NAME`, `etcdhealthchecks.etcdhealth.io/NAME`, ... */
const RESOURCE_NAMES = new Set(
  ['ehc', 'etcdhealthcheck', 'etcdhealthchecks'].flatMap((name) => [name, `${name}.etcdhealth.io`]),
);

/**
 * Flags that say where etcd is or what the spec is: the CR says both. ETCDCTL_* variables are
 * ignored rather than refused: a shell set up for etcdctl is common, and the CR names its cluster.
 */
const CONFLICTING = [
  'filename',
  'name',
  'endpoints',
  'prometheus',
  'label-matcher',
  'rate-window',
  'cacert',
  'cert',
  'key',
  'prometheus-cacert',
  'prometheus-token-file',
  'prometheus-insecure-skip-tls-verify',
  // The CR's spec.prometheus says where its metrics come from; the CLI does not sample beside it.
  'metrics-urls',
  'sample-window',
  'set',
  'watch',
];

/** Flags that only make sense with a CR from the cluster. */
const CLUSTER_ONLY = ['namespace', 'kubeconfig', 'context', 'compare'] as const;

// RFC 1123: a DNS subdomain for object names, a DNS label for namespaces.
const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const LABEL = new RegExp(`^${DNS_LABEL}$`);

/**
 * The CR to read, undefined when the command names none, or an error message. `positionals` are
 * the arguments after `check`; `given` the long names of every flag on the command line; `spec`
 * those of them (besides CONFLICTING) that change the spec, e.g. the threshold shortcuts.
 */
export function parseClusterTarget(
  positionals: readonly string[],
  values: ClusterFlags,
  given: ReadonlySet<string>,
  spec: readonly string[],
): ClusterTarget | undefined | string {
  const named = nameFromPositionals(positionals);
  if (typeof named === 'object') return named.error;
  const fromFlag = values['from-cluster'];
  if (named !== undefined && fromFlag !== undefined) {
    return `--from-cluster ${fromFlag} and ${positionals.join(' ')} both name a CR: give one of them`;
  }
  const name = named ?? fromFlag;
  if (name === undefined) {
    const stray = CLUSTER_ONLY.find((flag) => given.has(flag));
    return stray === undefined
      ? undefined
      : `--${stray} is for a CR read from the cluster: name it, e.g. etcd-health check ehc/NAME --${stray} ...`;
  }
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    return `${JSON.stringify(name)} is not an object name (lowercase letters, digits, '-' and '.', at most 253 characters)`;
  }
  const { namespace } = values;
  if (namespace !== undefined && (namespace.length > 63 || !LABEL.test(namespace))) {
    return `--namespace ${JSON.stringify(namespace)} is not a namespace name (lowercase letters, digits and '-', at most 63 characters)`;
  }
  const conflicting = [...CONFLICTING, ...spec].filter((flag) => given.has(flag));
  if (conflicting.length > 0) {
    const flags = conflicting.map((flag) => `--${flag}`).join(', ');
    return (
      `${flags} cannot go with a CR from the cluster: its spec says where etcd is and how to check it, ` +
      `and check runs it as the operator does${given.has('watch') ? ' (--watch is not supported with a CR from the cluster yet)' : ''}; ` +
      'to change it, save it (kubectl get ehc NAME -o yaml > ehc.yaml) and use -f ehc.yaml with the flags'
    );
  }
  return {
    name,
    ...(namespace !== undefined && { namespace }),
    ...(values.kubeconfig !== undefined && { kubeconfig: values.kubeconfig }),
    ...(values.context !== undefined && { context: values.context }),
    compare: values.compare ?? false,
  };
}

/** NAME from `ehc/NAME` or `ehc NAME`; undefined when there are no positionals. */
function nameFromPositionals(positionals: readonly string[]): string | undefined | { error: string } {
  if (positionals.length === 0) return undefined;
  const [first, second, ...rest] = positionals as [string, ...string[]];
  const slash = first.indexOf('/');
  const resource = (slash < 0 ? first : first.slice(0, slash)).toLowerCase();
  if (!RESOURCE_NAMES.has(resource)) {
    return {
      error:
        `unexpected argument ${JSON.stringify(first)}: every input is a flag (e.g. --endpoints ${first}), ` +
        'or a CR in the cluster as ehc/NAME',
    };
  }
  const name = slash < 0 ? second : first.slice(slash + 1);
  const extra = slash < 0 ? rest : [second, ...rest].filter((part) => part !== undefined);
  if (name === undefined || name === '') {
    return { error: `${JSON.stringify(first)} names no CR: write ehc/NAME` };
  }
  if (extra.length > 0) {
    return { error: `unexpected argument ${JSON.stringify(extra[0])}: check takes one CR` };
  }
  return name;
}
