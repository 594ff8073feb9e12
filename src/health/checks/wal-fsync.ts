// WAL fsync p99 per member. Defaults 10ms/50ms: etcd's hardware guide wants p99 < 10ms.
import type { ClusterView } from '../cluster.js';
import type { Finding } from '../findings.js';
import { runLatencyCheck } from './latency.js';

export function checkWalFsync(view: ClusterView): Finding[] {
  return runLatencyCheck(view, {
    check: 'WalFsync',
    label: 'WAL fsync p99',
    metric: 'walFsyncP99',
    slowReason: 'SlowWALFsync',
    band: (v) => v.limits.walFsyncSeconds,
  });
}
