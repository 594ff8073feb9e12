// A cache of one collection kept current by a Reflector, with add/update/delete handlers.
// Handlers run inside the watch callback; a handler that throws or rejects is logged and never
// reaches the watch (in client-node 1.4's informer it would crash the process).
import { describeError } from './k8s-errors.js';
import type { Logger } from './logger.js';
import { Reflector } from './reflector.js';
import type { KubeObject, ReflectorOptions, WatchEventType } from './reflector.js';

export interface InformerHandlers<T> {
  add?(object: T): void;
  update?(oldObject: T, newObject: T): void;
  delete?(object: T): void;
}

/** The cache key: `namespace/name`, or `name` for cluster-scoped objects (client-go MetaNamespaceKeyFunc). */
export function keyOf(object: KubeObject): string {
  const { name = '', namespace } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * Objects returned by get() and list() and passed to handlers are the cache's own: read them,
 * never mutate or keep them.
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly syncWaiters = new Set<(synced: boolean) => void>();
  private readonly reflector: Reflector<T>;
  private readonly log: Logger;
  private synced = false;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.log = options.log;
    this.reflector = new Reflector(options, {
      replace: (items) => this.replace(items),
      apply: (type, object) => this.apply(type, object),
      cachedIfUnchanged: (object) => {
        const cached = this.store.get(keyOf(object));
        const version = object.metadata?.resourceVersion;
        return cached && version !== undefined && cached.metadata?.resourceVersion === version
          ? cached
          : object;
      },
    });
  }

  /** Handlers added after the first LIST get an `add` for every cached object, as in client-go. */
  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    for (const object of this.store.values()) this.call([handlers], 'add', (h) => h.add?.(object));
  }

  start(): void {
    this.reflector.start();
  }

  /** Stops the watch for good; pending waitForSync() calls resolve false. */
  async stop(): Promise<void> {
    await this.reflector.stop();
    for (const resolve of this.syncWaiters) resolve(false);
    this.syncWaiters.clear();
  }

  /** True once the first LIST has been stored (client-go HasSynced). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, or false after `timeoutMs` or on stop(). */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (synced: boolean): void => {
        clearTimeout(timer);
        this.syncWaiters.delete(finish);
        resolve(synced);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      timer.unref();
      this.syncWaiters.add(finish);
    });
  }

  /** The resourceVersion the next watch resumes from. */
  lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion();
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return Array.from(this.store.values());
  }

  /** After a LIST: emit only real differences, so a relist does not re-trigger every object. */
  private replace(items: T[]): void {
    const listed = new Set<string>();
    for (const object of items.map(withoutManagedFields)) {
      const key = keyOf(object);
      listed.add(key);
      const old = this.store.get(key);
      this.store.set(key, object);
      if (!old) this.call(this.handlers, 'add', (h) => h.add?.(object));
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
        this.call(this.handlers, 'update', (h) => h.update?.(old, object));
      }
    }
    for (const [key, old] of this.store) {
      if (listed.has(key)) continue;
      this.store.delete(key);
      this.call(this.handlers, 'delete', (h) => h.delete?.(old));
    }
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters) resolve(true);
      this.syncWaiters.clear();
    }
  }

  private apply(type: WatchEventType, received: T): void {
    const object = withoutManagedFields(received);
    const key = keyOf(object);
    const old = this.store.get(key);
    if (type === 'DELETED') {
      this.store.delete(key);
      this.call(this.handlers, 'delete', (h) => h.delete?.(object));
      return;
    }
    this.store.set(key, object);
    if (old) this.call(this.handlers, 'update', (h) => h.update?.(old, object));
    else this.call(this.handlers, 'add', (h) => h.add?.(object));
  }

  private call(
    handlers: InformerHandlers<T>[],
    event: keyof InformerHandlers<T>,
    invoke: (handlers: InformerHandlers<T>) => unknown,
  ): void {
    const report = (error: unknown): void =>
      this.log.error(
        { path: this.options.path, event, error: describeError(error) },
        'informer handler failed',
      );
    for (const handler of handlers) {
      try {
        // An async handler's rejection would otherwise be an unhandledRejection: exit 1 on Node 20.
        const result = invoke(handler);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
      }
    }
  }
}

/**
 * managedFields (server-side apply bookkeeping, one entry per field manager) is often the larger
 * part of an object and nothing here reads it: not caching it is client-go's
 * TransformStripManagedFields.
 */
function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (!object.metadata?.managedFields) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}
