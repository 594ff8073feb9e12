// Recommendations from findings: one builder per concern, then the CORRUPT rule, order and cap.
import type { Recommendation } from '../api/v1alpha1/status.js';
import { activeAlarms } from './checks/alarms.js';
import { compareText, type ClusterView } from './cluster.js';
import { commandStyle } from './commands.js';
import type { Finding } from './findings.js';
import { severityRank, type RemedyBuilder, type RemedyContext } from './remedies/context.js';
import { corruptRemedies, noSpaceRemedies } from './remedies/alarms.js';
import { defragmentRemedies, growthRemedies, quotaRemedies, sizeRemedies } from './remedies/database.js';
import { leaderChangeRemedies, networkRemedies, quorumRemedies } from './remedies/members.js';
import { metricsSourceRemedies } from './remedies/metrics.js';
import { storageRemedies } from './remedies/storage.js';
import { churnRemedies, nodeRemedies, requestRemedies } from './remedies/workload.js';

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
  'InvestigateStorage',
  'InvestigateMember',
  'InvestigateNetwork',
  'InvestigateLeaderElection',
  'InvestigateRequests',
  'RelieveQuotaPressure',
  'ReduceDatabaseSize',
  'InvestigateDatabaseGrowth',
  'Defragment',
  'InvestigateNodeResources',
  'InvestigateAPIChurn',
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

const BUILDERS: readonly RemedyBuilder[] = [
  corruptRemedies,
  noSpaceRemedies,
  quorumRemedies,
  storageRemedies,
  networkRemedies,
  leaderChangeRemedies,
  requestRemedies,
  quotaRemedies,
  sizeRemedies,
  growthRemedies,
  defragmentRemedies,
  nodeRemedies,
  churnRemedies,
  metricsSourceRemedies,
];

export function recommend(view: ClusterView, findings: readonly Finding[]): Recommendation[] {
  const context: RemedyContext = {
    view,
    style: commandStyle(view.spec, view),
    corrupt: activeAlarms(view).has('CORRUPT'),
  };
  return BUILDERS.flatMap((build) => build(context, findings))
    .filter((recommendation) => !(context.corrupt && MAINTENANCE_TYPES.has(recommendation.type)))
    .sort(byPriority)
    .slice(0, MAX_RECOMMENDATIONS)
    .map(capCommands);
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
