// `etcd-health check ehc/NAME --compare`: the status the operator last wrote beside the fresh
// verdict, condition by condition (status and reason) and recommendation by recommendation (by the
// identity the operator's own status-change rule uses), with every difference marked. Pure. The
// live status comes from the cluster and is untrusted: entries that do not validate are counted,
// not shown, and what is shown has its control characters removed.
import { UNION_CONDITION_TYPES, type EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import {
  ConditionSchema,
  RecommendationSchema,
  type Condition,
  type Recommendation,
} from '../api/v1alpha1/status.js';
import { recommendationIdentity } from '../controller/status-change.js';
import { wrap, type TextOptions } from './report.js';

export interface ConditionSide {
  status: Condition['status'];
  reason: string;
  lastTransitionTime: string;
}

export interface ConditionComparison {
  type: string;
  live?: ConditionSide;
  fresh?: ConditionSide;
  /** Status or reason differ, or the condition is on one side only. */
  differs: boolean;
}

export interface RecommendationComparison {
  /** "Defragment Warning member-1 Fragmented". */
  identity: string;
  live: boolean;
  fresh: boolean;
}

export interface StatusComparison {
  /** metadata.generation of the CR as read. */
  generation: number;
  /** Of the live status; absent when the operator has not written one. */
  observedGeneration?: number;
  /** status.lastCheck.time of the live status. */
  lastCheck?: string;
  conditions: ConditionComparison[];
  recommendations: RecommendationComparison[];
  /** Entries of the live status that do not validate, left out. */
  invalid: number;
  /** Differing conditions and recommendations, plus one when the status is of another generation. */
  differences: number;
}

export function compareStatus(
  object: EtcdHealthCheck,
  fresh: { conditions: readonly Condition[]; recommendations: readonly Recommendation[] },
): StatusComparison {
  const status: Record<string, unknown> = isRecord(object.status) ? object.status : {};
  const liveConditions = valid(status.conditions, (c) => ConditionSchema.safeParse(c));
  const liveRecommendations = valid(status.recommendations, (r) => RecommendationSchema.safeParse(r));
  const generation = object.metadata.generation ?? 0;
  const observedGeneration = nonNegativeInteger(status.observedGeneration);
  const lastCheck = isRecord(status.lastCheck) ? status.lastCheck.time : undefined;

  const side = (c: Condition | undefined): ConditionSide | undefined =>
    c && { status: c.status, reason: c.reason, lastTransitionTime: c.lastTransitionTime };
  const types = [
    ...new Set([
      ...UNION_CONDITION_TYPES,
      ...fresh.conditions.map((c) => c.type),
      ...liveConditions.values.map((c) => c.type),
    ]),
  ];
  const conditions = types.flatMap((type): ConditionComparison[] => {
    const live = side(liveConditions.values.find((c) => c.type === type));
    const now = side(fresh.conditions.find((c) => c.type === type));
    if (!live && !now) return [];
    const differs = live?.status !== now?.status || live?.reason !== now?.reason;
    return [{ type, ...(live && { live }), ...(now && { fresh: now }), differs }];
  });

  const liveIds = new Set(liveRecommendations.values.map(recommendationIdentity));
  const freshIds = new Set(fresh.recommendations.map(recommendationIdentity));
  const recommendations = [...new Set([...liveIds, ...freshIds])].map((identity) => ({
    identity,
    live: liveIds.has(identity),
    fresh: freshIds.has(identity),
  }));

  const otherGeneration = observedGeneration !== undefined && observedGeneration !== generation;
  const differences =
    conditions.filter((c) => c.differs).length +
    recommendations.filter((r) => r.live !== r.fresh).length +
    (otherGeneration ? 1 : 0);
  return {
    generation,
    ...(observedGeneration !== undefined && { observedGeneration }),
    ...(typeof lastCheck === 'string' && { lastCheck }),
    conditions,
    recommendations,
    invalid: liveConditions.invalid + liveRecommendations.invalid,
    differences,
  };
}

export function renderComparison(comparison: StatusComparison, options: TextOptions): string {
  const paint = (text: string, code: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const width = Math.max(60, options.width);
  const mark = (differs: boolean) => (differs ? paint('!', '33') : ' ');
  const lines = [paint('COMPARED WITH THE STATUS THE OPERATOR WROTE', '1')];
  const { generation, observedGeneration, lastCheck } = comparison;
  if (observedGeneration === undefined && comparison.conditions.every((c) => !c.live)) {
    lines.push('  the operator has written no status to this CR yet');
  } else {
    const stale = observedGeneration !== undefined && observedGeneration !== generation;
    lines.push(
      `${mark(stale)} observedGeneration ${observedGeneration ?? '-'} (the CR is at generation ${generation})` +
        `, last check ${lastCheck === undefined ? '-' : printable(lastCheck)}`,
    );
  }
  const rows = comparison.conditions.map((c) => {
    const statuses =
      c.live?.status === c.fresh?.status
        ? (c.fresh?.status ?? '-')
        : `${c.live?.status ?? '-'} -> ${c.fresh?.status ?? '-'}`;
    const reasons =
      c.live?.reason === c.fresh?.reason
        ? printable(c.fresh?.reason ?? '-')
        : `${printable(c.live?.reason ?? '-')} -> ${printable(c.fresh?.reason ?? '-')}`;
    const since = c.live ? printable(c.live.lastTransitionTime) : '-';
    return { c, cells: [c.type, statuses, since, reasons] };
  });
  const headers = ['CONDITION', 'OPERATOR -> NOW', 'OPERATOR SINCE', 'REASON (OPERATOR -> NOW)'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row.cells[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  lines.push(`  ${line(headers)}`);
  for (const { c, cells } of rows) {
    const text = line(cells);
    lines.push(`${mark(c.differs)} ${c.differs ? paint(text, '33') : text}`);
  }
  lines.push('  RECOMMENDATIONS (OPERATOR, NOW)');
  if (comparison.recommendations.length === 0) lines.push('  none on either side');
  for (const r of comparison.recommendations) {
    const where = r.live && r.fresh ? 'both' : r.live ? 'only the operator' : 'only now';
    lines.push(
      ...wrap(`${printable(r.identity)} (${where})`, width, '      ', `${mark(r.live !== r.fresh)}   `),
    );
  }
  if (comparison.invalid > 0)
    lines.push(`  ${comparison.invalid} entries of the live status do not validate and are left out`);
  lines.push(
    comparison.differences === 0
      ? '  no differences'
      : paint(
          `  ${comparison.differences} difference${comparison.differences === 1 ? '' : 's'} (marked !)`,
          '33',
        ),
  );
  return `${lines.join('\n')}\n`;
}

function valid<T>(
  list: unknown,
  parse: (value: unknown) => { success: true; data: T } | { success: false },
): { values: T[]; invalid: number } {
  const values: T[] = [];
  let invalid = 0;
  for (const item of Array.isArray(list) ? (list as unknown[]) : []) {
    const parsed = parse(item);
    if (parsed.success) values.push(parsed.data);
    else invalid++;
  }
  return { values, invalid };
}

function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Text from the cluster on one line, without control characters (no escape sequence reaches the terminal). */
function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
