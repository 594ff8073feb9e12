// status.remediation bookkeeping: the Running record is the cross-replica lock, the history is what
// happened (steps only, never deferrals, so that a long deferral cannot push the story out), and
// lastDefragByMember drives the per-member cooldown. Pure functions; the remediator persists them.
import type { RemediationRecord, RemediationStatus } from '../api/v1alpha1/status.js';

/** The status schema holds at most 20 history records. */
export const HISTORY_LIMIT = 20;

/** status.remediation as a JSON merge patch: `current: null` removes the lock on the server. */
export type RemediationStatusPatch = Omit<RemediationStatus, 'current'> & {
  current: RemediationRecord | null;
};

export function historyOf(state: RemediationStatus | undefined): RemediationRecord[] {
  return state?.history ?? [];
}

/** The state with `record` as the Running lock. */
export function withLock(state: RemediationStatus | undefined, record: RemediationRecord): RemediationStatus {
  return { ...state, current: record };
}

/**
 * The state after `records` (finished, oldest first) were done: the lock released, the records
 * appended to the history, a successful defragmentation remembered for the cooldown, and the
 * failure streak counted (reset by any success).
 */
export function withFinished(
  state: RemediationStatus | undefined,
  records: readonly RemediationRecord[],
): RemediationStatus {
  const history = [...historyOf(state), ...records].slice(-HISTORY_LIMIT);
  const lastDefragByMember = { ...state?.lastDefragByMember };
  let failures = state?.consecutiveFailures ?? 0;
  for (const record of records) {
    if (record.phase === 'Failed') failures++;
    if (record.phase === 'Succeeded') failures = 0;
    if (record.action === 'Defragment' && record.phase === 'Succeeded' && record.member) {
      lastDefragByMember[record.member] = record.finishedAt ?? record.startedAt;
    }
  }
  const next: RemediationStatus = { ...state, history, consecutiveFailures: failures };
  delete next.current;
  if (Object.keys(lastDefragByMember).length > 0) next.lastDefragByMember = lastDefragByMember;
  return next;
}

/** The state as a merge patch: every field explicit, the lock removed with null when absent. */
export function toPatch(state: RemediationStatus): RemediationStatusPatch {
  return { ...state, current: state.current ?? null };
}

/** The same step: used to tell our own lock from another writer's. */
export function sameRecord(a: RemediationRecord | undefined, b: RemediationRecord | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.action === b.action &&
    a.member === b.member &&
    a.startedAt === b.startedAt
  );
}

/** When the latest step finished: the settle time counts from here. */
export function lastFinishedAt(state: RemediationStatus | undefined): number | undefined {
  const times = historyOf(state)
    .map((record) => Date.parse(record.finishedAt ?? ''))
    .filter((time) => Number.isFinite(time));
  return times.length > 0 ? Math.max(...times) : undefined;
}
