import { describe, expect, it } from '@jest/globals';
import { ApiException, V1MicroTime } from '@kubernetes/client-node';
import type { EventsV1Api, EventsV1Event } from '@kubernetes/client-node';
import { EventRecorder } from '../../src/runtime/events.js';
import type { EventInput } from '../../src/runtime/events.js';
import { RecordingLogger } from './helpers.js';

type CreateParams = Parameters<EventsV1Api['createNamespacedEvent']>;

class FakeEventsApi {
  readonly created: Array<{ namespace: string; body: EventsV1Event; options: CreateParams[1] }> = [];
  failWith: Error | undefined;

  createNamespacedEvent(...[param, options]: CreateParams): Promise<EventsV1Event> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.created.push({ namespace: param.namespace, body: param.body, options });
    return Promise.resolve(param.body);
  }
}

function setup(): {
  api: FakeEventsApi;
  recorder: EventRecorder;
  log: RecordingLogger;
  clock: { now: number };
} {
  const api = new FakeEventsApi();
  const log = new RecordingLogger();
  const clock = { now: 0 };
  const recorder = new EventRecorder({
    events: api,
    reportingInstance: 'etcd-health-operator-7d9f-abcde',
    clock: { now: () => clock.now },
    log,
  });
  return { api, recorder, log, clock };
}

const QUORUM_LOST: EventInput = {
  regarding: {
    apiVersion: 'etcdhealth.io/v1alpha1',
    kind: 'EtcdHealthCheck',
    name: 'main',
    namespace: 'ops',
    uid: 'u-1',
  },
  type: 'Warning',
  reason: 'QuorumLost',
  action: 'Probe',
  note: '1 of 3 members are available',
};

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event with MicroTime eventTime and no deprecated fields', async () => {
    const { api, recorder } = setup();

    expect(await recorder.record(QUORUM_LOST)).toBe('sent');

    const { namespace, body, options } = api.created[0]!;
    expect(namespace).toBe('ops');
    expect(body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: expect.stringMatching(/^main\.[0-9a-f]{16}$/), namespace: 'ops' },
      reportingController: 'etcdhealth.io/etcd-health-operator',
      reportingInstance: 'etcd-health-operator-7d9f-abcde',
      regarding: QUORUM_LOST.regarding,
      type: 'Warning',
      reason: 'QuorumLost',
      action: 'Probe',
      note: '1 of 3 members are available',
    });
    expect(body.eventTime).toBeInstanceOf(V1MicroTime);
    expect(JSON.stringify(body.eventTime)).toMatch(/\.\d{6}Z"$/);
    expect(Object.keys(body).filter((k) => k.startsWith('deprecated') || k === 'series')).toEqual([]);
    expect(options?.middleware).toHaveLength(1); // the request deadline
  });

  it('drops an identical event within the window and sends it again afterwards', async () => {
    const { api, recorder, clock } = setup();

    expect(await recorder.record(QUORUM_LOST)).toBe('sent');
    clock.now = 599_000;
    expect(await recorder.record(QUORUM_LOST)).toBe('duplicate');
    expect(await recorder.record({ ...QUORUM_LOST, note: '0 of 3 members are available' })).toBe('sent');
    clock.now = 600_001;
    expect(await recorder.record(QUORUM_LOST)).toBe('sent');

    expect(api.created).toHaveLength(3);
  });

  it('sends only one of two identical events recorded at the same time', async () => {
    const { api, recorder } = setup();

    const outcomes = await Promise.all([recorder.record(QUORUM_LOST), recorder.record(QUORUM_LOST)]);

    expect(outcomes.sort()).toEqual(['duplicate', 'sent']);
    expect(api.created).toHaveLength(1);
  });

  it('never throws: a failed create is logged and may be retried', async () => {
    const { api, recorder, log } = setup();
    api.failWith = new ApiException(
      403,
      'Forbidden',
      '{"kind":"Status","reason":"Forbidden","message":"no RBAC","code":403}',
      {},
    );

    expect(await recorder.record(QUORUM_LOST)).toBe('failed');
    expect(log.entries[0]).toMatchObject({
      level: 'warn',
      message: 'could not record event',
      fields: { reason: 'QuorumLost', object: 'EtcdHealthCheck ops/main', error: '403 Forbidden: no RBAC' },
    });

    api.failWith = undefined;
    expect(await recorder.record(QUORUM_LOST)).toBe('sent');
  });

  it('cuts the note to 1024 bytes without splitting a character, and files cluster-scoped objects under default', async () => {
    const { api, recorder } = setup();
    const note = 'é'.repeat(600); // 1200 bytes

    await recorder.record({
      ...QUORUM_LOST,
      regarding: { apiVersion: 'v1', kind: 'Node', name: 'n1' },
      note,
    });

    const { namespace, body } = api.created[0]!;
    expect(namespace).toBe('default');
    expect(body.note).toBe('é'.repeat(512));
  });
});
