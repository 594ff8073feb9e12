import { describe, expect, it, jest } from '@jest/globals';
import { LeaderElector } from '../../src/runtime/leader-election.js';
import { onTerminationSignal, shutDownGracefully } from '../../src/runtime/shutdown.js';
import { runWorkers } from '../../src/runtime/workers.js';
import { WorkQueue } from '../../src/runtime/workqueue.js';
import { FakeLeases } from './fake-leases.js';
import { eventually, RecordingLogger } from './helpers.js';

jest.setTimeout(30_000);

async function leadingElector(leases: FakeLeases): Promise<LeaderElector> {
  const elector = new LeaderElector({
    lease: leases.client(),
    identity: 'me',
    log: new RecordingLogger(),
    callbacks: { onStartedLeading: () => {}, onStoppedLeading: () => {} },
  });
  void elector.run();
  await eventually(() => elector.isLeader());
  return elector;
}

describe('shutDownGracefully', () => {
  it('lets in-flight work finish, skips queued work, then releases the lease, then stops the informers', async () => {
    const steps: string[] = [];
    const queue = new WorkQueue();
    let finishReconcile = (): void => {};
    const pool = runWorkers(
      queue,
      1,
      async (key) => {
        steps.push(`start ${key}`);
        await new Promise<void>((resolve) => (finishReconcile = resolve));
        steps.push(`finish ${key}`);
      },
      new RecordingLogger(),
    );
    const leases = new FakeLeases();
    const elector = await leadingElector(leases);
    const informer = {
      stop: () => {
        steps.push(`informer stopped, lease holder '${leases.holder()}'`);
        return Promise.resolve();
      },
    };
    queue.add('in-flight');
    queue.add('queued');
    await eventually(() => steps.length === 1);

    const shutdown = shutDownGracefully({
      workers: [pool],
      queues: [queue],
      informers: [informer],
      elector,
      log: new RecordingLogger(),
    });
    await eventually(() => queue.isShuttingDown());
    expect(leases.holder()).toBe('me');
    finishReconcile();
    const report = await shutdown;

    expect(steps).toEqual(['start in-flight', 'finish in-flight', "informer stopped, lease holder ''"]);
    expect(report).toMatchObject({ drained: true, lease: 'released' });
  });

  it('aborts reconciles still running at the drain deadline and says so', async () => {
    const queue = new WorkQueue();
    let sawAbort = false;
    const pool = runWorkers(
      queue,
      1,
      (_key, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          }),
        ),
      new RecordingLogger(),
    );
    queue.add('stuck');
    await eventually(() => pool.inFlight() === 1);
    const log = new RecordingLogger();

    const report = await shutDownGracefully({
      workers: [pool],
      queues: [queue],
      informers: [],
      drainTimeoutMs: 50,
      log,
    });

    expect(report).toMatchObject({ drained: false, lease: 'none' });
    expect(sawAbort).toBe(true);
    expect(log.entries[0]).toMatchObject({ level: 'warn', fields: { inFlight: 1 } });
  });
});

describe('onTerminationSignal', () => {
  it('calls back on SIGTERM until unsubscribed', () => {
    const received: string[] = [];
    const unsubscribe = onTerminationSignal((signal) => received.push(signal), ['SIGTERM']);

    process.emit('SIGTERM', 'SIGTERM');
    unsubscribe();
    process.emit('SIGTERM', 'SIGTERM');

    expect(received).toEqual(['SIGTERM']);
  });
});
