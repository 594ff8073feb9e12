import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ItemExponentialRateLimiter } from '../../src/runtime/backoff.js';
import { WorkQueue } from '../../src/runtime/workqueue.js';
import type { WorkQueueListener } from '../../src/runtime/workqueue.js';

afterEach(() => {
  jest.useRealTimers();
});

/** Whether `promise` has settled, checked after pending microtasks ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await Promise.resolve();
  await Promise.resolve();
  return settled;
}

describe('WorkQueue', () => {
  it('hands keys out in FIFO order and only once however often they were added', async () => {
    const queue = new WorkQueue();
    for (const key of ['a', 'b', 'a', 'c', 'b']) queue.add(key);

    expect(queue.len()).toBe(3);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['a', 'b', 'c']);
    expect(queue.len()).toBe(0);
  });

  it('never hands out a key that is being processed; a re-add while processing comes back after done()', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');

    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const next = queue.get();
    expect(await isSettled(next)).toBe(false);

    queue.done('a');
    expect(await next).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('wakes a waiting get() when a key arrives, and a done() without a re-add queues nothing', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
    queue.done('x');
    expect(queue.len()).toBe(0);
  });

  it('get(signal) resolves null when aborted, and a later key is not lost', async () => {
    const queue = new WorkQueue();
    const controller = new AbortController();
    const waiting = queue.get(controller.signal);
    controller.abort();
    expect(await waiting).toBeNull();

    queue.add('k');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('k');
  });

  it('addAfter() adds the key once the delay has passed; a sooner addAfter wins, a later one does not', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 5000);
    queue.addAfter('b', 5000);
    queue.addAfter('b', 200);

    await jest.advanceTimersByTimeAsync(199);
    expect(queue.len()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(await queue.get()).toBe('b');
    await jest.advanceTimersByTimeAsync(800);
    expect(await queue.get()).toBe('a');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('hands keys added now out before re-checks that came due, and moves a due key ahead when it is added now', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    for (const key of ['due-1', 'due-2', 'due-3']) queue.addAfter(key, 100);
    await jest.advanceTimersByTimeAsync(100);
    queue.add('new');
    queue.add('due-3');
    expect(queue.len()).toBe(4);
    const order = [];
    for (let i = 0; i < 4; i++) order.push(await queue.get());
    expect(order).toEqual(['new', 'due-3', 'due-1', 'due-2']);
  });

  it('re-queues a key added now while it was processed in the lane it was added to', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.addAfter('b', 10);
    await jest.advanceTimersByTimeAsync(10);
    queue.add('a');
    queue.done('a');
    expect([await queue.get(), await queue.get()]).toEqual(['a', 'b']);
  });

  it('addRateLimited() backs off per key and forget() resets it', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue({ rateLimiter: new ItemExponentialRateLimiter(100, 10_000) });
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    expect(queue.numRequeues('a')).toBe(2);

    // The second retry would wait 200ms, but the pending 100ms add is sooner and wins.
    await jest.advanceTimersByTimeAsync(100);
    expect(queue.len()).toBe(1);

    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
  });

  it('park() holds a key until retryParked() or its longest wait, without counting a failure', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue({ rateLimiter: new ItemExponentialRateLimiter(100, 10_000) });
    queue.park('a', 30_000);
    queue.park('b', 30_000);
    queue.addAfter('c', 1_000);
    queue.park('c', 30_000); // its sooner requeue does the retry
    expect(queue.parkedCount()).toBe(2);
    expect(queue.numRequeues('a')).toBe(0);

    await jest.advanceTimersByTimeAsync(5_000);
    expect(await queue.get()).toBe('c');
    expect(queue.len()).toBe(0);

    queue.retryParked();
    expect(queue.parkedCount()).toBe(0);
    expect([await queue.get(), await queue.get()]).toEqual(['a', 'b']);
    // Their longest-wait timers are gone with them.
    expect(jest.getTimerCount()).toBe(0);

    queue.park('d', 30_000);
    await jest.advanceTimersByTimeAsync(29_999);
    expect(queue.len()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(await queue.get()).toBe('d');
    expect(queue.parkedCount()).toBe(0);
  });

  it('shutDown() ignores new keys, drops delayed ones, hands out what was queued, then null', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    const idle = new WorkQueue();
    const idleWaiter = idle.get();
    queue.add('queued');
    queue.addAfter('later', 1000);

    queue.shutDown();
    idle.shutDown();
    queue.add('new');
    queue.addAfter('new-later', 10);

    expect(jest.getTimerCount()).toBe(0);
    expect(await idleWaiter).toBeNull();
    expect(await queue.get()).toBe('queued');
    expect(await queue.get()).toBeNull();
    expect(queue.isShuttingDown()).toBe(true);
  });

  it('shutDownWithDrain() resolves only when the in-flight key is done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');

    const drained = queue.shutDownWithDrain();
    expect(await isSettled(drained)).toBe(false);

    queue.done('a');
    expect(await isSettled(drained)).toBe(true);
  });

  it('reports adds, depth, latencies and retries to its listener', async () => {
    jest.useFakeTimers();
    const events: string[] = [];
    const listener: WorkQueueListener = {
      added: (key) => events.push(`added ${key}`),
      depthChanged: (depth) => events.push(`depth ${depth}`),
      queueLatency: (seconds) => events.push(`latency ${seconds}`),
      retried: (key) => events.push(`retried ${key}`),
    };
    const queue = new WorkQueue({ listener, rateLimiter: new ItemExponentialRateLimiter(1000, 1000) });

    queue.add('a');
    queue.add('a');
    await jest.advanceTimersByTimeAsync(2000);
    expect(await queue.get()).toBe('a');
    await jest.advanceTimersByTimeAsync(500);
    queue.done('a');
    queue.addRateLimited('a');

    expect(events).toEqual(['added a', 'depth 1', 'depth 0', 'latency 2', 'retried a']);
  });
});
