// Exact commands for a human, that work when pasted as printed. Two styles:
// - OpenShift (members discovered in openshift-etcd): run etcdctl inside the member's etcd pod, whose
//   etcdctl container already carries the client certificates. That container also sets
//   ETCDCTL_ENDPOINTS, and etcdctl refuses a flag that an environment variable also sets, hence
//   `env -u ETCDCTL_ENDPOINTS`. Member names are node names there, and pods are etcd-<node>.
// - Anywhere else: etcdctl against the member's client URL with the TLS files this check used: the
//   CLI's own files (real paths), or, for a resource, the files of its Secret and ConfigMap, which
//   one extraction command (given first) writes to a directory named after them.
// Commands on a member's host go through ssh or `oc debug node/` only with a real node name: the
// node its pod runs on (discovery) or, on OpenShift, the member name. A client URL's host is never
// taken for one: it may be a load balancer, a VIP, a port-forward or a pod IP, and an ssh there would
// reach another machine or none. Without a node the commands are given bare, for the member's host.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { ClusterView, MemberView } from './cluster.js';

/** Where OpenShift runs etcd, and where its cluster-etcd-operator manages it. */
export const OPENSHIFT_ETCD_NAMESPACE = 'openshift-etcd';

/** What pasted commands need that the spec does not say; given by the caller, never looked up here. */
export interface CommandInput {
  /** The namespace of the EtcdHealthCheck: where its Secret and ConfigMap are. */
  namespace?: string;
  /** The TLS files this check read (the CLI): the commands name them instead of the spec's Secret. */
  tlsFiles?: TlsFiles;
  /**
   * Names of the ETCDCTL_* variables set in the shell the commands are for (the CLI's). etcdctl
   * refuses a flag that one of them also sets, so a command unsets those it passes as flags.
   */
  etcdctlVariables?: readonly string[];
}

/** Paths as the commands should name them; absent: not used. */
export interface TlsFiles {
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface CommandStyle {
  openshift: boolean;
  namespace: string;
  /** e.g. ["--cacert=/etc/etcd/ca.crt", "--cert=...", "--key=..."]; empty without TLS or on OpenShift. */
  tlsFlags: string[];
  /** The command that writes the Secret's (and ConfigMap's) files that tlsFlags name; only for placeholders. */
  extractTlsFiles?: string;
  etcdctlVariables: ReadonlySet<string>;
  /** The CLI for Kubernetes objects. */
  kubectl: 'oc' | 'kubectl';
  /** The member whose pod runs etcdctl when the target's own pod may be gone: the leader if healthy, else any healthy member. */
  healthyPod?: MemberView;
  /** Client URLs of every started member, comma-separated. */
  allEndpoints: string;
}

export function commandStyle(
  spec: EtcdHealthCheckSpec,
  view: ClusterView,
  input: CommandInput = {},
): CommandStyle {
  const namespace = spec.etcd.discovery?.namespace ?? '';
  const openshift = namespace === OPENSHIFT_ETCD_NAMESPACE;
  const healthy = view.members.filter((member) => member.state === 'Healthy');
  const started = view.members.filter((member) => member.clientURL !== '');
  // etcdctl uses TLS files for https:// endpoints only; http:// ones with them would only confuse.
  const secure = started.some((member) => member.clientURL.startsWith('https://'));
  const tls: TlsCommands = openshift || !secure ? { flags: [] } : tlsOf(spec, input);
  return {
    openshift,
    namespace,
    tlsFlags: tls.flags,
    ...(tls.extract === undefined ? {} : { extractTlsFiles: tls.extract }),
    etcdctlVariables: new Set(input.etcdctlVariables ?? []),
    kubectl: openshift ? 'oc' : 'kubectl',
    healthyPod:
      healthy.find((member) => member.id !== '' && member.id === view.leader.id) ?? healthy[0] ?? started[0],
    allEndpoints: started.map((member) => member.clientURL).join(','),
  };
}

/**
 * The CLI's files by their paths; a resource's by placeholders in a directory named after the
 * Secret (ConfigMap for the CA), with the command that fills it.
 */
interface TlsCommands {
  flags: string[];
  extract?: string;
}

function tlsOf(spec: EtcdHealthCheckSpec, input: CommandInput): TlsCommands {
  if (input.tlsFiles !== undefined) {
    const { cacert, cert, key } = input.tlsFiles;
    return {
      flags: [
        ...(cacert === undefined ? [] : [`--cacert=${shellWord(cacert)}`]),
        ...(cert === undefined ? [] : [`--cert=${shellWord(cert)}`]),
        ...(key === undefined ? [] : [`--key=${shellWord(key)}`]),
      ],
    };
  }
  const { tlsSecretRef: secret, caConfigMapRef: caMap } = spec.etcd;
  if (secret === undefined && caMap === undefined) return { flags: [] };
  const files: { object: 'secret' | 'configmap'; name: string; key: string; flag: string }[] = [];
  if (caMap !== undefined) {
    files.push({ object: 'configmap', name: caMap.name, key: caMap.key ?? 'ca-bundle.crt', flag: 'cacert' });
  } else if (secret !== undefined) {
    files.push({ object: 'secret', name: secret.name, key: 'ca.crt', flag: 'cacert' });
  }
  if (secret !== undefined) {
    files.push({ object: 'secret', name: secret.name, key: 'tls.crt', flag: 'cert' });
    files.push({ object: 'secret', name: secret.name, key: 'tls.key', flag: 'key' });
  }
  const path = (file: (typeof files)[number]) => shellWord(`${file.name}/${file.key}`);
  const kubectl = `kubectl${input.namespace ? ` -n ${shellWord(input.namespace)}` : ''}`;
  const directories = [...new Set(files.map((file) => shellWord(file.name)))].join(' ');
  const writes = files.map((file) => {
    const jsonPath = `{.data.${file.key.replace(/\./g, '\\.')}}`;
    return `${kubectl} get ${file.object} ${shellWord(file.name)} -o jsonpath=${shellWord(jsonPath)}${file.object === 'secret' ? ' | base64 -d' : ''} > ${path(file)}`;
  });
  return {
    flags: files.map((file) => `--${file.flag}=${path(file)}`),
    // A subshell, so that the umask that keeps the private key private stays there.
    extract: `(umask 077 && mkdir -p ${directories} && ${writes.join(' && ')})`,
  };
}

/** etcdctl against one member, from its own pod while it is healthy. */
export function etcdctlOn(style: CommandStyle, member: MemberView, args: string): string {
  const pod = member.state === 'Healthy' ? member : (style.healthyPod ?? member);
  return etcdctlVia(style, pod, member.clientURL, args);
}

/** etcdctl against every started member. */
export function etcdctlCluster(style: CommandStyle, args: string): string | undefined {
  if (style.healthyPod === undefined) return undefined;
  return etcdctlVia(style, style.healthyPod, style.allEndpoints, args);
}

/** The Kubernetes node of a member: where its pod runs, or on OpenShift its name; undefined when unknown. */
export function nodeOf(style: CommandStyle, member: MemberView): string | undefined {
  return member.observation.node ?? (style.openshift ? member.name : undefined);
}

/**
 * A shell command on a node: through `oc debug node/` or ssh when the node is known, else the
 * command itself, for the caller to say where it runs (see onHostOf).
 */
export function onHost(style: CommandStyle, node: string | undefined, command: string): string {
  if (node === undefined) return command;
  return style.openshift
    ? `oc debug node/${shellWord(node)} -- chroot /host ${command}`
    : `ssh ${shellWord(node)} ${command}`;
}

/** The sentence that tells where host commands without a node go ("member etcd-1"); empty when the node is known. */
export function onHostOf(node: string | undefined, what: string): string {
  return node === undefined
    ? ` Run the host commands below on the host of ${what}: the check does not know its node's name.`
    : '';
}

/** Recent etcd log lines of a member matching a pattern; only where the pod is known. */
export function etcdLogs(style: CommandStyle, member: MemberView, pattern: string): string | undefined {
  if (!style.openshift) return undefined;
  return `oc logs -n ${style.namespace} etcd-${member.name} -c etcd --since=1h | grep -E '${pattern}'`;
}

export function listEtcdPods(style: CommandStyle): string | undefined {
  return style.openshift ? `oc get pods -n ${style.namespace} -l app=etcd -o wide` : undefined;
}

/** Whether a command runs etcdctl with files that the extraction command must write first. */
export function needsTlsFiles(style: CommandStyle, command: string): boolean {
  return style.extractTlsFiles !== undefined && /(^|[\s(|;&$])etcdctl /.test(command);
}

function etcdctlVia(style: CommandStyle, podOf: MemberView, endpoints: string, args: string): string {
  if (style.openshift) {
    return `oc rsh -n ${style.namespace} -c etcdctl etcd-${podOf.name} env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=${endpoints} ${args}`;
  }
  const command = ['etcdctl', `--endpoints=${endpoints}`, ...style.tlsFlags, args].join(' ');
  const shadowed = flagVariables(command).filter((variable) => style.etcdctlVariables.has(variable));
  return shadowed.length === 0
    ? command
    : `env ${shadowed.map((variable) => `-u ${variable}`).join(' ')} ${command}`;
}

/** The ETCDCTL_* variable of each flag of an etcdctl command: --command-timeout=60s -> ETCDCTL_COMMAND_TIMEOUT. */
function flagVariables(command: string): string[] {
  const names = command
    .split(' ')
    .flatMap((word) => (word === '-w' ? ['write-out'] : (/^--([a-z-]+)/.exec(word)?.slice(1, 2) ?? [])));
  return [...new Set(names)].map((name) => `ETCDCTL_${name.toUpperCase().replace(/-/g, '_')}`);
}

/** A word the shell takes as it is: quoted when it holds anything but safe characters. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** etcdctl move-leader takes the transferee's member ID in hex. */
export function hexId(decimalId: string): string {
  return BigInt(decimalId).toString(16);
}
