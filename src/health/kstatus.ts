// kstatus' two conditions (sigs.k8s.io/cli-utils/pkg/kstatus, as Flux, `kstatus` and
// `kubectl wait` read them). Both are "abnormal-true": False is the good state. kstatus computes
// a custom resource as InProgress while status.observedGeneration differs from
// metadata.generation or Reconciling=True, Failed when Stalled=True, and Current otherwise; with
// neither a status nor these conditions it would call a CR Current before anyone looked at it.
//
//   Reconciling  True while the operator works on a generation it has not fully checked yet.
//   Stalled      True when the check cannot go on without someone acting: an invalid spec, a spec
//                the operator's admin refuses, etcd credentials that are missing or unreadable.
import type { Condition } from '../api/v1alpha1/status.js';
import { setCondition, stamp, type ConditionDraft } from './union.js';

export const RECONCILING_CONDITION = 'Reconciling';
export const STALLED_CONDITION = 'Stalled';
export const KSTATUS_CONDITION_TYPES = [RECONCILING_CONDITION, STALLED_CONDITION] as const;

/** Where the operator is with one generation of a check. */
export type Progress =
  /** A new generation, before its first full check. */
  | { state: 'Checking' }
  /** The generation has been checked (whatever the check found). */
  | { state: 'Checked' }
  /** spec.suspend: nothing is checked, on purpose. */
  | { state: 'Suspended' }
  /** Nothing more happens until someone changes the spec, a Secret, or the operator's policy. */
  | { state: 'Stalled'; reason: string; message: string };

const NOT_STALLED: ConditionDraft = {
  type: STALLED_CONDITION,
  status: 'False',
  reason: 'AsExpected',
  message: 'Nothing keeps the check from running',
};

/** Reconciling and Stalled for `progress` of `generation`, in that order. */
export function progressConditions(progress: Progress, generation: number): ConditionDraft[] {
  switch (progress.state) {
    case 'Checking':
      return [
        {
          type: RECONCILING_CONDITION,
          status: 'True',
          reason: 'NewGeneration',
          message: `Generation ${generation} is being checked for the first time`,
        },
        NOT_STALLED,
      ];
    case 'Checked':
      return [
        {
          type: RECONCILING_CONDITION,
          status: 'False',
          reason: 'AsExpected',
          message: `Generation ${generation} has been checked`,
        },
        NOT_STALLED,
      ];
    case 'Suspended':
      return [
        {
          type: RECONCILING_CONDITION,
          status: 'False',
          reason: 'Suspended',
          message: 'Checks are suspended (spec.suspend is true); the status keeps its last values',
        },
        NOT_STALLED,
      ];
    case 'Stalled':
      return [
        {
          type: RECONCILING_CONDITION,
          status: 'False',
          reason: 'Stalled',
          message: `Generation ${generation} cannot be checked until the cause in the Stalled condition is fixed`,
        },
        { type: STALLED_CONDITION, status: 'True', reason: progress.reason, message: progress.message },
      ];
  }
}

/** `conditions` with Reconciling and Stalled set for `progress` (each keeps its lastTransitionTime unless it flips). */
export function withProgress(
  conditions: readonly Condition[],
  progress: Progress,
  now: Date,
  generation: number,
): Condition[] {
  const types: readonly string[] = KSTATUS_CONDITION_TYPES;
  const drafts = progressConditions(progress, generation).map((draft) =>
    setCondition(conditions, stamp(draft, now, generation)),
  );
  return [...conditions.filter((condition) => !types.includes(condition.type)), ...drafts];
}

/** Whether `conditions` already say that `generation` is being checked (a retried reconcile says it once). */
export function isMarkedChecking(conditions: readonly Condition[], generation: number): boolean {
  return conditions.some(
    (condition) =>
      condition.type === RECONCILING_CONDITION &&
      condition.status === 'True' &&
      condition.observedGeneration === generation,
  );
}
