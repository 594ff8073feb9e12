// The health status as a JSON merge patch (RFC 7386), applied here as the API server applies it:
// a field the new status no longer has must be gone from the stored one.
import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import { healthStatusPatch } from '../../src/controller/status-patch.js';
import type { HealthStatus } from '../../src/health/status.js';

/** RFC 7386 MergePatch. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (value !== undefined) result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

const summary = {
  members: '3/3',
  leader: 'member-1',
  dbSize: '40.0 KiB',
  walFsyncP99: '12ms',
  backendCommitP99: '20ms',
  quotaUsage: '1%',
  recommendations: 'None',
};

const failed: EtcdHealthCheckStatus = {
  observedGeneration: 2,
  summary,
  lastCheck: {
    time: '2026-12-07T02:00:00Z',
    durationMilliseconds: 2_010,
    etcd: { state: 'OK', durationMilliseconds: 5 },
    prometheus: {
      state: 'Error',
      message: 'Prometheus http://10.0.0.1:9090: every query failed: ECONNREFUSED',
      durationMilliseconds: 2_000,
    },
  },
};

const recovered: HealthStatus = {
  observedGeneration: 2,
  summary,
  lastCheck: {
    time: '2026-12-07T02:01:00Z',
    durationMilliseconds: 30,
    etcd: { state: 'OK' },
    prometheus: { state: 'OK', durationMilliseconds: 25 },
  },
};

describe('healthStatusPatch', () => {
  it('removes the message of a source that recovered, and a duration no longer measured', () => {
    expect(applyMergePatch(failed, healthStatusPatch(recovered))).toEqual(recovered);
  });

  it('keeps what the new status has', () => {
    expect(applyMergePatch(recovered, healthStatusPatch(failed))).toEqual(failed);
  });

  it('leaves out what the status leaves out at its top level (an invalid spec keeps the last check)', () => {
    const patch = healthStatusPatch({ observedGeneration: 3 });
    expect(patch).toEqual({ observedGeneration: 3 });
    expect(applyMergePatch(failed, patch)).toEqual({ ...failed, observedGeneration: 3 });
  });
});
