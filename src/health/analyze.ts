// The pure analysis: one observation in, findings, conditions, members, summary and
// recommendations out. No I/O and no clock but observation.time, so the same input always gives
// the same output.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { Condition, MemberStatus, Recommendation, Summary } from '../api/v1alpha1/status.js';
import { runChecks } from './checks/index.js';
import { buildClusterView, type ClusterView } from './cluster.js';
import type { CommandInput } from './commands.js';
import { checkConditions, remediationConditions } from './conditions.js';
import type { Finding } from './findings.js';
import { progressConditions, type Progress } from './kstatus.js';
import { memberStatuses } from './members.js';
import type { Observation } from './observation.js';
import { recommend } from './recommendations.js';
import { summarize } from './summary.js';
import { setCondition, stamp, unionsOf, type ConditionDraft } from './union.js';

export type { CheckName, Finding, FindingSeverity } from './findings.js';
export type { RemediationRun } from './conditions.js';

/** The cluster as one observation shows it, and what the checks found: computed once per check. */
export interface Assessment {
  view: ClusterView;
  findings: Finding[];
}

/**
 * `previousMembers`: status.members of the previous check of this CR (raft indexes included), the
 * only history the checks get: whether a learner moved needs two points in time.
 */
export function assess(
  observation: Observation,
  spec: EtcdHealthCheckSpec,
  previousMembers: readonly MemberStatus[] = [],
): Assessment {
  const view = buildClusterView(observation, spec, previousMembers);
  return { view, findings: runChecks(view) };
}

export interface AnalysisInput {
  observation: Observation;
  /** Parsed, defaults applied. */
  spec: EtcdHealthCheckSpec;
  /** The current status.conditions ([] on the first run): keeps lastTransitionTime, drives inertia. */
  previousConditions: Condition[];
  /** Goes to every condition's observedGeneration. */
  generation: number;
  /** status.members of the previous check, for assess when no assessment is given. */
  previousMembers?: readonly MemberStatus[];
  /** assess(observation, spec), when the caller already has it (the remediator planned on it). */
  assessment?: Assessment;
  /** The remediator's own conditions; without them those of no automated run. */
  remediation?: readonly ConditionDraft[];
  /** What the recommended commands need beyond the spec: the namespace, the CLI's TLS files and shell. */
  commands?: CommandInput;
  /** Reconciling and Stalled; without it a finished check (both False). */
  progress?: Progress;
}

export interface Analysis {
  findings: Finding[];
  /** The four unions (Available, Progressing, Degraded, Upgradeable) first, then the per-check conditions, then kstatus' Reconciling and Stalled. */
  conditions: Condition[];
  members: MemberStatus[];
  summary: Summary;
  recommendations: Recommendation[];
}

export function analyze(input: AnalysisInput): Analysis {
  const { observation, previousConditions, generation } = input;
  const { view, findings } = input.assessment ?? assess(observation, input.spec, input.previousMembers);
  const remediation = input.remediation ?? remediationConditions(input.spec, undefined);
  const perCheck = checkConditions(view, findings, remediation).map((draft) =>
    setCondition(previousConditions, stamp(draft, observation.time, generation)),
  );
  const unions = unionsOf(
    perCheck,
    previousConditions,
    observation.time,
    generation,
    view.limits.degradedInertiaMs,
  );
  const progress = progressConditions(input.progress ?? { state: 'Checked' }, generation).map((draft) =>
    setCondition(previousConditions, stamp(draft, observation.time, generation)),
  );
  const recommendations = recommend(view, findings, input.commands);
  return {
    findings,
    conditions: [...unions, ...perCheck, ...progress],
    members: memberStatuses(view),
    summary: summarize(view, unions, recommendations),
    recommendations,
  };
}
