// Automated remediation, one step per reconcile: plan (pure) -> take the lock in the CR status
// (optimistic concurrency) -> call etcd -> record the outcome in the status -> Events and metrics.
// The reconciler calls it between observing and the analysis; the outcome feeds the analysis
// (Progressing, RemediationDegraded) and the status it writes.
import type { Logger } from 'pino';
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import type { Condition, RemediationRecord, RemediationStatus } from '../api/v1alpha1/status.js';
import { formatBytes, parseDurationMs } from '../api/v1alpha1/units.js';
import { CredentialError, type EtcdCredentials } from '../sources/credentials.js';
import type { EventSink } from '../runtime/events.js';
import { runChecks } from '../health/checks/index.js';
import { buildClusterView } from '../health/cluster.js';
import type { RemediationInput } from '../health/conditions.js';
import type { Observation } from '../health/observation.js';
import { capitalize } from '../health/text.js';
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
import type { ObjectKey, RemediationStatusStore } from './status-store.js';

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
  store: RemediationStatusStore;
  events: EventSink<EtcdHealthCheck>;
  metrics?: RemediationMetrics;
  clock?: () => Date;
  /** A Running step whose member has not answered again after this long is failed (default 10m). */
  runningDeadlineMs?: number;
  defragTimeoutMs?: number;
}

export interface RemediationRequest {
  object: EtcdHealthCheck;
  spec: EtcdHealthCheckSpec;
  observation: Observation;
  etcdCredentials: EtcdCredentials | CredentialError | undefined;
  /** The condition list the status would get with this remediation input (for the lock write). */
  conditionsFor(input: RemediationInput): Condition[];
  log: Logger;
}

export interface RemediationOutcome {
  /** For the analysis; undefined in mode Recommend. */
  input?: RemediationInput;
  /** status.remediation as persisted now. */
  status?: RemediationStatus;
  /** Look again this soon (the next step after the settle time). */
  requeueAfterMs?: number;
}

/** Someone else changed the object since it was read: nothing was done; requeue and read again. */
export class RemediationConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemediationConflictError';
  }
}

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
  'NotFaultTolerant',
  'NoLeader',
]);
/** Normal waits inside a run: no Event. */
const QUIET_DEFERRALS = new Set<DeferReason>(['Settling', 'AwaitingMember']);

const PERSIST_ATTEMPTS = 4;
/** How long our own last write may be missing from the watch cache before another writer's state wins. */
const CACHE_GRACE_MS = 30_000;

export class Remediator {
  private readonly clock: () => Date;
  /** The last deferral or dry-run reported per CR, so that Events are sent only on a change. */
  private readonly reported = new Map<string, string>();
  /**
   * The last remediation state this process wrote per CR. The reconciler's own status write carries
   * status.remediation without a precondition, so planning from a watch cache that has not yet
   * seen our last write could write an older history back: until the cache shows our write (or a
   * short grace passed, after which another writer's state wins), the reconcile is requeued.
   */
  private readonly written = new Map<string, { state: RemediationStatus | undefined; at: number }>();

  constructor(private readonly deps: RemediatorDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async reconcile(request: RemediationRequest): Promise<RemediationOutcome> {
    const { object, spec, observation, log } = request;
    const key = { namespace: object.metadata.namespace, name: object.metadata.name };
    const now = this.clock();
    let state = object.status?.remediation;
    let resourceVersion = object.metadata.resourceVersion ?? '';
    const mine = this.written.get(`${key.namespace}/${key.name}`);
    if (mine) {
      if (!cacheShows(state, mine.state) && now.getTime() - mine.at < CACHE_GRACE_MS) {
        throw new RemediationConflictError(
          `the cache of ${key.namespace}/${key.name} has not seen the last remediation write yet`,
        );
      }
      this.written.delete(`${key.namespace}/${key.name}`);
    }

    // The kill switch also clears the failure streak: pause, fix, unpause retries.
    if (
      spec.remediation.paused &&
      (state?.consecutiveFailures ?? 0) > 0 &&
      state?.current?.phase !== 'Running'
    ) {
      const reset: RemediationStatus = { ...state, consecutiveFailures: 0 };
      const written = await this.deps.store.patch(key, resourceVersion, { remediation: toPatch(reset) });
      if (!written.ok)
        throw new RemediationConflictError(
          `${key.namespace}/${key.name} changed while its failure count was reset`,
        );
      state = reset;
      resourceVersion = written.resourceVersion;
      this.remember(key, reset);
      log.info('remediation paused: failure count reset');
    }

    const view = buildClusterView(observation, spec);
    const findings = runChecks(view);
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
            : await ask(asking, decision.question, log);
        decision = plan({ ...planInput, answers });
      }
      const outcome = await this.carryOut(decision, {
        request,
        key,
        resourceVersion,
        state,
        now,
        executorOrError,
      });
      const running = outcome.input?.inProgress ?? false;
      this.deps.metrics?.inProgress(key.namespace, key.name, running);
      return outcome;
    } finally {
      executor?.close();
    }
  }

  /** Forgets what was reported for a deleted CR. */
  forget(namespace: string, name: string): void {
    this.reported.delete(`${namespace}/${name}`);
    this.written.delete(`${namespace}/${name}`);
  }

  private async carryOut(decision: Decision, context: StepContext): Promise<RemediationOutcome> {
    const { request, key, state } = context;
    const { spec } = request;
    const automatic = spec.remediation.mode === 'Automatic';
    const degradedMessage = automatic ? degradedMessageOf(state) : undefined;
    const reportKey = `${key.namespace}/${key.name}`;
    switch (decision.kind) {
      case 'Idle':
        this.reported.delete(reportKey);
        return automatic
          ? { status: state, input: { inProgress: false, ...withDegraded(degradedMessage) } }
          : { status: state };
      case 'Ask':
        // Only when a question could not be answered; plan() answers every question otherwise.
        return { status: state, input: { inProgress: false, ...withDegraded(degradedMessage) } };
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
        const input: RemediationInput = decision.inProgress
          ? { inProgress: true, message: decision.message }
          : decision.reason === 'Paused'
            ? { inProgress: false }
            : { inProgress: false, blockedReason: `${decision.message} (${decision.reason})` };
        return {
          status: state,
          input: automatic ? { ...input, ...withDegraded(degradedMessage) } : undefined,
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
          input: { inProgress: false, blockedReason: decision.message, ...withDegraded(degradedMessage) },
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
  private async finishInterrupted(
    record: RemediationRecord,
    context: StepContext,
  ): Promise<RemediationOutcome> {
    const { request, key, state, now } = context;
    const finished: RemediationRecord = { ...record, finishedAt: now.toISOString() };
    const status = await this.persist(
      key,
      context.resourceVersion,
      state,
      state?.current,
      [finished],
      request.log,
    );
    this.remember(key, status);
    this.announce(request, finished);
    request.log.info({ record: finished }, 'finished an interrupted remediation step');
    return {
      status,
      input:
        request.spec.remediation.mode === 'Automatic'
          ? this.runInput(request.spec, status, describeRecord(finished))
          : undefined,
      requeueAfterMs: settleMs(request.spec) + 500,
    };
  }

  private async act(step: Step, context: StepContext): Promise<RemediationOutcome> {
    const { request, key, state, now } = context;
    const { object, log } = request;
    const executor = context.executorOrError();
    if (typeof executor === 'string') {
      return {
        status: state,
        input: { inProgress: false, blockedReason: `${step.summary} is not possible: ${executor}` },
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
    // The lock goes to the API before anything goes to etcd; a 409 means someone else acted (or
    // the spec changed, e.g. paused): do nothing, requeue, read again.
    const taken = await this.deps.store.patch(key, context.resourceVersion, {
      remediation: toPatch(locked),
      conditions: request.conditionsFor({
        inProgress: true,
        message: step.summary,
        ...withDegraded(degradedMessageOf(state)),
      }),
    });
    if (!taken.ok) {
      throw new RemediationConflictError(
        `${key.namespace}/${key.name} changed since it was read; not starting: ${step.summary}`,
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

    const outcome = await this.execute(executor, step, lock, this.clock);
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
      this.remember(key, locked);
      return {
        status: locked,
        input: { inProgress: true, message: `${step.summary}: waiting for confirmation` },
        requeueAfterMs: 5_000,
      };
    }
    const status = await this.persist(key, taken.resourceVersion, locked, lock, outcome.records, log);
    this.remember(key, status);
    for (const record of outcome.records) this.announce(request, record);
    log.info({ records: outcome.records }, 'remediation step finished');
    const last = outcome.records.at(-1)!;
    return {
      status,
      input: this.runInput(request.spec, status, describeRecord(last)),
      requeueAfterMs: settleMs(request.spec) + 500,
    };
  }

  /** After a step: the run goes on (Progressing) unless automation just stopped on failures. */
  private runInput(
    spec: EtcdHealthCheckSpec,
    status: RemediationStatus | undefined,
    message: string,
  ): RemediationInput {
    const degradedMessage = spec.remediation.mode === 'Automatic' ? degradedMessageOf(status) : undefined;
    if (degradedMessage)
      return { inProgress: false, blockedReason: `${message} (TooManyFailures)`, degradedMessage };
    return { inProgress: true, message };
  }

  private async execute(
    executor: RemediationExecutor,
    step: Step,
    lock: RemediationRecord,
    clock: () => Date,
  ): Promise<{ kind: 'done'; records: RemediationRecord[] } | { kind: 'unconfirmed'; error: string }> {
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
        const size = await executor.dbSize(step.endpoint);
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
      case 'VerifyWrite': {
        const result = await executor.verifyWrite(step.endpoint);
        return { kind: 'done', records: [done(lock, result, `A write succeeded ${took(result)}`)] };
      }
    }
  }

  /**
   * Records finished steps. Conditional on the resourceVersion of our last write; on a conflict
   * the object is read again and the records applied only while our lock is still there (another
   * replica may have verified and finished the step meanwhile: its story wins).
   */
  private async persist(
    key: ObjectKey,
    resourceVersion: string,
    base: RemediationStatus | undefined,
    lock: RemediationRecord | undefined,
    records: RemediationRecord[],
    log: Logger,
  ): Promise<RemediationStatus | undefined> {
    let version = resourceVersion;
    let current = base;
    for (let attempt = 0; attempt < PERSIST_ATTEMPTS; attempt++) {
      const next = withFinished(current, records);
      const written = await this.deps.store.patch(key, version, { remediation: toPatch(next) });
      if (written.ok) return next;
      const fresh = await this.deps.store.get(key);
      const theirs = fresh?.status?.remediation;
      if (!fresh || !sameRecord(theirs?.current, lock)) {
        log.warn(
          { lock, current: theirs?.current },
          'the step was finished by someone else; keeping their record',
        );
        return theirs;
      }
      version = fresh.metadata.resourceVersion ?? '';
      current = theirs;
    }
    throw new RemediationConflictError(
      `${key.namespace}/${key.name}: could not record ${records.map(describeRecord).join('; ')}`,
    );
  }

  private remember(key: ObjectKey, state: RemediationStatus | undefined): void {
    this.written.set(`${key.namespace}/${key.name}`, { state, at: this.clock().getTime() });
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

interface StepContext {
  request: RemediationRequest;
  key: ObjectKey;
  resourceVersion: string;
  state: RemediationStatus | undefined;
  now: Date;
  executorOrError(): RemediationExecutor | string;
}

/** Whether the cached state already contains what we wrote last (our lock, our last record, the count). */
function cacheShows(cached: RemediationStatus | undefined, mine: RemediationStatus | undefined): boolean {
  if (mine === undefined) return true;
  const last = mine.history?.at(-1);
  const lockSeen = mine.current === undefined || sameRecord(cached?.current, mine.current);
  const recordSeen =
    last === undefined ||
    (cached?.history ?? []).some(
      (r) => sameRecord(r, last) && r.phase === last.phase && r.finishedAt === last.finishedAt,
    );
  return lockSeen && recordSeen && (cached?.consecutiveFailures ?? 0) === (mine.consecutiveFailures ?? 0);
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

function withDegraded(message: string | undefined): { degradedMessage?: string } {
  return message ? { degradedMessage: message } : {};
}

function emptyAnswers(question: Question): Answers {
  return question.kind === 'compaction' ? { compactionUseful: false } : { quotaBytes: {} };
}

async function ask(executor: RemediationExecutor, request: Question, log: Logger): Promise<Answers> {
  if (request.kind === 'compaction') {
    const answer = await executor.revisionAvailable(request.endpoint, request.revision);
    if (!answer.ok) log.warn({ error: answer.error }, 'could not tell whether compaction is needed');
    return { compactionUseful: answer.ok && answer.value };
  }
  const quotaBytes: Record<string, number | undefined> = {};
  await Promise.all(
    request.members.map(async (member) => {
      const answer = await executor.quotaBytes(member.endpoint);
      if (!answer.ok)
        log.warn({ member: member.name, error: answer.error }, 'could not read the backend quota');
      quotaBytes[member.name] = answer.ok ? answer.value : undefined;
    }),
  );
  return { quotaBytes };
}
