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
 * Fields judged by their own rule: raft indexes move with every write and are shown for context
 * only; a raft term change is an election and always news; byte fields get the same noise floor
 * as sizes in shown strings; fragmentation derives from the two sizes (on a small DB it swings
 * between 0 and 25 % with every compaction) and is news only when they moved.
 */
const FIELD_RULES: Record<string, 'ignore' | 'exact' | { floor: number }> = {
  raftIndex: 'ignore',
  raftAppliedIndex: 'ignore',
  raftTerm: 'exact',
  dbSize: { floor: 2 ** 20 },
  dbSizeInUse: { floor: 2 ** 20 },
  fragmentationPercent: 'ignore',
};

/** A path naming the first meaningful difference, or undefined when there is none. */
export function findDifference(a: unknown, b: unknown, tolerance: number, path: string): string | undefined {
  const rule = FIELD_RULES[path.slice(path.lastIndexOf('.') + 1)];
  if (rule === 'ignore') return undefined;
  if (rule === 'exact') return a === b ? undefined : `${path} changed`;
  if (typeof a === 'number' && typeof b === 'number') {
    const floor = typeof rule === 'object' ? rule.floor : 0;
    return Math.abs(a - b) < floor || numbersClose(a, b, tolerance) ? undefined : `${path}: ${a} -> ${b}`;
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

// A number with an optional unit, as the status shows values: "4.1ms", "1.2 GiB", "12%".
const QUANTITY = /(-?\d+(?:\.\d+)?)\s?(µs|ms|s|%|B|KiB|MiB|GiB|TiB)?(?![A-Za-z])/g;

/**
 * A latency is news only when it doubles or halves: etcd's latency histograms have power-of-two
 * buckets (1ms, 2ms, 4ms, ...), and histogram_quantile interpolates inside one bucket, so a p99
 * moving by less than a bucket's width is interpolation noise. A threshold crossed is still news
 * at once, through the condition it changes.
 */
const LATENCY_TOLERANCE = 0.5;

/**
 * Base-unit factor and noise floor per unit: moves below the floor are never news; `tolerance`
 * widens the relative tolerance for the dimension.
 */
const UNITS: Record<string, { factor: number; dimension: string; floor: number; tolerance?: number }> = {
  µs: { factor: 1e-6, dimension: 'time', floor: 0.005, tolerance: LATENCY_TOLERANCE },
  ms: { factor: 1e-3, dimension: 'time', floor: 0.005, tolerance: LATENCY_TOLERANCE },
  s: { factor: 1, dimension: 'time', floor: 0.005, tolerance: LATENCY_TOLERANCE },
  '%': { factor: 1, dimension: 'percent', floor: 1 },
  B: { factor: 1, dimension: 'bytes', floor: 2 ** 20 },
  KiB: { factor: 2 ** 10, dimension: 'bytes', floor: 2 ** 20 },
  MiB: { factor: 2 ** 20, dimension: 'bytes', floor: 2 ** 20 },
  GiB: { factor: 2 ** 30, dimension: 'bytes', floor: 2 ** 20 },
  TiB: { factor: 2 ** 40, dimension: 'bytes', floor: 2 ** 20 },
};

interface Quantity {
  value: number;
  dimension: string;
  floor: number;
  tolerance: number;
}

function quantities(text: string): { shape: string; values: Quantity[] } {
  const values: Quantity[] = [];
  const shape = text.replace(QUANTITY, (_match, number: string, unit: string | undefined) => {
    const known = unit ? UNITS[unit] : undefined;
    values.push({
      value: Number(number) * (known?.factor ?? 1),
      dimension: known?.dimension ?? 'plain',
      floor: known?.floor ?? 0,
      tolerance: known?.tolerance ?? 0,
    });
    return `#${known?.dimension ?? ''}`;
  });
  return { shape, values };
}

/**
 * Strings compare equal when their words are equal and each value in them moved by no more than
 * the tolerance (for latencies: by less than a factor of two), or by less than its unit's noise
 * floor ("fsync p99 1.2ms" vs "2.5ms" on an idle disk is noise; "4.1ms" vs "60ms" is not). Units
 * are compared by dimension, so "999µs" vs "1ms" is close. Timestamps are compared exactly: a
 * transition time that moved is always meaningful.
 */
function stringsClose(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  if (ISO_TIME.test(a) || ISO_TIME.test(b)) return false;
  const left = quantities(a);
  const right = quantities(b);
  if (left.shape !== right.shape) return false;
  return left.values.every((q, i) => {
    const other = right.values[i]!;
    return (
      Math.abs(q.value - other.value) < q.floor ||
      numbersClose(q.value, other.value, Math.max(tolerance, q.tolerance))
    );
  });
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T/;
