// A per-member p99 latency judged against a warning/critical band (at or above).
import type { ClusterView } from '../cluster.js';
import { noData, type CheckName, type Finding } from '../findings.js';
import { levelAtOrAbove, type Band } from '../limits.js';
import { finite, missingWhy } from '../metrics.js';
import type { MemberMetrics } from '../observation.js';
import { formatSeconds } from '../../api/v1alpha1/units.js';
import { capitalize } from '../text.js';
import { perMemberMetricCheck } from './per-member.js';

export interface LatencyCheck {
  check: CheckName;
  label: string;
  metric: 'walFsyncP99' | 'backendCommitP99' | 'peerRoundTripP99';
  slowReason: string;
  band: (view: ClusterView) => Band;
}

export function runLatencyCheck(view: ClusterView, spec: LatencyCheck): Finding[] {
  const band = spec.band(view);
  return perMemberMetricCheck(view, spec.check, spec.label, (member, metrics: MemberMetrics): Finding => {
    const raw = metrics[spec.metric];
    const value = finite(raw);
    const subject = `${capitalize(spec.label)} on ${member.name}`;
    if (value === undefined) {
      return noData(spec.check, member.name, `${subject} is not checked: the value is ${missingWhy(raw)}`);
    }
    const level = levelAtOrAbove(value, band);
    const shown = formatSeconds(value);
    if (level === 'OK') {
      return {
        check: spec.check,
        severity: 'OK',
        target: member.name,
        reason: 'AsExpected',
        message: `${subject} is ${shown}, below the ${formatSeconds(band.warning)} warning threshold`,
        value,
        threshold: band.warning,
      };
    }
    const threshold = level === 'Critical' ? band.critical : band.warning;
    return {
      check: spec.check,
      severity: level,
      target: member.name,
      reason: spec.slowReason,
      message: `${subject} is ${shown}, at or above the ${formatSeconds(threshold)} ${level.toLowerCase()} threshold`,
      value,
      threshold,
    };
  });
}
