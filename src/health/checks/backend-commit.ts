// Backend (bbolt) commit p99 per member. Defaults 25ms/100ms: etcd docs want p99 < 25ms.
import type { ClusterView } from '../cluster.js';
import type { Finding } from '../findings.js';
import { runLatencyCheck } from './latency.js';

export function checkBackendCommit(view: ClusterView): Finding[] {
  return runLatencyCheck(view, {
    check: 'BackendCommit',
    label: 'backend commit p99',
    metric: 'backendCommitP99',
    slowReason: 'SlowBackendCommit',
    band: (v) => v.limits.backendCommitSeconds,
  });
}
