// The pods of spec.etcd.discovery paired with the members they run: by IP (the pod's IP is the
// host of one of the member's URLs), else by name (the member's name, OpenShift's etcd-<node>, or
// the pod's node for members named after their node). A pod that pairs with no member still
// appears, on its own: a pod that does not run must never vanish from the report.
import type { ClusterView, MemberView } from './cluster.js';
import type { MemberPod } from './observation.js';
import { hostOf } from './text.js';

export interface PodOfMember {
  pod: MemberPod;
  /** Absent for a pod that pairs with no member. */
  member?: MemberView;
}

/** Undefined without discovery or when the pod list failed; otherwise every pod once, in name order. */
export function podsOfMembers(view: ClusterView): PodOfMember[] | undefined {
  const pods = view.observation.etcd.pods;
  if (view.spec.etcd.discovery === undefined || pods === undefined) return undefined;
  const paired = new Map<MemberPod, MemberView>();
  const free = (member: MemberView) => ![...paired.values()].includes(member);
  for (const pod of pods) {
    const member = pod.ip === '' ? undefined : view.members.find((m) => free(m) && addresses(m).has(pod.ip));
    if (member) paired.set(pod, member);
  }
  for (const pod of pods) {
    if (paired.has(pod)) continue;
    const member = view.members.find((m) => free(m) && namedAfter(pod, m));
    if (member) paired.set(pod, member);
  }
  return pods.map((pod) => {
    const member = paired.get(pod);
    return member ? { pod, member } : { pod };
  });
}

function addresses(member: MemberView): Set<string> {
  const { clientURLs, peerURLs } = member.observation;
  return new Set(
    [member.clientURL, ...clientURLs, ...peerURLs]
      .filter((url) => url !== '')
      .map((url) => hostOf(url).replace(/^\[(.*)\]$/, '$1')),
  );
}

function namedAfter(pod: MemberPod, member: MemberView): boolean {
  return pod.name === member.name || pod.name === `etcd-${member.name}` || pod.nodeName === member.name;
}
