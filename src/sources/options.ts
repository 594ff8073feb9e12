// From a validated spec and the credentials the controller resolved to the sources' options.
// Durations in the spec are strings ("5m"); the sources take milliseconds.
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import { parseDurationMs } from '../api/v1alpha1/units.js';
import { DEFAULT_API_TIMEOUT_MS } from '../runtime/request-options.js';
import type { BackupReader } from './backup.js';
import type { EtcdTls } from './etcd/client.js';
import type { PodLister } from './etcd/discovery.js';
import type { EndpointPolicy } from './etcd/endpoint-policy.js';
import type { ObserveOptions } from './observe.js';

export interface ResolvedInputs {
  etcdTls?: EtcdTls;
  prometheus?: { bearerToken?: string; caPem?: string };
  /** Needed when the spec uses endpoint discovery. */
  pods?: PodLister;
  /** The admin's restriction of etcd endpoint addresses. */
  endpointPolicy?: EndpointPolicy;
  /** Reads spec.backup's Kubernetes evidence; absent without a Kubernetes API. */
  backups?: BackupReader;
  /** The EtcdHealthCheck's namespace, the only one its backup CronJob is read from. */
  namespace?: string;
}

export function observeOptionsFromSpec(spec: EtcdHealthCheckSpec, resolved: ResolvedInputs): ObserveOptions {
  const { etcd, prometheus } = spec;
  return {
    etcd: {
      endpoints: etcd.endpoints,
      discovery: etcd.discovery,
      pods: resolved.pods,
      endpointPolicy: resolved.endpointPolicy,
      tls: resolved.etcdTls,
      dialTimeoutMs: parseDurationMs(etcd.dialTimeout),
      requestTimeoutMs: parseDurationMs(etcd.requestTimeout),
    },
    prometheus: prometheus && {
      url: prometheus.url,
      bearerToken: resolved.prometheus?.bearerToken,
      caPem: resolved.prometheus?.caPem,
      insecureSkipTLSVerify: prometheus.insecureSkipTLSVerify,
      timeoutMs: parseDurationMs(prometheus.timeout),
      labelMatchers: prometheus.labelMatchers,
      memberLabel: prometheus.memberLabel,
      rateWindowMs: parseDurationMs(prometheus.rateWindow),
      growthHorizonMs: parseDurationMs(spec.thresholds.growth.horizon),
      dataDirMountpoint: prometheus.nodeExporter.dataDirMountpoint,
    },
    backup: spec.backup && {
      spec: spec.backup,
      namespace: resolved.namespace ?? '',
      reader: resolved.backups,
      timeoutMs: DEFAULT_API_TIMEOUT_MS,
    },
  };
}
