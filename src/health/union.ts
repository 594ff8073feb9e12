// OpenShift library-go's condition semantics (pkg/operator/status UnionCondition and the
// ClusterOperator setter), on the analysis' own clock.
import type { Condition, ConditionStatus } from '../api/v1alpha1/status.js';
import { UNION_CONDITION_TYPES, type UnionConditionType } from '../api/v1alpha1/resource.js';
import { unique } from './text.js';

export type ConditionDraft = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** What each union is when nothing is wrong. */
const UNION_DEFAULTS: Record<UnionConditionType, ConditionStatus> = {
  Available: 'True',
  Progressing: 'False',
  Degraded: 'False',
  Upgradeable: 'True',
};

/** A draft as it would be written now: lastTransitionTime is now until setCondition says otherwise. */
export function stamp(draft: ConditionDraft, now: Date, generation: number): Condition {
  return { ...draft, lastTransitionTime: now.toISOString(), observedGeneration: generation };
}

/**
 * library-go's SetStatusCondition: lastTransitionTime moves only when the status flips (or the
 * condition is new), so the previous one is kept otherwise; reason and message are always the new
 * ones.
 */
export function setCondition(previous: readonly Condition[], condition: Condition): Condition {
  const prior = previous.find((candidate) => candidate.type === condition.type);
  return prior !== undefined && prior.status === condition.status
    ? { ...condition, lastTransitionTime: prior.lastTransitionTime }
    : condition;
}

/** A union, stamped and set against the previous conditions: what analyze writes for the four unions. */
export function unionConditions(
  type: UnionConditionType,
  inputs: readonly Condition[],
  previous: readonly Condition[],
  now: Date,
  generation: number,
  inertiaMs = 0,
): Condition {
  return setCondition(previous, stamp(unionCondition(type, inputs, now, inertiaMs), now, generation));
}

/** The four unions of `perCheck`, in order; only Degraded has an inertia, as in library-go's StatusSyncer. */
export function unionsOf(
  perCheck: readonly Condition[],
  previous: readonly Condition[],
  now: Date,
  generation: number,
  degradedInertiaMs: number,
): Condition[] {
  return UNION_CONDITION_TYPES.map((type) =>
    unionConditions(type, perCheck, previous, now, generation, type === 'Degraded' ? degradedInertiaMs : 0),
  );
}

/**
 * `previous` with `drafts` in place of the conditions of the same type, and the unions recomputed:
 * a writer that owns a few per-check conditions shows their effect on the unions at once, without
 * running the checks again.
 */
export function withConditions(
  previous: readonly Condition[],
  drafts: readonly ConditionDraft[],
  now: Date,
  generation: number,
  degradedInertiaMs: number,
): Condition[] {
  const unionTypes: readonly string[] = UNION_CONDITION_TYPES;
  const replaced = drafts.map((draft) => setCondition(previous, stamp(draft, now, generation)));
  const kept = previous.filter(
    (condition) =>
      !unionTypes.includes(condition.type) && !replaced.some((draft) => draft.type === condition.type),
  );
  const perCheck = [...kept, ...replaced];
  return [...unionsOf(perCheck, previous, now, generation, degradedInertiaMs), ...perCheck];
}

/**
 * library-go UnionCondition: the inputs are the conditions whose type ends with the union's type;
 * "bad" inputs are those whose status differs from the default. With an inertia, a bad input counts
 * only once its lastTransitionTime is older than the inertia, so one bad scrape does not flip the
 * union. Deviation: status, reason and message come from the counted bad inputs only (library-go
 * takes status and text from all bad inputs once one is old enough), so a young bad input never
 * shows in a bad union before its inertia has passed.
 */
export function unionCondition(
  type: UnionConditionType,
  conditions: readonly Condition[],
  now: Date,
  inertiaMs = 0,
): ConditionDraft {
  const defaultStatus = UNION_DEFAULTS[type];
  const opposite: ConditionStatus = defaultStatus === 'True' ? 'False' : 'True';
  const inputs = conditions.filter((condition) => condition.type !== type && condition.type.endsWith(type));
  if (inputs.length === 0)
    return { type, status: 'Unknown', reason: 'NoData', message: 'No check reports this condition' };
  // An unparsable time counts as old: inertia may delay a bad input, never hide it.
  const young = (condition: Condition) =>
    inertiaMs > 0 && now.getTime() - Date.parse(condition.lastTransitionTime) <= inertiaMs;
  const counted = inputs.filter((condition) => condition.status !== defaultStatus && !young(condition));
  if (counted.length === 0) {
    return {
      type,
      status: defaultStatus,
      reason: 'AsExpected',
      message: unionMessage(inputs) || 'All is well',
    };
  }
  return {
    type,
    status: counted.some((condition) => condition.status === opposite) ? opposite : 'Unknown',
    reason: unionReason(type, counted),
    message: unionMessage(counted),
  };
}

/** "DiskLatency_SlowWALFsync::EtcdMembers_NoQuorum": sorted `<TypeWithoutSuffix>_<Reason>` joined by "::". */
function unionReason(type: string, conditions: readonly Condition[]): string {
  return conditions
    .map((condition) => {
      const prefix = condition.type.slice(0, -type.length);
      return condition.reason ? `${prefix}_${condition.reason}` : prefix;
    })
    .sort()
    .join('::');
}

/** One "<Type>: <line>" per distinct message line. */
function unionMessage(conditions: readonly Condition[]): string {
  return conditions
    .filter((condition) => condition.message !== '')
    .flatMap((condition) => unique(condition.message.split('\n')).map((line) => `${condition.type}: ${line}`))
    .join('\n');
}
