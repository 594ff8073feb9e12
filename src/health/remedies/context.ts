// What every remedy builder needs, and the helpers they share.
import type { Recommendation, Severity } from '../../api/v1alpha1/status.js';
import { compareText, type ClusterView } from '../cluster.js';
import type { CommandStyle } from '../commands.js';
import { defragmentsItself } from '../checks/cluster-operator.js';
import { CLUSTER_TARGET, type CheckName, type Finding } from '../findings.js';
import { unique } from '../text.js';

export interface RemedyContext {
  view: ClusterView;
  style: CommandStyle;
  /** A CORRUPT alarm is active: nothing may suggest automation or maintenance that writes to etcd. */
  corrupt: boolean;
}

export type RemedyBuilder = (context: RemedyContext, findings: readonly Finding[]) => Recommendation[];

/** Findings that deserve a recommendation: Info, Warning and Critical ones of the given checks. */
export function actionable(findings: readonly Finding[], checks: readonly CheckName[]): Finding[] {
  return findings.filter(
    (finding) =>
      checks.includes(finding.check) &&
      (finding.severity === 'Info' || finding.severity === 'Warning' || finding.severity === 'Critical'),
  );
}

/**
 * Findings grouped by reason: a builder whose action is the same for every member makes one
 * recommendation per group, listing the members, instead of one per member.
 */
export function byReason(findings: readonly Finding[]): Finding[][] {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings)
    groups.set(finding.reason, [...(groups.get(finding.reason) ?? []), finding]);
  return [...groups.values()];
}

/** Where a recommendation about these findings points: their one target, or the cluster and the members. */
export function coverage(findings: readonly Finding[]): Pick<Recommendation, 'target' | 'members'> {
  const targets = unique(findings.map((finding) => finding.target)).sort(compareText);
  return targets.length === 1 ? { target: targets[0]! } : { target: CLUSTER_TARGET, members: targets };
}

/** The findings' messages as sentences, the evidence a recommendation opens with. */
export function evidence(findings: readonly Finding[]): string {
  return findings.map((finding) => sentence(finding.message)).join(' ');
}

export function severityOf(finding: Finding): Severity {
  return finding.severity === 'Critical' ? 'Critical' : finding.severity === 'Warning' ? 'Warning' : 'Info';
}

const RANK: Record<Severity, number> = { Critical: 0, Warning: 1, Info: 2 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

export function mostSevere(severities: readonly Severity[]): Severity {
  return severities.reduce<Severity>(
    (worst, severity) => (RANK[severity] < RANK[worst] ? severity : worst),
    'Info',
  );
}

/** The commands that apply, in order; undefined entries are steps this environment has no command for. */
export function commandList(...commands: (string | undefined)[]): string[] | undefined {
  const present = commands.filter((command): command is string => command !== undefined);
  return present.length > 0 ? present : undefined;
}

/**
 * A hint that the operator can do the job itself; never while data is corrupt, when it already
 * acts, or where the cluster-etcd-operator defragments (the operator then leaves maintenance to it).
 */
export function automationHint(context: RemedyContext, what: string): string {
  if (context.corrupt || context.view.spec.remediation.mode !== 'Recommend') return '';
  if (defragmentsItself(context.view.observation.clusterEtcdOperator)) return '';
  return ` With spec.remediation.mode: Automatic the operator ${what} itself, after a health check of every member.`;
}

export function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
