// DB growth: warn when the DB size predicted over the horizon (predict_linear, 4h by default)
// reaches the quota (etcd mixin etcdExcessiveDatabaseGrowth).
import type { ClusterView } from '../cluster.js';
import { noData, type Finding } from '../findings.js';
import { finite, missingWhy } from '../metrics.js';
import { quotaBytes } from '../sizes.js';
import { formatBytes } from '../../api/v1alpha1/units.js';
import { perMemberMetricCheck } from './per-member.js';

export function checkGrowth(view: ClusterView): Finding[] {
  const horizon = view.spec.thresholds.growth.horizon;
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
