// A finding is the verdict of one check on one target (a member, a node or the whole cluster).
// Findings are the engine's raw output; conditions, recommendations and the summary derive from them.

export type CheckName =
  | 'Quorum'
  | 'WalFsync'
  | 'BackendCommit'
  | 'LeaderChanges'
  | 'DatabaseSize'
  | 'QuotaUsage'
  | 'Growth'
  | 'Fragmentation'
  | 'Alarms'
  | 'Consistency'
  | 'Certificates'
  | 'MemberPods'
  | 'PeerRoundTrip'
  | 'PeerFailures'
  | 'ProposalsFailed'
  | 'SlowApplies'
  | 'SlowReadIndexes'
  | 'GrpcFailures'
  | 'GrpcLatency'
  | 'APIChurn'
  | 'APILatency'
  | 'ControlPlaneNodes'
  | 'ClusterOperator'
  | 'Backup'
  | 'MetricsSource';

export type FindingSeverity = 'OK' | 'Info' | 'Warning' | 'Critical' | 'Unknown';

export interface Finding {
  check: CheckName;
  severity: FindingSeverity;
  /** A member name, a node name, or 'cluster'. */
  target: string;
  /** CamelCase. */
  reason: string;
  message: string;
  value?: number;
  threshold?: number;
}

export const CLUSTER_TARGET = 'cluster';

/** How much a severity weighs when findings are merged into one condition: Unknown hides a possible Critical, so it outranks Warning. */
const WEIGHT: Record<FindingSeverity, number> = { OK: 0, Info: 1, Warning: 2, Unknown: 3, Critical: 4 };

export function severityWeight(severity: FindingSeverity): number {
  return WEIGHT[severity];
}

export function worstSeverity(findings: readonly Finding[]): FindingSeverity {
  return findings.reduce<FindingSeverity>(
    (worst, finding) => (WEIGHT[finding.severity] > WEIGHT[worst] ? finding.severity : worst),
    'OK',
  );
}

export function noData(check: CheckName, target: string, message: string): Finding {
  return { check, severity: 'Unknown', target, reason: 'NoData', message };
}
