// etcd_server_slow_apply_total: the metric behind the log line "apply request took too long".
import type { ClusterView } from '../cluster.js';
import type { Finding } from '../findings.js';
import { runRateCheck } from './rates.js';

export function checkSlowApplies(view: ClusterView): Finding[] {
  return runRateCheck(view, {
    check: 'SlowApplies',
    label: 'slow applies',
    metric: 'slowAppliesRate',
    reason: 'SlowApplies',
    meaning: 'etcd logs "apply request took too long", usually from slow disk or CPU starvation',
    critical: (v) => v.limits.slowAppliesCriticalRate,
  });
}
