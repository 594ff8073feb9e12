// The pure analysis: one observation in, findings, conditions, members, summary and
// recommendations out. No I/O and no clock but observation.time, so the same input always gives
// the same output.
import { UNION_CONDITION_TYPES } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { Condition, MemberStatus, Recommendation, Summary } from '../api/v1alpha1/status.js';
import { runChecks } from './checks/index.js';
import { buildClusterView } from './cluster.js';
import { checkConditions, type RemediationInput } from './conditions.js';
import type { Finding } from './findings.js';
import { memberStatuses } from './members.js';
import type { Observation } from './observation.js';
import { recommend } from './recommendations.js';
import { summarize } from './summary.js';
import { setCondition, stamp, unionConditions } from './union.js';

export type { CheckName, Finding, FindingSeverity } from './findings.js';
export type { RemediationInput } from './conditions.js';

export interface AnalysisInput {
  observation: Observation;
  /** Parsed, defaults applied. */
  spec: EtcdHealthCheckSpec;
  /** The current status.conditions ([] on the first run): keeps lastTransitionTime, drives inertia. */
  previousConditions: Condition[];
  /** Goes to every condition's observedGeneration. */
  generation: number;
  remediation?: RemediationInput;
}

export interface Analysis {
  findings: Finding[];
  /** The four unions (Available, Progressing, Degraded, Upgradeable) first, then the per-check conditions. */
  conditions: Condition[];
  members: MemberStatus[];
  summary: Summary;
  recommendations: Recommendation[];
}

export function analyze(input: AnalysisInput): Analysis {
  const { observation, previousConditions, generation } = input;
  const view = buildClusterView(observation, input.spec);
  const findings = runChecks(view);
  const perCheck = checkConditions(view, findings, input.remediation).map((draft) =>
    setCondition(previousConditions, stamp(draft, observation.time, generation)),
  );
  const unions = UNION_CONDITION_TYPES.map((type) =>
    // Only Degraded has an inertia, as in library-go's StatusSyncer.
    unionConditions(
      type,
      perCheck,
      previousConditions,
      observation.time,
      generation,
      type === 'Degraded' ? view.limits.degradedInertiaMs : 0,
    ),
  );
  const recommendations = recommend(view, findings);
  return {
    findings,
    conditions: [...unions, ...perCheck],
    members: memberStatuses(view),
    summary: summarize(view, unions, recommendations),
    recommendations,
  };
}
