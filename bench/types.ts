// The shape of a benchmark run's results (bench/results/*.json).
import type { OperatorKind } from './processes.js';

/** What `nproc`, `free -g`, /proc/cpuinfo, `uname -r`, `date -u` and `uptime` said. */
export interface Machine {
  nproc: string;
  free: string;
  node: string;
  cpu: string;
  kernel: string;
  date: string;
  uptime: string;
}

export interface Config {
  scales: number[];
  operators: OperatorKind[];
  interval: string;
  intervalS: number;
  windows: number[];
  naiveWindows: number[];
  settleS: number;
  probes: number;
  restart: boolean;
  pollS: number;
  realArgs: string[];
  writeLoad: number;
  scrapeIntervalS: number;
  mode: 'build' | 'bundle' | 'tsx';
  cpuProfileDir?: string;
  nodeArgs: string[];
}

export interface Distribution {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface WindowResult {
  seconds: number;
  crs: number;
  reconciles: number;
  reconcileErrors: number;
  reconcilesPerSecond: number;
  requestedPerSecond: number;
  /** Actual time between two checks of a CR minus its interval, seconds. */
  intervalError: Distribution;
  /** Seconds a check came after interval * 1.1 (the latest the jitter can ask for), 0 if not. */
  lateBeyondJitter: Distribution & { over1s: number };
  queueWaitP50: number;
  queueWaitP99: number;
  /** Share of queue waits above the histogram's top bucket (10 s): then p99 only says ">= 10 s". */
  queueWaitOverTopBucket: number;
  reconcileDurationP50: number;
  reconcileDurationP99: number;
  cores: {
    operator: number;
    prometheus: number;
    etcd: number;
    apiServer: number;
    bench: number;
    /** The whole machine (everything, including other users' processes); absent in older results. */
    machine?: number;
    /** CPU time the hypervisor gave to other VMs (steal); absent in older results. */
    steal?: number;
  };
  operatorCpuSeconds: number;
  cpuMsPerReconcile: number;
  peakRssBytes: number;
  rssEndBytes: number;
  loopLagP99Max: number;
  loopLagP99Median: number;
  loopLagMax: number;
  /** prom-client's nodejs_heap_size_*_bytes and nodejs_external_memory_bytes, max over the polls. */
  heap: { usedMaxBytes: number; usedMinBytes: number; totalMaxBytes: number; externalMaxBytes: number };
  statusWrites: {
    operatorByWhy: Record<string, number>;
    apiserverPatches: number;
    watched: number;
    /** The most frequent reasons from the operator's "status written" log lines. */
    reasons?: Record<string, number>;
  };
  statusWritesPerCrPerHour: number;
  events: { operator: number; stored: number; apiserverPosts: number; reasons: Record<string, number> };
  eventsPerCrPerHour: number;
  prometheus: {
    queries: number;
    perReconcile: number;
    perSecond: number;
    queryP50: number;
    queryP99: number;
  };
  etcd: { calls: number; perReconcile: number; byMethod: Record<string, number> };
  scrape: { msP50: number; msMax: number; bytes: number };
  /** What changed in the status (outside lastCheck) in the first 60 writes of the window (bench watch). */
  changeSamples?: Array<{ key: string; changes: string[] }>;
  loadavg1: number[];
}

export interface PhaseResult {
  scale: number;
  newCrs: number;
  createSeconds: number;
  /** Creation (create call returned) to the first full status seen by the watch, ms. */
  firstStatus: Distribution & { missing: number };
  creation: {
    eventsStored: number;
    eventReasons: Record<string, number>;
    statusWritesByWhy: Record<string, number>;
    writeReasons: Record<string, number>;
  };
  window: WindowResult;
}

export interface ProbeResult {
  present: number;
  created: number;
  firstStatus: Distribution & { missing: number };
}

export interface RestartResult {
  crs: number;
  downSeconds: number;
  /** apiserver ready -> a CR created then has a full status, seconds. */
  newCrStatusSeconds: number;
  /** apiserver ready -> every CR has completed a check after it, seconds. */
  allCheckedAgainSeconds: number;
  notCheckedAgain: number;
  reconcileErrors: number;
  /** The operator process was gone after the restart. */
  operatorExited?: boolean;
  /**
   * The longest time between two checks of one CR among the checks completed from the stop until
   * the end of the wait (a check the restart delayed shows here; the jitter alone gives 1.1 intervals).
   */
  longestGapSeconds?: number;
  /** The operator's own requests to the kube-apiserver (its audit log), around the restart. */
  requests?: RestartRequests;
}

export interface RestartRequests {
  /** Requests that reached the kube-apiserver between its stop and /readyz. */
  beforeReady: number;
  /** Requests in each second of the first minute after /readyz (index = second). */
  perSecond: number[];
  firstMinute: number;
  peakPerSecond: number;
  /** `verb resource[/subresource]` -> count, first minute. */
  byVerb: Record<string, number>;
  /** HTTP status code -> count, first minute. */
  byCode: Record<string, number>;
}

export interface OperatorResult {
  kind: OperatorKind;
  args: string[];
  phases: PhaseResult[];
  probes?: ProbeResult;
  restart?: RestartResult;
  peakRssLifetimeBytes: number;
  /** 5 s after start, caches synced, no CR. */
  idleRssBytes: number;
  idleHeapUsedBytes: number;
  rssResetWorked: boolean;
  exitedEarly: boolean;
}

export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  uptimeAfter: string;
  config: Config;
  etcdVersion: string;
  prometheusVersion: string | undefined;
  results: OperatorResult[];
}
