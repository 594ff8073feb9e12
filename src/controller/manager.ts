// Wires the operator together: watch caches for EtcdHealthChecks, Secrets and ConfigMaps, a keyed
// work queue with bounded workers running the reconciler, leader election, Events, metrics and the
// health endpoints, and a graceful shutdown. Everything here is plumbing; the decisions live in
// the reconciler and the analysis.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CoordinationV1Api,
  EventsV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { OperatorOptions } from './options.js';
import { OperatorMetrics } from '../observability/metrics.js';
import { serve, type HealthState, type ServedEndpoints } from '../observability/http-server.js';
import { metricsProtection } from '../observability/metrics-protection.js';
import {
  EventRecorder,
  Informer,
  LeaderElector,
  WorkQueue,
  customResourceSource,
  defaultControllerRateLimiter,
  describeError,
  keyOf,
  leaseClient,
  runWorkers,
  shutDownGracefully,
  withPooledConnections,
  withSignal,
  type ReflectorListener,
  type WorkerPool,
} from '../runtime/index.js';
import { checksReferring, referencesOf } from './references.js';
import { ReferencedConfigInformers, type ConfigKind } from '../kube/config-informers.js';
import { operatorTokenTrust, type OperatorToken } from '../sources/credentials.js';
import { clusterEtcdOperatorReader } from '../kube/cluster-etcd-operator.js';
import { KubeBackupReader } from '../kube/backups.js';
import { KubePodLister } from '../kube/pods.js';
import { KubeStatusWriter } from '../kube/status-writer.js';
import { ReachPolicy } from './reach.js';
import { EndpointPolicy } from '../sources/etcd/endpoint-policy.js';
import { sourceObserver } from './observe.js';
import { SharedSources } from '../sources/shared.js';
import { EtcdHealthCheckReconciler } from './reconciler.js';
import type { EventSink } from '../runtime/events.js';
import { EtcdMaintenance } from '../remediation/etcd-maintenance.js';
import { Remediator } from '../remediation/remediator.js';
import { fenced } from '../remediation/status-store.js';

export type ExitReason = 'shutdown' | 'lost-leadership';

/** How long the event loop may go without a tick before /healthz fails. */
const LIVENESS_BUDGET_MS = 30_000;

export class OperatorManager {
  readonly metrics = new OperatorMetrics();
  /** Resolves when the operator should exit, and why. */
  readonly done: Promise<ExitReason>;

  private readonly checks: Map<string, Informer<EtcdHealthCheck>>;
  private readonly configs: ReferencedConfigInformers;
  private readonly queue: WorkQueue;
  private readonly elector?: LeaderElector;
  private readonly reconciler: EtcdHealthCheckReconciler;
  private readonly servers: ServedEndpoints[] = [];
  private readonly shared: SharedSources;
  private readonly kubeConfig: KubeConfig;
  private pool?: WorkerPool;
  private resolveDone!: (reason: ExitReason) => void;
  private lastTick = Date.now();
  private ticker?: NodeJS.Timeout;
  private retainPending?: NodeJS.Immediate;
  private stopping = false;

  constructor(
    givenKubeConfig: KubeConfig,
    private readonly options: OperatorOptions,
    private readonly log: Logger,
  ) {
    // One keep-alive connection per API server for every call, not a TLS handshake per call.
    const kubeConfig = withPooledConnections(givenKubeConfig);
    this.kubeConfig = kubeConfig;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const scopes = options.namespaces.length > 0 ? options.namespaces : [''];
    this.checks = new Map(scopes.map((ns) => [ns, this.checkInformer(ns)]));
    this.configs = new ReferencedConfigInformers(
      kubeConfig,
      log,
      (kind, object) => this.onConfigChange(kind, object),
      (resource) => this.watchListener(resource),
    );

    const metrics = this.metrics;
    this.queue = new WorkQueue({
      rateLimiter: defaultControllerRateLimiter(),
      listener: {
        added: () => metrics.queueAdds.inc(),
        depthChanged: (depth) => metrics.queueDepth.set(depth),
        queueLatency: (seconds) => metrics.queueLatency.observe(seconds),
        retried: () => metrics.queueRetries.inc(),
      },
    });
    this.wireHandlers();

    const recorder = new EventRecorder({
      events: kubeConfig.makeApiClient(EventsV1Api),
      reportingInstance: options.identity,
      log,
    });
    const events: EventSink<EtcdHealthCheck> = {
      record: (object, type, reason, note, action = 'Check') => {
        const { name, namespace, uid, resourceVersion } = object.metadata;
        void recorder
          .record({
            regarding: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
            type,
            reason,
            action,
            note,
          })
          .then((outcome) => {
            if (outcome === 'sent') metrics.events.inc({ type });
          });
      },
    };
    for (const url of options.prometheusTokenUrls.filter((u) => u.startsWith('http:')))
      log.warn(
        { url },
        'the operator token is allowlisted for a plain http URL: anyone on the path can read it',
      );
    this.shared = new SharedSources({
      ttlMs: options.sourceCacheTtlMs,
      onLookup: (source, shared) => metrics.sourceLookups.inc({ source, shared: String(shared) }),
    });
    const reach = new ReachPolicy(options.discoveryNamespaces, new EndpointPolicy(options.etcdEndpointCidrs));
    // Only a replica that still holds the Lease writes status (a leader frozen past its Lease
    // wakes up with reconciles in flight); the elector is created below.
    const statusWriter = fenced(new KubeStatusWriter(kubeConfig), () => this.elector?.isLeader() ?? true);
    this.reconciler = new EtcdHealthCheckReconciler({
      get: (key) => this.scopeOf(this.checks, key)?.get(key),
      configReader: this.configs,
      operatorToken: operatorToken(kubeConfig, options.prometheusTokenUrls, options.prometheusTokenCaFiles),
      prometheusUrlPolicy: { allowedUrlPrefixes: options.prometheusUrlAllow },
      observe: sourceObserver(new KubePodLister(kubeConfig), {
        shared: this.shared,
        endpointPolicy: reach.endpoints,
        clusterEtcdOperator: clusterEtcdOperatorReader(kubeConfig),
        backups: new KubeBackupReader(kubeConfig),
      }),
      reach,
      status: statusWriter,
      events,
      observer: {
        analysed: (object, status, observation, intervalMs) =>
          metrics.recordCheck(object, status, observation, intervalMs),
        invalid: (object, status) => metrics.recordConditions(object, status),
        suspended: (object) => metrics.recordSuspended(object),
        statusWritten: (_object, why) => metrics.statusWrites.inc({ why: writeReason(why) }),
        forgotten: (namespace, name) => metrics.forget(namespace, name),
      },
      policy: { relativeTolerance: options.statusTolerance, heartbeatMs: options.statusHeartbeatMs },
      // Automated remediation (src/remediation): acts only for checks in mode Automatic.
      remediator: new Remediator({
        executorFor: (etcdOptions) => new EtcdMaintenance(etcdOptions),
        store: statusWriter,
        events,
        metrics: metrics.remediation,
      }),
    });

    if (options.leaderElect) {
      this.elector = new LeaderElector({
        lease: leaseClient(
          kubeConfig.makeApiClient(CoordinationV1Api),
          options.leaderElectionNamespace!,
          options.leaderElectionId,
        ),
        identity: options.identity,
        leaseDurationMs: options.leaseDurationMs,
        renewDeadlineMs: options.renewDeadlineMs,
        retryPeriodMs: options.retryPeriodMs,
        log,
        callbacks: {
          onStartedLeading: () => {
            log.info('became leader');
            metrics.leader.set(1);
            this.startWorkers();
          },
          onStoppedLeading: () => {
            log.error('lost leadership; exiting so that a fresh process can compete again');
            metrics.leader.set(0);
            this.resolveDone('lost-leadership');
          },
          onNewLeader: (identity) => log.info({ leader: identity }, 'leader observed'),
        },
      });
    }
  }

  /** Starts the endpoints and caches; workers start once this replica leads (or at once). */
  async start(): Promise<void> {
    this.ticker = setInterval(() => (this.lastTick = Date.now()), 5_000);
    this.ticker.unref();
    const protection =
      this.options.metricsSecure && this.options.metricsBindAddress !== '0'
        ? await metricsProtection(
            this.kubeConfig,
            this.options.metricsCertDir,
            { withSignal, describeError },
            this.log.child({ component: 'metrics' }),
          )
        : undefined;
    for (const [address, routes] of [
      [this.options.metricsBindAddress, { registry: this.metrics.registry, protection }],
      [this.options.healthBindAddress, { health: this.healthState() }],
    ] as const) {
      if (address === '0') continue;
      const endpoints = await serve(address, routes);
      this.servers.push(endpoints);
      this.log.info({ url: endpoints.url }, 'serving');
    }
    for (const informer of this.allInformers()) informer.start();
    const synced = await Promise.all(this.allInformers().map((i) => i.waitForSync(120_000)));
    if (synced.includes(false)) this.log.warn('caches not synced after 120s; continuing, they keep retrying');
    this.log.info('caches synced');
    if (this.elector) void this.elector.run();
    else this.startWorkers();
  }

  /** Graceful stop: no new work, in-flight reconciles finish, the Lease is released. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.ticker);
    clearImmediate(this.retainPending);
    const report = await shutDownGracefully({
      workers: this.pool ? [this.pool] : [],
      queues: [this.queue],
      informers: [...this.checks.values(), this.configs],
      elector: this.elector,
      drainTimeoutMs: 15_000,
      log: this.log,
    });
    this.metrics.leader.set(0);
    this.shared.close();
    await Promise.all(this.servers.map((s) => s.close()));
    this.log.info(report, 'stopped');
    this.resolveDone('shutdown');
  }

  /** URLs of the metrics and health endpoints, in start order (for tests and logs). */
  endpoints(): string[] {
    return this.servers.map((s) => s.url);
  }

  private startWorkers(): void {
    if (this.pool || this.stopping) return;
    const metrics = this.metrics;
    this.pool = runWorkers(
      this.queue,
      this.options.concurrency,
      async (key, signal) => {
        const log = this.log.child({ key, reconcileId: randomUUID().slice(0, 8) });
        const started = performance.now();
        let result: 'success' | 'error' = 'success';
        try {
          await this.credentialsReady(key);
          const outcome = await this.reconciler.reconcile(key, log, signal);
          // At debug, every check leaves a line, also the many whose status was not worth a write.
          log.debug(
            {
              durationMs: Math.round(performance.now() - started),
              statusWritten: outcome.statusWritten,
              requeueAfterMs: outcome.requeueAfterMs,
            },
            'reconciled',
          );
          return { requeueAfterMs: outcome.requeueAfterMs };
        } catch (error) {
          // Logged once, by the workers, with the retry count.
          result = 'error';
          return { error };
        } finally {
          metrics.reconciles.inc({ result });
          metrics.reconcileDuration.observe({ result }, (performance.now() - started) / 1000);
        }
      },
      this.log,
    );
    for (const check of this.allChecks()) this.queue.add(keyOf(check));
  }

  private wireHandlers(): void {
    for (const informer of this.checks.values()) {
      informer.addHandlers({
        add: (object) => {
          this.queue.add(keyOf(object));
          this.retainConfigReferences();
        },
        // Our own status writes change only the status: they must not trigger a reconcile.
        update: (old, object) => {
          if (old.metadata.generation === object.metadata.generation) return;
          this.queue.add(keyOf(object));
          // A new spec may name other Secrets or ConfigMaps.
          this.retainConfigReferences();
        },
        delete: (object) => {
          this.queue.add(keyOf(object));
          this.retainConfigReferences();
        },
      });
    }
  }

  /** A Secret or ConfigMap changed (e.g. a rotated certificate): re-check the CRs using it. */
  private onConfigChange(kind: ConfigKind, object: V1Secret | V1ConfigMap): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    for (const key of checksReferring(this.allChecks(), kind, namespace, name)) this.queue.add(key);
  }

  /**
   * Watch exactly the Secrets and ConfigMaps that checks refer to, each by name. Computed once per
   * turn of the event loop: a LIST or a burst of creates adds hundreds of checks, and a pass over
   * all checks per added check is quadratic.
   */
  private retainConfigReferences(): void {
    if (this.retainPending) return;
    this.retainPending = setImmediate(() => this.retainConfigReferencesNow());
  }

  private retainConfigReferencesNow(): void {
    clearImmediate(this.retainPending);
    this.retainPending = undefined;
    const refs = this.allChecks().flatMap(referencesOf);
    this.configs.retain(refs).catch((error: unknown) => this.log.warn({ err: error }, 'config caches'));
  }

  /** Before a check's first reconcile, give the watches of what it refers to a moment to fill. */
  private async credentialsReady(key: string): Promise<void> {
    // The watches of a check added in this turn of the event loop are not started yet.
    if (this.retainPending) this.retainConfigReferencesNow();
    const check = this.scopeOf(this.checks, key)?.get(key);
    const refs = check ? referencesOf(check) : [];
    if (refs.length > 0) await this.configs.waitFor(refs, 10_000);
  }

  private allChecks(): EtcdHealthCheck[] {
    return [...this.checks.values()].flatMap((informer) => informer.list());
  }

  private checkInformer(namespace: string): Informer<EtcdHealthCheck> {
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, ...(namespace ? { namespace } : {}) };
    return new Informer<EtcdHealthCheck>({
      kubeConfig: this.kubeConfig,
      ...customResourceSource<EtcdHealthCheck>(this.kubeConfig, ref),
      log: this.log.child({ informer: PLURAL }),
      listener: this.watchListener(PLURAL),
    });
  }

  private watchListener(resource: string): ReflectorListener {
    return {
      watchEnded: (cause) => this.metrics.watchRestarts.inc({ resource, cause }),
      listed: (outcome) => {
        if (outcome === 'error') this.metrics.watchRestarts.inc({ resource, cause: 'list-error' });
        // The API server answers again: the reconciles that could not reach it go now.
        else this.queue.retryParked();
      },
    };
  }

  private allInformers(): Informer<EtcdHealthCheck>[] {
    return [...this.checks.values()];
  }

  /** The informer of the key's namespace, or the cluster-wide one. */
  private scopeOf<T>(informers: Map<string, T>, key: string): T | undefined {
    return informers.get(key.split('/')[0] ?? '') ?? informers.get('');
  }

  private healthState(): HealthState {
    return {
      liveness: () =>
        Date.now() - this.lastTick > LIVENESS_BUDGET_MS ? 'the event loop has not ticked for 30s' : undefined,
      readiness: () => {
        if (this.stopping) return 'shutting down';
        const unsynced = this.allInformers().filter((i) => !i.hasSynced()).length;
        if (unsynced > 0) return `${unsynced} caches not synced`;
        return undefined;
      },
    };
  }
}

/** Why a status was written, reduced to a small set of metric label values. */
function writeReason(why: string): string {
  if (why === 'first status' || why === 'heartbeat' || why === 'new generation') return why.replace(' ', '_');
  return 'change';
}

/**
 * The operator's own bearer token: a kubeconfig token, or the projected ServiceAccount token file
 * in a pod (re-read on every use: it rotates). Undefined when the operator authenticates otherwise.
 */
function operatorToken(
  kubeConfig: KubeConfig,
  allowedUrlPrefixes: string[],
  caFiles: string[],
): OperatorToken | undefined {
  const caPem = operatorTokenTrust(caFiles);
  const user = kubeConfig.getCurrentUser();
  // client-node types authProvider as any; in-cluster it is { name: 'tokenFile', config: { tokenFile } }.
  const provider = user?.authProvider as { config?: Record<string, unknown> } | undefined;
  const providerConfig = provider?.config;
  const tokenFile = typeof providerConfig?.tokenFile === 'string' ? providerConfig.tokenFile : undefined;
  if (user?.token) {
    const token = user.token;
    return { allowedUrlPrefixes, caPem, read: () => Promise.resolve(token) };
  }
  if (tokenFile) return { allowedUrlPrefixes, caPem, read: () => readFile(tokenFile, 'utf8') };
  return undefined;
}
