// Small builders for observations: a healthy cluster, then one change at a time.
import { analyze, type Analysis, type AnalysisInput, type RemediationRun } from '../../src/health/analyze.js';
import { remediationConditions } from '../../src/health/conditions.js';
import type { CheckName, Finding } from '../../src/health/findings.js';
import type {
  AlarmType,
  ClusterEtcdOperatorObservation,
  EndpointStatus,
  MemberMetrics,
  NodeMetrics,
  MemberObservation,
  MetricsObservation,
  Observation,
} from '../../src/health/observation.js';
import {
  EtcdHealthCheckSpecSchema,
  type EtcdHealthCheckSpec,
  type EtcdHealthCheckSpecInput,
} from '../../src/api/v1alpha1/spec.js';
import type { Condition, SourceState } from '../../src/api/v1alpha1/status.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const CLUSTER_ID = '14841639068965178418';
export const T0 = new Date('2026-03-01T12:00:00.000Z');

export type Change = (observation: Observation) => void;

/** Member IDs above 2^53, as real etcd IDs are. */
export function memberId(index: number): string {
  return (10_000_000_000_000_000_000n + BigInt(index)).toString();
}

export function memberName(index: number): string {
  return `etcd-${index}`;
}

export function clientURL(index: number): string {
  return `https://127.0.0.${index + 1}:2379`;
}

export function specWith(input: Partial<EtcdHealthCheckSpecInput> = {}): EtcdHealthCheckSpec {
  return EtcdHealthCheckSpecSchema.parse({
    etcd: { endpoints: [clientURL(0)] },
    prometheus: { url: 'https://prometheus.example:9090' },
    ...input,
  });
}

export const DEFAULT_SPEC = specWith();

export function healthyMetrics(): MemberMetrics {
  return {
    walFsyncP99: 0.002,
    backendCommitP99: 0.005,
    peerRoundTripP99: 0.004,
    peerSentFailuresRate: 0,
    heartbeatSendFailuresRate: 0,
    grpcUnaryP99: 0.012,
    proposalsFailedRate: 0,
    slowAppliesRate: 0,
    slowReadIndexesRate: 0,
    grpcRequestRate: 50,
    grpcFailedRate: 0,
    dbSizeBytes: 200 * MiB,
    dbSizeInUseBytes: 180 * MiB,
    quotaBackendBytes: 8 * GiB,
    dbSizePredicted: 210 * MiB,
    dbSizeHistorySeconds: 4 * 3600,
    hasLeader: 1,
    scrapeAgeSeconds: 10,
  };
}

function healthyMember(index: number, leaderIndex: number): MemberObservation {
  return {
    id: memberId(index),
    name: memberName(index),
    clientURLs: [clientURL(index)],
    peerURLs: [`https://127.0.0.${index + 1}:2380`],
    isLearner: false,
    endpoint: clientURL(index),
    status: {
      clusterId: CLUSTER_ID,
      memberId: memberId(index),
      leaderId: memberId(leaderIndex),
      version: '3.6.4',
      dbSize: 200 * MiB,
      dbSizeInUse: 180 * MiB,
      dbSizeQuota: 8 * GiB,
      raftTerm: '5',
      raftIndex: '1000',
      raftAppliedIndex: '1000',
      revision: '900',
      isLearner: false,
      errors: [],
    },
    health: { healthy: true, tookMs: 3 },
    certificate: { subject: `CN=${memberName(index)}`, notAfter: daysAfter(T0, 365).toISOString() },
  };
}

/** n members named etcd-0..n-1, etcd-0 leads, every check within its thresholds. */
export function healthyCluster(n = 3, ...changes: Change[]): Observation {
  const indexes = [...Array(n).keys()];
  const observation: Observation = {
    time: T0,
    etcd: {
      source: { state: 'OK' },
      clusterId: CLUSTER_ID,
      memberListKnown: true,
      members: indexes.map((index) => healthyMember(index, 0)),
      alarms: [],
      alarmsKnown: true,
    },
    metrics: {
      source: { state: 'OK' },
      members: Object.fromEntries(indexes.map((index) => [memberId(index), healthyMetrics()])),
      leaderChanges1h: 0,
      leaderChanges15m: 0,
      apiMutatingRequestsPerSecond: 20,
      apiInflightRequests: 10,
      apiTopChurn: [{ resource: 'leases', verb: 'PUT', requestsPerSecond: 12 }],
      apiMutatingP99Seconds: 0.05,
      apiEtcdRequestP99Seconds: 0.01,
    },
    durationMs: 120,
  };
  return apply(observation, ...changes);
}

export function apply(observation: Observation, ...changes: Change[]): Observation {
  const copy = structuredClone(observation);
  for (const change of changes) change(copy);
  return copy;
}

function memberAt(observation: Observation, index: number): MemberObservation {
  const member = observation.etcd.members.find((candidate) => candidate.id === memberId(index));
  if (member === undefined) throw new Error(`no member ${index}`);
  return member;
}

export const withMetric =
  (index: number, patch: Partial<MemberMetrics>): Change =>
  (observation) => {
    observation.metrics.members[memberId(index)] = {
      ...observation.metrics.members[memberId(index)],
      ...patch,
    };
  };

export const withMetricsEverywhere =
  (patch: Partial<MemberMetrics>): Change =>
  (observation) => {
    for (const id of Object.keys(observation.metrics.members)) {
      observation.metrics.members[id] = { ...observation.metrics.members[id], ...patch };
    }
  };

export const withoutMetricsOf =
  (index: number): Change =>
  (observation) => {
    delete observation.metrics.members[memberId(index)];
  };

export const withClusterMetrics =
  (patch: Partial<Omit<MetricsObservation, 'members' | 'source'>>): Change =>
  (observation) => {
    Object.assign(observation.metrics, patch);
  };

/** node-exporter's view of a member's node (instance: its client host), every value within its thresholds. */
export function healthyNode(index: number, patch: Partial<NodeMetrics> = {}): NodeMetrics {
  return {
    instance: `127.0.0.${index + 1}:9100`,
    cpuPercent: 10,
    cpuIowaitPercent: 1,
    swapUsedBytes: 0,
    memoryAvailablePercent: 60,
    mountpoint: '/var/lib/etcd',
    filesystemAvailablePercent: 70,
    device: 'nvme0n1',
    diskWriteAwaitSeconds: 0.002,
    diskUtilisationPercent: 5,
    ...patch,
  };
}

/** Healthy nodes for members 0..n-1, the node of member `index` patched. */
export const withNodes =
  (n: number, index = 0, patch: Partial<NodeMetrics> = {}): Change =>
  (observation) => {
    observation.metrics.nodes = [...Array(n).keys()].map((i) => healthyNode(i, i === index ? patch : {}));
  };

export const withMetricsSource =
  (state: SourceState['state'], message?: string): Change =>
  (observation) => {
    observation.metrics.source = message === undefined ? { state } : { state, message };
  };

export const withStatus =
  (index: number, patch: Partial<EndpointStatus>): Change =>
  (observation) => {
    const member = memberAt(observation, index);
    member.status = { ...member.status!, ...patch };
  };

export const withStatusEverywhere =
  (patch: Partial<EndpointStatus>): Change =>
  (observation) => {
    for (const member of observation.etcd.members) member.status = { ...member.status!, ...patch };
  };

export const withMember =
  (index: number, patch: Partial<MemberObservation>): Change =>
  (observation) => {
    Object.assign(memberAt(observation, index), patch);
  };

/** The member answers nothing: no Status, no health read. */
export const unreachable =
  (index: number, error = 'context deadline exceeded'): Change =>
  (observation) => {
    const member = memberAt(observation, index);
    delete member.status;
    member.health = { healthy: false, error, tookMs: 5000 };
    member.error = `${clientURL(index)}: ${error}`;
  };

/** Unreachable, and Prometheus cannot scrape it either. */
export const killed =
  (index: number): Change =>
  (observation) => {
    unreachable(index, 'connection refused')(observation);
    delete observation.metrics.members[memberId(index)];
  };

/** Answers Status (locally) but not the linearizable read. */
export const unhealthy =
  (index: number, error = 'etcdserver: request timed out'): Change =>
  (observation) => {
    memberAt(observation, index).health = { healthy: false, error, tookMs: 5000 };
  };

/** In the member list without a client URL: it has not started. Its name is empty, as etcd reports it. */
export const notStarted =
  (index: number): Change =>
  (observation) => {
    const member = memberAt(observation, index);
    member.name = '';
    member.clientURLs = [];
    member.endpoint = '';
    delete member.status;
    delete member.health;
    delete observation.metrics.members[memberId(index)];
  };

export const learner =
  (index: number): Change =>
  (observation) => {
    const member = memberAt(observation, index);
    member.isLearner = true;
    member.status = { ...member.status!, isLearner: true };
  };

export const withAlarm =
  (alarm: AlarmType, index: number): Change =>
  (observation) => {
    observation.etcd.alarms.push({ memberId: memberId(index), alarm });
  };

export const at =
  (time: Date): Change =>
  (observation) => {
    observation.time = time;
  };

export function secondsAfter(start: Date, seconds: number): Date {
  return new Date(start.getTime() + seconds * 1000);
}

export function daysAfter(start: Date, days: number): Date {
  return secondsAfter(start, days * 86_400);
}

/** Analysis options as tests give them: the remediation as the run the remediator reports. */
type RunOptions = Partial<Omit<AnalysisInput, 'observation' | 'remediation'>> & {
  remediation?: RemediationRun;
};

export function run(observation: Observation, options: RunOptions = {}): Analysis {
  const spec = options.spec ?? DEFAULT_SPEC;
  return analyze({
    observation,
    spec,
    previousConditions: options.previousConditions ?? [],
    generation: options.generation ?? 1,
    remediation: remediationConditions(spec, options.remediation),
    ...(options.commands ? { commands: options.commands } : {}),
    ...(options.previousMembers ? { previousMembers: options.previousMembers } : {}),
  });
}

export function conditionOf(analysis: Analysis, type: string): Condition {
  const condition = analysis.conditions.find((candidate) => candidate.type === type);
  if (condition === undefined) throw new Error(`no condition ${type}`);
  return condition;
}

export function findingsOf(analysis: Analysis, check: CheckName, target?: string): Finding[] {
  return analysis.findings.filter(
    (finding) => finding.check === check && (target === undefined || finding.target === target),
  );
}

/** The one finding of a check on a target. */
export function findingOf(analysis: Analysis, check: CheckName, target: string): Finding {
  const found = findingsOf(analysis, check, target);
  if (found.length !== 1) throw new Error(`expected one ${check} finding for ${target}, got ${found.length}`);
  return found[0]!;
}

/** Several analyses in a row, each seeing the previous conditions: the controller loop. */
export function runSeries(
  observations: Observation[],
  options: Omit<RunOptions, 'previousConditions'> = {},
): Analysis[] {
  const results: Analysis[] = [];
  let previousConditions: Condition[] = [];
  for (const observation of observations) {
    const analysis = run(observation, { ...options, previousConditions });
    results.push(analysis);
    previousConditions = analysis.conditions;
  }
  return results;
}

/** clusteroperator/etcd of a healthy OpenShift etcd, the cluster-etcd-operator defragmenting. */
export const onOpenShift =
  (patch: Partial<ClusterEtcdOperatorObservation> = {}): Change =>
  (observation) => {
    observation.clusterEtcdOperator = {
      conditions: [
        { type: 'Available', status: 'True', reason: 'AsExpected' },
        { type: 'Degraded', status: 'False', reason: 'AsExpected' },
        { type: 'Progressing', status: 'False', reason: 'AsExpected' },
        { type: 'Upgradeable', status: 'True', reason: 'AsExpected' },
      ],
      defragController: 'Enabled',
      ...patch,
    };
  };
