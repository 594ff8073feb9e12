// Shared set-up of the sources' integration tests: source options for a harness cluster, and the
// pure analysis on top of an observation.
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { analyze, type Analysis } from '../../src/health/analyze.js';
import type { MemberObservation, Observation } from '../../src/health/observation.js';
import { observe, type ObserveOptions } from '../../src/sources/observe.js';
import type { PrometheusSourceOptions } from '../../src/sources/prometheus/source.js';
import type { EtcdCluster } from '../harness/etcd-cluster.js';

// Short windows: the harness scrapes every second and a test cannot wait 5 minutes. 60s (not
// less) because etcd observes peer round trips only every few seconds per peer.
export const TEST_RATE_WINDOW_MS = 60_000;

export function etcdOptions(
  cluster: EtcdCluster,
  tls: 'client' | 'otherCa' | 'none' = 'client',
): ObserveOptions['etcd'] {
  const material = cluster.tls;
  return {
    endpoints: cluster.endpoints,
    dialTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    tls:
      material && tls !== 'none'
        ? {
            caPem: tls === 'otherCa' ? material.otherCa.certPem : material.ca.certPem,
            certPem: material.client.certPem,
            keyPem: material.client.keyPem,
          }
        : undefined,
  };
}

export function prometheusOptions(
  url: string,
  overrides: Partial<PrometheusSourceOptions> = {},
): PrometheusSourceOptions {
  return {
    url,
    insecureSkipTLSVerify: false,
    timeoutMs: 5_000,
    labelMatchers: ['job="etcd"'],
    memberLabel: 'instance',
    rateWindowMs: TEST_RATE_WINDOW_MS,
    growthHorizonMs: 3_600_000,
    dataDirMountpoint: '/var/lib/etcd',
    ...overrides,
  };
}

export function observeCluster(
  cluster: EtcdCluster,
  prometheusUrl?: string,
  tls?: 'client' | 'otherCa' | 'none',
): Promise<Observation> {
  return observe({
    etcd: etcdOptions(cluster, tls),
    prometheus: prometheusUrl ? prometheusOptions(prometheusUrl) : undefined,
  });
}

const SPEC = EtcdHealthCheckSpecSchema.parse({ etcd: { endpoints: ['http://127.0.0.1:2379'] } });

export function analyzeObservation(observation: Observation): Analysis {
  return analyze({ observation, spec: SPEC, previousConditions: [], generation: 1 });
}

export function condition(analysis: Analysis, type: string) {
  return analysis.conditions.find((c) => c.type === type);
}

export function memberNamed(observation: Observation, name: string): MemberObservation {
  const member = observation.etcd.members.find((m) => m.name === name);
  if (!member)
    throw new Error(`no member ${name} in ${observation.etcd.members.map((m) => m.name).join(', ')}`);
  return member;
}

/** The metrics of a member by name (metrics are keyed by member ID). */
export function metricsOf(observation: Observation, name: string) {
  return observation.metrics.members[memberNamed(observation, name).id];
}

/** The leader's name as every answering member reports it, if they agree on one. */
export function leaderOf(observation: Observation): string | undefined {
  const ids = new Set(observation.etcd.members.flatMap((m) => (m.status ? [m.status.leaderId] : [])));
  if (ids.size !== 1) return undefined;
  const [id] = [...ids];
  return observation.etcd.members.find((m) => m.id === id)?.name;
}
