// The EtcdHealthCheck status one analysis stands for: what the operator writes and what
// `etcd-health check -o json` prints.
import type { EtcdHealthCheckStatus } from '../api/v1alpha1/status.js';
import type { Analysis } from './analyze.js';
import type { Observation } from './observation.js';

/** Every status field but status.remediation, which the remediator owns. */
export type HealthStatus = Omit<EtcdHealthCheckStatus, 'remediation'>;

export function statusFromAnalysis(
  analysis: Analysis,
  observation: Observation,
  generation: number,
): HealthStatus {
  return {
    observedGeneration: generation,
    conditions: analysis.conditions,
    members: analysis.members,
    summary: analysis.summary,
    recommendations: analysis.recommendations,
    lastCheck: {
      time: observation.time.toISOString(),
      durationMilliseconds: Math.round(observation.durationMs),
      etcd: observation.etcd.source,
      prometheus: observation.metrics.source,
    },
  };
}
