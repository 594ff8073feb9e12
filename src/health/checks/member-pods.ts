// The pods of the members, when spec.etcd.discovery finds them (field guide step 4): one finding
// per pod, the most telling state first. Every state is a Warning, as kubernetes-mixin's
// KubePodCrashLooping and KubePodNotReady are: whether a member's absence costs quorum is the
// quorum check's verdict, not the pod's.
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import type { MemberPod, PodContainer } from '../observation.js';
import { podsOfMembers, type PodOfMember } from '../pods.js';
import { formatDuration, listing, plural } from '../text.js';

/**
 * A restart is news for an hour after the container's last run ended, the window the
 * LeaderChanges check warns in; kubernetes-mixin's former KubePodCrashLooping looked at 15 minutes
 * of restarts, which two checks 30 s apart would rarely both see. The last termination's time
 * keeps the analysis pure: no restart count has to be remembered between checks.
 */
export const RESTART_WINDOW_SECONDS = 3600;

/** Why the restart of a container is recent: how long ago its last run ended, or that nobody knows. */
interface Restart {
  container: PodContainer;
  termination: NonNullable<PodContainer['lastTermination']>;
  /** Undefined when the pod status gives no time: judged as recent, never as healthy. */
  agoSeconds?: number;
}

export function checkMemberPods(view: ClusterView): Finding[] {
  const discovery = view.spec.etcd.discovery;
  if (discovery === undefined) {
    return [
      {
        check: 'MemberPods',
        severity: 'OK',
        target: CLUSTER_TARGET,
        reason: 'NotDiscovered',
        message:
          'Member pods are not checked: the members are configured as endpoints, not discovered from pods',
      },
    ];
  }
  const pods = podsOfMembers(view);
  const what = `pods ${JSON.stringify(discovery.labelSelector)} in namespace ${discovery.namespace}`;
  if (pods === undefined) {
    const why = view.observation.etcd.source.message ?? 'the pod list failed';
    return [noData('MemberPods', CLUSTER_TARGET, `Member pods are not checked: ${why}`)];
  }
  if (pods.length === 0) {
    return [noData('MemberPods', CLUSTER_TARGET, `No ${what} were found`)];
  }
  const withPod = new Set(pods.flatMap((entry) => (entry.member ? [entry.member] : [])));
  const withoutPod = view.members
    .filter((member) => !withPod.has(member))
    .map((member): Finding => ({
      check: 'MemberPods',
      severity: 'Info',
      target: member.name,
      reason: 'NoPod',
      message: `Member ${member.name} has none of the ${what} by IP or name: it runs elsewhere, or its pod is gone`,
    }));
  return [...pods.map((entry) => podFinding(entry, view.observation.time)), ...withoutPod];
}

function podFinding({ pod, member }: PodOfMember, now: Date): Finding {
  const target = member?.name ?? pod.name;
  const subject = member
    ? `Pod ${pod.name} of member ${member.name}`
    : `Pod ${pod.name} (no member has its IP or name)`;
  const restarts = recentRestarts(pod, now);
  const crashLooping = pod.containers.filter((c) => c.waitingReason === 'CrashLoopBackOff');
  const oomKilled = restarts.filter((r) => r.termination.reason === 'OOMKilled');
  const waiting = pod.containers.filter((c) => c.waitingReason && c.waitingReason !== 'CrashLoopBackOff');
  const facts = [
    ...(pod.phase !== 'Running' ? [`it is ${pod.phase || 'in no phase yet'}`] : []),
    ...(pod.deleting ? ['it is being deleted'] : []),
    ...crashLooping.map((c) => `container ${c.name} is in CrashLoopBackOff`),
    ...waiting.map((c) => `container ${c.name} is waiting: ${c.waitingReason}`),
    ...(pod.ready === false ? ['it is not Ready'] : []),
    ...restarts.map(restartText),
  ];
  const reason =
    pod.phase !== 'Running'
      ? 'PodNotRunning'
      : pod.deleting
        ? 'PodTerminating'
        : oomKilled.length > 0
          ? 'OOMKilled'
          : crashLooping.length > 0
            ? 'CrashLoopBackOff'
            : waiting.length > 0
              ? 'ContainerWaiting'
              : pod.ready === false
                ? 'PodNotReady'
                : restarts.length > 0
                  ? 'Restarted'
                  : undefined;
  const total = pod.containers.reduce((sum, c) => sum + c.restartCount, 0);
  const count = total > 0 ? ` (${plural(total, 'restart')} in total)` : '';
  if (reason === undefined) {
    return {
      check: 'MemberPods',
      severity: 'OK',
      target,
      reason: 'AsExpected',
      message: `${subject} is Running${pod.ready ? ' and Ready' : ''}, with no restart in the last ${formatDuration(RESTART_WINDOW_SECONDS)}${count}`,
      value: 0,
      threshold: RESTART_WINDOW_SECONDS,
    };
  }
  return {
    check: 'MemberPods',
    severity: 'Warning',
    target,
    reason,
    message: `${subject}: ${listing(facts)}${count}`,
    ...(restarts.length > 0 ? { value: restarts.length, threshold: RESTART_WINDOW_SECONDS } : {}),
  };
}

/** Containers whose last run ended within the window (or at a time the status does not give). */
function recentRestarts(pod: MemberPod, now: Date): Restart[] {
  return pod.containers.flatMap((container): Restart[] => {
    const termination = container.lastTermination;
    if (termination === undefined) return [];
    const ended = termination.finishedAt === undefined ? NaN : Date.parse(termination.finishedAt);
    if (Number.isNaN(ended)) return [{ container, termination }];
    const agoSeconds = Math.max(0, (now.getTime() - ended) / 1000);
    return agoSeconds <= RESTART_WINDOW_SECONDS ? [{ container, termination, agoSeconds }] : [];
  });
}

function restartText({ container, termination, agoSeconds }: Restart): string {
  const exit =
    termination.exitCode === undefined || termination.reason.startsWith('exit code')
      ? ''
      : ` (exit code ${termination.exitCode})`;
  const when =
    agoSeconds === undefined ? 'at a time the pod status does not give' : `${formatDuration(agoSeconds)} ago`;
  return `the last run of container ${container.name} ended in ${termination.reason}${exit} ${when}`;
}
