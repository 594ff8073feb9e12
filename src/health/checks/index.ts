// Every check, in the order their findings are reported.
import type { ClusterView } from '../cluster.js';
import type { CheckName, Finding } from '../findings.js';
import { checkAlarms } from './alarms.js';
import { checkApiChurn } from './api-churn.js';
import { checkApiLatency } from './api-latency.js';
import { checkBackup } from './backup.js';
import { checkBackendCommit } from './backend-commit.js';
import { checkClusterOperator } from './cluster-operator.js';
import { checkCertificates } from './certificates.js';
import { checkConsistency } from './consistency.js';
import { checkControlPlaneNodes } from './control-plane-nodes.js';
import { checkDatabaseSize } from './database-size.js';
import { checkFragmentation } from './fragmentation.js';
import { checkGrowth } from './growth.js';
import { checkGrpcFailures } from './grpc-failures.js';
import { checkGrpcLatency } from './grpc-latency.js';
import { checkLeaderChanges } from './leader-changes.js';
import { checkMemberPods } from './member-pods.js';
import { checkMetricsSource } from './metrics-source.js';
import { checkPeerFailures } from './peer-failures.js';
import { checkPeerRoundTrip } from './peer-round-trip.js';
import { checkProposalsFailed } from './proposals-failed.js';
import { checkQuorum } from './quorum.js';
import { checkQuotaUsage } from './quota-usage.js';
import { checkSlowApplies } from './slow-applies.js';
import { checkSlowReadIndexes } from './slow-read-indexes.js';
import { checkWalFsync } from './wal-fsync.js';

/**
 * What a check needs from Prometheus:
 * - needed: its data exists only as metrics; without Prometheus it is Unknown.
 * - fallback: etcd answers where it can (the quota is in Status since etcd 3.6), Prometheus otherwise.
 * - unused: etcd alone answers it.
 */
export type PrometheusUse = 'needed' | 'fallback' | 'unused';

export interface Check {
  name: CheckName;
  run: (view: ClusterView) => Finding[];
  prometheus: PrometheusUse;
}

export const CHECKS: readonly Check[] = [
  { name: 'Quorum', run: checkQuorum, prometheus: 'unused' },
  { name: 'Alarms', run: checkAlarms, prometheus: 'unused' },
  { name: 'Consistency', run: checkConsistency, prometheus: 'unused' },
  { name: 'Certificates', run: checkCertificates, prometheus: 'unused' },
  { name: 'MemberPods', run: checkMemberPods, prometheus: 'unused' },
  { name: 'WalFsync', run: checkWalFsync, prometheus: 'needed' },
  { name: 'BackendCommit', run: checkBackendCommit, prometheus: 'needed' },
  { name: 'LeaderChanges', run: checkLeaderChanges, prometheus: 'needed' },
  { name: 'DatabaseSize', run: checkDatabaseSize, prometheus: 'unused' },
  { name: 'QuotaUsage', run: checkQuotaUsage, prometheus: 'fallback' },
  { name: 'Growth', run: checkGrowth, prometheus: 'needed' },
  { name: 'Fragmentation', run: checkFragmentation, prometheus: 'unused' },
  { name: 'PeerRoundTrip', run: checkPeerRoundTrip, prometheus: 'needed' },
  { name: 'PeerFailures', run: checkPeerFailures, prometheus: 'needed' },
  { name: 'ProposalsFailed', run: checkProposalsFailed, prometheus: 'needed' },
  { name: 'SlowApplies', run: checkSlowApplies, prometheus: 'needed' },
  { name: 'SlowReadIndexes', run: checkSlowReadIndexes, prometheus: 'needed' },
  { name: 'GrpcFailures', run: checkGrpcFailures, prometheus: 'needed' },
  { name: 'GrpcLatency', run: checkGrpcLatency, prometheus: 'needed' },
  { name: 'APIChurn', run: checkApiChurn, prometheus: 'needed' },
  { name: 'APILatency', run: checkApiLatency, prometheus: 'needed' },
  { name: 'ControlPlaneNodes', run: checkControlPlaneNodes, prometheus: 'needed' },
  { name: 'ClusterOperator', run: checkClusterOperator, prometheus: 'unused' },
  // Its evidence is its own source (spec.backup); a PromQL one requires spec.prometheus by validation.
  { name: 'Backup', run: checkBackup, prometheus: 'unused' },
  { name: 'MetricsSource', run: checkMetricsSource, prometheus: 'unused' },
];

export function runChecks(view: ClusterView): Finding[] {
  return CHECKS.flatMap((check) => check.run(view));
}

/** The checks whose findings can depend on Prometheus (needed or as a fallback). */
export function checksUsingPrometheus(...uses: Exclude<PrometheusUse, 'unused'>[]): CheckName[] {
  const wanted = uses.length > 0 ? uses : ['needed', 'fallback'];
  return CHECKS.filter((check) => wanted.includes(check.prometheus)).map((check) => check.name);
}
