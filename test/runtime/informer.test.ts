import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { JitteredBackoff } from '../../src/runtime/backoff.js';
import { Informer, keyOf } from '../../src/runtime/informer.js';
import type { ReflectorListener, ReflectorOptions, WatchEndReason } from '../../src/runtime/reflector.js';
import { collectionPath, customResourceSource } from '../../src/runtime/resources.js';
import { EXPIRED, FakeApiServer, statusBody } from './fake-apiserver.js';
import { eventually, RecordingLogger } from './helpers.js';

jest.setTimeout(60_000);

interface Check {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string; managedFields?: unknown[] };
}

const REF = { group: 'etcdhealth.io', version: 'v1alpha1', plural: 'etcdhealthchecks', namespace: 'ops' };

function check(name: string, resourceVersion: string): Check {
  return {
    apiVersion: 'etcdhealth.io/v1alpha1',
    kind: 'EtcdHealthCheck',
    metadata: { name, namespace: 'ops', resourceVersion },
  };
}

/** Records the delays the reflector asked for. */
class RecordingBackoff extends JitteredBackoff {
  readonly delays: number[] = [];
  override next(): number {
    const delay = super.next();
    this.delays.push(delay);
    return delay;
  }
}

class CountingListener implements ReflectorListener {
  readonly lists: Array<'ok' | 'error'> = [];
  readonly watchEnds: WatchEndReason[] = [];
  listed(outcome: 'ok' | 'error'): void {
    this.lists.push(outcome);
  }
  watchEnded(reason: WatchEndReason): void {
    this.watchEnds.push(reason);
  }
}

interface Harness {
  server: FakeApiServer;
  informer: Informer<Check>;
  log: RecordingLogger;
  listener: CountingListener;
  /** What the handlers saw, e.g. `add ops/a@1`, `update ops/b@1->5`, `delete ops/c`. */
  seen: string[];
}

const running: Harness[] = [];

afterEach(async () => {
  for (const { informer, server } of running.splice(0)) {
    await informer.stop();
    await server.close();
  }
});

async function startInformer(
  objects: Check[],
  options: Partial<ReflectorOptions<Check>> = {},
  prepare: (server: FakeApiServer) => void = () => {},
): Promise<Harness> {
  const server = await FakeApiServer.start(collectionPath(REF));
  server.objects = objects;
  prepare(server);
  const kubeConfig = server.kubeConfig();
  const log = new RecordingLogger();
  const listener = new CountingListener();
  const informer = new Informer<Check>({
    kubeConfig,
    ...customResourceSource<Check>(kubeConfig, REF),
    log,
    listener,
    backoff: new JitteredBackoff({ initialMs: 20, maxMs: 100 }),
    ...options,
  });
  const seen: string[] = [];
  informer.addHandlers({
    add: (o) => seen.push(`add ${keyOf(o)}@${o.metadata.resourceVersion}`),
    update: (old, o) =>
      seen.push(`update ${keyOf(o)}@${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`),
    delete: (o) => seen.push(`delete ${keyOf(o)}`),
  });
  const harness = { server, informer, log, listener, seen };
  running.push(harness);
  informer.start();
  return harness;
}

async function openWatch(server: FakeApiServer, index: number): Promise<void> {
  await eventually(() => server.watches.length > index);
}

describe('Informer against a fake API server', () => {
  it('lists, then watches from the list resourceVersion with bookmarks, a 5–10 minute timeout and the selectors', async () => {
    const { server, informer, seen } = await startInformer([check('a', '1'), check('b', '2')], {
      labelSelector: 'app=etcd',
      fieldSelector: 'metadata.name!=skip',
    });

    expect(await informer.waitForSync(15_000)).toBe(true);
    expect(seen).toEqual(['add ops/a@1', 'add ops/b@2']);
    expect(informer.get('ops/a')?.metadata.resourceVersion).toBe('1');
    expect(informer.list().map(keyOf)).toEqual(['ops/a', 'ops/b']);

    const listQuery = server.lists()[0]!.query;
    expect(listQuery.get('labelSelector')).toBe('app=etcd');
    expect(listQuery.get('fieldSelector')).toBe('metadata.name!=skip');
    // client-go's pager: 500 per page.
    expect(listQuery.get('limit')).toBe('500');
    expect(listQuery.has('continue')).toBe(false);

    await openWatch(server, 0);
    const watchQuery = server.watches[0]!.request.query;
    expect(watchQuery.get('resourceVersion')).toBe('10');
    expect(watchQuery.get('allowWatchBookmarks')).toBe('true');
    const timeoutSeconds = Number(watchQuery.get('timeoutSeconds'));
    expect(timeoutSeconds).toBeGreaterThanOrEqual(300);
    expect(timeoutSeconds).toBeLessThan(600);
    expect(watchQuery.get('labelSelector')).toBe('app=etcd');
    expect(watchQuery.get('fieldSelector')).toBe('metadata.name!=skip');
  });

  it('applies ADDED, MODIFIED and DELETED events to the cache and the handlers', async () => {
    const { server, informer, seen } = await startInformer([check('a', '1')]);
    await openWatch(server, 0);
    const watch = server.watches[0]!;

    watch.send('ADDED', check('b', '11'));
    watch.send('MODIFIED', check('a', '12'));
    watch.send('DELETED', check('b', '13'));

    await eventually(() => seen.length === 4);
    expect(seen).toEqual(['add ops/a@1', 'add ops/b@11', 'update ops/a@1->12', 'delete ops/b']);
    expect(informer.list().map(keyOf)).toEqual(['ops/a']);
    expect(informer.lastSyncResourceVersion()).toBe('13');
  });

  it('caches objects without managedFields, from the LIST and from the watch', async () => {
    const managed = (name: string, rv: string): Check => ({
      ...check(name, rv),
      metadata: { ...check(name, rv).metadata, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
    });
    const { server, informer } = await startInformer([managed('a', '1')]);
    await openWatch(server, 0);
    server.watches[0]!.send('ADDED', managed('b', '11'));
    await eventually(() => informer.list().length === 2);
    for (const object of informer.list()) {
      expect(object.metadata).not.toHaveProperty('managedFields');
      expect(object.metadata.namespace).toBe('ops');
    }
  });

  it('replays the cache as adds to handlers registered after the sync', async () => {
    const { informer } = await startInformer([check('a', '1'), check('b', '2')]);
    expect(await informer.waitForSync(15_000)).toBe(true);

    const late: string[] = [];
    informer.addHandlers({ add: (o) => late.push(keyOf(o)) });

    expect(late).toEqual(['ops/a', 'ops/b']);
  });

  it('resumes from a BOOKMARK resourceVersion after the server closes the watch, without relisting', async () => {
    const { server, informer, listener } = await startInformer([check('a', '1')]);
    await openWatch(server, 0);

    server.watches[0]!.send('BOOKMARK', { kind: 'EtcdHealthCheck', metadata: { resourceVersion: '42' } });
    await eventually(() => informer.lastSyncResourceVersion() === '42');
    server.watches[0]!.end();

    await openWatch(server, 1);
    expect(server.watches[1]!.request.query.get('resourceVersion')).toBe('42');
    expect(server.lists()).toHaveLength(1);
    expect(listener.watchEnds).toEqual(['closed']);
  });

  it('relists on an ERROR 410 event and emits only the differences', async () => {
    const { server, informer, seen, listener } = await startInformer([
      check('a', '1'),
      check('b', '1'),
      check('c', '1'),
    ]);
    await openWatch(server, 0);
    server.objects = [check('a', '1'), check('b', '5'), check('d', '6')];
    server.listResourceVersion = '20';
    seen.length = 0;

    server.watches[0]!.send('ERROR', EXPIRED);

    await openWatch(server, 1);
    expect(server.lists()).toHaveLength(2);
    expect(listener.watchEnds).toEqual(['expired']);
    // a is unchanged, so it is not reported again.
    expect(seen).toEqual(['update ops/b@1->5', 'add ops/d@6', 'delete ops/c']);
    expect(informer.list().map(keyOf)).toEqual(['ops/a', 'ops/b', 'ops/d']);
    expect(server.watches[1]!.request.query.get('resourceVersion')).toBe('20');
    await eventually(() => server.watches[0]!.closed);
  });

  it('lists in pages of pageSize, each with the selectors, and watches from the snapshot', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const { server, informer, seen } = await startInformer(
      names.map((name) => check(name, '1')),
      { pageSize: 2, labelSelector: 'app=etcd' },
    );

    await openWatch(server, 0);
    expect(server.lists().map((list) => [list.query.get('limit'), list.query.get('continue')])).toEqual([
      ['2', null],
      ['2', '2'],
      ['2', '4'],
    ]);
    expect(server.lists().every((list) => list.query.get('labelSelector') === 'app=etcd')).toBe(true);
    expect(informer.list().map(keyOf)).toEqual(names.map((name) => `ops/${name}`));
    expect(seen).toHaveLength(5);
    expect(server.watches[0]!.request.query.get('resourceVersion')).toBe('10');
  });

  it('keeps the cached copy of every object a relist finds unchanged, and takes the new one of a changed object', async () => {
    const { server, informer } = await startInformer([check('a', '1'), check('b', '1')], { pageSize: 1 });
    await openWatch(server, 0);
    const [a, b] = [informer.get('ops/a'), informer.get('ops/b')];
    server.objects = [check('a', '1'), check('b', '7')];

    server.watches[0]!.send('ERROR', EXPIRED);

    await openWatch(server, 1);
    expect(informer.get('ops/a')).toBe(a);
    expect(informer.get('ops/b')).not.toBe(b);
    expect(informer.get('ops/b')?.metadata.resourceVersion).toBe('7');
  });

  it('after an expired continue token, lists the whole collection again at once and forgets the pages', async () => {
    const { server, informer, listener, seen } = await startInformer(
      [check('a', '1'), check('b', '1'), check('c', '1')],
      { pageSize: 2 },
      (s) => {
        s.expiringContinues = 1;
        // a, on the first page, is deleted before the full LIST: it must not be cached.
        s.onContinueExpired = () => (s.objects = [check('b', '1'), check('c', '1')]);
      },
    );

    await openWatch(server, 0);
    expect(server.lists().map((list) => [list.query.get('limit'), list.query.get('continue')])).toEqual([
      ['2', null],
      ['2', '2'],
      [null, null],
    ]);
    expect(listener.lists).toEqual(['ok']);
    expect(informer.list().map(keyOf)).toEqual(['ops/b', 'ops/c']);
    expect(seen).toEqual(['add ops/b@1', 'add ops/c@1']);
  });

  it('relists when the watch request itself is answered with HTTP 410', async () => {
    const { server, listener } = await startInformer([check('a', '1')], {}, (s) =>
      s.replyToNextWatches({ status: 410, body: EXPIRED }),
    );

    await openWatch(server, 0);
    expect(server.lists()).toHaveLength(2);
    expect(listener.watchEnds).toEqual(['expired']);
  });

  it('keeps retrying after HTTP 500 on LIST and on watch, then delivers events again', async () => {
    const { server, informer, listener, log } = await startInformer([check('a', '1')], {}, (s) => {
      s.replyToNextLists({ status: 500 }, { status: 500 });
      s.replyToNextWatches({ status: 500 });
    });

    expect(await informer.waitForSync(15_000)).toBe(true);
    await openWatch(server, 0);
    expect(listener.lists).toEqual(['error', 'error', 'ok', 'ok']);
    expect(listener.watchEnds).toEqual(['error']);
    expect(log.messages('warn')).toEqual(
      expect.arrayContaining(['LIST failed; retrying with backoff', 'watch failed; relisting after backoff']),
    );

    server.watches[0]!.send('ADDED', check('late', '30'));
    await eventually(() => informer.get('ops/late') !== undefined);
  });

  it('starts the backoff over after a healthy watch, so a relist after a reconnect waits the initial delay', async () => {
    // Three failed LISTs grow the delay to 80 ms; the watch that follows delivers an event, so
    // when it fails the relist waits 20 ms again, not 160 ms (issue 17: 8 s after an apiserver restart).
    const backoff = new RecordingBackoff({ initialMs: 20, maxMs: 10_000, random: () => 0 });
    const { server, informer, listener } = await startInformer([check('a', '1')], { backoff }, (s) =>
      s.replyToNextLists({ status: 500 }, { status: 500 }, { status: 500 }),
    );
    await openWatch(server, 0);
    server.watches[0]!.send('ADDED', check('b', '11'));
    await eventually(() => informer.get('ops/b') !== undefined);
    server.watches[0]!.send('ERROR', statusBody(500, 'InternalError'));

    await openWatch(server, 1);
    expect(listener.lists).toEqual(['error', 'error', 'error', 'ok', 'ok']);
    expect(backoff.delays).toEqual([20, 40, 80, 20]);
  });

  it('retries a server that refuses connections about every reconnect period, without growing the backoff', async () => {
    // An apiserver restart: nothing listens for a while. The backoff (20 ms -> 10 s here) is not
    // consulted for those attempts, so the relist follows within one reconnect period of the
    // server listening again instead of after a delay grown during the outage.
    const backoff = new RecordingBackoff({ initialMs: 20, maxMs: 10_000, random: () => 0 });
    const { server, informer, listener, log } = await startInformer([check('a', '1')], {
      backoff,
      reconnectMs: 50,
    });
    await openWatch(server, 0);
    server.watches[0]!.send('ADDED', check('b', '11'));
    await eventually(() => informer.get('ops/b') !== undefined);

    await server.stopListening();
    await eventually(() => listener.lists.filter((outcome) => outcome === 'error').length >= 5);
    server.objects = [check('a', '1'), check('b', '11'), check('c', '12')];
    await server.listenAgain();

    await eventually(() => informer.get('ops/c') !== undefined);
    await openWatch(server, 1);
    // Only the dropped watch waited the backoff (started over by that healthy watch); none of
    // the refused LISTs did.
    expect(backoff.delays).toEqual([20]);
    expect(listener.lists.filter((outcome) => outcome === 'error').length).toBeGreaterThanOrEqual(5);
    expect(log.messages('warn')).toContain('LIST failed; retrying with backoff');
  });

  it('keeps growing the backoff while watches fail at once, although each LIST succeeds', async () => {
    const backoff = new RecordingBackoff({ initialMs: 20, maxMs: 10_000, random: () => 0 });
    const { server } = await startInformer([check('a', '1')], { backoff }, (s) =>
      s.replyToNextWatches({ status: 500 }, { status: 500 }, { status: 200, body: '' }),
    );
    await openWatch(server, 0);
    expect(server.lists()).toHaveLength(4);
    expect(backoff.delays).toEqual([20, 40, 80]);
  });

  it('restarts a watch that goes silent, from the same resourceVersion and without relisting', async () => {
    // The stream outlives requestTimeoutMs: that deadline covers only the wait for headers.
    const { server, listener } = await startInformer([check('a', '1')], {
      inactivityTimeoutMs: 4_000,
      requestTimeoutMs: 2_500,
    });

    await openWatch(server, 1);
    expect(listener.watchEnds[0]).toBe('inactive');
    expect(server.watches[1]!.request.query.get('resourceVersion')).toBe('10');
    expect(server.lists()).toHaveLength(1);
    await eventually(() => server.watches[0]!.closed);
  });

  it('gives up on a watch request that never gets response headers, then relists', async () => {
    const { server, listener } = await startInformer([check('a', '1')], { requestTimeoutMs: 2_000 }, (s) =>
      s.replyToNextWatches('no-response'),
    );

    await openWatch(server, 0);
    expect(listener.watchEnds).toEqual(['error']);
    expect(server.lists()).toHaveLength(2);
    expect(server.requests.filter((r) => r.isWatch)[0]!.closed).toBe(true);
  });

  it('treats a watch that closes at once without events as an error, so it cannot spin', async () => {
    const { server, listener, log } = await startInformer([check('a', '1')], {}, (s) =>
      s.replyToNextWatches({ status: 200, body: '' }),
    );

    await openWatch(server, 0);
    expect(listener.watchEnds).toEqual(['error']);
    expect(server.lists()).toHaveLength(2);
    expect(
      log.entries.find((e) => e.message === 'watch failed; relisting after backoff')?.fields.error,
    ).toMatch(/within a second/);
  });

  it('skips malformed lines and events it cannot use, and keeps the stream', async () => {
    const { server, informer, log } = await startInformer([]);
    await openWatch(server, 0);
    const watch = server.watches[0]!;

    watch.sendLine('this is not json');
    watch.sendLine('{"unexpected":true}');
    watch.send('ADDED', { kind: 'EtcdHealthCheck', metadata: { resourceVersion: '11' } });
    watch.send('ADDED', check('x', '12'));

    await eventually(() => informer.get('ops/x') !== undefined);
    expect(informer.list().map(keyOf)).toEqual(['ops/x']);
    expect(log.messages('warn')).toEqual([
      'ignoring watch event of unknown type',
      'ignoring watch event without metadata.name',
    ]);
    expect(server.watches).toHaveLength(1);
    expect(server.lists()).toHaveLength(1);
  });

  it('survives handlers that throw or reject, and logs them', async () => {
    const { server, informer, log, seen } = await startInformer([]);
    informer.addHandlers({
      add: (o) => {
        if (o.metadata.name === 'throws') throw new Error('handler threw');
      },
    });
    informer.addHandlers({
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async handler must not crash the process
      add: (o) =>
        o.metadata.name === 'rejects' ? Promise.reject(new Error('handler rejected')) : Promise.resolve(),
    });
    await openWatch(server, 0);
    const watch = server.watches[0]!;

    watch.send('ADDED', check('throws', '11'));
    watch.send('ADDED', check('rejects', '12'));
    watch.send('ADDED', check('fine', '13'));

    await eventually(() => log.messages('error').length === 2);
    expect(seen).toEqual(['add ops/throws@11', 'add ops/rejects@12', 'add ops/fine@13']);
    expect(informer.get('ops/fine')).toBeDefined();
    expect(log.entries.filter((e) => e.level === 'error').map((e) => e.fields.error)).toEqual([
      'Error: handler threw',
      'Error: handler rejected',
    ]);
    expect(server.watches).toHaveLength(1);
  });

  it('stop() closes the watch, ends the loop and reports no AbortError', async () => {
    const { server, informer, log, listener } = await startInformer([check('a', '1')]);
    await openWatch(server, 0);

    await informer.stop();

    await eventually(() => server.watches[0]!.closed);
    expect(listener.watchEnds).toEqual([]);
    expect(JSON.stringify(log.entries)).not.toMatch(/AbortError|aborted/);
    expect(informer.hasSynced()).toBe(true);
  });

  it('stop() aborts a LIST that gets no answer', async () => {
    const { server, informer, listener } = await startInformer([], {}, (s) =>
      s.replyToNextLists('no-response'),
    );
    await eventually(() => server.lists().length === 1);

    await informer.stop();

    await eventually(() => server.lists()[0]!.closed);
    expect(listener.lists).toEqual([]);
    expect(await informer.waitForSync(10)).toBe(false);
  });
});
