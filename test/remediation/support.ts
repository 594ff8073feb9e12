// Builders shared by the remediation unit tests: a spec in mode Automatic, records for the status,
// and plan() on a fixture observation.
import type { EtcdHealthCheckSpecInput } from '../../src/api/v1alpha1/spec.js';
import type { RemediationRecord, RemediationStatus } from '../../src/api/v1alpha1/status.js';
import { runChecks } from '../../src/health/checks/index.js';
import { buildClusterView } from '../../src/health/cluster.js';
import type { Observation } from '../../src/health/observation.js';
import { plan, type Decision, type Answers } from '../../src/remediation/plan.js';
import { MiB, specWith, withStatus, type Change } from '../health/fixtures.js';

export type RemediationInputSpec = NonNullable<EtcdHealthCheckSpecInput['remediation']>;

export const NOW = new Date('2026-03-01T12:00:00.000Z');

export function at(offsetSeconds: number, from = NOW): string {
  return new Date(from.getTime() + offsetSeconds * 1000).toISOString();
}

/** Mode Automatic with test-friendly defaults (settle 1m, cooldown 1h as shipped). */
export function automatic(
  remediation: RemediationInputSpec = {},
  extra: Partial<EtcdHealthCheckSpecInput> = {},
) {
  return specWith({ ...extra, remediation: { mode: 'Automatic', ...remediation } });
}

/** 300 MiB with 100 MiB in use: 66.67% fragmented, above the 45%/100 MiB defaults. */
export const fragmented =
  (index: number, inUseMiB = 100): Change =>
  (observation) =>
    withStatus(index, { dbSize: 300 * MiB, dbSizeInUse: inUseMiB * MiB })(observation);

export function record(
  patch: Partial<RemediationRecord> & Pick<RemediationRecord, 'action'>,
): RemediationRecord {
  return { phase: 'Succeeded', startedAt: at(-3600), finishedAt: at(-3590), ...patch };
}

export function decide(
  observation: Observation,
  options: {
    spec?: ReturnType<typeof specWith>;
    state?: RemediationStatus;
    now?: Date;
    answers?: Answers;
    runningDeadlineMs?: number;
  } = {},
): Decision {
  const spec = options.spec ?? automatic();
  const view = buildClusterView(observation, spec);
  return plan({
    spec,
    view,
    findings: runChecks(view),
    state: options.state,
    now: options.now ?? NOW,
    ...(options.answers ? { answers: options.answers } : {}),
    ...(options.runningDeadlineMs !== undefined ? { runningDeadlineMs: options.runningDeadlineMs } : {}),
  });
}
