// Recommendations from findings: one builder per concern, then the CORRUPT rule, the folds into
// root causes, order and cap.
import type { Recommendation } from '../api/v1alpha1/status.js';
import { activeAlarms } from './checks/alarms.js';
import { compareText, type ClusterView } from './cluster.js';
import { commandStyle, needsTlsFiles, type CommandInput, type CommandStyle } from './commands.js';
import type { Finding } from './findings.js';
import { severityRank, type RemedyBuilder, type RemedyContext } from './remedies/context.js';
import { corruptRemedies, noSpaceRemedies } from './remedies/alarms.js';
import { certificateRemedies } from './remedies/certificates.js';
import { backupRemedies } from './remedies/backup.js';
import { consistencyRemedies } from './remedies/consistency.js';
import { defragmentRemedies, growthRemedies, quotaRemedies, sizeRemedies } from './remedies/database.js';
import { leaderChangeRemedies, networkRemedies, quorumRemedies } from './remedies/members.js';
import { metricsSourceRemedies } from './remedies/metrics.js';
import { clusterOperatorRemedies } from './remedies/openshift.js';
import { podRemedies } from './remedies/pods.js';
import { storageRemedies } from './remedies/storage.js';
import { apiLatencyRemedies, churnRemedies, nodeRemedies, requestRemedies } from './remedies/workload.js';
import { listing } from './text.js';

/** status.recommendations holds at most 20 entries; the most severe are kept. */
export const MAX_RECOMMENDATIONS = 20;
/** A recommendation holds at most 16 commands. */
const MAX_COMMANDS = 16;

/**
 * Order within one severity: what to fix first. Data safety, then availability, then storage (the
 * usual root cause, ahead of the symptoms it produces), then the symptoms, then housekeeping.
 */
const TYPE_ORDER = [
  'RestoreFromBackup',
  'RecoverFromNoSpace',
  'RestoreQuorum',
  'InvestigateClusterEtcdOperator',
  'RenewCertificates',
  'RenewClientCertificate',
  'InvestigateMembership',
  'TakeBackup',
  'InvestigateStorage',
  'InvestigateMember',
  'InvestigateMemberPod',
  'InvestigateNetwork',
  'InvestigateLeaderElection',
  'InvestigateRequests',
  'InvestigateMemberLag',
  'RelieveQuotaPressure',
  'ReduceDatabaseSize',
  'InvestigateDatabaseGrowth',
  'Defragment',
  'InvestigateNodeResources',
  'InvestigateAPILatency',
  'InvestigateAPIChurn',
  'CompleteUpgrade',
  'FixMetricsSource',
  'ConfigureMetrics',
  'CheckMetricsLabels',
];

/** Types that write to etcd or maintain it: withheld while a CORRUPT alarm says to stop everything and restore. */
const MAINTENANCE_TYPES = new Set([
  'RecoverFromNoSpace',
  'Defragment',
  'RelieveQuotaPressure',
  'ReduceDatabaseSize',
  'InvestigateDatabaseGrowth',
]);

/**
 * Recommendations a root cause explains, folded into it while it stands. The NOSPACE recovery
 * compacts and defragments every member, which is all that quota pressure and fragmentation ask
 * for until the alarm is disarmed.
 */
const FOLDS: Readonly<Record<string, readonly string[]>> = {
  RecoverFromNoSpace: ['RelieveQuotaPressure', 'Defragment'],
};

const BUILDERS: readonly RemedyBuilder[] = [
  corruptRemedies,
  noSpaceRemedies,
  quorumRemedies,
  clusterOperatorRemedies,
  certificateRemedies,
  consistencyRemedies,
  podRemedies,
  storageRemedies,
  networkRemedies,
  leaderChangeRemedies,
  requestRemedies,
  quotaRemedies,
  sizeRemedies,
  growthRemedies,
  defragmentRemedies,
  nodeRemedies,
  apiLatencyRemedies,
  churnRemedies,
  backupRemedies,
  metricsSourceRemedies,
];

export function recommend(
  view: ClusterView,
  findings: readonly Finding[],
  commands: CommandInput = {},
): Recommendation[] {
  const context: RemedyContext = {
    view,
    style: commandStyle(view.spec, view, commands),
    corrupt: activeAlarms(view).has('CORRUPT'),
  };
  const built = BUILDERS.flatMap((build) => build(context, findings)).filter(
    (recommendation) => !(context.corrupt && MAINTENANCE_TYPES.has(recommendation.type)),
  );
  return fold(built)
    .sort(byPriority)
    .slice(0, MAX_RECOMMENDATIONS)
    .map((recommendation) => withTlsFiles(context.style, recommendation))
    .map(capCommands);
}

/** The command that writes the TLS files the etcdctl commands name, ahead of them (and of the cap). */
function withTlsFiles(style: CommandStyle, recommendation: Recommendation): Recommendation {
  const commands = recommendation.commands;
  if (style.extractTlsFiles === undefined || !commands?.some((command) => needsTlsFiles(style, command)))
    return recommendation;
  return { ...recommendation, commands: [style.extractTlsFiles, ...commands] };
}

/** Drops what a present root cause explains and tells, in the root cause, what it settles too. */
function fold(recommendations: readonly Recommendation[]): Recommendation[] {
  const present = new Set(recommendations.map((recommendation) => recommendation.type));
  const rootOf = (recommendation: Recommendation) =>
    Object.keys(FOLDS).find((root) => present.has(root) && FOLDS[root]!.includes(recommendation.type));
  return recommendations
    .filter((recommendation) => rootOf(recommendation) === undefined)
    .map((root) => {
      const explained = recommendations.filter((recommendation) => rootOf(recommendation) === root.type);
      if (explained.length === 0) return root;
      const settled = explained.map(
        (recommendation) =>
          `${recommendation.type} on ${listing(recommendation.members ?? [recommendation.target])}`,
      );
      return {
        ...root,
        message: `${root.message} This also settles ${listing(settled)}, so they are not listed on their own.`,
      };
    });
}

/** Severity, then what to fix first, then target, then reason. */
function byPriority(a: Recommendation, b: Recommendation): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    typeRank(a.type) - typeRank(b.type) ||
    compareText(a.target, b.target) ||
    compareText(a.reason, b.reason)
  );
}

function typeRank(type: string): number {
  const rank = TYPE_ORDER.indexOf(type);
  return rank === -1 ? TYPE_ORDER.length : rank;
}

function capCommands(recommendation: Recommendation): Recommendation {
  if (recommendation.commands === undefined) {
    const { commands: _omitted, ...rest } = recommendation;
    return rest;
  }
  return { ...recommendation, commands: recommendation.commands.slice(0, MAX_COMMANDS) };
}
