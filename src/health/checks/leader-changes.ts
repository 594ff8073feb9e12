// Leader changes seen by the cluster. Expected: none. Defaults: any change in an hour warns (field
// guide), 4 in 15 minutes is critical (etcd mixin etcdHighNumberOfLeaderChanges).
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { finite, missingWhy } from '../metrics.js';
import { formatCount } from '../text.js';

export function checkLeaderChanges(view: ClusterView): Finding[] {
  const base = { check: 'LeaderChanges' as const, target: CLUSTER_TARGET };
  if (!view.metricsSource.usable)
    return [noData(base.check, base.target, `Leader changes are not checked: ${view.metricsSource.why}`)];
  const { leaderChanges1h, leaderChanges15m } = view.observation.metrics;
  const lastHour = finite(leaderChanges1h);
  const last15m = finite(leaderChanges15m);
  if (lastHour === undefined || last15m === undefined) {
    const which = last15m === undefined ? 'the last 15 minutes' : 'the last hour';
    const raw = last15m === undefined ? leaderChanges15m : leaderChanges1h;
    return [
      noData(
        base.check,
        base.target,
        `Leader changes are not checked: the count for ${which} is ${missingWhy(raw)}`,
      ),
    ];
  }
  const { warningPerHour, criticalPer15m } = view.limits.leaderChanges;
  if (last15m >= criticalPer15m) {
    return [
      {
        ...base,
        severity: 'Critical',
        reason: 'FrequentLeaderChanges',
        message: `The leader changed ${times(last15m)} in the last 15 minutes, at or above the critical threshold of ${criticalPer15m}`,
        value: last15m,
        threshold: criticalPer15m,
      },
    ];
  }
  if (lastHour >= warningPerHour) {
    return [
      {
        ...base,
        severity: 'Warning',
        reason: 'LeaderChanged',
        message: `The leader changed ${times(lastHour)} in the last hour, at or above the warning threshold of ${warningPerHour}`,
        value: lastHour,
        threshold: warningPerHour,
      },
    ];
  }
  return [
    {
      ...base,
      severity: 'OK',
      reason: 'AsExpected',
      message: `The leader changed ${times(lastHour)} in the last hour`,
      value: lastHour,
      threshold: warningPerHour,
    },
  ];
}

function times(count: number): string {
  return `${formatCount(count)} ${count === 1 ? 'time' : 'times'}`;
}
