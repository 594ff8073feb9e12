// What the sources saw in one check: the only input of the pure analysis. Every value may be
// missing (undefined) or not a number (NaN): the analysis turns that into Unknown/NoData, never
// into a silent healthy.
import type { SourceState } from '../api/v1alpha1/status.js';

export type AlarmType = 'NOSPACE' | 'CORRUPT';

/** Maintenance.Status of one member. uint64 values stay decimal strings: IDs exceed 2^53. */
export interface EndpointStatus {
  /** The cluster ID of the answer's header: the cluster this member believes it belongs to. */
  clusterId?: string;
  memberId: string;
  leaderId: string; // "0" when the member knows no leader
  version: string;
  dbSize: number;
  dbSizeInUse?: number; // etcd >= 3.4
  dbSizeQuota?: number; // etcd >= 3.6, when the client decodes it
  raftTerm: string;
  raftIndex: string;
  raftAppliedIndex?: string;
  revision?: string;
  isLearner: boolean;
  errors: string[];
}

/** An X.509 certificate as far as its expiry goes. */
export interface CertificateValidity {
  /** The subject, one line ("CN=etcd-0"). */
  subject: string;
  /** The end of its validity, ISO 8601. */
  notAfter: string;
}

/**
 * The certificate a member served at the TLS handshake of this check, or only that the handshake
 * refused it as expired (the date is not seen then).
 */
export type ServingCertificate = CertificateValidity | { expired: true };

export interface MemberObservation {
  /** Member ID as a decimal uint64 string; "" when only the endpoint is known (member list failed). */
  id: string;
  /** Member name; members that have not started have none, and get their peer URL here. */
  name: string;
  clientURLs: string[];
  peerURLs: string[];
  isLearner: boolean;
  /** The client URL this check observed, or "" for a member that has not started. */
  endpoint: string;
  /** Maintenance.Status, when the member answered it. */
  status?: EndpointStatus;
  /** Linearizable read (serializable for learners), as cluster-etcd-operator's health check. */
  health?: { healthy: boolean; error?: string; tookMs: number };
  /** Why the member could not be reached, in words that name the endpoint. */
  error?: string;
  /** Seen at the TLS handshake; absent for plain-HTTP endpoints and handshakes that did not happen. */
  certificate?: ServingCertificate;
  /** The Kubernetes node its pod runs on, when discovery found the pod. */
  node?: string;
}

/** One container of a member's pod, as its status tells (the pod spec is not read). */
export interface PodContainer {
  name: string;
  ready: boolean;
  restartCount: number;
  /** Why it is waiting (CrashLoopBackOff, ImagePullBackOff, ...); absent while it runs. */
  waitingReason?: string;
  /** Why its previous run ended (OOMKilled, Error, ...); absent before its first restart. */
  lastTermination?: { reason: string; exitCode?: number; finishedAt?: string };
}

/** A pod of spec.etcd.discovery, as its status tells, whether it runs or not. */
export interface MemberPod {
  name: string;
  /** Empty while the pod has no IP. */
  ip: string;
  /** Pending, Running, Succeeded, Failed, Unknown; empty when the status has none. */
  phase: string;
  nodeName?: string;
  /** The pod's Ready condition; absent when the status has none. */
  ready?: boolean;
  /** Set once the pod is being deleted. */
  deleting?: boolean;
  containers: PodContainer[];
}

export interface EtcdObservation {
  source: SourceState;
  /** The pods spec.etcd.discovery listed, in name order; absent without discovery or when the list failed. */
  pods?: MemberPod[];
  clusterId?: string;
  /** Whether the member list came from etcd (true) or only from the configured endpoints. */
  memberListKnown: boolean;
  members: MemberObservation[];
  alarms: { memberId: string; alarm: AlarmType }[];
  /** Whether the alarm list could be read; false means "unknown", not "no alarms". */
  alarmsKnown: boolean;
  /** The client certificate the check presents; absent when it presents none. */
  clientCertificate?: CertificateValidity | { error: string };
}

/** A condition of another operator's object, as read. */
export interface OperatorCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** OpenShift's cluster-etcd-operator, read when the members are discovered in openshift-etcd. */
export interface ClusterEtcdOperatorObservation {
  /** clusteroperator/etcd's conditions; missing when they could not be read (`error` says why). */
  conditions?: OperatorCondition[];
  /** Whether its defragmentation controller runs (DefragControllerDisabled on etcd.operator.openshift.io/cluster). */
  defragController: 'Enabled' | 'Disabled' | 'Unknown';
  error?: string;
}

/** Metric values of one member. Latencies in seconds, rates per second, sizes in bytes. */
export interface MemberMetrics {
  walFsyncP99?: number;
  backendCommitP99?: number;
  peerRoundTripP99?: number;
  /** Failed sends to peers per second (etcd_network_peer_sent_failures_total, over all peers). */
  peerSentFailuresRate?: number;
  /** Heartbeats the member failed to send per second, as a leader (etcd_server_heartbeat_send_failures_total). */
  heartbeatSendFailuresRate?: number;
  /** The slowest unary gRPC method's p99 handling time; etcd exposes it only with --metrics=extensive. */
  grpcUnaryP99?: number;
  proposalsFailedRate?: number;
  slowAppliesRate?: number;
  slowReadIndexesRate?: number;
  grpcRequestRate?: number;
  grpcFailedRate?: number;
  dbSizeBytes?: number;
  dbSizeInUseBytes?: number;
  quotaBackendBytes?: number;
  /** predict_linear of the DB size over the growth horizon. */
  dbSizePredicted?: number;
  /** How far back, within the growth horizon, Prometheus holds the DB size: the prediction's base. */
  dbSizeHistorySeconds?: number;
  hasLeader?: number;
  /** Seconds since the member's metrics were last scraped successfully; large means stale. */
  scrapeAgeSeconds?: number;
}

/** node-exporter's view of one node; the check keeps only the members' own nodes. */
export interface NodeMetrics {
  /** node-exporter's `instance`: host:port, or the node name where the scrape config relabels it. */
  instance: string;
  /** The `node` label, where the scrape config sets one. */
  nodeName?: string;
  /** Busy share of all CPUs, iowait included. */
  cpuPercent?: number;
  cpuIowaitPercent?: number;
  swapUsedBytes?: number;
  memoryAvailablePercent?: number;
  /** The mountpoint read for the data dir: the spec's, or "/" on nodes without it. */
  mountpoint?: string;
  filesystemAvailablePercent?: number;
  /** The device under that mountpoint, as node_disk_* name it (e.g. "sda1"). */
  device?: string;
  diskWriteAwaitSeconds?: number;
  diskUtilisationPercent?: number;
}

export interface ChurnEntry {
  resource: string;
  verb: string;
  requestsPerSecond: number;
}

/** Requests per second that API Priority and Fairness dispatched for one flow schema. */
export interface FlowEntry {
  flowSchema: string;
  priorityLevel: string;
  requestsPerSecond: number;
}

/** Objects the kube-apiserver stores for one resource. */
export interface StoredObjects {
  resource: string;
  objects: number;
}

export interface MetricsObservation {
  source: SourceState;
  /**
   * Set when the source is Partial only because of the series of these members (IDs): a member
   * that is down explains its own missing or failed scrapes.
   */
  partialMembers?: string[];
  /**
   * Set when the values come from two samples of each member's own /metrics, this many seconds
   * apart, instead of Prometheus: what needs a longer history (leader changes, growth) is missing.
   */
  sampledOverSeconds?: number;
  /**
   * Set with an Error source when Prometheus answered every query but holds no etcd series for
   * the matchers (restarted without its data, not scraping etcd yet, or matchers that select
   * nothing): no data, not a Prometheus that failed to answer.
   */
  etcdSeriesAbsent?: boolean;
  /** Keyed by member ID; members Prometheus has no series for are absent. */
  members: Record<string, MemberMetrics>;
  /** Leader changes seen by the cluster (max over members) in the last hour and 15 minutes. */
  leaderChanges1h?: number;
  leaderChanges15m?: number;
  apiMutatingRequestsPerSecond?: number;
  apiInflightRequests?: number;
  /** Top resource/verb pairs by mutating request rate. */
  apiTopChurn?: ChurnEntry[];
  /** p99 of the kube-apiserver's mutating requests, and of its own requests to etcd (seconds). */
  apiMutatingP99Seconds?: number;
  apiEtcdRequestP99Seconds?: number;
  /** Top flow schemas (API Priority and Fairness) by dispatched requests. */
  apiTopFlows?: FlowEntry[];
  /** Largest resources by stored objects. */
  apiTopStoredObjects?: StoredObjects[];
  /** Present only when node-exporter metrics exist. */
  nodes?: NodeMetrics[];
}

/**
 * The evidence of the last etcd backup that spec.backup names. `evidence` says what was read
 * ("CronJob etcd-backup"); None means it was read and shows no successful backup at all.
 */
export type BackupObservation =
  | { state: 'Found'; evidence: string; lastSuccess: Date }
  | { state: 'None'; evidence: string; detail: string }
  | { state: 'Unreadable'; evidence: string; error: string };

export interface Observation {
  /** When the observation was completed; the analysis' only clock. */
  time: Date;
  etcd: EtcdObservation;
  metrics: MetricsObservation;
  /** Only where the members are OpenShift's (discovery in openshift-etcd). */
  clusterEtcdOperator?: ClusterEtcdOperatorObservation;
  /** Present when spec.backup is set and its evidence was looked at. */
  backup?: BackupObservation;
  durationMs: number;
}
