// Per-check conditions. Each *Degraded condition merges the findings of its checks: True only at
// Critical, Unknown when data is missing (and nothing is critical), False otherwise; a warning
// keeps it False but names the problem in its reason and message. The suffixes make them feed the
// Available/Progressing/Degraded/Upgradeable unions; MetricsSourceReachable deliberately matches
// none of them.
import { UNION_CONDITION_TYPES } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { Condition } from '../api/v1alpha1/status.js';
import { formatSeconds } from '../api/v1alpha1/units.js';
import type { ClusterView } from './cluster.js';
import { activeAlarms } from './checks/alarms.js';
import { BACKUP_NOT_CONFIGURED } from './checks/backup.js';
import { GRPC_SLOW_SECONDS } from './checks/grpc-latency.js';
import { severityWeight, worstSeverity, type CheckName, type Finding } from './findings.js';
import type { Limits } from './limits.js';
import { capitalize, formatPercent, listing, unique } from './text.js';
import { KSTATUS_CONDITION_TYPES } from './kstatus.js';
import type { ConditionDraft } from './union.js';

// The condition semantics live in union.ts; re-exported for callers that build conditions outside
// the analysis (the reconciler's invalid-spec status).
export { setCondition, stamp, unionCondition, unionConditions } from './union.js';

/** What the remediator says of the automated run; its three Remediation* conditions follow from it. */
export interface RemediationRun {
  inProgress: boolean;
  message?: string;
  degradedMessage?: string;
  blockedReason?: string;
}

/** The conditions the remediator owns. */
export const REMEDIATION_CONDITION_TYPES = [
  'RemediationProgressing',
  'RemediationDegraded',
  'RemediationUpgradeable',
] as const;

export const METRICS_SOURCE_CONDITION = 'MetricsSourceReachable';

interface DegradedGroup {
  type: string;
  checks: readonly CheckName[];
  okMessage: (limits: Limits) => string;
  /** Where the group means something at all; elsewhere it has no condition. */
  appliesTo?: (view: ClusterView) => boolean;
}

const DEGRADED_GROUPS: readonly DegradedGroup[] = [
  { type: 'EtcdMembersDegraded', checks: ['Quorum'], okMessage: () => 'No unhealthy members found' },
  {
    type: 'MemberPodsDegraded',
    checks: ['MemberPods'],
    okMessage: () => 'Every member pod is Running and Ready, with no restart in the last hour',
  },
  {
    type: 'DiskLatencyDegraded',
    checks: ['WalFsync', 'BackendCommit'],
    okMessage: (l) =>
      `WAL fsync p99 is below ${formatSeconds(l.walFsyncSeconds.warning)} and backend commit p99 below ${formatSeconds(l.backendCommitSeconds.warning)} on every member checked`,
  },
  {
    type: 'LeaderElectionDegraded',
    checks: ['LeaderChanges'],
    okMessage: (l) =>
      `Leader changes in the last hour are below the warning threshold of ${l.leaderChanges.warningPerHour}`,
  },
  {
    type: 'DatabaseSizeDegraded',
    checks: ['DatabaseSize', 'QuotaUsage', 'Growth', 'Fragmentation'],
    okMessage: () =>
      'DB size, quota use, growth and fragmentation are below their thresholds on every member checked',
  },
  { type: 'AlarmsDegraded', checks: ['Alarms'], okMessage: () => 'No alarms are active' },
  {
    type: 'ConsistencyDegraded',
    checks: ['Consistency'],
    okMessage: () =>
      'Members agree on the cluster ID, the member list and the minor version, and none lags behind the leader or its own commits',
  },
  {
    type: 'CertificatesDegraded',
    checks: ['Certificates'],
    okMessage: () =>
      "Every certificate checked (the members' serving certificates and the client certificate) is valid for more than 30 days",
  },
  {
    type: 'NetworkDegraded',
    checks: ['PeerRoundTrip', 'PeerFailures'],
    okMessage: (l) =>
      `Peer round trip p99 is below ${formatSeconds(l.peerRoundTripSeconds.warning)} on every member checked, and no send to a peer failed`,
  },
  {
    type: 'RequestsDegraded',
    checks: ['ProposalsFailed', 'SlowApplies', 'SlowReadIndexes', 'GrpcFailures', 'GrpcLatency'],
    okMessage: (l) =>
      `No failed proposals, slow applies or slow read indexes, failed gRPC requests are below ${formatPercent(l.grpcFailedPercent.warning)}, and unary gRPC p99 is below ${formatSeconds(GRPC_SLOW_SECONDS)} where measured`,
  },
  {
    type: 'APILatencyDegraded',
    checks: ['APILatency'],
    okMessage: (l) => `Mutating API request p99 is below ${formatSeconds(l.apiLatencySeconds.warning)}`,
  },
  {
    type: 'APIChurnDegraded',
    checks: ['APIChurn'],
    okMessage: () => 'Mutating and in-flight API requests are below their warning thresholds',
  },
  {
    type: 'ClusterEtcdOperatorDegraded',
    checks: ['ClusterOperator'],
    okMessage: () => 'clusteroperator/etcd is Available and not Degraded',
    appliesTo: (view) => view.observation.clusterEtcdOperator !== undefined,
  },
  {
    type: 'BackupDegraded',
    checks: ['Backup'],
    okMessage: () => 'The last etcd backup is within its maximum age',
  },
  {
    type: 'ControlPlaneNodesDegraded',
    checks: ['ControlPlaneNodes'],
    okMessage: (l) =>
      `The members' nodes are within bounds: data dir disk write await below ${formatSeconds(l.nodeDiskWriteAwaitSeconds.warning)}, utilisation below ${formatPercent(l.nodeDiskUtilisationPercent)}, free space above ${formatPercent(l.nodeFilesystemAvailablePercent.warning)}, CPU below ${formatPercent(l.nodeCpuPercent)}, available memory above ${formatPercent(l.nodeMemoryAvailablePercent.warning)}${l.warnOnSwap ? ', no swap in use' : ''}`,
  },
];

/**
 * The remediator's conditions for a run (undefined: no automated run, e.g. mode Recommend), in the
 * order of REMEDIATION_CONDITION_TYPES.
 */
export function remediationConditions(
  spec: EtcdHealthCheckSpec,
  run: RemediationRun | undefined,
): ConditionDraft[] {
  return [remediationProgressing(spec, run), remediationDegraded(run), remediationUpgradeable(run)];
}

/**
 * All per-check conditions, in display order; `remediation` are the remediator's own conditions
 * (remediationConditions), placed beside the other *Progressing, *Degraded and *Upgradeable ones.
 */
export function checkConditions(
  view: ClusterView,
  findings: readonly Finding[],
  remediation: readonly ConditionDraft[],
): ConditionDraft[] {
  const own = (type: (typeof REMEDIATION_CONDITION_TYPES)[number]): ConditionDraft[] =>
    remediation.filter((draft) => draft.type === type);
  return [
    membersAvailable(view),
    membersProgressing(view),
    ...own('RemediationProgressing'),
    ...DEGRADED_GROUPS.filter((group) => group.appliesTo?.(view) ?? true).map((group) =>
      degradedCondition(view.limits, group, findings),
    ),
    ...own('RemediationDegraded'),
    membersUpgradeable(view),
    quotaUpgradeable(view, findings),
    alarmsUpgradeable(view),
    backupUpgradeable(view, findings),
    ...own('RemediationUpgradeable'),
    metricsSourceReachable(view, findings),
  ];
}

function degradedCondition(
  limits: Limits,
  group: DegradedGroup,
  findings: readonly Finding[],
): ConditionDraft {
  const own = findings.filter((finding) => group.checks.includes(finding.check));
  if (own.length === 0) {
    return {
      type: group.type,
      status: 'Unknown',
      reason: 'NoData',
      message: 'Nothing was checked: no member has data for these checks',
    };
  }
  const worst = worstSeverity(own);
  if (worst === 'OK') {
    // A lone finding says more than the group's summary ("The leader changed 0 times ...").
    const message = own.length === 1 ? own[0]!.message : group.okMessage(limits);
    return { type: group.type, status: 'False', reason: 'AsExpected', message };
  }
  // A critical finding inhibits the lesser ones of its group (as Alertmanager inhibits a warning
  // while its critical fires): a True condition says why it is True, and names no bystander.
  const notable = own
    .filter((finding) => (worst === 'Critical' ? finding.severity === 'Critical' : finding.severity !== 'OK'))
    .sort((a, b) => severityWeight(b.severity) - severityWeight(a.severity));
  return {
    type: group.type,
    status: worst === 'Critical' ? 'True' : worst === 'Unknown' ? 'Unknown' : 'False',
    reason: notable[0]!.reason,
    message: unique(notable.map((finding) => finding.message)).join('\n'),
  };
}

// Each written by one function below; listed here so that OPERATOR_CONDITION_TYPES knows them.
const MEMBER_CONDITION_TYPES = [
  'EtcdMembersAvailable',
  'EtcdMembersProgressing',
  'EtcdMembersUpgradeable',
] as const;
type MemberConditionType = (typeof MEMBER_CONDITION_TYPES)[number];
const UPGRADEABLE_CONDITION_TYPES = [
  'DatabaseQuotaUpgradeable',
  'AlarmsUpgradeable',
  'BackupUpgradeable',
] as const;
type UpgradeableConditionType = (typeof UPGRADEABLE_CONDITION_TYPES)[number];

function membersAvailable(view: ClusterView): ConditionDraft {
  const q = view.quorum;
  const type: MemberConditionType = 'EtcdMembersAvailable';
  switch (q.state) {
    case 'Quorate':
      return { type, status: 'True', reason: q.reason, message: q.availability };
    case 'NoQuorum':
      return {
        type,
        status: 'False',
        reason: q.reason,
        message: `${q.availability}; ${q.detail}`,
      };
    case 'NoLeader':
      return {
        type,
        status: 'False',
        reason: q.reason,
        message: `${q.detail}: ${q.availability}`,
      };
    case 'Unknown':
      return {
        type,
        status: 'Unknown',
        reason: q.reason,
        message: q.detail ?? 'No members were observed',
      };
  }
}

function membersProgressing(view: ClusterView): ConditionDraft {
  const type: MemberConditionType = 'EtcdMembersProgressing';
  if (view.members.length === 0)
    return { type, status: 'Unknown', reason: 'NoData', message: 'No etcd members were observed' };
  const notStarted = view.members
    .filter((member) => member.state === 'NotStarted')
    .map((member) => member.name);
  if (notStarted.length > 0) {
    return {
      type,
      status: 'True',
      reason: 'MembersNotStarted',
      message:
        notStarted.length === 1
          ? `Member ${notStarted[0]} has not started`
          : `Members ${listing(notStarted)} have not started`,
    };
  }
  return { type, status: 'False', reason: 'AsExpected', message: 'No unstarted etcd members found' };
}

function remediationProgressing(
  spec: EtcdHealthCheckSpec,
  remediation: RemediationRun | undefined,
): ConditionDraft {
  const type = 'RemediationProgressing';
  if (remediation?.inProgress) {
    return {
      type,
      status: 'True',
      reason: 'RemediationInProgress',
      message: capitalize(remediation.message ?? 'An automated remediation is under way'),
    };
  }
  if (remediation?.blockedReason) {
    return {
      type,
      status: 'False',
      reason: 'RemediationBlocked',
      message: `Automated remediation is blocked: ${remediation.blockedReason}`,
    };
  }
  if (spec.remediation.mode === 'Recommend') {
    return {
      type,
      status: 'False',
      reason: 'RecommendOnly',
      message: 'Remediation mode is Recommend: nothing is done automatically',
    };
  }
  if (spec.remediation.paused)
    return { type, status: 'False', reason: 'Paused', message: 'Automated remediation is paused' };
  return { type, status: 'False', reason: 'AsExpected', message: 'No automated remediation is under way' };
}

function remediationDegraded(remediation: RemediationRun | undefined): ConditionDraft {
  const type = 'RemediationDegraded';
  if (remediation?.degradedMessage) {
    return {
      type,
      status: 'True',
      reason: 'RemediationFailed',
      message: capitalize(remediation.degradedMessage),
    };
  }
  return { type, status: 'False', reason: 'AsExpected', message: 'No automated remediation has failed' };
}

function remediationUpgradeable(remediation: RemediationRun | undefined): ConditionDraft {
  const type = 'RemediationUpgradeable';
  if (remediation?.inProgress) {
    return {
      type,
      status: 'False',
      reason: 'RemediationInProgress',
      message: 'Wait until the automated remediation under way has finished before upgrading',
    };
  }
  return { type, status: 'True', reason: 'AsExpected', message: 'No automated remediation is under way' };
}

function membersUpgradeable(view: ClusterView): ConditionDraft {
  const type: MemberConditionType = 'EtcdMembersUpgradeable';
  const q = view.quorum;
  if (q.state === 'Unknown')
    return {
      type,
      status: 'Unknown',
      reason: q.reason,
      message: q.detail ?? 'No members were observed',
    };
  if (view.members.some((member) => member.state !== 'Healthy')) {
    return {
      type,
      status: 'False',
      reason: 'UnhealthyMembers',
      message: `${q.availability}: an upgrade restarts every member in turn, so bring all members back first`,
    };
  }
  return { type, status: 'True', reason: 'AsExpected', message: 'All members are healthy' };
}

function quotaUpgradeable(view: ClusterView, findings: readonly Finding[]): ConditionDraft {
  const type: UpgradeableConditionType = 'DatabaseQuotaUpgradeable';
  const quota = findings.filter((finding) => finding.check === 'QuotaUsage');
  const pressure = quota.filter(
    (finding) => finding.severity === 'Warning' || finding.severity === 'Critical',
  );
  if (pressure.length > 0) {
    return {
      type,
      status: 'False',
      reason: 'QuotaPressure',
      message: [
        ...pressure.map((finding) => finding.message),
        // Under CORRUPT nothing may suggest maintenance: the alarm's own conditions say what to do.
        ...(activeAlarms(view).has('CORRUPT')
          ? []
          : ['An upgrade rewrites many objects: free space (compact and defragment) first']),
      ].join('\n'),
    };
  }
  if (quota.length === 0 || quota.some((finding) => finding.severity === 'Unknown')) {
    return { type, status: 'Unknown', reason: 'NoData', message: 'Quota use is unknown for some members' };
  }
  return {
    type,
    status: 'True',
    reason: 'AsExpected',
    message: `Quota use is below ${formatPercent(view.limits.quotaPercent.warning)} on every member`,
  };
}

function alarmsUpgradeable(view: ClusterView): ConditionDraft {
  const type: UpgradeableConditionType = 'AlarmsUpgradeable';
  if (!view.observation.etcd.alarmsKnown)
    return { type, status: 'Unknown', reason: 'NoData', message: 'The alarm list could not be read' };
  const alarms = activeAlarms(view);
  if (alarms.has('CORRUPT')) {
    return {
      type,
      status: 'False',
      reason: 'CorruptAlarm',
      message: 'A CORRUPT alarm is active: restore from backup; do not upgrade',
    };
  }
  if (alarms.has('NOSPACE')) {
    return {
      type,
      status: 'False',
      reason: 'NoSpaceAlarm',
      message: 'A NOSPACE alarm is active: the cluster refuses writes until it is recovered',
    };
  }
  return { type, status: 'True', reason: 'AsExpected', message: 'No alarms are active' };
}

/** An upgrade without a fresh backup is the risk: a stale or missing backup blocks it. */
function backupUpgradeable(view: ClusterView, findings: readonly Finding[]): ConditionDraft {
  const type: UpgradeableConditionType = 'BackupUpgradeable';
  if (view.spec.backup === undefined)
    return { type, status: 'True', reason: 'NotConfigured', message: BACKUP_NOT_CONFIGURED };
  const own = findings.filter((finding) => finding.check === 'Backup');
  const risky = own.filter((finding) => finding.severity === 'Warning' || finding.severity === 'Critical');
  if (risky.length > 0) {
    return {
      type,
      status: 'False',
      reason: risky[0]!.reason,
      message: [
        ...risky.map((finding) => finding.message),
        'Take an etcd backup before upgrading: a failed upgrade is recovered from it',
      ].join('\n'),
    };
  }
  const unknown = own.find((finding) => finding.severity === 'Unknown');
  if (own.length === 0 || unknown !== undefined) {
    return {
      type,
      status: 'Unknown',
      reason: unknown?.reason ?? 'NoData',
      message: unknown?.message ?? 'The age of the last backup is unknown',
    };
  }
  return { type, status: 'True', reason: 'AsExpected', message: own[0]!.message };
}

function metricsSourceReachable(view: ClusterView, findings: readonly Finding[]): ConditionDraft {
  const own = findings.filter((finding) => finding.check === 'MetricsSource');
  return {
    type: METRICS_SOURCE_CONDITION,
    status: view.metricsSource.usable ? 'True' : 'False',
    reason: own[0]?.reason ?? 'NoData',
    message: own.map((finding) => finding.message).join('\n'),
  };
}

/** The condition the reconciler writes for an invalid or refused spec. */
export const SPEC_CONDITION = 'SpecDegraded';

/** Every condition type the operator writes; any other type in a status is another writer's. */
const OPERATOR_CONDITION_TYPES: ReadonlySet<string> = new Set([
  ...UNION_CONDITION_TYPES,
  ...DEGRADED_GROUPS.map((group) => group.type),
  ...MEMBER_CONDITION_TYPES,
  ...UPGRADEABLE_CONDITION_TYPES,
  METRICS_SOURCE_CONDITION,
  ...REMEDIATION_CONDITION_TYPES,
  SPEC_CONDITION,
  ...KSTATUS_CONDITION_TYPES,
]);

/** The conditions of other writers (other controllers), which the operator keeps as they are. */
export function foreignConditions(conditions: readonly Condition[]): Condition[] {
  return conditions.filter((condition) => !OPERATOR_CONDITION_TYPES.has(condition.type));
}

/** The operator's own conditions. */
export function operatorConditions(conditions: readonly Condition[]): Condition[] {
  return conditions.filter((condition) => OPERATOR_CONDITION_TYPES.has(condition.type));
}
