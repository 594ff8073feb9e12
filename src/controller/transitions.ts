// Condition transitions between the written status and the new one: the only source of Events,
// so a steady state produces none.
import type { Condition } from '../api/v1alpha1/status.js';
import { RECONCILING_CONDITION, STALLED_CONDITION } from '../health/kstatus.js';

export interface ConditionTransition {
  type: string;
  from: Condition['status'] | 'Absent';
  to: Condition['status'];
  reason: string;
  message: string;
  /** Warning when the condition moved to its bad status, Normal otherwise. */
  eventType: 'Normal' | 'Warning';
}

/** Status values that are bad for a condition type, by the suffix convention of the unions. */
function isBad(type: string, status: Condition['status']): boolean {
  if (status === 'Unknown') return false;
  const badWhenTrue = type.endsWith('Degraded') || type.endsWith('Progressing') || type === STALLED_CONDITION;
  return badWhenTrue ? status === 'True' : status === 'False';
}

export function conditionTransitions(previous: Condition[], next: Condition[]): ConditionTransition[] {
  const before = new Map(previous.map((c) => [c.type, c.status]));
  const transitions: ConditionTransition[] = [];
  for (const condition of next) {
    // Reconciling flips twice with every spec edit: bookkeeping for kstatus, not news.
    if (condition.type === RECONCILING_CONDITION) continue;
    const from = before.get(condition.type) ?? 'Absent';
    if (from === condition.status) continue;
    // A first appearance in the good or unknown state is not news.
    if (from === 'Absent' && !isBad(condition.type, condition.status)) continue;
    transitions.push({
      type: condition.type,
      from,
      to: condition.status,
      reason: condition.reason,
      message: condition.message,
      eventType: isBad(condition.type, condition.status) ? 'Warning' : 'Normal',
    });
  }
  return transitions;
}
