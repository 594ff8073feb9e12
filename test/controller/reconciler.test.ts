// Scenario tests of the reconciler with its Kubernetes and etcd edges replaced by recorders: what
// it reads, what it writes, which Events it sends, and when it asks to run again.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/resource.js';
import type { EtcdHealthCheckStatus } from '../../src/api/v1alpha1/status.js';
import { CredentialError, type ConfigReader } from '../../src/sources/credentials.js';
import { ReachPolicy } from '../../src/controller/reach.js';
import { EtcdHealthCheckReconciler, type ReconcilerDeps } from '../../src/controller/reconciler.js';
import type { ObserveRequest } from '../../src/controller/ports.js';
import { remediationConditions } from '../../src/health/conditions.js';
import type { RemediationOutcome, RemediationRequest } from '../../src/remediation/remediator.js';
import { EndpointPolicy } from '../../src/sources/etcd/endpoint-policy.js';
import type { Observation } from '../../src/health/observation.js';

const log = pino({ level: 'silent' });
const now = new Date('2026-11-21T10:00:00Z');

function healthyObservation(): Observation {
  const members = [1, 2, 3].map((i) => ({
    id: String(1000 + i),
    name: `member-${i}`,
    clientURLs: [`http://127.0.0.${i + 1}:2379`],
    peerURLs: [`http://127.0.0.${i + 1}:2380`],
    isLearner: false,
    endpoint: `http://127.0.0.${i + 1}:2379`,
    status: {
      memberId: String(1000 + i),
      leaderId: '1001',
      version: '3.6.8',
      dbSize: 20480,
      dbSizeInUse: 16384,
      raftTerm: '2',
      raftIndex: '10',
      isLearner: false,
      errors: [],
    },
    health: { healthy: true, tookMs: 3 },
  }));
  return {
    time: now,
    durationMs: 12,
    etcd: { source: { state: 'OK' }, memberListKnown: true, members, alarms: [], alarmsKnown: true },
    metrics: { source: { state: 'NotConfigured' }, members: {} },
  };
}

function checkObject(spec: Record<string, unknown>, status?: EtcdHealthCheckStatus): EtcdHealthCheck {
  return {
    apiVersion: 'etcdhealth.io/v1alpha1',
    kind: 'EtcdHealthCheck',
    metadata: { name: 'etcd', namespace: 'ops', generation: 3, uid: 'u1' },
    spec: spec as EtcdHealthCheck['spec'],
    ...(status ? { status } : {}),
  };
}

const validSpec = { etcd: { endpoints: ['http://127.0.0.2:2379'] }, interval: '30s' };

function scenario(
  object: EtcdHealthCheck | undefined,
  options: {
    failWrite?: boolean;
    secrets?: Record<string, Record<string, string>>;
    reach?: ReachPolicy;
    observation?: () => Observation;
    remediator?: ReconcilerDeps['remediator'];
    /** The status write answers 409 Conflict (the Reconciling mark goes through). */
    conflictWrite?: boolean;
  } = {},
) {
  const writes: EtcdHealthCheckStatus[] = [];
  /** The Reconciling marks written before the first check of a generation: patches of the conditions alone. */
  const marks: EtcdHealthCheckStatus[] = [];
  /** The resourceVersion precondition of each status write (undefined: none). */
  const preconditions: (string | undefined)[] = [];
  const events: { type: string; reason: string; note: string }[] = [];
  const observed: ObserveRequest[] = [];
  const forgotten: string[] = [];
  let stored = object;
  const reader: ConfigReader = {
    secretData: (ns, name) => Promise.resolve(options.secrets?.[`${ns}/${name}`]),
    configMapData: () => Promise.resolve(undefined),
  };
  const reconciler = new EtcdHealthCheckReconciler({
    get: (key) => (key === 'ops/etcd' ? stored : undefined),
    configReader: reader,
    observe: (request) => {
      observed.push(request);
      return Promise.resolve((options.observation ?? healthyObservation)());
    },
    status: {
      patch: (_key, resourceVersion, patch) => {
        if (options.failWrite) return Promise.reject(new Error('503 ServiceUnavailable'));
        if (Object.keys(patch).join() === 'conditions') {
          const mark = patch as EtcdHealthCheckStatus;
          marks.push(mark);
          if (stored) stored = { ...stored, status: { ...stored.status, ...mark } };
          return Promise.resolve({ ok: true, resourceVersion: `mark-${marks.length}` });
        }
        preconditions.push(resourceVersion);
        if (options.conflictWrite) return Promise.resolve({ ok: false, conflict: true });
        const status = patch as EtcdHealthCheckStatus;
        writes.push(status);
        // A JSON merge patch: fields left out keep their stored value.
        if (stored) stored = { ...stored, status: { ...stored.status, ...status } };
        return Promise.resolve({ ok: true, resourceVersion: String(writes.length) });
      },
    },
    events: { record: (_object, type, reason, note) => events.push({ type, reason, note }) },
    observer: { forgotten: (ns, name) => forgotten.push(`${ns}/${name}`) },
    policy: { relativeTolerance: 0.1, heartbeatMs: 300_000 },
    clock: () => now,
    random: () => 0.5,
    reach: options.reach,
    remediator: options.remediator,
  });
  return { reconciler, writes, marks, preconditions, events, observed, forgotten };
}

const conditionOf = (status: EtcdHealthCheckStatus | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type);

describe('EtcdHealthCheckReconciler', () => {
  it('writes a full status for a new check and asks to run again after the interval', async () => {
    const { reconciler, writes, observed } = scenario(checkObject(validSpec));
    const result = await reconciler.reconcile('ops/etcd', log);
    expect(observed).toHaveLength(1);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.observedGeneration).toBe(3);
    expect(conditionOf(writes[0], 'Available')?.status).toBe('True');
    expect(writes[0]!.summary?.members).toBe('3/3');
    expect(result).toMatchObject({ statusWritten: true, requeueAfterMs: 30_000 });
  });

  it('does not write or send Events when a second check finds the same', async () => {
    const { reconciler, writes, events } = scenario(checkObject(validSpec));
    await reconciler.reconcile('ops/etcd', log);
    const eventsAfterFirst = events.length;
    const second = await reconciler.reconcile('ops/etcd', log);
    expect(second.statusWritten).toBe(false);
    expect(writes).toHaveLength(1);
    expect(events).toHaveLength(eventsAfterFirst);
  });

  it("keeps another writer's condition in its write, and sends no Event about it", async () => {
    const foreign = {
      type: 'ExternalAudit',
      status: 'True' as const,
      reason: 'Audited',
      message: 'pass 7',
      lastTransitionTime: now.toISOString(),
      observedGeneration: 3,
    };
    const object = checkObject(validSpec);
    const { reconciler, writes, events } = scenario({ ...object, status: { conditions: [foreign] } });
    await reconciler.reconcile('ops/etcd', log);
    expect(writes).toHaveLength(1);
    expect(conditionOf(writes[0], 'Available')?.status).toBe('True');
    expect(conditionOf(writes[0], 'ExternalAudit')).toEqual(foreign);
    expect(events.map((event) => event.note).join('\n')).not.toContain('ExternalAudit');
  });

  it('gives the checks the members of the previous check as history: a learner that did not move is not catching up', async () => {
    // member-3 is a learner at raft index 10; the leader member-1 moves from 20 to 30.
    let leaderIndex = 20;
    const observation = () => {
      const o = healthyObservation();
      o.etcd.members[0]!.status!.raftIndex = String(leaderIndex);
      for (const member of o.etcd.members) member.status!.raftAppliedIndex = member.status!.raftIndex;
      const learner = o.etcd.members[2]!;
      learner.isLearner = true;
      learner.status = { ...learner.status!, isLearner: true };
      return o;
    };
    const { reconciler, writes } = scenario(checkObject(validSpec), { observation });
    await reconciler.reconcile('ops/etcd', log);
    expect(conditionOf(writes[0], 'ConsistencyDegraded')?.message).not.toContain('not catching up');
    leaderIndex = 30;
    await reconciler.reconcile('ops/etcd', log);
    // Beside the NoData of this fixture's missing cluster ID, so the message, not the reason.
    expect(conditionOf(writes[1], 'ConsistencyDegraded')?.message).toContain(
      'Learner member-3 is 20 raft entries behind the leader member-1, and not catching up',
    );
  });

  it('forgets a deleted check without writing', async () => {
    const { reconciler, writes, forgotten } = scenario(undefined);
    const result = await reconciler.reconcile('ops/etcd', log);
    expect(result).toEqual({ statusWritten: false, transitions: [] });
    expect(writes).toHaveLength(0);
    expect(forgotten).toEqual(['ops/etcd']);
  });

  it('reports an invalid spec as Degraded, without probing, and once', async () => {
    const { reconciler, writes, events, observed } = scenario(checkObject({ etcd: {}, interval: '5s' }));
    const result = await reconciler.reconcile('ops/etcd', log);
    expect(observed).toHaveLength(0);
    expect(result.requeueAfterMs).toBeUndefined();
    const degraded = conditionOf(writes[0], 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'Spec_InvalidSpec' });
    expect(degraded?.message).toMatch(
      /^SpecDegraded: The spec is invalid: .*exactly one of endpoints and discovery.*interval must be at least 10s/,
    );
    expect(conditionOf(writes[0], 'Available')).toMatchObject({ status: 'Unknown', reason: 'InvalidSpec' });
    expect(events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'SpecDegradedTrue' }),
      expect.objectContaining({ type: 'Warning', reason: 'DegradedTrue' }),
      expect.objectContaining({ type: 'Warning', reason: 'StalledTrue' }),
    ]);
    await reconciler.reconcile('ops/etcd', log);
    expect(writes).toHaveLength(1);
  });

  it('refuses a spec beyond the reach policy with a condition naming the flag, without probing', async () => {
    const reach = new ReachPolicy(['kube-system'], new EndpointPolicy(['10.0.0.0/8']));
    const discovering = checkObject({ etcd: { discovery: { namespace: 'tenant-a' } }, interval: '30s' });
    const refused = scenario(discovering, { reach });
    const result = await refused.reconciler.reconcile('ops/etcd', log);
    expect(refused.observed).toHaveLength(0);
    expect(result.requeueAfterMs).toBeUndefined();
    expect(conditionOf(refused.writes[0], 'SpecDegraded')).toMatchObject({
      status: 'True',
      reason: 'DiscoveryNamespaceNotAllowed',
      message: expect.stringContaining('--discovery-namespace=tenant-a'),
    });
    expect(conditionOf(refused.writes[0], 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'Spec_DiscoveryNamespaceNotAllowed',
    });
    expect(conditionOf(refused.writes[0], 'Available')).toMatchObject({
      status: 'Unknown',
      reason: 'DiscoveryNamespaceNotAllowed',
    });

    const outside = scenario(checkObject(validSpec), { reach });
    await outside.reconciler.reconcile('ops/etcd', log);
    expect(outside.observed).toHaveLength(0);
    expect(conditionOf(outside.writes[0], 'SpecDegraded')).toMatchObject({
      reason: 'EtcdEndpointNotAllowed',
      message: expect.stringContaining('--etcd-endpoint-cidr'),
    });

    for (const allowed of [
      checkObject({ etcd: { discovery: { namespace: 'kube-system' } }, interval: '30s' }),
      checkObject({ etcd: { discovery: { namespace: 'ops' } }, interval: '30s' }),
      checkObject({ etcd: { endpoints: ['https://10.1.2.3:2379'] }, interval: '30s' }),
    ]) {
      const run = scenario(allowed, { reach });
      await run.reconciler.reconcile('ops/etcd', log);
      expect(run.observed).toHaveLength(1);
    }
  });

  it('never writes the bearer token it sent, even when the source echoes it back', async () => {
    const token = 'sent-token-0123456789abcdef';
    const spec = {
      ...validSpec,
      prometheus: { url: 'http://prometheus:9090', bearerTokenSecretRef: { name: 'prom' } },
    };
    const { reconciler, writes, events } = scenario(checkObject(spec), {
      secrets: { 'ops/prom': { token } },
      observation: () => ({
        ...healthyObservation(),
        metrics: {
          source: { state: 'Error', message: `HTTP 401: unauthorized: {"authorization":"Bearer ${token}"}` },
          members: {},
        },
      }),
    });
    await reconciler.reconcile('ops/etcd', log);
    const written = JSON.stringify({ writes, events });
    expect(written).toContain('Bearer [redacted]');
    expect(written).not.toContain(token);
  });

  it('keeps the last status of a suspended check and does not probe', async () => {
    const previous = { observedGeneration: 2, summary: { members: '3/3' } } as EtcdHealthCheckStatus;
    const { reconciler, writes, observed } = scenario(checkObject({ ...validSpec, suspend: true }, previous));
    const result = await reconciler.reconcile('ops/etcd', log);
    expect(observed).toHaveLength(0);
    expect(result.requeueAfterMs).toBeUndefined();
    expect(writes).toEqual([{ ...previous, observedGeneration: 3, conditions: expect.any(Array) }]);
    // kstatus: not Reconciling (nothing is being done, on purpose) and not Stalled.
    expect(conditionOf(writes[0], 'Reconciling')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(conditionOf(writes[0], 'Stalled')).toMatchObject({ status: 'False' });
  });

  it('hands an unresolvable credential to the probe as an error, not an exception', async () => {
    const spec = { ...validSpec, etcd: { ...validSpec.etcd, tlsSecretRef: { name: 'etcd-client' } } };
    const { reconciler, observed } = scenario(checkObject(spec));
    await reconciler.reconcile('ops/etcd', log);
    expect(observed[0]!.etcdCredentials).toBeInstanceOf(CredentialError);
    expect((observed[0]!.etcdCredentials as CredentialError).message).toBe(
      'Secret ops/etcd-client (etcd TLS) not found',
    );
  });

  it("names the check's own namespace in the command that extracts its TLS Secret for etcdctl", async () => {
    const spec = {
      ...validSpec,
      etcd: { endpoints: ['https://127.0.0.2:2379'], tlsSecretRef: { name: 'etcd-client' } },
    };
    const https = (url: string) => url.replace('http://', 'https://');
    const { reconciler, writes } = scenario(checkObject(spec), {
      secrets: { 'ops/etcd-client': { 'ca.crt': 'CA', 'tls.crt': 'CERT', 'tls.key': 'KEY' } },
      observation: () => {
        const observation = healthyObservation();
        for (const member of observation.etcd.members) {
          member.endpoint = https(member.endpoint);
          member.clientURLs = member.clientURLs.map(https);
        }
        observation.etcd.alarms = [{ memberId: '1002', alarm: 'NOSPACE' }];
        return observation;
      },
    });
    await reconciler.reconcile('ops/etcd', log);
    const recovery = writes[0]!.recommendations?.find((r) => r.type === 'RecoverFromNoSpace');
    expect(recovery?.commands?.[0]).toMatch(
      /^\(umask 077 && mkdir -p etcd-client && kubectl -n ops get secret etcd-client -o jsonpath=/,
    );
    expect(recovery?.commands?.[1]).toContain(
      '--cacert=etcd-client/ca.crt --cert=etcd-client/tls.crt --key=etcd-client/tls.key',
    );
  });

  it('hands the signal of the reconcile to the observation', async () => {
    const { reconciler, observed } = scenario(checkObject(validSpec));
    const abort = new AbortController();
    await reconciler.reconcile('ops/etcd', log, abort.signal);
    expect(observed[0]!.signal).toBe(abort.signal);
  });

  it("writes the remediator's conditions but never status.remediation, after the remediator's own write", async () => {
    const history = [{ action: 'Defragment' as const, phase: 'Succeeded' as const, startedAt: 'earlier' }];
    const spec = { ...validSpec, remediation: { mode: 'Automatic' } };
    const requests: RemediationRequest[] = [];
    const remediator = fakeRemediator(requests, (request) => {
      const run = { inProgress: true, message: 'defragment member-2' };
      return {
        run,
        conditions: remediationConditions(request.spec, run),
        resourceVersion: '42',
        requeueAfterMs: 3_500,
      };
    });
    const { reconciler, writes, preconditions } = scenario(checkObject(spec, { remediation: { history } }), {
      remediator,
    });
    const result = await reconciler.reconcile('ops/etcd', log);
    // The remediator planned on the reconciler's one assessment of the observation.
    expect(requests[0]!.assessment.view.members.map((m) => m.name)).toEqual([
      'member-1',
      'member-2',
      'member-3',
    ]);
    expect(writes).toHaveLength(1);
    expect(writes[0]).not.toHaveProperty('remediation');
    expect(preconditions).toEqual(['42']);
    expect(conditionOf(writes[0], 'Progressing')).toMatchObject({
      status: 'True',
      message: 'RemediationProgressing: Defragment member-2',
    });
    expect(result.requeueAfterMs).toBe(3_500);
  });

  it('treats a conflict in the remediation as "not yet": a short requeue, no write, no error', async () => {
    const remediator = fakeRemediator([], () => ({
      conflict: 'ops/etcd changed since it was read',
      conditions: [],
    }));
    const { reconciler, writes, events } = scenario(checkObject(validSpec), { remediator });
    const result = await reconciler.reconcile('ops/etcd', log);
    expect(result).toEqual({ requeueAfterMs: 1_500, statusWritten: false, transitions: [] });
    expect(writes).toEqual([]);
    expect(events).toEqual([]);
  });

  it('treats a conflicting status write as "not yet" and sends no Event', async () => {
    const remediator = fakeRemediator([], (request) => ({
      conditions: remediationConditions(request.spec, undefined),
      resourceVersion: '42',
    }));
    const { reconciler, preconditions, events } = scenario(checkObject(validSpec), {
      remediator,
      conflictWrite: true,
    });
    const result = await reconciler.reconcile('ops/etcd', log);
    expect(preconditions).toEqual(['42']);
    expect(result).toEqual({ requeueAfterMs: 1_500, statusWritten: false, transitions: [] });
    expect(events).toEqual([]);
  });

  it('never carries status.remediation in the write of a suspended or invalid check', async () => {
    const remediation = { consecutiveFailures: 2 };
    for (const spec of [{ ...validSpec, suspend: true }, { etcd: {} }]) {
      const { reconciler, writes } = scenario(checkObject(spec, { observedGeneration: 2, remediation }));
      await reconciler.reconcile('ops/etcd', log);
      expect(writes).toHaveLength(1);
      expect(writes[0]).not.toHaveProperty('remediation');
    }
  });

  describe('kstatus (Reconciling, Stalled, observedGeneration)', () => {
    it('marks a new check Reconciling before observing it, then writes Reconciling=False with observedGeneration', async () => {
      const requests: RemediationRequest[] = [];
      const remediator = fakeRemediator(requests, (request) => ({
        conditions: remediationConditions(request.spec, undefined),
      }));
      const scene = scenario(checkObject(validSpec), { remediator });
      const marksWhenObserved: number[] = [];
      const observe = scene.observed.push.bind(scene.observed);
      scene.observed.push = (...requests) => {
        marksWhenObserved.push(scene.marks.length);
        return observe(...requests);
      };
      await scene.reconciler.reconcile('ops/etcd', log);
      expect(marksWhenObserved).toEqual([1]);
      // The mark leaves status.observedGeneration alone: that is the last generation checked.
      expect(scene.marks[0]!.observedGeneration).toBeUndefined();
      expect(conditionOf(scene.marks[0], 'Reconciling')).toMatchObject({
        status: 'True',
        reason: 'NewGeneration',
        observedGeneration: 3,
      });
      expect(conditionOf(scene.marks[0], 'Stalled')).toMatchObject({ status: 'False' });
      // The remediator's preconditions start from the mark's resourceVersion, not the cache's.
      expect(requests[0]!.object.metadata.resourceVersion).toBe('mark-1');
      expect(scene.writes[0]!.observedGeneration).toBe(3);
      expect(conditionOf(scene.writes[0], 'Reconciling')).toMatchObject({
        status: 'False',
        reason: 'AsExpected',
        observedGeneration: 3,
      });
      expect(conditionOf(scene.writes[0], 'Stalled')).toMatchObject({
        status: 'False',
        observedGeneration: 3,
      });
      // Neither flip is an Event.
      expect(scene.events.map((event) => event.reason)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(Reconciling|Stalled)/)]),
      );

      await scene.reconciler.reconcile('ops/etcd', log);
      expect(scene.marks).toHaveLength(1);
    });

    it('marks a generation once, even when its first check is retried', async () => {
      const remediator = fakeRemediator([], () => ({ conflict: 'changed', conditions: [] }));
      const scene = scenario(checkObject(validSpec), { remediator });
      await scene.reconciler.reconcile('ops/etcd', log);
      await scene.reconciler.reconcile('ops/etcd', log);
      expect(scene.observed).toHaveLength(2);
      expect(scene.marks).toHaveLength(1);
      expect(scene.writes).toHaveLength(0);
    });

    it('does not mark a generation that was already checked', async () => {
      const scene = scenario(checkObject(validSpec, { observedGeneration: 3 }));
      await scene.reconciler.reconcile('ops/etcd', log);
      expect(scene.marks).toHaveLength(0);
      expect(conditionOf(scene.writes[0], 'Reconciling')?.status).toBe('False');
    });

    it('an invalid spec is Stalled with the reasons; the fixed spec is checked and no longer Stalled', async () => {
      const invalid = checkObject({ etcd: {}, interval: '5s' });
      const scene = scenario(invalid);
      await scene.reconciler.reconcile('ops/etcd', log);
      expect(scene.marks).toHaveLength(0);
      expect(scene.writes[0]!.observedGeneration).toBe(3);
      expect(conditionOf(scene.writes[0], 'Stalled')).toMatchObject({
        status: 'True',
        reason: 'InvalidSpec',
        message: expect.stringMatching(/^The spec is invalid: .*exactly one of endpoints and discovery/),
        observedGeneration: 3,
      });
      expect(conditionOf(scene.writes[0], 'Reconciling')).toMatchObject({
        status: 'False',
        reason: 'Stalled',
      });

      const stalled = scene.writes[0]!;
      const fixed = scenario({
        ...checkObject(validSpec, stalled),
        metadata: { ...invalid.metadata, generation: 4 },
      });
      await fixed.reconciler.reconcile('ops/etcd', log);
      expect(conditionOf(fixed.marks[0], 'Reconciling')).toMatchObject({
        status: 'True',
        observedGeneration: 4,
      });
      expect(conditionOf(fixed.marks[0], 'Stalled')).toMatchObject({
        status: 'False',
        observedGeneration: 4,
      });
      expect(fixed.writes[0]!.observedGeneration).toBe(4);
      expect(conditionOf(fixed.writes[0], 'Reconciling')).toMatchObject({
        status: 'False',
        observedGeneration: 4,
      });
      expect(conditionOf(fixed.writes[0], 'Stalled')).toMatchObject({
        status: 'False',
        observedGeneration: 4,
      });
      expect(fixed.events).toContainEqual(
        expect.objectContaining({ type: 'Normal', reason: 'StalledFalse' }),
      );
    });

    it('missing etcd credentials are Stalled until the Secret exists', async () => {
      const spec = { ...validSpec, etcd: { ...validSpec.etcd, tlsSecretRef: { name: 'etcd-client' } } };
      const secrets: Record<string, Record<string, string>> = {};
      const scene = scenario(checkObject(spec), { secrets });
      await scene.reconciler.reconcile('ops/etcd', log);
      expect(conditionOf(scene.writes[0], 'Stalled')).toMatchObject({
        status: 'True',
        reason: 'SecretNotFound',
        message: 'The etcd credentials cannot be used: Secret ops/etcd-client (etcd TLS) not found',
      });
      secrets['ops/etcd-client'] = { 'ca.crt': 'CA', 'tls.crt': 'CERT', 'tls.key': 'KEY' };
      await scene.reconciler.reconcile('ops/etcd', log);
      expect(conditionOf(scene.writes.at(-1), 'Stalled')).toMatchObject({ status: 'False' });
    });
  });

  it('fails the reconcile when the status write fails, and sends no Event for it', async () => {
    const { reconciler, events } = scenario(checkObject({ etcd: {} }), { failWrite: true });
    await expect(reconciler.reconcile('ops/etcd', log)).rejects.toThrow('503 ServiceUnavailable');
    expect(events).toHaveLength(0);
  });
});

function fakeRemediator(
  requests: RemediationRequest[],
  answer: (request: RemediationRequest) => RemediationOutcome,
): NonNullable<ReconcilerDeps['remediator']> {
  return {
    reconcile: (request) => {
      requests.push(request);
      return Promise.resolve(answer(request));
    },
    forget: () => undefined,
  };
}
