// Every check, in the order their findings are reported.
import type { ClusterView } from '../cluster.js';
import type { Finding } from '../findings.js';
import { checkAlarms } from './alarms.js';
import { checkApiChurn } from './api-churn.js';
import { checkBackendCommit } from './backend-commit.js';
import { checkControlPlaneNodes } from './control-plane-nodes.js';
import { checkDatabaseSize } from './database-size.js';
import { checkFragmentation } from './fragmentation.js';
import { checkGrowth } from './growth.js';
import { checkGrpcFailures } from './grpc-failures.js';
import { checkLeaderChanges } from './leader-changes.js';
import { checkMetricsSource } from './metrics-source.js';
import { checkPeerRoundTrip } from './peer-round-trip.js';
import { checkProposalsFailed } from './proposals-failed.js';
import { checkQuorum } from './quorum.js';
import { checkQuotaUsage } from './quota-usage.js';
import { checkSlowApplies } from './slow-applies.js';
import { checkSlowReadIndexes } from './slow-read-indexes.js';
import { checkWalFsync } from './wal-fsync.js';

const CHECKS: readonly ((view: ClusterView) => Finding[])[] = [
  checkQuorum,
  checkAlarms,
  checkWalFsync,
  checkBackendCommit,
  checkLeaderChanges,
  checkDatabaseSize,
  checkQuotaUsage,
  checkGrowth,
  checkFragmentation,
  checkPeerRoundTrip,
  checkProposalsFailed,
  checkSlowApplies,
  checkSlowReadIndexes,
  checkGrpcFailures,
  checkApiChurn,
  checkControlPlaneNodes,
  checkMetricsSource,
];

export function runChecks(view: ClusterView): Finding[] {
  return CHECKS.flatMap((check) => check(view));
}
