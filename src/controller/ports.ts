// What the reconciler needs from the world, as small interfaces: the Kubernetes adapters
// (src/kube/), the sources (src/controller/observe.ts) and the metrics implement them, and tests
// replace them with recorders.
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { EtcdHealthCheckStatus } from '../api/v1alpha1/status.js';
import type { Observation } from '../health/observation.js';
import type { StatusStore } from '../remediation/status-store.js';
import type { CredentialError, EtcdCredentials, PrometheusCredentials } from '../sources/credentials.js';

/** What observing needs; a credential that could not be resolved arrives as the error. */
export interface ObserveRequest {
  namespace: string;
  name: string;
  spec: EtcdHealthCheckSpec;
  etcdCredentials: EtcdCredentials | CredentialError | undefined;
  prometheusCredentials: PrometheusCredentials | CredentialError;
  /** Aborts every read when the reconcile is abandoned (shutdown). */
  signal?: AbortSignal;
}

export type Observe = (request: ObserveRequest) => Promise<Observation>;

/** Hooks for the operator's own metrics; all optional so tests can leave them out. */
export interface ReconcileObserver {
  /** A full check: etcd and Prometheus were asked and the status recomputed. */
  analysed?(
    object: EtcdHealthCheck,
    status: EtcdHealthCheckStatus,
    observation: Observation,
    intervalMs: number,
  ): void;
  /** The spec is invalid: only the conditions say something. */
  invalid?(object: EtcdHealthCheck, status: EtcdHealthCheckStatus): void;
  suspended?(object: EtcdHealthCheck): void;
  statusWritten?(object: EtcdHealthCheck, why: string): void;
  forgotten?(namespace: string, name: string): void;
}

/** Writes the status fields the reconciler owns (src/kube/status-writer.ts). */
export type StatusWriter = Pick<StatusStore, 'patch'>;
