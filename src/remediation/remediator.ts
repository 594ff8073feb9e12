// Automated remediation, one step per reconcile: plan (pure) -> take the lock in the CR status
// (optimistic concurrency) -> call etcd -> record the outcome in the status -> Events and metrics.
// The reconciler calls it with the assessment it made of the observation; the remediator is the
// only writer of status.remediation and hands back its own conditions (RemediationProgressing,
// RemediationDegraded, RemediationUpgradeable) for the status the reconciler writes.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { Condition, RemediationRecord, RemediationStatus } from '../api/v1alpha1/status.js';
import { formatBytes, parseDurationMs } from '../api/v1alpha1/units.js';
import { CredentialError, type EtcdCredentials } from '../sources/credentials.js';
import type { EventSink } from '../runtime/events.js';
import type { Assessment } from '../health/analyze.js';
import { remediationConditions, type RemediationRun } from '../health/conditions.js';
import { capitalize } from '../health/text.js';
import { withConditions, type ConditionDraft } from '../health/union.js';
import type { MaintenanceOptions } from './etcd-maintenance.js';
import type { ExecResult, RemediationExecutor } from './executor.js';
import {
  MAX_CONSECUTIVE_FAILURES,
  describeRecord,
  plan,
  type DeferReason,
  type Decision,
  type Answers,
  type Question,
  type Step,
} from './plan.js';
import { sameRecord, toPatch, withFinished, withLock } from './state.js';
import type { ObjectKey, PatchOutcome, StatusPatch, StatusStore } from './status-store.js';

export interface RemediationMetrics {
  /** One finished step (or a dry-run decision), by action and result. */
  step(action: string, result: 'success' | 'failure' | 'dry_run'): void;
  /** A deferral was reported (once per change), by reason. */
  deferred(reason: string): void;
  /** Whether a remediation runs for this EtcdHealthCheck (the Progressing condition). */
  inProgress(namespace: string, name: string, running: boolean): void;
}

export interface RemediatorDeps {
  /** The only way to etcd's mutating calls; never called in mode Recommend. */
  executorFor(options: MaintenanceOptions): RemediationExecutor;
  /** Writes status.remediation; the remediator is its only writer. */
  store: StatusStore;
  events: EventSink<EtcdHealthCheck>;
  metrics?: RemediationMetrics;
  clock?: () => Date;
  /** A Running step whose member has not answered again after this long is failed (default 10m). */
  runningDeadlineMs?: number;
  defragTimeoutMs?: number;
}

export interface RemediationRequest {
  /** As the cache has it: its resourceVersion is the precondition of every write. */
  object: EtcdHealthCheck;
  spec: EtcdHealthCheckSpec;
  /** The reconciler's assessment of this check's observation; its time is the planner's now. */
  assessment: Assessment;
  etcdCredentials: EtcdCredentials | CredentialError | undefined;
  log: Logger;
  /** Aborts the reads (questions to etcd); never a step already sent to etcd. */
  signal?: AbortSignal;
}

export interface RemediationOutcome {
  /** What the automated run is doing; undefined in mode Recommend. */
  run?: RemediationRun;
  /** RemediationProgressing, RemediationDegraded and RemediationUpgradeable for this run. */
  conditions: ConditionDraft[];
  /** status.remediation as the API server has it after this reconcile. */
  status?: RemediationStatus;
  /** The object's resourceVersion after the remediator's last write; undefined when it wrote nothing. */
  resourceVersion?: string;
  /** Look again this soon (the next step after the settle time). */
  requeueAfterMs?: number;
  /**
   * Not yet: the object changed since it was read (another writer, or a cache that has not seen our
   * own last write). Nothing was done; read again shortly. `conditions` is then empty.
   */
  conflict?: string;
}

/** What one decision carried out comes to, before the conditions are derived from the run. */
type Carried = Omit<RemediationOutcome, 'conditions'>;

/** Deferrals worth a Warning Event: the cluster or the operator needs a human. */
const WARNING_DEFERRALS = new Set<DeferReason>([
  'AlarmsUnknown',
  'CorruptAlarm',
  'TooManyFailures',
  'NoSpaceRecoveryDisabled',
  'RevisionUnknown',
  'QuotaUnknown',
  'StillAboveQuota',
  'ClusterUnhealthy',
  'MemberIsolated',
  'NotFaultTolerant',
  'NoLeader',
]);
/** Normal waits inside a run: no Event. */
const QUIET_DEFERRALS = new Set<DeferReason>(['Settling', 'AwaitingMember']);

const PERSIST_ATTEMPTS = 4;

export class Remediator {
  private readonly clock: () => Date;
  /** The last deferral or dry-run reported per CR, so that Events are sent only on a change. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly deps: RemediatorDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async reconcile(request: RemediationRequest): Promise<RemediationOutcome> {
    const { object, spec, log } = request;
    const key = { namespace: object.metadata.namespace, name: object.metadata.name };
    const now = this.clock();
    let state = object.status?.remediation;
    let resourceVersion = object.metadata.resourceVersion ?? '';
    let wrote = false;

    // The kill switch also clears the failure streak: pause, fix, unpause retries.
    if (
      spec.remediation.paused &&
      (state?.consecutiveFailures ?? 0) > 0 &&
      state?.current?.phase !== 'Running'
    ) {
      const reset: RemediationStatus = { ...state, consecutiveFailures: 0 };
      const written = await this.deps.store.patch(key, resourceVersion, { remediation: toPatch(reset) });
      if (!written.ok)
        return {
          conflict: written.conflict
            ? `${key.namespace}/${key.name} changed while its failure count was reset`
            : `${written.refused}; not resetting the failure count`,
          conditions: [],
        };
      state = reset;
      resourceVersion = written.resourceVersion;
      wrote = true;
      log.info('remediation paused: failure count reset');
    }

    const { view, findings } = request.assessment;
    const planInput = {
      spec,
      view,
      findings,
      state,
      now,
      ...(this.deps.runningDeadlineMs !== undefined
        ? { runningDeadlineMs: this.deps.runningDeadlineMs }
        : {}),
    };
    let executor: RemediationExecutor | undefined;
    const executorOrError = (): RemediationExecutor | string => {
      if (executor) return executor;
      const { etcdCredentials } = request;
      if (etcdCredentials instanceof CredentialError) return `etcd credentials: ${etcdCredentials.message}`;
      executor = this.deps.executorFor({
        ...(etcdCredentials ? { tls: etcdCredentials } : {}),
        dialTimeoutMs: parseDurationMs(spec.etcd.dialTimeout),
        requestTimeoutMs: parseDurationMs(spec.etcd.requestTimeout),
        ...(this.deps.defragTimeoutMs !== undefined ? { defragTimeoutMs: this.deps.defragTimeoutMs } : {}),
      });
      return executor;
    };

    try {
      let decision = plan(planInput);
      if (decision.kind === 'Ask') {
        const asking = executorOrError();
        const answers =
          typeof asking === 'string'
            ? emptyAnswers(decision.question)
            : await ask(asking, decision.question, log, request.signal);
        decision = plan({ ...planInput, answers });
      }
      const carried = await this.carryOut(decision, {
        request,
        key,
        resourceVersion,
        state,
        now,
        executorOrError,
      });
      if (carried.conflict !== undefined) return { ...carried, conditions: [] };
      this.deps.metrics?.inProgress(key.namespace, key.name, carried.run?.inProgress ?? false);
      return {
        ...(wrote ? { resourceVersion } : {}),
        ...carried,
        conditions: remediationConditions(spec, carried.run),
      };
    } finally {
      executor?.close();
    }
  }

  /** Forgets what was reported for a deleted CR. */
  forget(namespace: string, name: string): void {
    this.reported.delete(`${namespace}/${name}`);
  }

  private async carryOut(decision: Decision, context: StepContext): Promise<Carried> {
    const { request, key, state } = context;
    const { spec } = request;
    const automatic = spec.remediation.mode === 'Automatic';
    const degradedMessage = automatic ? degradedMessageOf(state) : undefined;
    const reportKey = `${key.namespace}/${key.name}`;
    switch (decision.kind) {
      case 'Idle':
        this.reported.delete(reportKey);
        return automatic
          ? { status: state, run: { inProgress: false, ...withDegraded(degradedMessage) } }
          : { status: state };
      case 'Ask':
        // Only when a question could not be answered; plan() answers every question otherwise.
        return { status: state, run: { inProgress: false, ...withDegraded(degradedMessage) } };
      case 'Defer': {
        if (!QUIET_DEFERRALS.has(decision.reason)) {
          this.reportOnce(reportKey, `${decision.reason}:${decision.message}`, () => {
            this.deps.events.record(
              request.object,
              WARNING_DEFERRALS.has(decision.reason) ? 'Warning' : 'Normal',
              decision.reason,
              capitalize(decision.message),
              decision.step?.action ?? 'Remediate',
            );
            this.deps.metrics?.deferred(decision.reason);
          });
        }
        const run: RemediationRun = decision.inProgress
          ? { inProgress: true, message: decision.message }
          : decision.reason === 'Paused'
            ? { inProgress: false }
            : { inProgress: false, blockedReason: `${decision.message} (${decision.reason})` };
        return {
          status: state,
          run: automatic ? { ...run, ...withDegraded(degradedMessage) } : undefined,
          requeueAfterMs:
            decision.retryAfterMs === undefined ? undefined : Math.max(1_000, decision.retryAfterMs + 500),
        };
      }
      case 'DryRun':
        this.reportOnce(reportKey, `DryRun:${decision.message}`, () => {
          this.deps.events.record(
            request.object,
            'Normal',
            `${decision.step.action}DryRun`,
            capitalize(decision.message),
            decision.step.action,
          );
          this.deps.metrics?.step(decision.step.action, 'dry_run');
        });
        return {
          status: state,
          run: { inProgress: false, blockedReason: decision.message, ...withDegraded(degradedMessage) },
        };
      case 'Finish':
        this.reported.delete(reportKey);
        return this.finishInterrupted(decision.record, context);
      case 'Act':
        this.reported.delete(reportKey);
        return this.act(decision.step, context);
    }
  }

  /** Finishes a Running record left by a process that died (or a call that outlived its deadline). */
  private async finishInterrupted(record: RemediationRecord, context: StepContext): Promise<Carried> {
    const { request, key, state, now } = context;
    const finished: RemediationRecord = { ...record, finishedAt: now.toISOString() };
    const next = withFinished(state, [finished]);
    // Nothing ran here: the decision rests on the cached record alone. A conflict means that record
    // may be gone (our own finish not yet in the cache, or another replica's), so read again.
    const written = await this.patchOnBasis(context, () => ({ remediation: toPatch(next) }));
    if (!written.ok)
      return conflict(
        `${written.conflict ? `${key.namespace}/${key.name} changed since it was read` : written.refused}; not finishing ${describeRecord(finished)}`,
      );
    const persisted = { status: next, resourceVersion: written.resourceVersion };
    this.announce(request, finished);
    request.log.info({ record: finished }, 'finished an interrupted remediation step');
    return {
      status: persisted.status,
      resourceVersion: persisted.resourceVersion,
      run:
        request.spec.remediation.mode === 'Automatic'
          ? runAfter(request.spec, persisted.status, describeRecord(finished))
          : undefined,
      requeueAfterMs: settleMs(request.spec) + 500,
    };
  }

  private async act(step: Step, context: StepContext): Promise<Carried> {
    const { request, key, state, now } = context;
    const { object, log } = request;
    const executor = context.executorOrError();
    if (typeof executor === 'string') {
      return {
        status: state,
        run: { inProgress: false, blockedReason: `${step.summary} is not possible: ${executor}` },
      };
    }
    const lock: RemediationRecord = {
      action: step.action,
      ...('member' in step ? { member: step.member.name } : {}),
      phase: 'Running',
      reason: step.reason,
      message: capitalize(step.summary),
      startedAt: now.toISOString(),
      ...('dbSizeBefore' in step && step.dbSizeBefore !== undefined
        ? { dbSizeBefore: step.dbSizeBefore }
        : {}),
    };
    const locked = withLock(state, lock);
    const running: RemediationRun = {
      inProgress: true,
      message: step.summary,
      ...withDegraded(degradedMessageOf(state)),
    };
    // The lock goes to the API before anything goes to etcd; a 409 means someone else acted (or
    // the spec changed, e.g. paused): do nothing, requeue, read again. The same write shows the
    // step in the conditions, so Progressing is True while etcd works.
    const taken = await this.patchOnBasis(context, (conditions) => ({
      remediation: toPatch(locked),
      conditions: withConditions(
        conditions,
        remediationConditions(request.spec, running),
        now,
        object.metadata.generation ?? 0,
        request.assessment.view.limits.degradedInertiaMs,
      ),
    }));
    if (!taken.ok) {
      return conflict(
        `${taken.conflict ? `${key.namespace}/${key.name} changed since it was read` : taken.refused}; not starting: ${step.summary}`,
      );
    }
    this.deps.metrics?.inProgress(key.namespace, key.name, true);
    this.deps.events.record(
      object,
      'Normal',
      `${step.action}Attempt`,
      `Started to ${step.summary}`,
      step.action,
    );
    log.info({ step: lock }, 'remediation step started');

    const outcome = await this.execute(executor, step, lock, request.signal);
    if (outcome.kind === 'unconfirmed') {
      // The call may still run in etcd (a defragmentation outlives its client deadline): keep the
      // lock; the next check verifies the member before anything else happens.
      log.warn(
        { step: lock, error: outcome.error },
        'remediation step unconfirmed; verifying on the next check',
      );
      this.deps.events.record(
        object,
        'Warning',
        `${step.action}Unconfirmed`,
        `${capitalize(step.summary)}: ${outcome.error}; the member is verified before anything else is done`,
        step.action,
      );
      return {
        status: locked,
        resourceVersion: taken.resourceVersion,
        run: { inProgress: true, message: `${step.summary}: waiting for confirmation` },
        requeueAfterMs: 5_000,
      };
    }
    const persisted = await this.persist(key, taken.resourceVersion, locked, lock, outcome.records, log);
    if ('refused' in persisted) {
      // The lock stays: whoever leads now verifies the member and records the step, once.
      log.warn(
        { records: outcome.records, reason: persisted.refused },
        'remediation step finished; not recording it',
      );
      return conflict(
        `${persisted.refused}; not recording ${outcome.records.map(describeRecord).join('; ')}`,
      );
    }
    if (persisted.ours) for (const record of outcome.records) this.announce(request, record);
    log.info({ records: outcome.records }, 'remediation step finished');
    const last = outcome.records.at(-1)!;
    return {
      status: persisted.status,
      resourceVersion: persisted.resourceVersion,
      run: runAfter(request.spec, persisted.status, describeRecord(last)),
      requeueAfterMs: settleMs(request.spec) + 500,
    };
  }

  private async execute(
    executor: RemediationExecutor,
    step: Step,
    lock: RemediationRecord,
    signal: AbortSignal | undefined,
  ): Promise<{ kind: 'done'; records: RemediationRecord[] } | { kind: 'unconfirmed'; error: string }> {
    const clock = this.clock;
    const done = (
      record: RemediationRecord,
      result: ExecResult,
      success: string,
      extra: Partial<RemediationRecord> = {},
    ) => {
      const finishedAt = clock().toISOString();
      return result.ok
        ? { ...record, ...extra, phase: 'Succeeded' as const, finishedAt, message: success }
        : {
            ...record,
            ...extra,
            phase: 'Failed' as const,
            reason: 'CallFailed',
            finishedAt,
            message: capitalize(result.error),
          };
    };
    const took = (result: ExecResult) => `in ${result.tookMs}ms`;
    switch (step.action) {
      case 'Defragment': {
        const result = await executor.defragment(step.endpoint);
        if (!result.ok && result.ambiguous) return { kind: 'unconfirmed', error: result.error };
        const name = step.member.name;
        if (!result.ok) return { kind: 'done', records: [done(lock, result, '')] };
        // The actions themselves take no signal: etcd finishes what its client gave up on.
        const size = await executor.dbSize(step.endpoint, signal);
        const after = size.ok ? size.value : undefined;
        const sizes = `${step.dbSizeBefore === undefined ? '?' : formatBytes(step.dbSizeBefore)} -> ${after === undefined ? '?' : formatBytes(after)}`;
        return {
          kind: 'done',
          records: [
            done(
              lock,
              result,
              `Defragmented ${name} ${took(result)}: DB ${sizes}`,
              after !== undefined ? { dbSizeAfter: after } : {},
            ),
          ],
        };
      }
      case 'MoveLeader': {
        const to = step.transferee;
        const result = await executor.moveLeader(step.endpoint, to.id);
        if (!result.ok && result.ambiguous) return { kind: 'unconfirmed', error: result.error };
        return {
          kind: 'done',
          records: [
            done(lock, result, `Moved the leadership from ${step.member.name} to ${to.name} ${took(result)}`),
          ],
        };
      }
      case 'Compact': {
        const result = await executor.compact(step.endpoint, step.revision);
        if (!result.ok && result.ambiguous) return { kind: 'unconfirmed', error: result.error };
        return {
          kind: 'done',
          records: [
            done(
              lock,
              result,
              `${capitalize(result.ok ? (result.detail ?? 'compacted') : '')} ${took(result)}`,
            ),
          ],
        };
      }
      case 'DisarmNoSpace': {
        const result = await executor.disarmNoSpace(step.endpoint, step.alarmMemberIds);
        if (!result.ok && result.ambiguous) return { kind: 'unconfirmed', error: result.error };
        const disarm = done(lock, result, `Disarmed the NOSPACE alarm ${took(result)}`);
        if (!result.ok) return { kind: 'done', records: [disarm] };
        const verifyStart = clock().toISOString();
        const verify = await executor.verifyWrite(step.endpoint);
        const verifyRecord: RemediationRecord = {
          action: 'VerifyWrite',
          phase: 'Running',
          reason: step.reason,
          startedAt: verifyStart,
        };
        return {
          kind: 'done',
          records: [disarm, done(verifyRecord, verify, `A write succeeded ${took(verify)}`)],
        };
      }
    }
  }

  /**
   * A write conditional on what the decision rested on: the spec (generation) and
   * status.remediation as read. A 409 says only that something in the object changed; when a fresh
   * read shows both unchanged, the change was someone else's elsewhere (another controller's
   * condition, our own health write), so the same write goes again on the fresh resourceVersion,
   * with the fresh conditions. Otherwise the 409 stands: read again next time. Without this, a
   * busy second writer of the status kept every lock write in a 409 loop.
   */
  private async patchOnBasis(
    context: StepContext,
    patchFor: (conditions: Condition[]) => StatusPatch,
  ): Promise<PatchOutcome> {
    const { key, request } = context;
    const generation = request.object.metadata.generation;
    let resourceVersion = context.resourceVersion;
    let conditions = request.object.status?.conditions ?? [];
    for (let attempt = 1; ; attempt++) {
      const written = await this.deps.store.patch(key, resourceVersion, patchFor(conditions));
      // Only a conflict may be someone else's change elsewhere; a refusal (no Lease) is final.
      if (written.ok || !written.conflict || attempt >= PERSIST_ATTEMPTS) return written;
      const fresh = await this.deps.store.get(key);
      if (
        !fresh ||
        fresh.metadata.generation !== generation ||
        !sameState(fresh.status?.remediation, context.state)
      )
        return written;
      request.log.debug(
        { attempt },
        'status changed elsewhere since it was read; writing on the fresh version',
      );
      resourceVersion = fresh.metadata.resourceVersion ?? '';
      conditions = fresh.status?.conditions ?? [];
    }
  }

  /**
   * Records finished steps. Conditional on the resourceVersion of our last write; on a conflict
   * the object is read again and the records applied only while our lock is still there (another
   * replica may have verified and finished the step meanwhile: its story wins). A store that
   * refuses the write (this replica lost its Lease) ends it at once: the lock stays for the leader.
   */
  private async persist(
    key: ObjectKey,
    resourceVersion: string,
    base: RemediationStatus | undefined,
    lock: RemediationRecord | undefined,
    records: RemediationRecord[],
    log: Logger,
  ): Promise<Persisted> {
    let version = resourceVersion;
    let current = base;
    for (let attempt = 0; attempt < PERSIST_ATTEMPTS; attempt++) {
      const next = withFinished(current, records);
      const written = await this.deps.store.patch(key, version, { remediation: toPatch(next) });
      if (written.ok) return { status: next, resourceVersion: written.resourceVersion, ours: true };
      if (!written.conflict) return { refused: written.refused };
      const fresh = await this.deps.store.get(key);
      const theirs = fresh?.status?.remediation;
      if (!fresh || !sameRecord(theirs?.current, lock)) {
        log.warn(
          { lock, current: theirs?.current },
          'the step was finished by someone else; keeping their record',
        );
        return {
          status: theirs,
          ...(fresh?.metadata.resourceVersion ? { resourceVersion: fresh.metadata.resourceVersion } : {}),
          ours: false,
        };
      }
      version = fresh.metadata.resourceVersion ?? '';
      current = theirs;
    }
    // The step ran and its lock stays: the next check verifies the member and finishes the record.
    throw new Error(
      `${key.namespace}/${key.name}: could not record ${records.map(describeRecord).join('; ')} after ${PERSIST_ATTEMPTS} conflicting writes`,
    );
  }

  private announce(request: RemediationRequest, record: RemediationRecord): void {
    const succeeded = record.phase === 'Succeeded';
    const note = capitalize(describeRecord(record));
    this.deps.events.record(
      request.object,
      succeeded ? 'Normal' : 'Warning',
      `${record.action}${succeeded ? 'Succeeded' : 'Failed'}`,
      note,
      record.action,
    );
    this.deps.metrics?.step(record.action, succeeded ? 'success' : 'failure');
  }

  private reportOnce(key: string, what: string, report: () => void): void {
    if (this.reported.get(key) === what) return;
    this.reported.set(key, what);
    report();
  }
}

/** Our records written (ours), or someone else's story kept, or nothing written (refused). */
type Persisted =
  { status: RemediationStatus | undefined; resourceVersion?: string; ours: boolean } | { refused: string };

interface StepContext {
  request: RemediationRequest;
  key: ObjectKey;
  resourceVersion: string;
  state: RemediationStatus | undefined;
  now: Date;
  executorOrError(): RemediationExecutor | string;
}

/** The same remediation state, whatever the key order or absent fields (JSON as stored). */
function sameState(a: RemediationStatus | undefined, b: RemediationStatus | undefined): boolean {
  const stored = (state: RemediationStatus | undefined): unknown =>
    state === undefined ? undefined : JSON.parse(JSON.stringify(state));
  return isDeepStrictEqual(stored(a), stored(b));
}

function settleMs(spec: EtcdHealthCheckSpec): number {
  return parseDurationMs(spec.remediation.settleTime);
}

function degradedMessageOf(state: RemediationStatus | undefined): string | undefined {
  const failures = state?.consecutiveFailures ?? 0;
  if (failures < MAX_CONSECUTIVE_FAILURES) return undefined;
  const last = state?.history?.at(-1);
  return `automated remediation stopped after ${failures} consecutive failed steps${last ? `; last: ${describeRecord(last)}` : ''}`;
}

/** After a step: the run goes on (Progressing) unless automation just stopped on failures. */
function runAfter(
  spec: EtcdHealthCheckSpec,
  status: RemediationStatus | undefined,
  message: string,
): RemediationRun {
  const degradedMessage = spec.remediation.mode === 'Automatic' ? degradedMessageOf(status) : undefined;
  if (degradedMessage)
    return { inProgress: false, blockedReason: `${message} (TooManyFailures)`, degradedMessage };
  return { inProgress: true, message };
}

function conflict(message: string): Carried {
  return { conflict: message };
}

function withDegraded(message: string | undefined): { degradedMessage?: string } {
  return message ? { degradedMessage: message } : {};
}

function emptyAnswers(question: Question): Answers {
  return question.kind === 'compaction' ? { compactionUseful: false } : { quotaBytes: {} };
}

async function ask(
  executor: RemediationExecutor,
  request: Question,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<Answers> {
  if (request.kind === 'compaction') {
    const answer = await executor.revisionAvailable(request.endpoint, request.revision, signal);
    if (!answer.ok) log.warn({ error: answer.error }, 'could not tell whether compaction is needed');
    return { compactionUseful: answer.ok && answer.value };
  }
  const quotaBytes: Record<string, number | undefined> = {};
  await Promise.all(
    request.members.map(async (member) => {
      const answer = await executor.quotaBytes(member.endpoint, signal);
      if (!answer.ok)
        log.warn({ member: member.name, error: answer.error }, 'could not read the backend quota');
      quotaBytes[member.name] = answer.ok ? answer.value : undefined;
    }),
  );
  return { quotaBytes };
}
