// Decides whether a freshly computed status is worth a write. The operator must not add the API
// churn it warns about: a write happens when something changed meaningfully (a condition, a
// recommendation, member health, a shown value moving by more than a relative tolerance) or when
// the last write is older than the heartbeat, so that `lastCheck` still proves the loop is alive.
import type { EtcdHealthCheckStatus } from '../api/v1alpha1/status.js';

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
  if (!current) return { write: true, why: 'first status' };
  if (current.observedGeneration !== next.observedGeneration) return { write: true, why: 'new generation' };
  const { lastCheck: currentCheck, ...currentRest } = current;
  const { lastCheck: nextCheck, ...nextRest } = next;
  const difference = findDifference(currentRest, nextRest, policy.relativeTolerance, 'status');
  if (difference) return { write: true, why: difference };
  if (sourceStates(currentCheck) !== sourceStates(nextCheck)) return { write: true, why: 'source state changed' };
  const lastWrite = currentCheck ? Date.parse(currentCheck.time) : NaN;
  if (!Number.isFinite(lastWrite) || now.getTime() - lastWrite >= policy.heartbeatMs) {
    return { write: true, why: 'heartbeat' };
  }
  return { write: false };
}

function sourceStates(check: EtcdHealthCheckStatus['lastCheck']): string {
  if (!check) return '';
  return [check.etcd.state, check.prometheus.state, check.kubernetes?.state ?? ''].join('/');
}

/** A path naming the first meaningful difference, or undefined when there is none. */
export function findDifference(a: unknown, b: unknown, tolerance: number, path: string): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    return numbersClose(a, b, tolerance) ? undefined : `${path}: ${a} -> ${b}`;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return stringsClose(a, b, tolerance) ? undefined : `${path} changed`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} -> ${b.length} items`;
    for (let i = 0; i < a.length; i++) {
      const found = findDifference(a[i], b[i], tolerance, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const found = findDifference(a[key], b[key], tolerance, `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return a === b ? undefined : `${path} changed`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numbersClose(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) <= tolerance * scale;
}

const NUMBER = /-?\d+(?:\.\d+)?/g;

/**
 * Strings compare equal when their words are equal and each number in them is within the
 * tolerance ("WAL fsync p99 4.1ms" vs "4.2ms"). Timestamps are compared exactly: a transition
 * time that moved is always meaningful.
 */
function stringsClose(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  if (ISO_TIME.test(a) || ISO_TIME.test(b)) return false;
  if (a.replace(NUMBER, '#') !== b.replace(NUMBER, '#')) return false;
  const numbersA = a.match(NUMBER) ?? [];
  const numbersB = b.match(NUMBER) ?? [];
  return numbersA.every((n, i) => numbersClose(Number(n), Number(numbersB[i]), tolerance));
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T/;
