// The pure remediation planner: from the spec, one observation (as the analysis' cluster view and
// findings), status.remediation and the time, decide the ONE next thing to do. No I/O: the
// remediator performs what the decision says and persists the outcome in the CR status.
//
// Safety rules, in the order they are checked (cluster-etcd-operator's defrag controller,
// etcd-defrag and the etcd maintenance guide):
//  1. A Running record is a step that did not finish (a process died, or a defrag outlived its
//     client deadline: the server does not stop when the client gives up). Never start another:
//     verify the member and finish the record first.
//  2. Mode Recommend never acts; paused stops everything; alarms must be known and not CORRUPT
//     (etcd-defrag aborts on CORRUPT; "stop all automation"); three consecutive failed steps stop
//     automation (cluster-etcd-operator maxDefragFailuresBeforeDegrade = 3).
//  3. Before each step every voting member answers a linearizable read (cluster-etcd-operator
//     checks MemberHealth first; Status alone is a local read), the cluster is quorum fault
//     tolerant, has an agreed leader, and is not a single member unless allowSingleMember
//     (cluster-etcd-operator disables defrag on non-HA topologies: "defrag is I/O blocking").
//  4. One member per step, followers first, the leader last after moving the leadership away
//     (cluster-etcd-operator "leader last"; #1618 and etcd-defrag --move-leader move it first).
//  5. After each step a settle time before the next (OpenShift docs: at least a minute between
//     members), a per-member cooldown and an optional maintenance window.
// NOSPACE recovery follows the documented order (etcd maintenance guide): compact to the current
// revision, defragment every member, disarm only when every member is below the quota by a margin
// (etcd-defrag --disalarm-threshold), verify a write. It skips the window and the cooldown: the
// cluster already refuses writes, which is the disruption those rules protect against.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { RemediationRecord, RemediationStatus } from '../api/v1alpha1/status.js';
import { formatBytes, parseDurationMs } from '../api/v1alpha1/units.js';
import { activeAlarms } from '../health/checks/alarms.js';
import { defragmentsItself } from '../health/checks/cluster-operator.js';
import type { ClusterView, MemberView } from '../health/cluster.js';
import { isIsolated } from '../health/leader.js';
import type { Finding } from '../health/findings.js';
import { isFaultTolerant, quorumSize } from '../health/quorum.js';
import { physicalSize, quotaBytes, sizePair } from '../health/sizes.js';
import { capitalize, formatPercent, listing } from '../health/text.js';
import { historyOf, lastFinishedAt } from './state.js';
import { describeWindow, windowState } from './window.js';

/** cluster-etcd-operator: maxDefragFailuresBeforeDegrade = 3 consecutive failed rounds. */
export const MAX_CONSECUTIVE_FAILURES = 3;
/**
 * Self-managed compaction at most this often: etcd's revision-mode auto-compaction and the
 * kube-apiserver (--etcd-compaction-interval) both work on a 5-minute period.
 */
export const MIN_COMPACTION_INTERVAL_MS = 5 * 60_000;
/** A NOSPACE recovery whose compaction is older than this is stale: start over with a new compaction. */
export const NOSPACE_EPISODE_MAX_AGE_MS = 6 * 60 * 60_000;
/** A Running step whose member has not answered again after this long is failed. */
export const DEFAULT_RUNNING_DEADLINE_MS = 10 * 60_000;

export type StepReason = 'QuotaPressure' | 'HighFragmentation' | 'NoSpaceRecovery' | 'HistoryBound';

export type DeferReason =
  | 'Paused'
  | 'AlarmsUnknown'
  | 'CorruptAlarm'
  | 'TooManyFailures'
  | 'NoSpaceRecoveryDisabled'
  | 'RevisionUnknown'
  | 'QuotaUnknown'
  | 'StillAboveQuota'
  | 'ClusterUnhealthy'
  | 'MemberIsolated'
  | 'SingleMember'
  | 'ClusterEtcdOperatorDefragments'
  | 'NotFaultTolerant'
  | 'NoLeader'
  | 'OutsideWindow'
  | 'Cooldown'
  | 'Settling'
  | 'AwaitingMember';

export interface MemberRef {
  name: string;
  id: string;
  endpoint: string;
}

/** What every step has: why it is taken, and what it does in words. */
interface StepBasis {
  reason: StepReason;
  /** "defragment member-2 (DB 300 MiB, 62% fragmented)" */
  summary: string;
  /** Where the call goes: the member for Defragment, the leader otherwise. */
  endpoint: string;
}

/** One remediation action on etcd, with exactly the fields that action needs. */
export type Step = StepBasis &
  (
    | { action: 'Defragment'; member: MemberRef; dbSizeBefore?: number }
    | {
        action: 'MoveLeader';
        /** The current leader. */
        member: MemberRef;
        /** The member that takes over. */
        transferee: MemberRef;
      }
    | {
        action: 'Compact';
        /** The revision to compact to. */
        revision: string;
      }
    | {
        action: 'DisarmNoSpace';
        /** The member IDs of the NOSPACE alarms. */
        alarmMemberIds: string[];
      }
  );

/** What plan() must learn from etcd before it can decide: the remediator asks, then plans again. */
export type Question =
  /** Would compacting to `revision`+1 free anything, i.e. is `revision` still in the history? */
  | { kind: 'compaction'; endpoint: string; revision: string }
  /** The backend quota of members whose quota neither Status nor Prometheus reported. */
  | { kind: 'quota'; members: MemberRef[] };

export interface Answers {
  compactionUseful?: boolean;
  quotaBytes?: Record<string, number | undefined>;
}

export type Decision =
  | { kind: 'Act'; step: Step }
  | { kind: 'DryRun'; step: Step; message: string }
  | { kind: 'Ask'; question: Question; step: Step }
  | { kind: 'Finish'; record: RemediationRecord; message: string; dbSizeAfter?: number }
  | {
      kind: 'Defer';
      reason: DeferReason;
      message: string;
      /** Progressing: a step runs or the run continues after the settle time. */
      inProgress: boolean;
      step?: Step;
      /** When looking again is worthwhile. */
      retryAfterMs?: number;
    }
  | { kind: 'Idle'; reason: 'RecommendOnly' | 'NothingToDo'; message: string };

export interface PlanInput {
  spec: EtcdHealthCheckSpec;
  view: ClusterView;
  findings: readonly Finding[];
  state: RemediationStatus | undefined;
  now: Date;
  /** Answers to an Ask decision of an earlier call in the same reconcile. */
  answers?: Answers;
  runningDeadlineMs?: number;
}

type Defer = Extract<Decision, { kind: 'Defer' }>;
type Idle = Extract<Decision, { kind: 'Idle' }>;
type Work = { kind: 'Work'; step: Step; urgent: boolean; question?: Question };

export function plan(input: PlanInput): Decision {
  const current = input.state?.current;
  if (current?.phase === 'Running') return resolveRunning(input, current);
  const remediation = input.spec.remediation;
  if (remediation.mode !== 'Automatic') {
    return { kind: 'Idle', reason: 'RecommendOnly', message: 'remediation mode is Recommend' };
  }
  if (remediation.paused) {
    return defer('Paused', 'spec.remediation.paused is true: automated remediation is stopped');
  }
  const { view } = input;
  if (!view.observation.etcd.alarmsKnown) {
    return defer('AlarmsUnknown', 'the alarm list could not be read, so a CORRUPT alarm cannot be ruled out');
  }
  const alarms = activeAlarms(view);
  if (alarms.has('CORRUPT')) {
    return defer(
      'CorruptAlarm',
      'a CORRUPT alarm is active: nothing is done automatically; restore the cluster from a backup',
    );
  }
  const failures = input.state?.consecutiveFailures ?? 0;
  if (failures >= MAX_CONSECUTIVE_FAILURES) {
    const last = historyOf(input.state).at(-1);
    return defer(
      'TooManyFailures',
      `${failures} consecutive steps failed${last ? ` (last: ${describeRecord(last)})` : ''}; automation stopped: fix the cause, then set spec.remediation.paused to true and back to false to retry`,
    );
  }

  const work = alarms.has('NOSPACE') ? noSpaceWork(input) : routineWork(input);
  if (work.kind !== 'Work') return work;
  const { step } = work;

  const managed = clusterEtcdOperatorGate(view, step);
  if (managed) return managed;
  const unsafe = healthGate(view, input.spec, step);
  if (unsafe) return unsafe;
  const now = input.now.getTime();
  if (!work.urgent && remediation.maintenanceWindow) {
    const window = windowState(remediation.maintenanceWindow, input.now);
    if (!window.open) {
      return defer(
        'OutsideWindow',
        `${step.summary} waits for the maintenance window (${describeWindow(remediation.maintenanceWindow)}), next open at ${window.opensAt.toISOString()}`,
        { step, retryAfterMs: window.opensAt.getTime() - now },
      );
    }
  }
  if (work.question) return { kind: 'Ask', question: work.question, step };

  const settleMs = parseDurationMs(remediation.settleTime);
  const last = lastFinishedAt(input.state);
  if (last !== undefined && now - last < settleMs) {
    return defer(
      'Settling',
      `settling until ${new Date(last + settleMs).toISOString()}, then: ${step.summary}`,
      { step, inProgress: true, retryAfterMs: last + settleMs - now },
    );
  }
  if (remediation.dryRun) return { kind: 'DryRun', step, message: `dry run: would ${step.summary}` };
  return { kind: 'Act', step };
}

// ---- a step that did not finish ------------------------------------------------------------

function resolveRunning(input: PlanInput, record: RemediationRecord): Decision {
  const { view, now } = input;
  const age = now.getTime() - Date.parse(record.startedAt);
  const deadlineMs = input.runningDeadlineMs ?? DEFAULT_RUNNING_DEADLINE_MS;
  const member = record.member ? view.members.find((m) => m.name === record.member) : undefined;
  const what = describeAction(record);
  const awaitOrFail = (waitingFor: string, failure: string): Decision =>
    Number.isFinite(age) && age > deadlineMs
      ? finish(
          record,
          'Failed',
          'MemberDidNotRecover',
          `${failure} within ${formatDuration(deadlineMs)} of its start`,
        )
      : defer('AwaitingMember', `${what} started at ${record.startedAt}: waiting for ${waitingFor}`, {
          inProgress: true,
          retryAfterMs: 5_000,
        });

  switch (record.action) {
    case 'Defragment': {
      const name = record.member ?? 'the member';
      const size = member?.observation.status?.dbSize;
      if (member?.state !== 'Healthy' || size === undefined) {
        return awaitOrFail(
          `${name} to finish and answer a linearizable read again`,
          `${name} did not answer again`,
        );
      }
      const before = record.dbSizeBefore;
      if (before !== undefined && size < before) {
        return finish(
          record,
          'Succeeded',
          'Verified',
          `${name} is healthy again and its DB shrank from ${formatBytes(before)} to ${formatBytes(size)} (verified after the step was interrupted)`,
          size,
        );
      }
      return finish(
        record,
        'Failed',
        'Interrupted',
        `the step was interrupted and ${name}'s DB did not shrink (${before === undefined ? 'size before unknown' : formatBytes(before)}, now ${formatBytes(size)}): it will be repeated if still needed`,
        size,
      );
    }
    case 'MoveLeader': {
      const from = member?.id ?? view.members.find((m) => m.name === record.member)?.id;
      if (view.leader.state !== 'Elected' || view.leader.id === undefined) {
        return awaitOrFail('an elected leader', 'no leader was elected');
      }
      return view.leader.id !== from
        ? finish(
            record,
            'Succeeded',
            'Verified',
            `${view.leader.name} leads now (verified after the step was interrupted)`,
          )
        : finish(
            record,
            'Failed',
            'Interrupted',
            `the step was interrupted and ${record.member ?? 'the member'} still leads`,
          );
    }
    case 'DisarmNoSpace': {
      if (!view.observation.etcd.alarmsKnown)
        return awaitOrFail('the alarm list', 'the alarm list could not be read');
      return activeAlarms(view).has('NOSPACE')
        ? finish(
            record,
            'Failed',
            'Interrupted',
            'the step was interrupted and the NOSPACE alarm is still active',
          )
        : finish(
            record,
            'Succeeded',
            'Verified',
            'the NOSPACE alarm is gone (verified after the step was interrupted)',
          );
    }
    default:
      return finish(
        record,
        'Failed',
        'Interrupted',
        'the step was interrupted; it will be repeated if still needed',
      );
  }
}

function finish(
  record: RemediationRecord,
  phase: 'Succeeded' | 'Failed',
  reason: string,
  message: string,
  dbSizeAfter?: number,
): Decision {
  return {
    kind: 'Finish',
    record: { ...record, phase, reason, message, ...(dbSizeAfter !== undefined ? { dbSizeAfter } : {}) },
    message,
    dbSizeAfter,
  };
}

// ---- what to do next ----------------------------------------------------------------------

/**
 * A due defragmentation first, else a compaction. Members cooling down do not hold the
 * compaction back: it is a different action, and the cooldown may be hours long.
 */
function routineWork(input: PlanInput): Work | Defer | Idle {
  const defragmentation = defragmentWork(input);
  if (defragmentation === undefined) return compactionWork(input);
  if (defragmentation.kind === 'Defer' && defragmentation.reason === 'Cooldown') {
    const compaction = compactionWork(input);
    return compaction.kind === 'Work' ? compaction : defragmentation;
  }
  return defragmentation;
}

/**
 * Defragmentation gives back only the free pages inside the DB file, so a member under quota
 * pressure qualifies when that is worth it: at least this share of its quota. etcd-defrag's
 * documented rule (`dbQuotaUsage > 0.8 || dbSize - dbSizeInUse > 200*1024*1024`) and cozystack's
 * EtcdDefragPolicy (80% of the quota or 200 Mi free) defragment near the quota instead of waiting
 * for NOSPACE; a floor relative to the quota keeps a nearly compact member from being
 * defragmented (blocking its I/O) for nothing.
 */
export const QUOTA_RECLAIM_MIN_PERCENT = 10;

interface DefragCandidate {
  member: MemberView;
  reason: Extract<StepReason, 'QuotaPressure' | 'HighFragmentation'>;
  /** Within a reason, higher goes first: quota use, or fragmentation, in percent. */
  rank: number;
  detail: string;
}

/**
 * Members whose defragmentation is due: quota pressure (spec.thresholds.quotaUsage warning tier
 * and enough to reclaim) before fragmentation (spec.thresholds.fragmentation), each most pressing first.
 */
function defragCandidates(view: ClusterView, findings: readonly Finding[]): DefragCandidate[] {
  const byMember = (check: string, qualifies: (f: Finding) => boolean) =>
    new Map(findings.filter((f) => f.check === check && qualifies(f)).map((f) => [f.target, f] as const));
  const pressure = byMember(
    'QuotaUsage',
    (f) => f.reason === 'QuotaPressure' && (f.severity === 'Warning' || f.severity === 'Critical'),
  );
  const fragmented = byMember('Fragmentation', (f) => f.reason === 'HighFragmentation');
  const size = (m: MemberView) => {
    const bytes = physicalSize(m)?.bytes;
    return `DB ${bytes === undefined ? 'size unknown' : formatBytes(bytes)}`;
  };
  const candidates = defragTargets(view).flatMap((m): DefragCandidate[] => {
    const quota = quotaBytes(m);
    const pair = sizePair(m);
    const reclaimable = pair && pair.inUse <= pair.dbSize ? pair.dbSize - pair.inUse : undefined;
    const usage = pressure.get(m.name)?.value;
    if (
      usage !== undefined &&
      quota !== undefined &&
      reclaimable !== undefined &&
      reclaimable * 100 >= quota * QUOTA_RECLAIM_MIN_PERCENT
    ) {
      return [
        {
          member: m,
          reason: 'QuotaPressure',
          rank: usage,
          detail: `${size(m)}, ${formatPercent(usage)} of its quota, ${formatBytes(reclaimable)} to reclaim`,
        },
      ];
    }
    const percent = fragmented.get(m.name)?.value;
    return percent === undefined
      ? []
      : [
          {
            member: m,
            reason: 'HighFragmentation',
            rank: percent,
            detail: `${size(m)}, ${formatPercent(percent)} fragmented`,
          },
        ];
  });
  const order = (c: DefragCandidate) => (c.reason === 'QuotaPressure' ? 0 : 1);
  return candidates.sort(
    (a, b) => order(a) - order(b) || b.rank - a.rank || compare(a.member.name, b.member.name),
  );
}

/** Defragmentation of the members defragCandidates names, outside their cooldown. */
function defragmentWork(input: PlanInput): Work | Defer | undefined {
  const { view, findings, state, now, spec } = input;
  const candidates = defragCandidates(view, findings);
  if (candidates.length === 0) return undefined;
  const cooldownMs = parseDurationMs(spec.remediation.memberCooldown);
  const cooling: { member: MemberView; until: number }[] = [];
  const ready: DefragCandidate[] = [];
  for (const candidate of candidates) {
    const { member } = candidate;
    const last = Date.parse(state?.lastDefragByMember?.[member.name] ?? '');
    if (Number.isFinite(last) && now.getTime() - last < cooldownMs)
      cooling.push({ member, until: last + cooldownMs });
    else ready.push(candidate);
  }
  if (ready.length === 0) {
    const until = Math.min(...cooling.map((c) => c.until));
    return defer(
      'Cooldown',
      `${listing(cooling.map((c) => c.member.name))} ${cooling.length === 1 ? 'qualifies' : 'qualify'} for defragmentation but ${cooling.length === 1 ? 'was' : 'were'} defragmented less than ${spec.remediation.memberCooldown} ago (spec.remediation.memberCooldown); the next may be defragmented at ${new Date(until).toISOString()}`,
      { retryAfterMs: until - now.getTime() },
    );
  }
  const needing = new Set(candidates.map((c) => c.member.name));
  const of = new Map(ready.map((c) => [c.member.name, c] as const));
  return nextDefragStep(
    view,
    state,
    ready.map((c) => c.member),
    needing,
    (m) => of.get(m.name)!.reason,
    false,
    (m) => of.get(m.name)!.detail,
  );
}

/**
 * The documented NOSPACE recovery, one step per call: compact to the current revision, defragment
 * every member (followers first, leader last), then disarm when every member is below the quota
 * by the margin, and verify a write. Its progress is read from the history: the episode starts
 * with a successful NoSpaceRecovery compaction and ends with a successful disarm.
 */
function noSpaceWork(input: PlanInput): Work | Defer {
  const { spec, view, state, now } = input;
  const { nospaceRecovery } = spec.remediation;
  if (!nospaceRecovery.enabled) {
    return defer(
      'NoSpaceRecoveryDisabled',
      'a NOSPACE alarm is active and spec.remediation.nospaceRecovery.enabled is false: recover by hand (see the RecoverFromNoSpace recommendation)',
    );
  }
  const episode = openNoSpaceEpisode(state, now);
  if (episode === undefined) {
    const revision = currentRevision(view);
    if (revision === undefined) {
      return defer(
        'RevisionUnknown',
        'a NOSPACE alarm is active but no member reported its current revision',
      );
    }
    return {
      kind: 'Work',
      urgent: true,
      step: {
        action: 'Compact',
        reason: 'NoSpaceRecovery',
        endpoint: leaderEndpoint(view),
        revision: revision.toString(),
        summary: `compact the history to revision ${revision} to recover from NOSPACE`,
      },
    };
  }
  const since = Date.parse(episode.finishedAt ?? episode.startedAt);
  const pending = defragTargets(view).filter((member) => {
    const last = Date.parse(state?.lastDefragByMember?.[member.name] ?? '');
    return !(Number.isFinite(last) && last >= since);
  });
  if (pending.length > 0) {
    const needing = new Set(pending.map((m) => m.name));
    return nextDefragStep(
      view,
      state,
      pending,
      needing,
      () => 'NoSpaceRecovery',
      true,
      (m) => {
        const size = physicalSize(m)?.bytes;
        return `DB ${size === undefined ? 'size unknown' : formatBytes(size)}, NOSPACE recovery`;
      },
    );
  }

  const disarm: Step = {
    action: 'DisarmNoSpace',
    reason: 'NoSpaceRecovery',
    endpoint: leaderEndpoint(view),
    alarmMemberIds: [
      ...new Set(view.observation.etcd.alarms.filter((a) => a.alarm === 'NOSPACE').map((a) => a.memberId)),
    ],
    summary: 'disarm the NOSPACE alarm and verify that a write succeeds',
  };
  const started = view.members.filter((m) => m.state !== 'NotStarted' && m.clientURL !== '');
  const quotaOf = (m: MemberView) => quotaBytes(m) ?? input.answers?.quotaBytes?.[m.name];
  const unknown = started.filter((m) => quotaOf(m) === undefined);
  if (unknown.length > 0) {
    if (input.answers?.quotaBytes === undefined) {
      return {
        kind: 'Work',
        urgent: true,
        step: disarm,
        question: { kind: 'quota', members: unknown.map(ref) },
      };
    }
    return defer(
      'QuotaUnknown',
      `the backend quota of ${listing(unknown.map((m) => m.name))} is unknown (neither Status, Prometheus nor the member's /metrics reported it), so the NOSPACE alarm is not disarmed`,
    );
  }
  const limitPercent = 100 - nospaceRecovery.marginPercent;
  const above = started.flatMap((m) => {
    const size = physicalSize(m)?.bytes;
    const quota = quotaOf(m)!;
    return size !== undefined && size * 100 > quota * limitPercent ? [{ m, size, quota }] : [];
  });
  if (above.length > 0) {
    const detail = above
      .map(
        (a) =>
          `${a.m.name} uses ${formatBytes(a.size)} of ${formatBytes(a.quota)} (${formatPercent((a.size * 100) / a.quota)})`,
      )
      .join(', ');
    return defer(
      'StillAboveQuota',
      `after compaction and defragmentation ${detail}, above the ${limitPercent}% under which the NOSPACE alarm is disarmed (spec.remediation.nospaceRecovery.marginPercent ${nospaceRecovery.marginPercent}): delete data or raise --quota-backend-bytes; the alarm is then disarmed automatically`,
    );
  }
  return { kind: 'Work', urgent: true, step: disarm };
}

/** The compaction a cluster without its own needs: when history exceeds retainRevisions. */
function compactionWork(input: PlanInput): Work | Idle {
  const { spec, view, state, now } = input;
  const nothing: Idle = {
    kind: 'Idle',
    reason: 'NothingToDo',
    message: 'nothing qualifies for automated remediation',
  };
  const { compaction } = spec.remediation;
  if (!compaction.enabled) return nothing;
  const lastCompaction = historyOf(state)
    .filter((r) => r.action === 'Compact' && r.phase === 'Succeeded')
    .map((r) => Date.parse(r.finishedAt ?? r.startedAt))
    .filter(Number.isFinite);
  if (lastCompaction.length > 0 && now.getTime() - Math.max(...lastCompaction) < MIN_COMPACTION_INTERVAL_MS) {
    return nothing;
  }
  const revision = currentRevision(view);
  if (revision === undefined) return nothing;
  const target = revision - BigInt(compaction.retainRevisions);
  if (target <= 1n) return nothing;
  const step: Step = {
    action: 'Compact',
    reason: 'HistoryBound',
    endpoint: leaderEndpoint(view),
    revision: target.toString(),
    summary: `compact the history to revision ${target}, keeping the last ${compaction.retainRevisions} revisions`,
  };
  if (input.answers?.compactionUseful === undefined) {
    // Compacting to `target` frees something only when revision target-1 is still in the history.
    return {
      kind: 'Work',
      urgent: false,
      step,
      question: { kind: 'compaction', endpoint: step.endpoint, revision: (target - 1n).toString() },
    };
  }
  return input.answers.compactionUseful ? { kind: 'Work', urgent: false, step } : nothing;
}

/**
 * The next defragmentation among `members` (already in order): a follower if any is left;
 * otherwise the leader, after moving the leadership to a healthy voting member, or in place when
 * nobody can take over or the last attempt to move it failed (cluster-etcd-operator #1618:
 * "continuing with blocking leader defrag").
 */
function nextDefragStep(
  view: ClusterView,
  state: RemediationStatus | undefined,
  members: MemberView[],
  /** Members that still need a defragmentation: the leadership goes elsewhere if possible. */
  needing: ReadonlySet<string>,
  reasonOf: (m: MemberView) => StepReason,
  urgent: boolean,
  detail: (m: MemberView) => string,
): Work | Defer {
  const leaderId = view.leader.id;
  if (leaderId === undefined) {
    return defer('NoLeader', `no member names a leader, so the leader cannot be kept for last`);
  }
  const defragment = (m: MemberView, note = ''): Work => ({
    kind: 'Work',
    urgent,
    step: {
      action: 'Defragment',
      reason: reasonOf(m),
      member: ref(m),
      endpoint: m.clientURL,
      dbSizeBefore: physicalSize(m)?.bytes,
      summary: `defragment ${m.name} (${detail(m)})${note}`,
    },
  });
  const follower = members.find((m) => m.id !== leaderId);
  if (follower) return defragment(follower);
  const leader = members[0]!;
  const transferee = view.voting
    .filter((m) => m !== leader && m.state === 'Healthy' && m.id !== '' && m.clientURL !== '')
    .sort((a, b) => Number(needing.has(a.name)) - Number(needing.has(b.name)) || compare(a.name, b.name))[0];
  const last = historyOf(state).at(-1);
  const transferFailed =
    last?.action === 'MoveLeader' && last.phase === 'Failed' && last.member === leader.name;
  if (transferee && !transferFailed) {
    return {
      kind: 'Work',
      urgent,
      step: {
        action: 'MoveLeader',
        reason: reasonOf(leader),
        member: ref(leader),
        transferee: ref(transferee),
        endpoint: leader.clientURL,
        summary: `move the leadership from ${leader.name} to ${transferee.name} before defragmenting ${leader.name}`,
      },
    };
  }
  return defragment(
    leader,
    view.voting.length === 1
      ? ', the only member'
      : transferFailed
        ? ', the leader, in place: moving the leadership away failed'
        : ', the leader, in place: no other member can take over',
  );
}

/**
 * On OpenShift the cluster-etcd-operator defragments its members itself (fragmented >= 45% and
 * >= 100 MB, every 11 minutes): this operator never defragments (nor moves the leadership for a
 * defragmentation) beside it. Its documented switch hands the job over: the ConfigMap
 * etcd-disable-defrag in openshift-etcd-operator sets DefragControllerDisabled=True.
 */
function clusterEtcdOperatorGate(view: ClusterView, step: Step): Defer | undefined {
  const operator = view.observation.clusterEtcdOperator;
  if (!defragmentsItself(operator) || (step.action !== 'Defragment' && step.action !== 'MoveLeader'))
    return undefined;
  const state =
    operator!.defragController === 'Enabled'
      ? "the cluster-etcd-operator's defragmentation controller runs on this cluster (DefragControllerDisabled=False on etcd.operator.openshift.io/cluster) and defragments these members itself"
      : `whether the cluster-etcd-operator's defragmentation controller runs cannot be told (${operator!.error ?? 'etcd.operator.openshift.io/cluster has no DefragControllerDisabled condition'}), and two controllers defragmenting at once could block two members together`;
  return defer(
    'ClusterEtcdOperatorDefragments',
    `${capitalize(step.summary)} is left undone: ${state}. To hand defragmentation to this operator instead, an admin disables that controller: oc create configmap etcd-disable-defrag -n openshift-etcd-operator`,
    { step },
  );
}

function healthGate(view: ClusterView, spec: EtcdHealthCheckSpec, step: Step): Defer | undefined {
  const voting = view.voting;
  if (voting.length === 0)
    return defer('ClusterUnhealthy', `${capitalize(step.summary)} deferred: no voting member was observed`, {
      step,
    });
  // Before the general rule, to say why: a member cut off from its peers is not down, and a
  // defragmentation that blocks one of the two members left in the quorum stops every write.
  const isolated = voting.filter((m) => isIsolated(m, view.leader));
  if (isolated.length > 0) {
    return defer(
      'MemberIsolated',
      `${capitalize(step.summary)} deferred: ${listing(isolated.map((m) => m.name))} ${isolated.length === 1 ? 'is' : 'are'} isolated (answering but without a leader while the quorum has one); the network between the members must be fixed first`,
      { step },
    );
  }
  const unhealthy = voting.filter((m) => m.state !== 'Healthy');
  if (unhealthy.length > 0) {
    return defer(
      'ClusterUnhealthy',
      `${capitalize(step.summary)} deferred: ${listing(unhealthy.map(describeState))}; every voting member must answer a linearizable read first`,
      { step },
    );
  }
  if (voting.length === 1) {
    if (!spec.remediation.allowSingleMember) {
      return defer(
        'SingleMember',
        `${capitalize(step.summary)} deferred: this is a single-member cluster, where a step blocks every read and write; set spec.remediation.allowSingleMember to allow it`,
        { step },
      );
    }
  } else if (!isFaultTolerant(voting.length, voting.length - unhealthy.length)) {
    return defer(
      'NotFaultTolerant',
      `${capitalize(step.summary)} deferred: with ${voting.length} voting members quorum needs ${quorumSize(voting.length)}, so the cluster cannot lose a member during the step`,
      { step },
    );
  }
  if (view.quorum.state !== 'Quorate' || view.leader.id === undefined) {
    return defer('NoLeader', `${capitalize(step.summary)} deferred: the cluster has no known leader`, {
      step,
    });
  }
  if (view.leader.disagreement) {
    return defer('NoLeader', `${capitalize(step.summary)} deferred: ${view.leader.disagreement}`, { step });
  }
  return undefined;
}

// ---- helpers -------------------------------------------------------------------------------

/** Started voting members: learners reject Defragment (cluster-etcd-operator, etcd-defrag #26). */
function defragTargets(view: ClusterView): MemberView[] {
  return view.voting.filter((m) => m.clientURL !== '' && m.state !== 'NotStarted');
}

/** The open NOSPACE episode: its successful compaction, unless a successful disarm followed. */
function openNoSpaceEpisode(state: RemediationStatus | undefined, now: Date): RemediationRecord | undefined {
  for (const record of [...historyOf(state)].reverse()) {
    if (record.phase !== 'Succeeded') continue;
    if (record.action === 'DisarmNoSpace') return undefined;
    if (record.action === 'Compact' && record.reason === 'NoSpaceRecovery') {
      const at = Date.parse(record.finishedAt ?? record.startedAt);
      return now.getTime() - at <= NOSPACE_EPISODE_MAX_AGE_MS ? record : undefined;
    }
  }
  return undefined;
}

/** The highest KV revision any member reported (members only lag behind the leader). */
function currentRevision(view: ClusterView): bigint | undefined {
  let best: bigint | undefined;
  for (const m of view.members) {
    const revision = m.observation.status?.revision;
    if (revision === undefined || !/^[0-9]+$/.test(revision)) continue;
    const value = BigInt(revision);
    if (best === undefined || value > best) best = value;
  }
  return best;
}

function leaderEndpoint(view: ClusterView): string {
  const leader = view.members.find((m) => m.id !== '' && m.id === view.leader.id);
  return leader?.clientURL || view.voting.find((m) => m.state === 'Healthy')?.clientURL || '';
}

function ref(m: MemberView): MemberRef {
  return { name: m.name, id: m.id, endpoint: m.clientURL };
}

function describeState(m: MemberView): string {
  switch (m.state) {
    case 'NotStarted':
      return `${m.name} has not started`;
    case 'Unreachable':
      return `${m.name} is unreachable`;
    default:
      return `${m.name} is unhealthy`;
  }
}

/** "Defragment of member-2", "Compact". */
export function describeAction(record: Pick<RemediationRecord, 'action' | 'member'>): string {
  return `${record.action}${record.member ? ` of ${record.member}` : ''}`;
}

/** "Defragment of member-2 failed: <error>", or the outcome message of a success. */
export function describeRecord(record: RemediationRecord): string {
  if (record.phase === 'Succeeded' && record.message) return record.message;
  const head = `${describeAction(record)} ${record.phase.toLowerCase()}`;
  return record.message ? `${head}: ${record.message}` : head;
}

function defer(
  reason: DeferReason,
  message: string,
  options: { step?: Step; inProgress?: boolean; retryAfterMs?: number } = {},
): Defer {
  return {
    kind: 'Defer',
    reason,
    message,
    inProgress: options.inProgress ?? false,
    ...(options.step ? { step: options.step } : {}),
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: Math.max(0, options.retryAfterMs) } : {}),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
