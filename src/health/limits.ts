// The spec's thresholds as numbers in the units the observation uses (seconds, bytes, percent, per
// second), and the two comparison rules every check uses.
//
// Comparison rule: a threshold is reached AT OR ABOVE its value (>=), for every band (latencies,
// sizes, quota, leader changes, gRPC share, API churn, CPU, disk await and utilisation), as the
// spec's field descriptions say; where less is worse (free memory, free space) AT OR BELOW.
// The one exception are the rate bands of failed proposals, slow applies and slow read indexes:
// their spec says "any rate above 0 warns" and "above which the check is critical", so both are
// strict (>).
import type { Thresholds } from '../api/v1alpha1/spec.js';
import { parseDurationMs, parseSizeBytes } from '../api/v1alpha1/units.js';

export interface Band {
  warning: number;
  critical: number;
}

export interface Limits {
  walFsyncSeconds: Band;
  backendCommitSeconds: Band;
  peerRoundTripSeconds: Band;
  leaderChanges: { warningPerHour: number; criticalPer15m: number };
  databaseSizeBytes: Band;
  quotaPercent: Band & { info: number };
  growthHorizonSeconds: number;
  fragmentation: { percent: number; minDatabaseBytes: number };
  proposalsFailedCriticalRate: number;
  slowAppliesCriticalRate: number;
  slowReadIndexesCriticalRate: number;
  grpcFailedPercent: Band;
  grpcMinRequestsPerSecond: number;
  apiMutatingRequestsPerSecond: Band;
  apiInflightRequests: Band;
  apiLatencySeconds: Band;
  nodeCpuPercent: number;
  warnOnSwap: boolean;
  /** Less is worse: reached at or below. */
  nodeMemoryAvailablePercent: Band;
  nodeDiskWriteAwaitSeconds: Band;
  nodeDiskUtilisationPercent: number;
  /** Less is worse: reached at or below. */
  nodeFilesystemAvailablePercent: Band;
  degradedInertiaMs: number;
}

export type Level = 'OK' | 'Warning' | 'Critical';

const seconds = (duration: string) => parseDurationMs(duration) / 1000;

export function limitsFrom(thresholds: Thresholds): Limits {
  const t = thresholds;
  return {
    walFsyncSeconds: { warning: seconds(t.walFsyncP99.warning), critical: seconds(t.walFsyncP99.critical) },
    backendCommitSeconds: {
      warning: seconds(t.backendCommitP99.warning),
      critical: seconds(t.backendCommitP99.critical),
    },
    peerRoundTripSeconds: {
      warning: seconds(t.peerRoundTripP99.warning),
      critical: seconds(t.peerRoundTripP99.critical),
    },
    leaderChanges: t.leaderChanges,
    databaseSizeBytes: {
      warning: parseSizeBytes(t.databaseSize.warning),
      critical: parseSizeBytes(t.databaseSize.critical),
    },
    quotaPercent: {
      info: t.quotaUsage.infoPercent,
      warning: t.quotaUsage.warningPercent,
      critical: t.quotaUsage.criticalPercent,
    },
    growthHorizonSeconds: seconds(t.growth.horizon),
    fragmentation: {
      percent: t.fragmentation.percent,
      minDatabaseBytes: parseSizeBytes(t.fragmentation.minDatabaseSize),
    },
    proposalsFailedCriticalRate: t.proposalsFailed.critical,
    slowAppliesCriticalRate: t.slowApplies.critical,
    slowReadIndexesCriticalRate: t.slowReadIndexes.critical,
    grpcFailedPercent: { warning: t.grpcFailures.warningPercent, critical: t.grpcFailures.criticalPercent },
    grpcMinRequestsPerSecond: t.grpcFailures.minRequestsPerSecond,
    apiMutatingRequestsPerSecond: t.apiChurn.mutatingRequestsPerSecond,
    apiInflightRequests: t.apiChurn.inflightRequests,
    apiLatencySeconds: {
      warning: seconds(t.apiLatencyP99.warning),
      critical: seconds(t.apiLatencyP99.critical),
    },
    nodeCpuPercent: t.controlPlaneNodes.cpuPercent,
    warnOnSwap: t.controlPlaneNodes.warnOnSwap,
    nodeMemoryAvailablePercent: t.controlPlaneNodes.memoryAvailable,
    nodeDiskWriteAwaitSeconds: {
      warning: seconds(t.controlPlaneNodes.diskWriteAwait.warning),
      critical: seconds(t.controlPlaneNodes.diskWriteAwait.critical),
    },
    nodeDiskUtilisationPercent: t.controlPlaneNodes.diskUtilisationPercent,
    nodeFilesystemAvailablePercent: t.controlPlaneNodes.filesystemAvailable,
    degradedInertiaMs: parseDurationMs(t.degradedInertia),
  };
}

/** The band rule: reached at or above the threshold. */
export function levelAtOrAbove(value: number, band: Band): Level {
  if (value >= band.critical) return 'Critical';
  if (value >= band.warning) return 'Warning';
  return 'OK';
}

/** The rule of bands where less is worse (free memory, free space): reached at or below. */
export function levelAtOrBelow(value: number, band: Band): Level {
  if (value <= band.critical) return 'Critical';
  if (value <= band.warning) return 'Warning';
  return 'OK';
}

/** The rate rule: any rate above zero warns, above the bound is critical. */
export function levelAboveRate(rate: number, critical: number): Level {
  if (rate > critical) return 'Critical';
  if (rate > 0) return 'Warning';
  return 'OK';
}
