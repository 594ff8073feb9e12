// Decides whether a freshly computed status is worth a write. The operator must not add the API
// churn it warns about: a write happens when something changed meaningfully (a condition, a
// recommendation, member health, a typed value moving by more than a relative tolerance) or when
// the last write is older than the heartbeat, so that `lastCheck` still proves the loop is alive.
// Only structured values are compared: prose (condition and recommendation messages) is never
// parsed, so rewording it cannot change how often the API is written; the heartbeat refreshes it.
import type {
  Condition,
  EtcdHealthCheckStatus,
  MemberStatus,
  Recommendation,
  Summary,
} from '../api/v1alpha1/status.js';

export interface ChangePolicy {
  /** A number may drift by this fraction of its previous value without a write (0.1 = 10 %). */
  relativeTolerance: number;
  /** Write at least this often even when nothing changed. */
  heartbeatMs: number;
}

export type WriteDecision = { write: false } | { write: true; why: string };

export function decideStatusWrite(
  current: EtcdHealthCheckStatus | undefined,
  next: EtcdHealthCheckStatus,
  now: Date,
  policy: ChangePolicy,
): WriteDecision {
  // A status without observedGeneration holds at most the Reconciling mark of the first check.
  if (current?.observedGeneration === undefined) return { write: true, why: 'first status' };
  if (current.observedGeneration !== next.observedGeneration) return { write: true, why: 'new generation' };
  // status.remediation is not compared: the remediator writes it itself, with a precondition.
  const difference =
    conditionsDifference(current.conditions ?? [], next.conditions ?? []) ??
    recommendationsDifference(current.recommendations ?? [], next.recommendations ?? []) ??
    membersDifference(current.members ?? [], next.members ?? [], policy.relativeTolerance) ??
    summaryDifference(current.summary, next.summary, policy.relativeTolerance);
  if (difference) return { write: true, why: difference };
  const currentCheck = current.lastCheck;
  const nextCheck = next.lastCheck;
  if (sourceStates(currentCheck) !== sourceStates(nextCheck))
    return { write: true, why: 'source state changed' };
  // Nothing is being checked (an invalid spec, or suspended before any check): no heartbeat.
  if (!nextCheck) return { write: false };
  const lastWrite = currentCheck ? Date.parse(currentCheck.time) : NaN;
  if (!Number.isFinite(lastWrite) || now.getTime() - lastWrite >= policy.heartbeatMs) {
    return { write: true, why: 'heartbeat' };
  }
  return { write: false };
}

function sourceStates(check: EtcdHealthCheckStatus['lastCheck']): string {
  if (!check) return '';
  return [check.etcd.state, check.prometheus.state].join('/');
}

/**
 * How a field is compared: `exact` for identity and state (names, enums, flags, times, a raft
 * term, whose change is an election); `ignore` for values shown for context only or compared
 * through the field they render; `bytes` and `latency` for quantities with their noise rules.
 */
type Rule = 'exact' | 'ignore' | 'bytes' | 'latency';

/** A condition is its type, status, reason and generation; a moved transition time is news too. */
const CONDITION_RULES: Record<keyof Condition, Rule> = {
  type: 'exact',
  status: 'exact',
  reason: 'exact',
  message: 'ignore',
  lastTransitionTime: 'exact',
  observedGeneration: 'exact',
};

/**
 * Raft indexes move with every write; fragmentation derives from the two sizes (on a small DB it
 * swings between 0 and 25 % with every compaction) and is news only when they moved.
 */
const MEMBER_RULES: Record<keyof MemberStatus, Rule> = {
  name: 'exact',
  id: 'exact',
  endpoint: 'exact',
  reachable: 'exact',
  healthy: 'exact',
  leader: 'exact',
  learner: 'exact',
  version: 'exact',
  dbSize: 'bytes',
  dbSizeInUse: 'bytes',
  fragmentationPercent: 'ignore',
  raftTerm: 'exact',
  raftIndex: 'ignore',
  raftAppliedIndex: 'ignore',
  alarms: 'exact',
  walFsyncP99: 'latency',
  backendCommitP99: 'latency',
  peerRoundTripP99: 'latency',
  // Free text without a structured source beyond reachable/healthy: compared as written.
  error: 'exact',
};

/**
 * The summary renders other status fields for `oc get`. The largest DB size and the worst
 * latencies are compared where they come from, members[]; the quota use has no source in the
 * status (the quota is etcd's), and is a floored whole percent, so its text is compared.
 */
const SUMMARY_RULES: Record<keyof Summary, Rule> = {
  members: 'exact',
  leader: 'exact',
  dbSize: 'ignore',
  walFsyncP99: 'ignore',
  backendCommitP99: 'ignore',
  quotaUsage: 'exact',
  recommendations: 'exact',
  lastTransitionTime: 'exact',
};

/** What makes a recommendation the same one: what to do, how urgent, on what, and why. */
const RECOMMENDATION_IDENTITY: Record<keyof Recommendation, boolean> = {
  type: true,
  severity: true,
  target: true,
  /** A merged recommendation covering another member is news. */
  members: true,
  reason: true,
  message: false,
  commands: false,
};

/** Byte sizes moving by less than this are never news, whatever the relative tolerance. */
const BYTES_FLOOR = 2 ** 20;

/**
 * A latency is news only when it doubles or halves: etcd's latency histograms have power-of-two
 * buckets (1ms, 2ms, 4ms, ...), and histogram_quantile interpolates inside one bucket, so a p99
 * moving by less than a bucket's width is interpolation noise. A threshold crossed is still news
 * at once, through the condition it changes.
 */
const LATENCY_TOLERANCE = 0.5;
/** Latencies moving by less than 5 ms are never news ("1.2ms" vs "2.5ms" on an idle disk). */
const LATENCY_FLOOR_SECONDS = 0.005;

/** Conditions are a map keyed by type: matched by type, so their order is not news. */
function conditionsDifference(current: Condition[], next: Condition[]): string | undefined {
  const before = new Map(current.map((condition) => [condition.type, condition]));
  for (const condition of next) {
    const path = `status.conditions[${condition.type}]`;
    const previous = before.get(condition.type);
    if (!previous) return `${path} added`;
    const found = fieldsDifference(previous, condition, CONDITION_RULES, 0, path);
    if (found) return found;
  }
  const after = new Set(next.map((condition) => condition.type));
  const removed = current.find((condition) => !after.has(condition.type));
  return removed ? `status.conditions[${removed.type}] removed` : undefined;
}

function recommendationsDifference(current: Recommendation[], next: Recommendation[]): string | undefined {
  const before = new Set(current.map(recommendationIdentity));
  const after = new Set(next.map(recommendationIdentity));
  const added = [...after].find((key) => !before.has(key));
  if (added) return `status.recommendations: added ${added}`;
  const removed = [...before].find((key) => !after.has(key));
  return removed ? `status.recommendations: removed ${removed}` : undefined;
}

/** "Defragment Warning member-1 Fragmented": what makes two recommendations the same one. */
export function recommendationIdentity(recommendation: Recommendation): string {
  return (Object.keys(RECOMMENDATION_IDENTITY) as (keyof Recommendation)[])
    .filter((field) => RECOMMENDATION_IDENTITY[field] && recommendation[field] !== undefined)
    .map((field) => {
      const value = recommendation[field];
      return Array.isArray(value) ? value.join(',') : String(value);
    })
    .join(' ');
}

function membersDifference(
  current: MemberStatus[],
  next: MemberStatus[],
  tolerance: number,
): string | undefined {
  if (current.length !== next.length) return `status.members: ${current.length} -> ${next.length} items`;
  for (let i = 0; i < next.length; i++) {
    const found = fieldsDifference(current[i]!, next[i]!, MEMBER_RULES, tolerance, `status.members[${i}]`);
    if (found) return found;
  }
  return undefined;
}

function summaryDifference(
  current: Summary | undefined,
  next: Summary | undefined,
  tolerance: number,
): string | undefined {
  if (!current || !next) return current === next ? undefined : `status.summary ${next ? 'added' : 'removed'}`;
  return fieldsDifference(current, next, SUMMARY_RULES, tolerance, 'status.summary');
}

/** A path naming the first field, in the rules' order, that differs meaningfully. */
function fieldsDifference<T extends object>(
  current: T,
  next: T,
  rules: Record<keyof T, Rule>,
  tolerance: number,
  path: string,
): string | undefined {
  for (const field of Object.keys(rules) as (keyof T & string)[]) {
    const found = valueDifference(current[field], next[field], rules[field], tolerance, `${path}.${field}`);
    if (found) return found;
  }
  return undefined;
}

function valueDifference(
  current: unknown,
  next: unknown,
  rule: Rule,
  tolerance: number,
  path: string,
): string | undefined {
  if (rule === 'ignore') return undefined;
  if (current === undefined || next === undefined) {
    return current === next ? undefined : `${path} ${next === undefined ? 'removed' : 'added'}`;
  }
  if (rule === 'bytes' && typeof current === 'number' && typeof next === 'number') {
    const close = Math.abs(current - next) < BYTES_FLOOR || numbersClose(current, next, tolerance);
    return close ? undefined : `${path}: ${current} -> ${next}`;
  }
  if (rule === 'latency' && typeof current === 'string' && typeof next === 'string') {
    const before = latencySeconds(current);
    const after = latencySeconds(next);
    if (before !== undefined && after !== undefined) {
      const close =
        Math.abs(before - after) < LATENCY_FLOOR_SECONDS ||
        numbersClose(before, after, Math.max(tolerance, LATENCY_TOLERANCE));
      return close ? undefined : `${path}: ${current} -> ${next}`;
    }
  }
  return JSON.stringify(current) === JSON.stringify(next) ? undefined : `${path} changed`;
}

function numbersClose(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) <= tolerance * scale;
}

const LATENCY_UNITS: Record<string, number> = { µs: 1e-6, ms: 1e-3, s: 1 };

/**
 * Seconds in a member latency field. The status holds latencies only as formatSeconds
 * (api/v1alpha1/units.ts) writes them, one number and its unit ("850µs", "4.1ms", "1.25s");
 * anything else is compared as written.
 */
function latencySeconds(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(µs|ms|s)$/.exec(text);
  return match ? Number(match[1]) * LATENCY_UNITS[match[2]!]! : undefined;
}
