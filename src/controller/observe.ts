// Adapts the sources to the reconciler: credentials that could not be resolved become source
// errors in the observation (the analysis then reports Unknown/NoData), never exceptions.
import type { SourceState } from '../api/v1alpha1/status.js';
import { OPENSHIFT_ETCD_NAMESPACE } from '../health/commands.js';
import type {
  BackupObservation,
  ClusterEtcdOperatorObservation,
  Observation,
} from '../health/observation.js';
import type { BackupReader } from '../sources/backup.js';
import type { PodLister } from '../sources/etcd/discovery.js';
import type { EndpointPolicy } from '../sources/etcd/endpoint-policy.js';
import { observe } from '../sources/observe.js';
import { observeOptionsFromSpec } from '../sources/options.js';
import type { SharedSources } from '../sources/shared.js';
import { CredentialError } from '../sources/credentials.js';
import type { ObserveRequest, Observe } from './ports.js';

const BACKUP_QUERY_REFUSED: BackupObservation = {
  state: 'Unreadable',
  evidence: 'the backup query',
  error:
    "the operator does not send a check's own PromQL with its ServiceAccount token (spec.prometheus.useOperatorServiceAccount); give spec.prometheus a bearerTokenSecretRef of your own, or name a CronJob",
};

export function sourceObserver(
  pods: PodLister,
  {
    shared,
    endpointPolicy,
    clusterEtcdOperator,
    backups,
    clock = () => new Date(),
  }: {
    shared?: SharedSources;
    endpointPolicy?: EndpointPolicy;
    /** Reads OpenShift's cluster-etcd-operator; asked only for members discovered in openshift-etcd. */
    clusterEtcdOperator?: (signal?: AbortSignal) => Promise<ClusterEtcdOperatorObservation>;
    /** Reads spec.backup's CronJob or EtcdBackups. */
    backups?: BackupReader;
    clock?: () => Date;
  } = {},
): Observe {
  return async (request: ObserveRequest): Promise<Observation> => {
    const { namespace, spec, etcdCredentials, prometheusCredentials } = request;
    if (etcdCredentials instanceof CredentialError) {
      // Without the members, metrics cannot be attributed to anyone: report both sources.
      const etcdState: SourceState = { state: 'Error', message: etcdCredentials.message };
      const metricsState: SourceState = spec.prometheus
        ? { state: 'Error', message: `Not queried: ${etcdCredentials.message}` }
        : { state: 'NotConfigured' };
      return {
        time: clock(),
        durationMs: 0,
        etcd: { source: etcdState, memberListKnown: false, members: [], alarms: [], alarmsKnown: false },
        metrics: { source: metricsState, members: {} },
      };
    }
    const prometheusFailed =
      prometheusCredentials instanceof CredentialError ? prometheusCredentials : undefined;
    const options = observeOptionsFromSpec(spec, {
      etcdTls: etcdCredentials,
      prometheus: prometheusCredentials instanceof CredentialError ? undefined : prometheusCredentials,
      pods,
      endpointPolicy,
      backups,
      namespace,
    });
    if (prometheusFailed) delete options.prometheus;
    const borrowedToken =
      spec.prometheus?.useOperatorServiceAccount === true && options.backup?.spec.prometheus !== undefined;
    // The operator's token runs the operator's own PromQL only: a CR's backup expression with it
    // would let the CR author read any series the operator may read, one number at a time.
    if (borrowedToken) delete options.backup;
    const openshift =
      clusterEtcdOperator && spec.etcd.discovery?.namespace === OPENSHIFT_ETCD_NAMESPACE
        ? clusterEtcdOperator(request.signal)
        : undefined;
    const observation = await observe({
      ...options,
      clock,
      shared,
      ...(request.signal ? { signal: request.signal } : {}),
      // A check that may act on etcd decides on what etcd says now.
      freshEtcd: spec.remediation.mode === 'Automatic',
    });
    if (prometheusFailed) {
      // The reason leads, so that a refusal by policy (OperatorTokenTrust, PrometheusUrlNotAllowed)
      // reads as one, not as an outage.
      const message = `${prometheusFailed.reason}: ${prometheusFailed.message}`;
      observation.metrics = { source: { state: 'Error', message }, members: {} };
    }
    if (borrowedToken) observation.backup = BACKUP_QUERY_REFUSED;
    if (openshift) observation.clusterEtcdOperator = await openshift;
    return observation;
  };
}
