// The PromQL of every signal: one instant query per signal that returns all members at once.
// Selectors are built from parsed matchers (selector.ts), never from pasted text.
import type { MemberMetrics } from '../../health/observation.js';
import { checkLabelName, formatSelector, type LabelMatcher } from './selector.js';

export interface QueryContext {
  /** The user's matchers; they scope etcd metrics only (apiserver/node-exporter have other jobs). */
  etcdMatchers: readonly LabelMatcher[];
  memberLabel: string;
  rateWindowMs: number;
  growthHorizonMs: number;
  /** node-exporter's mountpoint of the members' data dir; nodes without it are read at "/". */
  dataDirMountpoint: string;
}

/** `up` is not an observation field: it explains why a member's metrics are missing or stale. */
export type MemberField = keyof MemberMetrics | 'up';

export interface MemberSignal {
  kind: 'member';
  field: MemberField;
  title: string;
  /** Whether a member without a series makes the source Partial; RTT exists only with peers. */
  required: 'always' | 'withPeers' | 'never';
  promql(ctx: QueryContext): string;
}

export type ClusterField =
  | 'leaderChanges1h'
  | 'leaderChanges15m'
  | 'apiMutatingRequestsPerSecond'
  | 'apiInflightRequests'
  | 'apiTopChurn'
  | 'apiMutatingP99Seconds'
  | 'apiEtcdRequestP99Seconds'
  | 'apiTopFlows'
  | 'apiTopStoredObjects'
  | 'nodeCpuPercent'
  | 'nodeCpuIowaitPercent'
  | 'nodeSwapUsedBytes'
  | 'nodeMemoryAvailablePercent'
  | 'nodeFilesystemAvailablePercent'
  | 'nodeDiskWriteAwaitSeconds'
  | 'nodeDiskUtilisationPercent';

export interface ClusterSignal {
  kind: 'cluster';
  field: ClusterField;
  title: string;
  required: boolean;
  promql(ctx: QueryContext): string;
}

export type Signal = MemberSignal | ClusterSignal;

// etcd-io/etcd contrib/mixin alerts.libsonnet, etcdHighNumberOfFailedGRPCRequests.
export const FAILED_GRPC_CODES =
  'Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded';
const MUTATING_VERBS = 'POST|PUT|PATCH|DELETE|DELETECOLLECTION|APPLY';
const TOP_CHURN_ENTRIES = 5;

// kube-prometheus and OpenShift put the node name in `instance`; other scrape configs add `node`.
const NODE_LABELS = 'instance, node';

const cpuMode = (mode: string) =>
  formatSelector('node_cpu_seconds_total', [{ name: 'mode', op: '=', value: mode }]);

/**
 * A node-exporter filesystem metric at the data dir's mountpoint, or at "/" on nodes that do not
 * report that mountpoint (the data dir is then on the root filesystem).
 */
const dataDirFilesystem = (ctx: QueryContext, metric: string) => {
  const at = (mountpoint: string) =>
    formatSelector(metric, [{ name: 'mountpoint', op: '=', value: mountpoint }]);
  return `(${at(ctx.dataDirMountpoint)} or (${at('/')} unless on (instance) ${at(ctx.dataDirMountpoint)}))`;
};

/**
 * Keeps the disk series of the device under the data dir's filesystem and adds its mountpoint:
 * node_filesystem_* name the device "/dev/sda1", node_disk_* "sda1".
 */
const onDataDirDevice = (ctx: QueryContext) =>
  `* on (instance, device) group_left (mountpoint) (0 * label_replace(max by (instance, device, mountpoint) (${dataDirFilesystem(ctx, 'node_filesystem_size_bytes')}), "device", "$1", "device", "/dev/(.+)") + 1)`;

/** PromQL durations are whole units; whole seconds are precise enough for windows. */
export function promDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

const etcd = (ctx: QueryContext, metric: string, extra: LabelMatcher[] = []) =>
  formatSelector(metric, [...ctx.etcdMatchers, ...extra]);
const by = (ctx: QueryContext, ...more: string[]) => [checkLabelName(ctx.memberLabel), ...more].join(', ');
const window = (ctx: QueryContext) => promDuration(ctx.rateWindowMs);

// Summing buckets by (member, le) first merges duplicate targets of one member into one histogram.
const p99 = (metric: string) => (ctx: QueryContext) =>
  `histogram_quantile(0.99, sum by (${by(ctx, 'le')}) (rate(${etcd(ctx, metric)}[${window(ctx)}])))`;
const rate = (metric: string) => (ctx: QueryContext) =>
  `sum by (${by(ctx)}) (rate(${etcd(ctx, metric)}[${window(ctx)}]))`;
// last_over_time as in the mixin's etcdDatabaseQuotaLowSpace: one missed scrape does not blank it.
const lastValue = (metric: string) => (ctx: QueryContext) =>
  `max by (${by(ctx)}) (last_over_time(${etcd(ctx, metric)}[${window(ctx)}]))`;

const hasLeader = (ctx: QueryContext) => `min by (${by(ctx)}) (${etcd(ctx, 'etcd_server_has_leader')})`;

/**
 * Leader changes without increase()'s extrapolation (which turns 1 change into 0.9 or 1.1;
 * cluster-etcd-operator 4b9fd47f7 "avoid extrapolation in leadership alert"): per member the
 * counter's growth inside the window, leaving out members whose counter reset (a restart), then
 * the cluster-wide max as the mixin's etcdHighNumberOfLeaderChanges does. When every member
 * restarted inside the window (a leader killed again and again), no counter covers it; then each
 * change is counted from etcd_server_is_leader, which flips on the old and on the new leader.
 */
const leaderChanges = (rangeMs: number) => (ctx: QueryContext) => {
  const range = promDuration(rangeMs);
  const series = `${etcd(ctx, 'etcd_server_leader_changes_seen_total')}[${range}]`;
  const counted = `max((max_over_time(${series}) - min_over_time(${series})) unless (resets(${series}) > 0))`;
  const flips = `sum(max by (${by(ctx)}) (changes(${etcd(ctx, 'etcd_server_is_leader')}[${range}])))`;
  return `${counted} or ceil(${flips} / 2)`;
};

const mutatingRequests = (ctx: QueryContext) =>
  `rate(${formatSelector('apiserver_request_total', [{ name: 'verb', op: '=~', value: MUTATING_VERBS }])}[${window(ctx)}])`;

export const SIGNALS: readonly Signal[] = [
  // Disk: field guide step 2; mixin etcdHighFsyncDurations / etcdHighCommitDurations.
  {
    kind: 'member',
    field: 'walFsyncP99',
    title: 'WAL fsync p99',
    required: 'always',
    promql: p99('etcd_disk_wal_fsync_duration_seconds_bucket'),
  },
  {
    kind: 'member',
    field: 'backendCommitP99',
    title: 'backend commit p99',
    required: 'always',
    promql: p99('etcd_disk_backend_commit_duration_seconds_bucket'),
  },
  {
    // mixin etcdMemberCommunicationSlow, per peer (label To); the worst peer counts.
    kind: 'member',
    field: 'peerRoundTripP99',
    title: 'peer round trip p99',
    required: 'withPeers',
    promql: (ctx) =>
      `max by (${by(ctx)}) (histogram_quantile(0.99, sum by (${by(ctx, 'To', 'le')}) (rate(${etcd(ctx, 'etcd_network_peer_round_trip_time_seconds_bucket')}[${window(ctx)}]))))`,
  },
  {
    // Packet loss between members, beside the round trip (field guide step 9). The counter has a
    // series per peer only once a send failed: `or 0 * has_leader` says 0 for a member that never
    // failed, not "no data".
    kind: 'member',
    field: 'peerSentFailuresRate',
    title: 'peer send failure rate',
    required: 'withPeers',
    promql: (ctx) => `${rate('etcd_network_peer_sent_failures_total')(ctx)} or (0 * ${hasLeader(ctx)})`,
  },
  {
    kind: 'member',
    field: 'heartbeatSendFailuresRate',
    title: 'heartbeat send failure rate',
    required: 'withPeers',
    promql: (ctx) => `${rate('etcd_server_heartbeat_send_failures_total')(ctx)} or (0 * ${hasLeader(ctx)})`,
  },
  {
    // mixin etcdGRPCRequestsSlow: the p99 per unary method but Defragment (slow by nature), the
    // slowest method counts. Only with etcd's --metrics=extensive, hence never required.
    kind: 'member',
    field: 'grpcUnaryP99',
    title: 'gRPC unary request p99',
    required: 'never',
    promql: (ctx) => {
      const buckets = etcd(ctx, 'grpc_server_handling_seconds_bucket', [
        { name: 'grpc_type', op: '=', value: 'unary' },
        { name: 'grpc_method', op: '!=', value: 'Defragment' },
      ]);
      return `max by (${by(ctx)}) (histogram_quantile(0.99, sum by (${by(ctx, 'grpc_service', 'grpc_method', 'le')}) (rate(${buckets}[${window(ctx)}]))))`;
    },
  },
  {
    kind: 'member',
    field: 'proposalsFailedRate',
    title: 'failed proposals rate',
    required: 'always',
    promql: rate('etcd_server_proposals_failed_total'),
  },
  {
    kind: 'member',
    field: 'slowAppliesRate',
    title: 'slow applies rate',
    required: 'always',
    promql: rate('etcd_server_slow_apply_total'),
  },
  {
    kind: 'member',
    field: 'slowReadIndexesRate',
    title: 'slow read indexes rate',
    required: 'always',
    promql: rate('etcd_server_slow_read_indexes_total'),
  },
  {
    kind: 'member',
    field: 'grpcRequestRate',
    title: 'gRPC request rate',
    required: 'always',
    promql: rate('grpc_server_handled_total'),
  },
  {
    // A member with no failed-code series has failed nothing: `or 0 * total` says 0, not "no data".
    kind: 'member',
    field: 'grpcFailedRate',
    title: 'gRPC failed request rate',
    required: 'always',
    promql: (ctx) => {
      const failed = etcd(ctx, 'grpc_server_handled_total', [
        { name: 'grpc_code', op: '=~', value: FAILED_GRPC_CODES },
      ]);
      return `sum by (${by(ctx)}) (rate(${failed}[${window(ctx)}])) or (0 * ${rate('grpc_server_handled_total')(ctx)})`;
    },
  },
  {
    kind: 'member',
    field: 'dbSizeBytes',
    title: 'DB size',
    required: 'always',
    promql: lastValue('etcd_mvcc_db_total_size_in_bytes'),
  },
  {
    kind: 'member',
    field: 'dbSizeInUseBytes',
    title: 'DB size in use',
    required: 'always',
    promql: lastValue('etcd_mvcc_db_total_size_in_use_in_bytes'),
  },
  {
    kind: 'member',
    field: 'quotaBackendBytes',
    title: 'backend quota',
    required: 'always',
    promql: lastValue('etcd_server_quota_backend_bytes'),
  },
  {
    // mixin etcdExcessiveDatabaseGrowth: predict_linear over [horizon] by the horizon. A young
    // Prometheus has too few samples for it, hence not required.
    kind: 'member',
    field: 'dbSizePredicted',
    title: 'predicted DB size',
    required: 'never',
    promql: (ctx) =>
      `max by (${by(ctx)}) (predict_linear(${etcd(ctx, 'etcd_mvcc_db_total_size_in_bytes')}[${promDuration(ctx.growthHorizonMs)}], ${Math.round(ctx.growthHorizonMs / 1000)}))`,
  },
  {
    // The earliest DB size sample within the horizon (a subquery at 1m steps): predict_linear over
    // a minute of history extrapolates a burst, so the growth check needs to know the base.
    kind: 'member',
    field: 'dbSizeHistorySeconds',
    title: 'DB size history',
    required: 'never',
    promql: (ctx) =>
      `time() - min by (${by(ctx)}) (min_over_time(timestamp(${etcd(ctx, 'etcd_mvcc_db_total_size_in_bytes')})[${promDuration(ctx.growthHorizonMs)}:1m]))`,
  },
  {
    kind: 'member',
    field: 'hasLeader',
    title: 'has leader',
    required: 'always',
    promql: hasLeader,
  },
  {
    kind: 'member',
    field: 'up',
    title: 'scrape up',
    required: 'always',
    promql: (ctx) => `min by (${by(ctx)}) (${etcd(ctx, 'up')})`,
  },
  {
    kind: 'member',
    field: 'scrapeAgeSeconds',
    title: 'scrape age',
    required: 'always',
    promql: (ctx) => `time() - max by (${by(ctx)}) (timestamp(${etcd(ctx, 'up')}))`,
  },
  {
    kind: 'cluster',
    field: 'leaderChanges1h',
    title: 'leader changes in 1h',
    required: true,
    promql: leaderChanges(3_600_000),
  },
  {
    kind: 'cluster',
    field: 'leaderChanges15m',
    title: 'leader changes in 15m',
    required: true,
    promql: leaderChanges(900_000),
  },
  // API churn, field guide step 6. Absent when Prometheus does not scrape an API server.
  {
    kind: 'cluster',
    field: 'apiMutatingRequestsPerSecond',
    title: 'API mutating request rate',
    required: false,
    promql: (ctx) => `sum(${mutatingRequests(ctx)})`,
  },
  {
    kind: 'cluster',
    field: 'apiInflightRequests',
    title: 'API inflight requests',
    required: false,
    promql: () => 'sum(apiserver_current_inflight_requests)',
  },
  {
    kind: 'cluster',
    field: 'apiTopChurn',
    title: 'API churn by resource and verb',
    required: false,
    promql: (ctx) => `topk(${TOP_CHURN_ENTRIES}, sum by (resource, verb) (${mutatingRequests(ctx)}))`,
  },
  // API latency against etcd latency, field guide step 3: both from the kube-apiserver, whose
  // etcd_request_duration_seconds times its own writes to etcd (create, update, delete).
  {
    kind: 'cluster',
    field: 'apiMutatingP99Seconds',
    title: 'API mutating request p99',
    required: false,
    promql: (ctx) =>
      `histogram_quantile(0.99, sum by (le) (rate(${formatSelector('apiserver_request_duration_seconds_bucket', [{ name: 'verb', op: '=~', value: MUTATING_VERBS }])}[${window(ctx)}])))`,
  },
  {
    kind: 'cluster',
    field: 'apiEtcdRequestP99Seconds',
    title: 'API server etcd write p99',
    required: false,
    promql: (ctx) =>
      `histogram_quantile(0.99, sum by (le) (rate(${formatSelector('etcd_request_duration_seconds_bucket', [{ name: 'operation', op: '=~', value: 'create|update|delete' }])}[${window(ctx)}])))`,
  },
  // API storm attribution, field guide step 10: which API Priority and Fairness flow carries the
  // load, and which resources hold the most objects (instead of a key scan of etcd).
  {
    kind: 'cluster',
    field: 'apiTopFlows',
    title: 'API requests by flow schema',
    required: false,
    promql: (ctx) =>
      `topk(${TOP_CHURN_ENTRIES}, sum by (flow_schema, priority_level) (rate(apiserver_flowcontrol_dispatched_requests_total[${window(ctx)}])))`,
  },
  {
    kind: 'cluster',
    field: 'apiTopStoredObjects',
    title: 'stored objects by resource',
    required: false,
    // apiserver_storage_objects is deprecated since 1.34 for apiserver_resource_objects; older
    // API servers have only the former.
    promql: () =>
      `topk(${TOP_CHURN_ENTRIES}, max by (resource) (apiserver_resource_objects) or max by (resource) (apiserver_storage_objects))`,
  },
  // Nodes, field guide steps 6-8; only when node-exporter metrics exist. The check keeps the
  // members' nodes only: `instance` (and `node`, where a scrape config sets it) name the node.
  {
    kind: 'cluster',
    field: 'nodeCpuPercent',
    title: 'node CPU',
    required: false,
    // Busy is everything but idle, so iowait counts as busy, as top's and the mixin's CPU use do.
    promql: (ctx) => `100 * (1 - avg by (${NODE_LABELS}) (rate(${cpuMode('idle')}[${window(ctx)}])))`,
  },
  {
    kind: 'cluster',
    field: 'nodeCpuIowaitPercent',
    title: 'node CPU iowait',
    required: false,
    promql: (ctx) => `100 * avg by (${NODE_LABELS}) (rate(${cpuMode('iowait')}[${window(ctx)}]))`,
  },
  {
    kind: 'cluster',
    field: 'nodeSwapUsedBytes',
    title: 'node swap used',
    required: false,
    promql: () => `max by (${NODE_LABELS}) (node_memory_SwapTotal_bytes - node_memory_SwapFree_bytes)`,
  },
  {
    kind: 'cluster',
    field: 'nodeMemoryAvailablePercent',
    title: 'node memory available',
    required: false,
    promql: () =>
      `100 * max by (${NODE_LABELS}) (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)`,
  },
  {
    kind: 'cluster',
    field: 'nodeFilesystemAvailablePercent',
    title: 'node data dir filesystem available',
    required: false,
    promql: (ctx) =>
      `100 * min by (${NODE_LABELS}, mountpoint) (${dataDirFilesystem(ctx, 'node_filesystem_avail_bytes')} / ${dataDirFilesystem(ctx, 'node_filesystem_size_bytes')})`,
  },
  {
    kind: 'cluster',
    field: 'nodeDiskWriteAwaitSeconds',
    title: 'node data dir disk write await',
    required: false,
    // iostat's w_await: time spent writing / writes completed. A device without writes in the
    // window has no await (0/0); iostat shows 0 then, and so does this.
    promql: (ctx) => {
      const time = `rate(node_disk_write_time_seconds_total[${window(ctx)}])`;
      const writes = `rate(node_disk_writes_completed_total[${window(ctx)}])`;
      return `max by (${NODE_LABELS}, mountpoint, device) (((${time} / (${writes} > 0)) or (0 * ${time})) ${onDataDirDevice(ctx)})`;
    },
  },
  {
    kind: 'cluster',
    field: 'nodeDiskUtilisationPercent',
    title: 'node data dir disk utilisation',
    required: false,
    // iostat's %util: the share of time the device had I/O in flight.
    promql: (ctx) =>
      `100 * max by (${NODE_LABELS}, mountpoint, device) (rate(node_disk_io_time_seconds_total[${window(ctx)}]) ${onDataDirDevice(ctx)})`,
  },
];
