// The EtcdHealthCheck reconciler, one straight pipeline: cache -> (a new generation: the
// Reconciling mark) -> credentials -> observe -> assess
// (once) -> remediation step (writes status.remediation itself) -> analysis -> one status write of
// everything else (only when it changed meaningfully) -> Events on transitions -> metrics -> requeue.
// Level-based: every run recomputes the whole status from what the sources say now.
import type { Logger } from 'pino';
import type { EventSink } from '../runtime/events.js';
import { EtcdHealthCheckSpecSchema, type EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { Condition, EtcdHealthCheckStatus, MemberStatus } from '../api/v1alpha1/status.js';
import { parseDurationMs } from '../api/v1alpha1/units.js';
import { analyze, assess } from '../health/analyze.js';
import {
  SPEC_CONDITION,
  foreignConditions,
  operatorConditions,
  setCondition,
  stamp,
  unionConditions,
} from '../health/conditions.js';
import { isMarkedChecking, progressConditions, withProgress, type Progress } from '../health/kstatus.js';
import { statusFromAnalysis, type HealthStatus } from '../health/status.js';
import type { Remediator } from '../remediation/remediator.js';
import {
  CredentialError,
  resolveCredentials,
  type ConfigReader,
  type OperatorToken,
  type PrometheusUrlPolicy,
} from '../sources/credentials.js';
import type { ReachPolicy } from './reach.js';
import { redactSecrets } from './redact.js';
import { decideStatusWrite, type ChangePolicy } from './status-change.js';
import { healthStatusPatch } from './status-patch.js';
import type { Observe, ReconcileObserver, StatusWriter } from './ports.js';
import { conditionTransitions, type ConditionTransition } from './transitions.js';

export interface ReconcilerDeps {
  get(key: string): EtcdHealthCheck | undefined;
  configReader: ConfigReader;
  operatorToken?: OperatorToken;
  prometheusUrlPolicy?: PrometheusUrlPolicy;
  observe: Observe;
  status: StatusWriter;
  events: EventSink<EtcdHealthCheck>;
  observer?: ReconcileObserver;
  policy: ChangePolicy;
  clock?: () => Date;
  random?: () => number;
  /** Automated remediation (src/remediation); without it the operator only recommends. */
  remediator?: Pick<Remediator, 'reconcile' | 'forget'>;
  /** The admin's limits on what a check may reach; without it, anything. */
  reach?: Pick<ReachPolicy, 'refusal'>;
}

export interface ReconcileResult {
  /** Run again after this long; undefined means only when something changes. */
  requeueAfterMs?: number;
  statusWritten: boolean;
  transitions: ConditionTransition[];
}

/** Spread of the requeue interval, so that CRs created together are not observed in lock-step. */
const REQUEUE_JITTER = 0.1;
/** After a write conflict ("not yet"): read again after 1-2 s, as controller-runtime requeues. */
const CONFLICT_REQUEUE_MS = 1_000;

export class EtcdHealthCheckReconciler {
  private readonly clock: () => Date;
  private readonly random: () => number;
  /**
   * Per CR, status.members of its previous check (raft indexes included): the history the checks
   * need to tell a learner that does not move. Kept in memory, not read back from the status: raft
   * indexes never make the status be written, so the written ones may predate the leader moving
   * ahead. A replica that just took over has none, and its first check reports no such finding.
   */
  private readonly previousMembers = new Map<string, MemberStatus[]>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.random = deps.random ?? Math.random;
  }

  async reconcile(key: string, log: Logger, signal?: AbortSignal): Promise<ReconcileResult> {
    let object = this.deps.get(key);
    if (!object) {
      const [namespace = '', name = ''] = key.split('/');
      this.deps.observer?.forgotten?.(namespace, name);
      this.deps.remediator?.forget(namespace, name);
      this.previousMembers.delete(key);
      log.debug('object is gone');
      return { statusWritten: false, transitions: [] };
    }
    const generation = object.metadata.generation ?? 0;
    const parsed = EtcdHealthCheckSpecSchema.safeParse(object.spec);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`)
        .join('; ');
      log.warn({ problems }, 'invalid spec');
      const status = invalidSpecStatus(object.status, generation, this.clock(), {
        reason: 'InvalidSpec',
        message: `The spec is invalid: ${problems}`,
      });
      this.deps.observer?.invalid?.(object, status);
      return this.write(object, status, log, undefined);
    }
    const spec = parsed.data;
    if (spec.suspend) {
      log.debug('suspended');
      this.deps.observer?.suspended?.(object);
      const conditions = withProgress(
        object.status?.conditions ?? [],
        { state: 'Suspended' },
        this.clock(),
        generation,
      );
      const status = { ...object.status, observedGeneration: generation, conditions };
      return this.write(object, status, log, undefined);
    }

    // Before any source is asked: a refused check makes the operator list and dial nothing.
    const refusal = this.deps.reach?.refusal(object.metadata.namespace, spec);
    if (refusal) {
      log.warn({ reason: refusal.reason }, 'the spec asks for more than the operator may reach');
      const status = invalidSpecStatus(object.status, generation, this.clock(), refusal);
      this.deps.observer?.invalid?.(object, status);
      return this.write(object, status, log, undefined);
    }

    const marked = await this.markChecking(object, generation, log);
    if ('notYet' in marked) return marked.notYet;
    object = marked.object;

    const { namespace, name } = object.metadata;
    const { etcd: etcdCredentials, prometheus: prometheusCredentials } = await resolveCredentials(
      namespace,
      spec,
      this.deps.configReader,
      this.deps.operatorToken,
      this.deps.prometheusUrlPolicy,
    );
    const observation = await this.deps.observe({
      namespace,
      name,
      spec,
      etcdCredentials,
      prometheusCredentials,
      ...(signal ? { signal } : {}),
    });
    const assessment = assess(observation, spec, this.previousMembers.get(key) ?? []);
    // In mode Automatic the remediator may run one step against etcd; it writes status.remediation
    // itself, preconditioned on the resourceVersion read, and hands back its own conditions.
    const remediation = await this.deps.remediator?.reconcile({
      object,
      spec,
      assessment,
      etcdCredentials,
      log,
      ...(signal ? { signal } : {}),
    });
    if (remediation?.conflict !== undefined) return this.notYet(remediation.conflict, log);
    // Without the etcd credentials nothing is checked until someone creates or fixes them.
    const progress: Progress | undefined =
      etcdCredentials instanceof CredentialError
        ? {
            state: 'Stalled',
            reason: etcdCredentials.reason,
            message: `The etcd credentials cannot be used: ${etcdCredentials.message}`,
          }
        : undefined;
    const analysis = analyze({
      observation,
      spec,
      previousConditions: object.status?.conditions ?? [],
      generation,
      assessment,
      ...(remediation ? { remediation: remediation.conditions } : {}),
      commands: { namespace },
      ...(progress ? { progress } : {}),
    });
    this.previousMembers.set(key, analysis.members);
    const sent =
      prometheusCredentials instanceof CredentialError ? undefined : prometheusCredentials.bearerToken;
    const status = redactSecrets(statusFromAnalysis(analysis, observation, generation), [sent]);
    this.deps.observer?.analysed?.(object, status, observation, parseDurationMs(spec.interval));
    const requeueAfterMs = Math.min(this.requeueAfter(spec), remediation?.requeueAfterMs ?? Infinity);
    return this.write(object, status, log, requeueAfterMs, remediation?.resourceVersion);
  }

  /**
   * kstatus: before the first check of a new generation (observing may take many seconds), say
   * Reconciling=True, so that nobody reads the CR as Current in the meantime; a brand-new CR has no
   * status at all, which kstatus would call Current. status.observedGeneration stays the last
   * generation checked. Returns the object as written, whose resourceVersion the remediator's
   * preconditions need.
   */
  private async markChecking(
    object: EtcdHealthCheck,
    generation: number,
    log: Logger,
  ): Promise<{ object: EtcdHealthCheck } | { notYet: ReconcileResult }> {
    const previous = object.status?.conditions ?? [];
    if (object.status?.observedGeneration === generation || isMarkedChecking(previous, generation))
      return { object };
    const conditions = withProgress(previous, { state: 'Checking' }, this.clock(), generation);
    const { namespace, name } = object.metadata;
    const written = await this.deps.status.patch({ namespace, name }, undefined, { conditions });
    if (!written.ok)
      return {
        notYet: this.notYet(written.conflict ? `${namespace}/${name} changed` : written.refused, log),
      };
    this.deps.observer?.statusWritten?.(object, 'reconciling');
    log.debug({ generation }, 'marked Reconciling before the first check of this generation');
    // A spec fixed after it was Stalled flips Stalled here, not in the write after the check.
    for (const transition of conditionTransitions(previous, conditions))
      this.deps.events.record(object, transition.eventType, eventReason(transition), eventNote(transition));
    return {
      object: {
        ...object,
        metadata: { ...object.metadata, resourceVersion: written.resourceVersion },
        status: { ...object.status, conditions },
      },
    };
  }

  /**
   * Writes every status field but status.remediation, which only the remediator writes. When the
   * remediator wrote in this reconcile, the write is conditional on its resourceVersion, so that
   * nobody's change in between is overwritten unseen.
   */
  private async write(
    object: EtcdHealthCheck,
    next: EtcdHealthCheckStatus,
    log: Logger,
    requeueAfterMs: number | undefined,
    resourceVersion?: string,
  ): Promise<ReconcileResult> {
    const now = this.clock();
    const status = withForeignConditions(withoutRemediation(next), object.status?.conditions ?? []);
    const stored = object.status && withoutRemediation(object.status);
    const decision = decideStatusWrite(stored, status, now, this.deps.policy);
    const transitions = conditionTransitions(object.status?.conditions ?? [], status.conditions ?? []);
    if (decision.write) {
      const { namespace, name } = object.metadata;
      const written = await this.deps.status.patch(
        { namespace, name },
        resourceVersion,
        healthStatusPatch(status),
      );
      if (!written.ok)
        return this.notYet(
          written.conflict ? `${namespace}/${name} changed since the remediation wrote it` : written.refused,
          log,
        );
      this.deps.observer?.statusWritten?.(object, decision.why);
      log.info({ why: decision.why }, 'status written');
      // Events only after the write succeeded: a failed write is retried, and the transition
      // is then still pending against the stored status.
      for (const transition of transitions) {
        this.deps.events.record(object, transition.eventType, eventReason(transition), eventNote(transition));
      }
    }
    return { requeueAfterMs, statusWritten: decision.write, transitions: decision.write ? transitions : [] };
  }

  /** Someone wrote first (or the cache is behind our own write): nothing written; read again soon. */
  private notYet(why: string, log: Logger): ReconcileResult {
    log.debug({ why }, 'object changed since it was read; reading again');
    return {
      requeueAfterMs: Math.round(CONFLICT_REQUEUE_MS * (1 + this.random())),
      statusWritten: false,
      transitions: [],
    };
  }

  private requeueAfter(spec: EtcdHealthCheckSpec): number {
    const interval = parseDurationMs(spec.interval);
    return Math.round(interval * (1 + REQUEUE_JITTER * (2 * this.random() - 1)));
  }
}

/**
 * The conditions list goes whole in a merge patch: the conditions other writers keep in this
 * status (as read) go with ours, so that our write does not delete them.
 */
function withForeignConditions(status: HealthStatus, previous: readonly Condition[]): HealthStatus {
  const foreign = foreignConditions(previous);
  if (foreign.length === 0) return status;
  return { ...status, conditions: [...operatorConditions(status.conditions ?? []), ...foreign] };
}

function withoutRemediation(status: EtcdHealthCheckStatus): HealthStatus {
  const { remediation: _owned, ...rest } = status;
  return rest;
}

/**
 * An invalid spec (possible when the CRD was installed without its CEL rules, or by a future
 * field), or one the admin's reach policy refuses, is reported, not thrown: Degraded=True with the
 * reasons, Available unknown because etcd was not checked. The rest of the status keeps its last
 * values.
 */
export function invalidSpecStatus(
  previous: EtcdHealthCheckStatus | undefined,
  generation: number,
  now: Date,
  { reason, message }: { reason: string; message: string },
): EtcdHealthCheckStatus {
  const checkCondition: Condition = {
    type: SPEC_CONDITION,
    status: 'True',
    reason,
    message,
    lastTransitionTime: now.toISOString(),
    observedGeneration: generation,
  };
  const previousConditions = previous?.conditions ?? [];
  const degraded = unionConditions('Degraded', [checkCondition], previousConditions, now, generation);
  let conditions = [checkCondition, degraded];
  for (const type of ['Available', 'Upgradeable'] as const) {
    conditions.push({
      type,
      status: 'Unknown',
      reason,
      message:
        reason === 'InvalidSpec'
          ? 'etcd was not checked because the spec is invalid'
          : "etcd was not checked because the spec asks for more than the operator's admin allows",
      lastTransitionTime: now.toISOString(),
      observedGeneration: generation,
    });
  }
  // Nothing more happens until the spec (or the admin's policy) changes: kstatus' Stalled.
  const stalled = progressConditions({ state: 'Stalled', reason, message }, generation);
  conditions.push(...stalled.map((draft) => stamp(draft, now, generation)));
  conditions = conditions.map((c) => setCondition(previousConditions, c));
  return { ...previous, observedGeneration: generation, conditions };
}

function eventReason(transition: ConditionTransition): string {
  return `${transition.type}${transition.to === 'True' ? 'True' : transition.to === 'False' ? 'False' : 'Unknown'}`;
}

function eventNote(transition: ConditionTransition): string {
  const note = `${transition.type} changed from ${transition.from} to ${transition.to} (${transition.reason}): ${transition.message}`;
  return note.length > 1024 ? `${note.slice(0, 1021)}...` : note;
}
