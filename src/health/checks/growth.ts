// DB growth: warn when the DB size predicted over the horizon (predict_linear, 4h by default)
// reaches the quota (etcd mixin etcdExcessiveDatabaseGrowth). Silent while NOSPACE is raised (the
// DB cannot grow) and while Prometheus holds too little history for the prediction to mean much.
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { finite, missingWhy } from '../metrics.js';
import { quotaBytes } from '../sizes.js';
import { formatBytes } from '../../api/v1alpha1/units.js';
import { formatDuration } from '../text.js';
import { activeAlarms } from './alarms.js';
import { perMemberMetricCheck } from './per-member.js';

/**
 * The share of the horizon the DB size history must cover: extrapolating a line fitted over less
 * than a quarter of the horizon turns a burst (a minute of writes, predicted over 4h) into an alarm.
 */
const MIN_HISTORY_SHARE = 0.25;

export function checkGrowth(view: ClusterView): Finding[] {
  if (activeAlarms(view).has('NOSPACE')) {
    return [
      {
        check: 'Growth',
        severity: 'OK',
        target: CLUSTER_TARGET,
        reason: 'NoSpaceAlarm',
        message:
          'DB growth is not predicted while a NOSPACE alarm is active: the cluster accepts no writes, so its DB cannot grow',
      },
    ];
  }
  const horizon = view.spec.thresholds.growth.horizon;
  const neededSeconds = view.limits.growthHorizonSeconds * MIN_HISTORY_SHARE;
  return perMemberMetricCheck(view, 'Growth', 'DB growth', (member, metrics): Finding => {
    const base = { check: 'Growth' as const, target: member.name };
    const predicted = finite(metrics.dbSizePredicted);
    const quota = quotaBytes(member);
    if (predicted === undefined || quota === undefined) {
      const why =
        predicted === undefined
          ? `the predicted size is ${missingWhy(metrics.dbSizePredicted)}`
          : 'its quota is unknown';
      return noData(base.check, base.target, `DB growth of ${member.name} is not checked: ${why}`);
    }
    const history = finite(metrics.dbSizeHistorySeconds);
    if (history === undefined || history < neededSeconds) {
      const held = history === undefined ? 'an unknown span' : formatDuration(history);
      return {
        ...base,
        severity: 'OK',
        reason: 'ShortHistory',
        message: `DB growth of ${member.name} is not predicted yet: Prometheus holds ${held} of its DB size, and a prediction over ${horizon} needs at least ${formatDuration(neededSeconds)}`,
        ...(history === undefined ? {} : { value: history }),
        threshold: neededSeconds,
      };
    }
    if (predicted >= quota) {
      return {
        ...base,
        severity: 'Warning',
        reason: 'ExcessiveGrowth',
        message: `At its current growth the DB of ${member.name} reaches ${formatBytes(predicted)} within ${horizon}, at or above its ${formatBytes(quota)} quota`,
        value: predicted,
        threshold: quota,
      };
    }
    return {
      ...base,
      severity: 'OK',
      reason: 'AsExpected',
      message: `At its current growth the DB of ${member.name} stays below its ${formatBytes(quota)} quota for ${horizon}`,
      value: predicted,
      threshold: quota,
    };
  });
}
