// etcd_server_slow_read_indexes_total: the metric behind "waiting for ReadIndex response took too long".
import type { ClusterView } from '../cluster.js';
import type { Finding } from '../findings.js';
import { runRateCheck } from './rates.js';

export function checkSlowReadIndexes(view: ClusterView): Finding[] {
  return runRateCheck(view, {
    check: 'SlowReadIndexes',
    label: 'slow read indexes',
    metric: 'slowReadIndexesRate',
    reason: 'SlowReadIndexes',
    meaning:
      'etcd logs "waiting for ReadIndex response took too long", usually from a slow leader or network',
    critical: (v) => v.limits.slowReadIndexesCriticalRate,
  });
}
