// LIST+WATCH of one collection on top of client-node's Watch class. It does what client-go's
// reflector does and client-node 1.4's ListWatch does not: watch bookmarks, a server-side watch
// timeout, an inactivity watchdog, and jittered backoff that never gives up. Unlike client-go, an
// attempt that could not connect at all (nothing listens: the API server is restarting) does not
// grow the backoff: it is retried about every second, so the cache is current within a second of
// the server listening again, and the backoff is kept for a server that answers with errors.
import { Watch } from '@kubernetes/client-node';
import type { ConfigurationOptions, KubeConfig } from '@kubernetes/client-node';
import { JitteredBackoff } from './backoff.js';
import { sleep, systemClock, withDeadline } from './clock.js';
import type { Clock, Random } from './clock.js';
import { describeError, isGone, isUnreachable } from './k8s-errors.js';
import type { Logger } from './logger.js';
import { withSignal } from './request-options.js';

/** The metadata the runtime relies on; every Kubernetes object has it. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; managedFields?: unknown };
}

export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface ListRequest {
  labelSelector?: string;
  fieldSelector?: string;
  /** At most this many items per answer; absent: the whole collection at once. */
  limit?: number;
  /** The previous page's `metadata.continue`. */
  continue?: string;
  /** Pass these to the generated API call: they carry the deadline and the stop signal. */
  options: ConfigurationOptions;
}

/** LISTs the collection the reflector watches, with the same selectors. */
export type ListFunction<T> = (request: ListRequest) => Promise<ObjectList<T>>;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Receives what the reflector sees; the informer's store implements it. */
export interface ReflectorSink<T> {
  /** The complete collection, after each LIST. */
  replace(items: T[]): void;
  /** The cached object when `object` is the same version of it, else `object`. */
  cachedIfUnchanged(object: T): T;
  /** One change from the watch. */
  apply(type: WatchEventType, object: T): void;
}

/**
 * Why a watch ended. `closed` (server timeout, normal) and `inactive` (watchdog) re-watch from the
 * last resourceVersion; `expired` (410) relists; `error` relists after a backoff delay.
 */
export type WatchEndReason = 'closed' | 'inactive' | 'expired' | 'error';

/** Hooks for metrics (watch restarts, LIST errors). All optional. */
export interface ReflectorListener {
  listed?(outcome: 'ok' | 'error'): void;
  watchStarted?(): void;
  watchEnded?(reason: WatchEndReason): void;
}

export interface ReflectorOptions<T> {
  kubeConfig: KubeConfig;
  /** The collection URL path, e.g. `/apis/etcdhealth.io/v1alpha1/namespaces/ops/etcdhealthchecks`. */
  path: string;
  list: ListFunction<T>;
  labelSelector?: string;
  fieldSelector?: string;
  log: Logger;
  listener?: ReflectorListener;
  /**
   * Restart a watch that has shown no event for this long. The apiserver sends a bookmark about
   * every minute (cacher defaultBookmarkFrequency), so silence beyond that means a dead stream.
   */
  inactivityTimeoutMs?: number;
  /** Deadline for each page of a LIST, and for a watch request to get its response headers. */
  requestTimeoutMs?: number;
  /** Items per LIST page (client-go's pager: 500). */
  pageSize?: number;
  /** Delays before each LIST after the first (client-go: 800ms → 30s, jittered). */
  backoff?: JitteredBackoff;
  /**
   * After an attempt that could not connect (connection refused, no route), the next LIST waits
   * between this and twice this instead of the backoff. Default 500 ms.
   */
  reconnectMs?: number;
  clock?: Clock;
  random?: Random;
}

/** `healthy`: the watch got its response headers and then delivered an event or lasted a second. */
type WatchEnd = { reason: WatchEndReason; error?: unknown; healthy?: boolean } | { reason: 'stopped' };

// client-go reflector: watches time out server-side after a random 5–10 minutes, so that the
// watches of many clients do not all restart at once.
const MIN_WATCH_TIMEOUT_SECONDS = 300;
// client-go reflector: a watch that closes within a second without delivering anything is an error.
const SHORT_WATCH_MS = 1000;
const PAGE_SIZE = 500;

export class Reflector<T extends KubeObject> {
  private readonly watcher: Watch;
  private readonly log: Logger;
  private readonly listener: ReflectorListener;
  private readonly inactivityTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly pageSize: number;
  private readonly backoff: JitteredBackoff;
  private readonly reconnectMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private stopWatch: (() => void) | undefined;
  private resourceVersion = '';
  /** The last LIST or watch failed without reaching the server. */
  private unreachable = false;

  constructor(
    private readonly options: ReflectorOptions<T>,
    private readonly sink: ReflectorSink<T>,
  ) {
    this.log = options.log;
    this.listener = options.listener ?? {};
    this.inactivityTimeoutMs = options.inactivityTimeoutMs ?? 90_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? new JitteredBackoff({ clock: this.clock, random: this.random });
    this.reconnectMs = options.reconnectMs ?? 500;
    this.watcher = new Watch(withConnectTimeout(options.kubeConfig, this.requestTimeoutMs));
  }

  /** Starts the LIST+WATCH loop in the background. A stopped reflector cannot be restarted. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.run().catch((error: unknown) =>
      this.log.error({ path: this.options.path, error: describeError(error) }, 'reflector loop crashed'),
    );
  }

  /** Stops for good: aborts the LIST or watch in flight and resolves once the loop has exited. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.stopWatch?.();
    await this.running;
  }

  /** The resourceVersion the next watch starts from. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    let isRelist = false;
    while (!this.stopped) {
      // client-go runs ListAndWatch under wait.BackoffUntil: every relist waits for the backoff,
      // so a server that keeps failing or expiring watches is not hammered. A server that could
      // not be reached did no work: try again soon, without growing the backoff.
      if (isRelist) await sleep(this.nextDelay(), this.stopController.signal);
      isRelist = true;
      if (!this.stopped && (await this.listAndReplace())) await this.watchUntilRelistNeeded();
    }
  }

  private nextDelay(): number {
    return this.unreachable ? this.reconnectMs * (1 + this.random()) : this.backoff.next();
  }

  /** Re-watches from the last resourceVersion until a watch expires, fails, or we stop. */
  private async watchUntilRelistNeeded(): Promise<void> {
    while (!this.stopped) {
      const end = await this.watchOnce();
      if (end.reason === 'stopped') return;
      // client-go's backoff manager is reset by a healthy watch: after an apiserver restart the
      // relist must not wait the delay grown during an earlier outage (issue 17).
      if (end.healthy) this.backoff.reset();
      this.unreachable = end.reason === 'error' && isUnreachable(end.error);
      this.listener.watchEnded?.(end.reason);
      this.logWatchEnd(end);
      if (end.reason === 'expired' || end.reason === 'error') return;
    }
  }

  private async listAndReplace(): Promise<boolean> {
    const { path } = this.options;
    try {
      const list = await this.listPages();
      if (!list) return false;
      this.resourceVersion = list.resourceVersion;
      this.unreachable = false;
      this.sink.replace(list.items);
      this.listener.listed?.('ok');
      return true;
    } catch (error) {
      if (this.stopped) return false;
      this.unreachable = isUnreachable(error);
      this.listener.listed?.('error');
      this.log.warn({ path, error: describeError(error) }, 'LIST failed; retrying with backoff');
      return false;
    }
  }

  /**
   * The whole collection, a page at a time (one consistent snapshot). An unchanged object keeps
   * its cached copy: after a relist the parsed copies of a page are garbage at once instead of
   * doubling the cache until the replace. A continue token that expired (410) falls back to one
   * unpaged LIST, as client-go's pager does. Undefined once stopped.
   */
  private async listPages(): Promise<{ items: T[]; resourceVersion: string } | undefined> {
    const { labelSelector, fieldSelector } = this.options;
    const items: T[] = [];
    let limit: number | undefined = this.pageSize;
    let token: string | undefined;
    for (;;) {
      let page: ObjectList<T>;
      try {
        page = await withDeadline(this.requestTimeoutMs, this.stopController.signal, (signal) =>
          this.options.list({
            labelSelector,
            fieldSelector,
            ...(limit === undefined ? {} : { limit }),
            ...(token === undefined ? {} : { continue: token }),
            options: withSignal(signal),
          }),
        );
      } catch (error) {
        if (token === undefined || !isGone(error) || this.stopped) throw error;
        items.length = 0;
        limit = undefined;
        token = undefined;
        continue;
      }
      if (this.stopped) return undefined;
      if (!Array.isArray(page?.items)) throw new Error('LIST response has no items array');
      for (const item of page.items) items.push(this.sink.cachedIfUnchanged(item));
      token = page.metadata?.continue || undefined;
      if (token === undefined) return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    return new Promise((resolve) => {
      const startedAt = this.clock.now();
      let eventCount = 0;
      let ended = false;
      let controller: AbortController | undefined;
      let watchdog: NodeJS.Timeout | undefined;

      const end = (result: WatchEnd): void => {
        if (ended) return;
        ended = true;
        clearTimeout(watchdog);
        this.stopWatch = undefined;
        const healthy =
          controller !== undefined && (eventCount > 0 || this.clock.now() - startedAt >= SHORT_WATCH_MS);
        controller?.abort();
        resolve(result.reason === 'stopped' ? result : { ...result, healthy });
      };
      const armWatchdog = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => end({ reason: 'inactive' }), this.inactivityTimeoutMs);
        watchdog.unref();
      };
      const onEvent = (type: string, object: unknown): void => {
        if (ended) return;
        eventCount++;
        armWatchdog();
        const failure = this.handleEvent(type, object);
        if (failure) end(failure);
      };
      const onDone = (error: unknown): void => {
        if (error) return end({ reason: isGone(error) ? 'expired' : 'error', error });
        if (eventCount === 0 && this.clock.now() - startedAt < SHORT_WATCH_MS) {
          return end({ reason: 'error', error: new Error('watch closed within a second without any event') });
        }
        end({ reason: 'closed' });
      };

      if (this.stopped) return end({ reason: 'stopped' });
      this.stopWatch = () => end({ reason: 'stopped' });
      armWatchdog();
      this.listener.watchStarted?.();
      this.watcher.watch(this.options.path, this.watchQuery(), onEvent, onDone).then(
        (started) => {
          controller = started;
          if (ended) started.abort();
        },
        (error: unknown) => end({ reason: 'error', error }),
      );
    });
  }

  private watchQuery(): Record<string, string | number | boolean | undefined> {
    return {
      resourceVersion: this.resourceVersion || undefined,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.floor(MIN_WATCH_TIMEOUT_SECONDS * (1 + this.random())),
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    };
  }

  /** Applies one watch event; returns how the watch ends if the event is an ERROR. */
  private handleEvent(type: string, object: unknown): WatchEnd | undefined {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        if (!hasName(object)) {
          this.log.warn({ path: this.options.path, type }, 'ignoring watch event without metadata.name');
          return undefined;
        }
        this.resourceVersion = object.metadata.resourceVersion ?? this.resourceVersion;
        this.sink.apply(type, object as T);
        return undefined;
      }
      case 'BOOKMARK': {
        // A bookmark carries only a newer resourceVersion to resume from (client-go watchHandler).
        const resourceVersion = (object as KubeObject | undefined)?.metadata?.resourceVersion;
        if (resourceVersion) this.resourceVersion = resourceVersion;
        return undefined;
      }
      case 'ERROR':
        return { reason: isGone(object) ? 'expired' : 'error', error: object };
      default:
        this.log.warn(
          { path: this.options.path, type: String(type) },
          'ignoring watch event of unknown type',
        );
        return undefined;
    }
  }

  private logWatchEnd(end: { reason: WatchEndReason; error?: unknown }): void {
    const fields = { path: this.options.path, resourceVersion: this.resourceVersion };
    const error = end.error === undefined ? undefined : describeError(end.error);
    switch (end.reason) {
      case 'closed':
        return this.log.debug(fields, 'watch closed by the server; re-watching');
      case 'inactive':
        return this.log.warn(
          { ...fields, inactivityTimeoutMs: this.inactivityTimeoutMs },
          'watch silent for too long; re-watching',
        );
      case 'expired':
        return this.log.info({ ...fields, error }, 'resourceVersion expired; relisting');
      case 'error':
        return this.log.warn({ ...fields, error }, 'watch failed; relisting after backoff');
    }
  }
}

function hasName(object: unknown): object is { metadata: { name: string; resourceVersion?: string } } {
  const metadata = (object as KubeObject | null | undefined)?.metadata;
  return typeof metadata?.name === 'string' && metadata.name !== '';
}

/**
 * client-node 1.4's Watch sets no client timeout (its 30s signal is overwritten, #2665) and hands
 * out its AbortController only once response headers arrive, so a server that never answers would
 * hang a watch for good. node-fetch's `timeout` option bounds exactly that phase (it is cleared
 * when the headers arrive; the streamed body is not affected), so inject it into the request
 * options the Watch asks its KubeConfig for.
 */
function withConnectTimeout(kubeConfig: KubeConfig, timeoutMs: number): KubeConfig {
  const config = Object.create(kubeConfig) as KubeConfig;
  config.applyToFetchOptions = async (options) => ({
    ...(await kubeConfig.applyToFetchOptions(options)),
    timeout: timeoutMs,
  });
  return config;
}
