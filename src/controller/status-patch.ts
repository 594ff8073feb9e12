// The health status as a JSON merge patch. A merge patch keeps every field it leaves out, so an
// optional field that is gone now must be sent as null: without it a source that recovered kept
// its last error message in status.lastCheck beside state OK.
import type { SourceState } from '../api/v1alpha1/status.js';
import type { HealthStatus } from '../health/status.js';
import type { StatusPatch } from '../remediation/status-store.js';

/**
 * `status` with null for the optional fields of status.lastCheck's sources that it leaves out. (Lists
 * are replaced whole; the summary's one optional field is always set once conditions exist.)
 */
export function healthStatusPatch(status: HealthStatus): StatusPatch {
  const { lastCheck } = status;
  return {
    ...status,
    ...(lastCheck && {
      lastCheck: {
        ...lastCheck,
        etcd: sourcePatch(lastCheck.etcd),
        prometheus: sourcePatch(lastCheck.prometheus),
      },
    }),
  };
}

function sourcePatch(source: SourceState) {
  return {
    state: source.state,
    message: source.message ?? null,
    durationMilliseconds: source.durationMilliseconds ?? null,
  };
}
