import { describe, expect, it } from '@jest/globals';
import { ItemExponentialRateLimiter } from '../../src/runtime/backoff.js';
import { runWorkers } from '../../src/runtime/workers.js';
import type { WorkOutcome } from '../../src/runtime/workers.js';
import { WorkQueue } from '../../src/runtime/workqueue.js';
import { eventually, RecordingLogger } from './helpers.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function fastRetries(): WorkQueue {
  return new WorkQueue({ rateLimiter: new ItemExponentialRateLimiter(1, 10) });
}

describe('runWorkers', () => {
  it('runs at most `concurrency` reconciles, and never two for the same key', async () => {
    const queue = new WorkQueue();
    const gates = new Map<string, Gate>();
    const active = new Set<string>();
    let maxActive = 0;
    let sameKeyOverlapped = false;
    const started: string[] = [];
    const pool = runWorkers(
      queue,
      2,
      async (key) => {
        if (active.has(key)) sameKeyOverlapped = true;
        active.add(key);
        started.push(key);
        maxActive = Math.max(maxActive, active.size);
        const g = gate();
        gates.set(key, g);
        await g.promise;
        active.delete(key);
      },
      new RecordingLogger(),
    );

    for (const key of ['a', 'b', 'c']) queue.add(key);
    await eventually(() => started.length === 2);
    queue.add('a'); // a is in flight: it must wait, not run twice
    gates.get('a')!.open();
    await eventually(() => started.length === 3);
    gates.get('b')!.open();
    await eventually(() => started.length === 4);
    gates.get('c')!.open();
    gates.get('a')!.open();

    expect(started).toEqual(['a', 'b', 'c', 'a']);
    expect(maxActive).toBe(2);
    expect(sameKeyOverlapped).toBe(false);
    queue.shutDown();
    await pool.finished;
  });

  it('retries a failed or throwing reconcile with backoff and forgets the failures after a success', async () => {
    const queue = fastRetries();
    const log = new RecordingLogger();
    const attempts: string[] = [];
    const requeuesSeen: number[] = [];
    const pool = runWorkers(
      queue,
      1,
      (key): Promise<WorkOutcome> => {
        attempts.push(key);
        requeuesSeen.push(queue.numRequeues(key));
        if (attempts.length === 1) return Promise.resolve({ error: new Error('etcd unreachable') });
        if (attempts.length === 2) return Promise.reject(new Error('unexpected'));
        return Promise.resolve({});
      },
      log,
    );

    queue.add('ops/a');
    await eventually(() => attempts.length === 3);
    expect(requeuesSeen).toEqual([0, 1, 2]);
    await eventually(() => queue.numRequeues('ops/a') === 0);
    expect(log.entries.map((e) => e.fields.error)).toEqual(['Error: etcd unreachable', 'Error: unexpected']);
    queue.shutDown();
    await pool.finished;
  });

  it('parks a reconcile that could not reach the API server instead of backing it off, and runs it when the server is back', async () => {
    const queue = fastRetries();
    const log = new RecordingLogger();
    const attempts: string[] = [];
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    const pool = runWorkers(
      queue,
      1,
      (key): Promise<WorkOutcome> => {
        attempts.push(key);
        return Promise.resolve(attempts.length === 1 ? { error: refused } : {});
      },
      log,
    );

    queue.add('ops/a');
    await eventually(() => queue.parkedCount() === 1);
    expect(attempts).toHaveLength(1);
    expect(queue.numRequeues('ops/a')).toBe(0);
    expect(log.messages('warn')).toEqual(['API server unreachable; retrying when it is back']);

    queue.retryParked();
    await eventually(() => attempts.length === 2);
    expect(log.messages('error')).toEqual([]);
    queue.shutDown();
    await pool.finished;
  });

  it('requeues after requeueAfterMs for periodic work', async () => {
    const queue = new WorkQueue();
    let attempts = 0;
    const pool = runWorkers(
      queue,
      1,
      () => {
        attempts++;
        return Promise.resolve({ requeueAfterMs: 20 });
      },
      new RecordingLogger(),
    );

    queue.add('ops/a');
    await eventually(() => attempts >= 3);
    queue.shutDown();
    await pool.finished;
  });

  it('stop() lets the in-flight reconcile finish and takes nothing more', async () => {
    const queue = new WorkQueue();
    const inFlight = gate();
    const started: string[] = [];
    const pool = runWorkers(
      queue,
      1,
      async (key) => {
        started.push(key);
        await inFlight.promise;
      },
      new RecordingLogger(),
    );
    queue.add('a');
    queue.add('b');
    await eventually(() => started.length === 1);
    expect(pool.inFlight()).toBe(1);

    pool.stop();
    inFlight.open();
    await pool.finished;

    expect(started).toEqual(['a']);
    expect(pool.inFlight()).toBe(0);
    expect(queue.len()).toBe(1);
  });

  it('abortInFlight() aborts the signal handed to reconciles', async () => {
    const queue = new WorkQueue();
    let aborted = false;
    const pool = runWorkers(
      queue,
      1,
      (_key, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
      new RecordingLogger(),
    );
    queue.add('a');
    await eventually(() => pool.inFlight() === 1);

    pool.stop();
    pool.abortInFlight();
    await pool.finished;

    expect(aborted).toBe(true);
  });
});
