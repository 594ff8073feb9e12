// The port through which the operator writes an EtcdHealthCheck's status (src/kube/status-writer.ts
// implements it): a JSON merge patch to /status, optionally conditional on a resourceVersion, which
// the API server checks as a precondition (409 Conflict when the object changed since it was read:
// another replica acted, or the spec changed, e.g. paused). This, not memory, is what keeps two
// replicas or a restarted process from running two steps.
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckStatus, SourceState } from '../api/v1alpha1/status.js';
import type { RemediationStatusPatch } from './state.js';

export interface ObjectKey {
  namespace: string;
  name: string;
}

/** Lists are replaced wholesale; fields left out keep their stored value, null removes them. */
export type StatusPatch = Partial<Omit<EtcdHealthCheckStatus, 'remediation' | 'lastCheck'>> & {
  remediation?: RemediationStatusPatch;
  lastCheck?: Omit<NonNullable<EtcdHealthCheckStatus['lastCheck']>, 'etcd' | 'prometheus'> & {
    etcd: Removable<SourceState>;
    prometheus: Removable<SourceState>;
  };
};

/** An object whose optional fields may be null in a merge patch, to remove their stored value. */
type Removable<T> = { [K in keyof T]: undefined extends T[K] ? Exclude<T[K], undefined> | null : T[K] };

export type PatchOutcome =
  | { ok: true; resourceVersion: string }
  | { ok: false; conflict: true }
  /** Not sent (see fenced()): why. */
  | { ok: false; conflict: false; refused: string };

export interface StatusStore {
  /** With a `resourceVersion`, applied only if the object still has it; without, unconditionally. */
  patch(key: ObjectKey, resourceVersion: string | undefined, patch: StatusPatch): Promise<PatchOutcome>;
  /** A fresh read (not the cache), after a conflict. */
  get(key: ObjectKey): Promise<EtcdHealthCheck | undefined>;
}

/**
 * `store` whose writes are sent only while `leading()` says this replica leads. A replica frozen
 * past its Lease (SIGSTOP, a paused VM) wakes up with steps in flight; from then on the replica
 * that took the Lease over owns status.remediation, and the woken one must write nothing (the
 * resourceVersion precondition alone does not stop it: after a 409 it reads again and retries).
 */
export function fenced(store: StatusStore, leading: () => boolean): StatusStore {
  return {
    patch: (key, resourceVersion, patch) =>
      leading()
        ? store.patch(key, resourceVersion, patch)
        : Promise.resolve({
            ok: false,
            conflict: false,
            refused: 'this replica no longer holds the leader Lease',
          }),
    get: (key) => store.get(key),
  };
}
