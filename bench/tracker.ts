// The benchmark's own view from the API server: a watch on every EtcdHealthCheck (the project's
// runtime Informer, so it resumes after an apiserver restart) that records when each CR first
// carried a full status, and every write to each CR after that (the bench never changes a spec,
// so each later update is a status write seen by the apiserver, whoever counted it).
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type EtcdHealthCheck } from '../src/api/v1alpha1/resource.js';
import { Informer, customResourceSource, keyOf, silentLogger } from '../src/runtime/index.js';

/** A full status: the analysis ran (summary, lastCheck) and the Available union is set. */
export function hasFullStatus(check: EtcdHealthCheck): boolean {
  const status = check.status;
  return Boolean(
    status?.lastCheck &&
    status.summary &&
    status.observedGeneration === check.metadata.generation &&
    status.conditions?.some((c) => c.type === 'Available'),
  );
}

export class CheckTracker {
  private readonly informer: Informer<EtcdHealthCheck>;
  /**
   * Per CR, its first full status: when this process saw it (performance.now() ms), when the CR
   * was created (the apiserver's clock, whole seconds) and when the operator checked it
   * (status.lastCheck.time), both epoch ms; together they split the latency.
   */
  readonly firstStatus = new Map<string, { seenAt: number; createdMs: number; checkedMs: number }>();
  /** Every update to a CR after its first full status, as [key, performance.now() ms]. */
  readonly writes: Array<[string, number]> = [];
  /** What changed in the status (outside status.lastCheck) of up to 60 writes; the runner clears it. */
  readonly changeSamples: Array<{ key: string; at: number; changes: string[] }> = [];

  constructor(kubeConfig: KubeConfig) {
    this.informer = new Informer<EtcdHealthCheck>({
      kubeConfig,
      ...customResourceSource<EtcdHealthCheck>(kubeConfig, {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
      }),
      log: silentLogger,
    });
    const seen = (check: EtcdHealthCheck) => {
      const key = keyOf(check);
      if (this.firstStatus.has(key) || !hasFullStatus(check)) return;
      this.firstStatus.set(key, {
        seenAt: performance.now(),
        createdMs: Date.parse(check.metadata.creationTimestamp ?? ''),
        checkedMs: Date.parse(check.status?.lastCheck?.time ?? ''),
      });
    };
    this.informer.addHandlers({
      add: seen,
      update: (old, check) => {
        if (
          this.firstStatus.has(keyOf(check)) &&
          old.metadata.resourceVersion !== check.metadata.resourceVersion
        ) {
          this.writes.push([keyOf(check), performance.now()]);
          if (this.changeSamples.length < 60) {
            const { lastCheck: _a, ...before } = old.status ?? {};
            const { lastCheck: _b, ...after } = check.status ?? {};
            this.changeSamples.push({
              key: keyOf(check),
              at: performance.now(),
              changes: leafChanges(before, after, 'status')
                .slice(0, 6)
                .map((c) => (c.length > 400 ? `${c.slice(0, 200)} ... ${c.slice(-200)}` : c)),
            });
          }
        }
        seen(check);
      },
      delete: (check) => this.firstStatus.delete(keyOf(check)),
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    if (!(await this.informer.waitForSync(60_000))) throw new Error('CR watch did not sync in 60s');
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  count(): number {
    return this.informer.list().length;
  }

  /** Status writes to `keys` seen between two performance.now() times. */
  writesBetween(from: number, to: number, keys: ReadonlySet<string>): number {
    return this.writes.filter(([key, at]) => at >= from && at < to && keys.has(key)).length;
  }
}

/** Leaves that differ between two JSON values, as "path: old -> new". */
function leafChanges(a: unknown, b: unknown, path: string): string[] {
  if (a === b) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      leafChanges(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`),
    );
  }
  return [`${path}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
}
