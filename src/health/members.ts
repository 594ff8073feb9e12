// status.members[]: one entry per member, in the view's (name) order.
import type { MemberStatus } from '../api/v1alpha1/status.js';
import { formatSeconds } from '../api/v1alpha1/units.js';
import type { ClusterView, MemberView } from './cluster.js';
import { finite } from './metrics.js';
import { fragmentationPercent, physicalSize, sizePair } from './sizes.js';

/** The status schema holds at most 32 members; etcd clusters have at most a handful. */
const MAX_MEMBERS = 32;
const MAX_ERROR_LENGTH = 1024;
const UINT64 = /^[0-9]+$/;

export function memberStatuses(view: ClusterView): MemberStatus[] {
  return view.members.slice(0, MAX_MEMBERS).map((member) => memberStatus(view, member));
}

function memberStatus(view: ClusterView, member: MemberView): MemberStatus {
  const status = member.observation.status;
  const pair = sizePair(member);
  const dbSize = pair?.dbSize ?? physicalSize(member)?.bytes;
  const fragmented = pair && fragmentationPercent(pair);
  const alarms = view.observation.etcd.alarms
    .filter((alarm) => member.id !== '' && alarm.memberId === member.id)
    .map((alarm) => alarm.alarm);
  const error = member.observation.error ?? member.observation.health?.error;
  const metrics = member.metrics.kind === 'fresh' ? member.metrics.metrics : undefined;
  const latency = (value: number | undefined) => {
    const seconds = finite(value);
    return seconds === undefined ? undefined : formatSeconds(seconds);
  };
  const entry: MemberStatus = {
    name: member.name,
    // etcd never assigns ID 0; it stands for "unknown" where the schema requires digits.
    id: member.id || '0',
    endpoint: member.clientURL,
    reachable: member.state === 'Healthy' || member.state === 'Unhealthy',
    healthy: member.state === 'Healthy',
    leader: member.id !== '' && member.id === view.leader.id,
    learner: member.learner,
    version: status?.version || undefined,
    dbSize: dbSize === undefined ? undefined : Math.round(dbSize),
    dbSizeInUse: pair === undefined ? undefined : Math.round(pair.inUse),
    fragmentationPercent: fragmented === undefined ? undefined : Math.round(fragmented),
    raftTerm: uint64(status?.raftTerm),
    raftIndex: uint64(status?.raftIndex),
    raftAppliedIndex: uint64(status?.raftAppliedIndex),
    alarms: alarms.length > 0 ? [...new Set(alarms)].sort() : undefined,
    walFsyncP99: latency(metrics?.walFsyncP99),
    backendCommitP99: latency(metrics?.backendCommitP99),
    peerRoundTripP99: latency(metrics?.peerRoundTripP99),
    error: error?.slice(0, MAX_ERROR_LENGTH),
  };
  return withoutUndefined(entry);
}

function uint64(text: string | undefined): string | undefined {
  return text !== undefined && UINT64.test(text) ? text : undefined;
}

/** Absent rather than undefined fields: what the API server stores, so a re-read compares equal. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
