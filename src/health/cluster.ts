// The cluster as the checks see it: members with display names, IDs, health state and metric
// access, the resolved leader and the quorum assessment. Built once per analysis.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { MemberStatus } from '../api/v1alpha1/status.js';
import { resolveLeader, type LeaderResolution } from './leader.js';
import { limitsFrom, type Limits } from './limits.js';
import {
  memberMetricsAccess,
  metricsSourceStatus,
  type MemberMetricsAccess,
  type MetricsSourceStatus,
} from './metrics.js';
import type { MemberObservation, Observation } from './observation.js';
import { assessQuorum, type QuorumAssessment } from './quorum.js';
import { hostOf } from './text.js';

/**
 * Healthy: answered the health read (linearizable; serializable for learners).
 * Unhealthy: answered Maintenance.Status but not the health read.
 * Unreachable: answered nothing. NotStarted: has no client URL yet.
 */
export type MemberState = 'Healthy' | 'Unhealthy' | 'Unreachable' | 'NotStarted';

export interface MemberView {
  /** Decimal uint64, or '' when neither the member list nor Status gave one. */
  id: string;
  /** The member name, or the host of its URL for members that have not started. */
  name: string;
  /** The URL etcdctl should use for this member; '' when not started. */
  clientURL: string;
  learner: boolean;
  state: MemberState;
  observation: MemberObservation;
  metrics: MemberMetricsAccess;
}

export interface ClusterView {
  spec: EtcdHealthCheckSpec;
  limits: Limits;
  observation: Observation;
  /** Sorted by name, then ID, so output order does not depend on the order of answers. */
  members: MemberView[];
  voting: MemberView[];
  metricsSource: MetricsSourceStatus;
  leader: LeaderResolution;
  quorum: QuorumAssessment;
  /** status.members of the previous check: raft indexes to tell progress by. */
  previousMembers: readonly MemberStatus[];
}

export function buildClusterView(
  observation: Observation,
  spec: EtcdHealthCheckSpec,
  previousMembers: readonly MemberStatus[] = [],
): ClusterView {
  const metricsSource = metricsSourceStatus(observation.metrics);
  const members = observation.etcd.members
    .map((member) => memberView(member, observation, metricsSource))
    .sort(byNameThenId);
  const voting = members.filter((member) => !member.learner);
  const leader = resolveLeader(members);
  return {
    spec,
    limits: limitsFrom(spec.thresholds),
    observation,
    members,
    voting,
    metricsSource,
    leader,
    quorum: assessQuorum(voting, members, leader, metricsSource.usable),
    previousMembers,
  };
}

/** Down members (not started, or not answering at all) are reported by the quorum check; metric checks skip them when their metrics are missing too. */
export function isDown(member: MemberView): boolean {
  return member.state === 'NotStarted' || member.state === 'Unreachable';
}

export function findMember(view: ClusterView, name: string): MemberView | undefined {
  return view.members.find((member) => member.name === name);
}

function memberView(
  member: MemberObservation,
  observation: Observation,
  metricsSource: MetricsSourceStatus,
): MemberView {
  const id = validId(member.id) ?? validId(member.status?.memberId) ?? '';
  const clientURL = member.endpoint || member.clientURLs[0] || '';
  const name = displayName(member, id);
  return {
    id,
    name,
    clientURL,
    learner: member.isLearner || member.status?.isLearner === true,
    state: memberState(member, clientURL),
    observation: member,
    // Values left over from a source that failed are not evidence of anything.
    metrics: metricsSource.usable
      ? memberMetricsAccess(observation.metrics, id, name)
      : { kind: 'missing', why: metricsSource.why },
  };
}

function memberState(member: MemberObservation, clientURL: string): MemberState {
  if (clientURL === '') return 'NotStarted';
  if (member.health?.healthy === true) return 'Healthy';
  return member.status !== undefined ? 'Unhealthy' : 'Unreachable';
}

function displayName(member: MemberObservation, id: string): string {
  const name = member.name.trim();
  if (name !== '' && !name.includes('://')) return name;
  const url = name || member.endpoint || member.clientURLs[0] || member.peerURLs[0] || '';
  if (url !== '') return hostOf(url);
  return id !== '' ? `member-${id}` : 'unknown';
}

function validId(id: string | undefined): string | undefined {
  return id !== undefined && /^[0-9]+$/.test(id) && id !== '0' ? id : undefined;
}

function byNameThenId(a: MemberView, b: MemberView): number {
  return compareText(a.name, b.name) || compareText(a.id, b.id);
}

/** Locale-independent ordering, so sorting is the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
