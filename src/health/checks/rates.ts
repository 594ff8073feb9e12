// A per-member event rate where any occurrence warns and a configurable bound is critical.
import type { ClusterView } from '../cluster.js';
import { noData, type CheckName, type Finding } from '../findings.js';
import { levelAboveRate } from '../limits.js';
import { finite, missingWhy } from '../metrics.js';
import { capitalize, formatRate } from '../text.js';
import { perMemberMetricCheck } from './per-member.js';

export interface RateCheck {
  check: CheckName;
  /** What is counted, e.g. "failed proposals". */
  label: string;
  metric: 'proposalsFailedRate' | 'slowAppliesRate' | 'slowReadIndexesRate';
  reason: string;
  /** What the rate means, appended to warnings. */
  meaning: string;
  critical: (view: ClusterView) => number;
}

export function runRateCheck(view: ClusterView, spec: RateCheck): Finding[] {
  const critical = spec.critical(view);
  return perMemberMetricCheck(view, spec.check, `the rate of ${spec.label}`, (member, metrics): Finding => {
    const raw = metrics[spec.metric];
    const rate = finite(raw);
    const subject = `${capitalize(spec.label)} on ${member.name}`;
    if (rate === undefined) {
      return noData(spec.check, member.name, `${subject} are not checked: the rate is ${missingWhy(raw)}`);
    }
    const level = levelAboveRate(rate, critical);
    if (level === 'OK') {
      return {
        check: spec.check,
        severity: 'OK',
        target: member.name,
        reason: 'AsExpected',
        message: `No ${spec.label} on ${member.name}`,
        value: rate,
        threshold: 0,
      };
    }
    const bound =
      level === 'Critical'
        ? `above the ${formatRate(critical)} critical bound`
        : `above 0 (critical above ${formatRate(critical)})`;
    return {
      check: spec.check,
      severity: level,
      target: member.name,
      reason: spec.reason,
      message: `${subject}: ${formatRate(rate)}, ${bound}; ${spec.meaning}`,
      value: rate,
      threshold: level === 'Critical' ? critical : 0,
    };
  });
}
