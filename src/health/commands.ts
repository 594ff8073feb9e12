// Exact commands for a human. Two styles:
// - OpenShift (members discovered in openshift-etcd): run etcdctl inside the member's etcd pod, whose
//   etcdctl container already carries the client certificates. That container also sets
//   ETCDCTL_ENDPOINTS, and etcdctl refuses a flag that an environment variable also sets, hence
//   `env -u ETCDCTL_ENDPOINTS`. Member names are node names there, and pods are etcd-<node>.
// - Anywhere else: etcdctl against the member's client URL, with the files of spec.etcd.tlsSecretRef.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { ClusterView, MemberView } from './cluster.js';
import { hostOf } from './text.js';

/** Where OpenShift runs etcd, and where its cluster-etcd-operator manages it. */
export const OPENSHIFT_ETCD_NAMESPACE = 'openshift-etcd';

export interface CommandStyle {
  openshift: boolean;
  namespace: string;
  /** " --cacert ca.crt --cert tls.crt --key tls.key" when a TLS Secret is configured. */
  tlsFlags: string;
  /** The CLI for Kubernetes objects. */
  kubectl: 'oc' | 'kubectl';
  /** The member whose pod runs etcdctl when the target's own pod may be gone: the leader if healthy, else any healthy member. */
  healthyPod?: MemberView;
  /** Client URLs of every started member, comma-separated. */
  allEndpoints: string;
}

export function commandStyle(spec: EtcdHealthCheckSpec, view: ClusterView): CommandStyle {
  const namespace = spec.etcd.discovery?.namespace ?? '';
  const openshift = namespace === OPENSHIFT_ETCD_NAMESPACE;
  const healthy = view.members.filter((member) => member.state === 'Healthy');
  const started = view.members.filter((member) => member.clientURL !== '');
  return {
    openshift,
    namespace,
    tlsFlags: !openshift && spec.etcd.tlsSecretRef ? ' --cacert ca.crt --cert tls.crt --key tls.key' : '',
    kubectl: openshift ? 'oc' : 'kubectl',
    healthyPod:
      healthy.find((member) => member.id !== '' && member.id === view.leader.id) ?? healthy[0] ?? started[0],
    allEndpoints: started.map((member) => member.clientURL).join(','),
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

/** A shell command on the host of a member or node. */
export function onHost(style: CommandStyle, nodeOrMember: string | MemberView, command: string): string {
  if (typeof nodeOrMember !== 'string') {
    return style.openshift
      ? `oc debug node/${nodeOrMember.name} -- chroot /host ${command}`
      : `ssh ${hostOf(nodeOrMember.clientURL)} ${command}`;
  }
  return style.openshift
    ? `oc debug node/${nodeOrMember} -- chroot /host ${command}`
    : `ssh ${nodeOrMember} ${command}`;
}

/** Recent etcd log lines of a member matching a pattern; only where the pod is known. */
export function etcdLogs(style: CommandStyle, member: MemberView, pattern: string): string | undefined {
  if (!style.openshift) return undefined;
  return `oc logs -n ${style.namespace} etcd-${member.name} -c etcd --since=1h | grep -E '${pattern}'`;
}

export function listEtcdPods(style: CommandStyle): string | undefined {
  return style.openshift ? `oc get pods -n ${style.namespace} -l app=etcd -o wide` : undefined;
}

function etcdctlVia(style: CommandStyle, podOf: MemberView, endpoints: string, args: string): string {
  if (style.openshift) {
    return `oc rsh -n ${style.namespace} -c etcdctl etcd-${podOf.name} env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=${endpoints} ${args}`;
  }
  return `etcdctl --endpoints=${endpoints}${style.tlsFlags} ${args}`;
}

/** etcdctl move-leader takes the transferee's member ID in hex. */
export function hexId(decimalId: string): string {
  return BigInt(decimalId).toString(16);
}
