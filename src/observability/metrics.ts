// The operator's own metrics. Live values are always here (the status is only written when it
// changed meaningfully), and the per-CR gauges are what alerting rules use. Names follow the
// Prometheus conventions: base units, `_total` for counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import { ThresholdsSchema } from '../api/v1alpha1/spec.js';
import type { EtcdHealthCheckStatus, Severity } from '../api/v1alpha1/status.js';
import { limitsFrom } from '../health/limits.js';
import type { Observation } from '../health/observation.js';
import type { RemediationMetrics } from '../remediation/remediator.js';

const SEVERITIES: Severity[] = ['Critical', 'Warning', 'Info'];

export class OperatorMetrics {
  readonly registry = new Registry();

  readonly reconciles = new Counter({
    name: 'etcd_health_operator_reconcile_total',
    help: 'Reconciles by result (success, error).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'etcd_health_operator_reconcile_duration_seconds',
    help: 'Duration of one reconcile, observing included.',
    labelNames: ['result'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'etcd_health_operator_status_writes_total',
    help: 'Status subresource writes, by why they were made (first, change, heartbeat, ...).',
    labelNames: ['why'],
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'etcd_health_operator_events_total',
    help: 'Kubernetes Events recorded, by type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'etcd_health_operator_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'etcd_health_operator_workqueue_adds_total',
    help: 'Keys added to the work queue.',
    registers: [this.registry],
  });
  readonly queueLatency = new Histogram({
    name: 'etcd_health_operator_workqueue_queue_duration_seconds',
    help: 'Time a key waited in the queue before a worker took it.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'etcd_health_operator_workqueue_retries_total',
    help: 'Keys re-queued with backoff after an error.',
    registers: [this.registry],
  });
  readonly sourceLookups = new Counter({
    name: 'etcd_health_operator_source_lookups_total',
    help: 'etcd observations and Prometheus queries a check needed, by source and whether another check\'s recent answer served it (shared="true") or a request was sent (shared="false").',
    labelNames: ['source', 'shared'],
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'etcd_health_operator_watch_restarts_total',
    help: 'Watch restarts by resource and cause.',
    labelNames: ['resource', 'cause'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'etcd_health_operator_leader',
    help: '1 while this replica holds the leader Lease.',
    registers: [this.registry],
  });
  readonly sourceDuration = new Histogram({
    name: 'etcd_health_operator_source_request_duration_seconds',
    help: 'Time to query one source for one check.',
    labelNames: ['source'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly sourceErrors = new Counter({
    name: 'etcd_health_operator_source_errors_total',
    help: 'Checks in which a source failed or answered only in part.',
    labelNames: ['source', 'state'],
    registers: [this.registry],
  });

  readonly condition = new Gauge({
    name: 'etcd_health_check_condition',
    help: 'One series per condition of an EtcdHealthCheck, labelled with its current status, value 1 (alert on `{type="Degraded",status="True"} == 1`).',
    labelNames: ['namespace', 'name', 'type', 'status'],
    registers: [this.registry],
  });
  readonly walFsyncP99 = new Gauge({
    name: 'etcd_health_check_member_wal_fsync_p99_seconds',
    help: 'WAL fsync p99 of a member, as last observed.',
    labelNames: ['namespace', 'name', 'member'],
    registers: [this.registry],
  });
  readonly backendCommitP99 = new Gauge({
    name: 'etcd_health_check_member_backend_commit_p99_seconds',
    help: 'Backend commit p99 of a member, as last observed.',
    labelNames: ['namespace', 'name', 'member'],
    registers: [this.registry],
  });
  readonly dbSize = new Gauge({
    name: 'etcd_health_check_member_db_size_bytes',
    help: 'Physical DB size of a member.',
    labelNames: ['namespace', 'name', 'member'],
    registers: [this.registry],
  });
  readonly quotaUsage = new Gauge({
    name: 'etcd_health_check_quota_usage_ratio',
    help: 'Largest DB size / quota among members (0-1).',
    labelNames: ['namespace', 'name'],
    registers: [this.registry],
  });
  readonly recommendations = new Gauge({
    name: 'etcd_health_check_recommendations',
    help: 'Recommendations in the status, by severity.',
    labelNames: ['namespace', 'name', 'severity'],
    registers: [this.registry],
  });
  readonly recommendation = new Gauge({
    name: 'etcd_health_check_recommendation_info',
    help: 'One series per recommendation in the status, value 1: what to do (type), how urgent (severity), on which member or "cluster" (target), and why (reason).',
    labelNames: ['namespace', 'name', 'type', 'severity', 'target', 'reason'],
    registers: [this.registry],
  });
  readonly quotaBackend = new Gauge({
    name: 'etcd_health_check_member_quota_backend_bytes',
    help: 'Backend quota of a member (etcd --quota-backend-bytes), as last observed.',
    labelNames: ['namespace', 'name', 'member'],
    registers: [this.registry],
  });
  // The thresholds a check judges by (its spec.thresholds with the defaults filled in), so that
  // dashboards draw each value against the bounds this check uses, not against guessed constants.
  readonly latencyThreshold = new Gauge({
    name: 'etcd_health_check_latency_threshold_seconds',
    help: 'Latency thresholds of an EtcdHealthCheck by latency (wal_fsync_p99, backend_commit_p99, peer_round_trip_p99) and severity (warning, critical).',
    labelNames: ['namespace', 'name', 'latency', 'severity'],
    registers: [this.registry],
  });
  readonly dbSizeThreshold = new Gauge({
    name: 'etcd_health_check_db_size_threshold_bytes',
    help: 'Physical DB size thresholds of an EtcdHealthCheck by severity (warning, critical).',
    labelNames: ['namespace', 'name', 'severity'],
    registers: [this.registry],
  });
  readonly quotaUsageThreshold = new Gauge({
    name: 'etcd_health_check_quota_usage_threshold_ratio',
    help: 'DB size / quota thresholds of an EtcdHealthCheck by severity (info, warning, critical), 0-1 as etcd_health_check_quota_usage_ratio.',
    labelNames: ['namespace', 'name', 'severity'],
    registers: [this.registry],
  });
  readonly interval = new Gauge({
    name: 'etcd_health_check_interval_seconds',
    help: 'The check interval an EtcdHealthCheck asks for; alerts use it to tell a stale check.',
    labelNames: ['namespace', 'name'],
    registers: [this.registry],
  });
  readonly suspended = new Gauge({
    name: 'etcd_health_check_suspended',
    help: '1 while an EtcdHealthCheck is suspended (its other series are dropped meanwhile).',
    labelNames: ['namespace', 'name'],
    registers: [this.registry],
  });
  readonly lastCheck = new Gauge({
    name: 'etcd_health_check_last_check_timestamp_seconds',
    help: 'When the last check of an EtcdHealthCheck completed (Unix time); alert when it goes stale.',
    labelNames: ['namespace', 'name'],
    registers: [this.registry],
  });

  // Automated remediation (src/remediation).
  readonly remediationSteps = new Counter({
    name: 'etcd_health_operator_remediation_total',
    help: 'Automated remediation steps by action (Defragment, MoveLeader, Compact, DisarmNoSpace, VerifyWrite) and result (success, failure, dry_run).',
    labelNames: ['action', 'result'],
    registers: [this.registry],
  });
  readonly remediationDeferrals = new Counter({
    name: 'etcd_health_operator_remediation_deferrals_total',
    help: 'Automated remediations deferred by a safety rule, by reason (ClusterUnhealthy, CorruptAlarm, OutsideWindow, ...), counted when the reason changes.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly remediationInProgress = new Gauge({
    name: 'etcd_health_check_remediation_in_progress',
    help: '1 while an automated remediation runs for an EtcdHealthCheck (its RemediationProgressing condition), else 0.',
    labelNames: ['namespace', 'name'],
    registers: [this.registry],
  });
  /** What the remediator reports. */
  readonly remediation: RemediationMetrics = {
    step: (action, result) => this.remediationSteps.inc({ action, result }),
    deferred: (reason) => this.remediationDeferrals.inc({ reason }),
    inProgress: (namespace, name, running) =>
      this.set(this.remediationInProgress, { namespace, name }, running ? 1 : 0),
  };

  /** Label sets written per CR, because prom-client removes series only by their exact labels. */
  private readonly seriesByCr = new Map<string, Map<Gauge, Map<string, Labels>>>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The condition gauges alone, e.g. for an invalid spec, where nothing else was checked. One series
   * per condition (its current status), not one per possible status: a third of the series, and
   * `== 1` alerts read the same.
   */
  recordConditions(object: EtcdHealthCheck, status: EtcdHealthCheckStatus): void {
    const { namespace, name } = object.metadata;
    this.set(this.suspended, { namespace, name }, 0);
    this.replaceSeries(
      this.condition,
      namespace,
      name,
      (status.conditions ?? []).map((c) => [{ namespace, name, type: c.type, status: c.status }, 1]),
    );
  }

  /** A suspended check pages nobody: its series go, and the suspension itself is visible. */
  recordSuspended(object: EtcdHealthCheck): void {
    const { namespace, name } = object.metadata;
    this.forget(namespace, name);
    this.set(this.suspended, { namespace, name }, 1);
  }

  /** Sets every per-CR gauge from one analysed check. */
  recordCheck(
    object: EtcdHealthCheck,
    status: EtcdHealthCheckStatus,
    observation: Observation,
    intervalMs: number,
  ): void {
    const { namespace, name } = object.metadata;
    this.recordConditions(object, status);
    this.set(this.interval, { namespace, name }, intervalMs / 1000);
    const nameById = new Map((status.members ?? []).map((m) => [m.id, m.name]));
    let quota = NaN;
    const walFsync: SeriesValue[] = [];
    const backendCommit: SeriesValue[] = [];
    const quotaBackend: SeriesValue[] = [];
    for (const [id, metrics] of Object.entries(observation.metrics.members)) {
      const labels = { namespace, name, member: nameById.get(id) ?? id };
      walFsync.push([labels, metrics.walFsyncP99]);
      backendCommit.push([labels, metrics.backendCommitP99]);
      quotaBackend.push([labels, metrics.quotaBackendBytes]);
      if (metrics.dbSizeBytes !== undefined && metrics.quotaBackendBytes) {
        const usage = metrics.dbSizeBytes / metrics.quotaBackendBytes;
        quota = Number.isFinite(quota) ? Math.max(quota, usage) : usage;
      }
    }
    this.replaceSeries(this.walFsyncP99, namespace, name, walFsync);
    this.replaceSeries(this.backendCommitP99, namespace, name, backendCommit);
    this.replaceSeries(this.quotaBackend, namespace, name, quotaBackend);
    this.replaceSeries(
      this.dbSize,
      namespace,
      name,
      observation.etcd.members.map((m) => [
        { namespace, name, member: m.name || m.endpoint },
        m.status?.dbSize,
      ]),
    );
    // Replaced, not set: a quota no member reports any more must not keep its last value.
    this.replaceSeries(this.quotaUsage, namespace, name, [[{ namespace, name }, quota]]);
    for (const severity of SEVERITIES) {
      const count = (status.recommendations ?? []).filter((r) => r.severity === severity).length;
      this.set(this.recommendations, { namespace, name, severity }, count);
    }
    this.replaceSeries(
      this.recommendation,
      namespace,
      name,
      (status.recommendations ?? []).map((r) => [
        { namespace, name, type: r.type, severity: r.severity, target: r.target, reason: r.reason },
        1,
      ]),
    );
    this.recordThresholds(object);
    this.set(this.lastCheck, { namespace, name }, observation.time.getTime() / 1000);
    this.sourceDuration.observe(
      { source: 'etcd' },
      (observation.etcd.source.durationMilliseconds ?? 0) / 1000,
    );
    if (observation.metrics.source.state !== 'NotConfigured') {
      this.sourceDuration.observe(
        { source: 'prometheus' },
        (observation.metrics.source.durationMilliseconds ?? 0) / 1000,
      );
    }
    for (const [source, state] of [
      ['etcd', observation.etcd.source.state],
      ['prometheus', observation.metrics.source.state],
    ] as const) {
      if (state === 'Error' || state === 'Partial') this.sourceErrors.inc({ source, state });
    }
  }

  /** The thresholds the check judged by: its spec's, with the defaults for what it leaves out. */
  private recordThresholds(object: EtcdHealthCheck): void {
    const { namespace, name } = object.metadata;
    // The reconciler validated this spec before the check; a spec that fails here exports none.
    const thresholds = ThresholdsSchema.safeParse(object.spec?.thresholds ?? {});
    if (!thresholds.success) return;
    const limits = limitsFrom(thresholds.data);
    const latencies = [
      ['wal_fsync_p99', limits.walFsyncSeconds],
      ['backend_commit_p99', limits.backendCommitSeconds],
      ['peer_round_trip_p99', limits.peerRoundTripSeconds],
    ] as const;
    this.replaceSeries(
      this.latencyThreshold,
      namespace,
      name,
      latencies.flatMap(([latency, band]) => [
        [{ namespace, name, latency, severity: 'warning' }, band.warning],
        [{ namespace, name, latency, severity: 'critical' }, band.critical],
      ]),
    );
    const { databaseSizeBytes: size, quotaPercent: quota } = limits;
    this.replaceSeries(this.dbSizeThreshold, namespace, name, [
      [{ namespace, name, severity: 'warning' }, size.warning],
      [{ namespace, name, severity: 'critical' }, size.critical],
    ]);
    this.replaceSeries(this.quotaUsageThreshold, namespace, name, [
      [{ namespace, name, severity: 'info' }, quota.info / 100],
      [{ namespace, name, severity: 'warning' }, quota.warning / 100],
      [{ namespace, name, severity: 'critical' }, quota.critical / 100],
    ]);
  }

  /** Drops every per-CR series of a deleted EtcdHealthCheck. */
  forget(namespace: string, name: string): void {
    for (const gauge of this.seriesByCr.get(`${namespace}/${name}`)?.keys() ?? []) {
      this.removeSeries(gauge, namespace, name);
    }
    this.seriesByCr.delete(`${namespace}/${name}`);
  }

  private set(
    gauge: Gauge,
    labels: Labels & { namespace: string; name: string },
    value: number | undefined,
  ): string | undefined {
    if (value === undefined || !Number.isFinite(value)) return undefined;
    gauge.set(labels, value);
    const key = `${labels.namespace}/${labels.name}`;
    let byGauge = this.seriesByCr.get(key);
    if (!byGauge) this.seriesByCr.set(key, (byGauge = new Map<Gauge, Map<string, Labels>>()));
    let series = byGauge.get(gauge);
    if (!series) byGauge.set(gauge, (series = new Map<string, Labels>()));
    const seriesKey = JSON.stringify(labels);
    series.set(seriesKey, labels);
    return seriesKey;
  }

  /**
   * Makes `entries` the CR's series of `gauge`: sets them, and removes only the label sets that are
   * gone (removing and re-adding every series on each check is what made /metrics churn).
   */
  private replaceSeries(gauge: Gauge, namespace: string, name: string, entries: SeriesValue[]): void {
    const kept = new Set<string>();
    for (const [labels, value] of entries) {
      const key = this.set(gauge, labels, value);
      if (key) kept.add(key);
    }
    const series = this.seriesByCr.get(`${namespace}/${name}`)?.get(gauge);
    for (const [key, labels] of series ?? []) {
      if (kept.has(key)) continue;
      gauge.remove(labels);
      series!.delete(key);
    }
  }

  private removeSeries(gauge: Gauge, namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const series = this.seriesByCr.get(key)?.get(gauge);
    if (!series) return;
    for (const labels of series.values()) gauge.remove(labels);
    series.clear();
  }
}

type Labels = Record<string, string>;
type SeriesValue = [Labels & { namespace: string; name: string }, number | undefined];
