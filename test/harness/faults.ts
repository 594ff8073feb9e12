// Data faults on a test cluster, made through the etcd API: a full quota (NOSPACE), fragmentation
// (write, delete, compact: physical size stays, in-use shrinks) and a steady write load (so that
// WAL fsync and backend commit histograms have observations).
import { setTimeout as delay } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import type { EtcdCluster, EtcdMember } from './etcd-cluster.js';
import { eventually } from './eventually.js';

/** Puts `valueBytes`-sized values until etcd refuses with "database space exceeded"; returns the count. */
export async function fillQuota(
  cluster: EtcdCluster,
  options: { valueBytes?: number; maxPuts?: number } = {},
): Promise<number> {
  const { valueBytes = 512 * 1024, maxPuts = 1_000 } = options;
  const client = cluster.client();
  const value = Buffer.alloc(valueBytes, 'q');
  for (let i = 0; i < maxPuts; i++) {
    try {
      await client.put(`/fill-quota/${i}`).value(value).exec();
    } catch (error) {
      if (/database space exceeded/.test((error as Error).message)) return i;
      throw error;
    }
  }
  throw new Error(`quota not reached after ${maxPuts} puts of ${valueBytes} bytes`);
}

/**
 * Writes `keys` values of `valueBytes`, deletes them and compacts at the current revision: the
 * freed pages stay allocated (dbSize) but are no longer in use (dbSizeInUse). Returns once every
 * member written through reports most of those bytes as free.
 */
export async function fragment(
  cluster: EtcdCluster,
  options: { keys?: number; valueBytes?: number; through?: string[] } = {},
): Promise<void> {
  const { keys = 1_000, valueBytes = 8 * 1024, through } = options;
  // `through` names the members to write through: a slow-disk member would outlast etcd3's call
  // deadline, and its retried compact then fails with "already compacted".
  const client = cluster.client(through?.map((name) => cluster.member(name).clientURL));
  const value = Buffer.alloc(valueBytes, 'f');
  for (let i = 0; i < keys; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, keys - i) }, (_, j) =>
        client
          .put(`/fragment/${i + j}`)
          .value(value)
          .exec(),
      ),
    );
  }
  const deleted = await client.delete().prefix('/fragment/').exec();
  await client.kv.compact({ revision: deleted.header.revision, physical: true });
  const members = through?.map((name) => cluster.member(name)) ?? cluster.members.filter((m) => m.running());
  await settleFreeSpace(cluster, client, members, 0.75 * keys * valueBytes);
}

/**
 * etcd computes dbSizeInUse only when its backend begins a transaction, that is at a commit, and
 * pages a commit frees stay "pending" in bbolt while an older read transaction is still open then.
 * A compaction's last commit can race with that read's release (more often on a loaded machine),
 * and on an idle cluster no later commit comes: the member keeps reporting the freed pages as in
 * use (seen: 4 % fragmented, unchanged as long as nothing wrote, after 9.4 MiB were freed: no
 * Defragment recommendation for that member). Production clusters always write (leases, Events);
 * here a small write per round gives each member its next commit, until every member reports
 * `freeBytes` free.
 */
async function settleFreeSpace(
  cluster: EtcdCluster,
  client: Etcd3,
  members: readonly EtcdMember[],
  freeBytes: number,
): Promise<void> {
  let round = 0;
  await eventually(
    async () => {
      await client.put('/fragment-settle').value(String(round++)).exec();
      const free = await Promise.all(
        members.map(async (m) => {
          const single = cluster.client([m.clientURL]);
          try {
            const status = await single.maintenance.status();
            return Number(status.dbSize) - Number(status.dbSizeInUse);
          } finally {
            single.close();
          }
        }),
      );
      if (free.every((bytes) => bytes >= freeBytes)) return true;
      throw new Error(members.map((m, i) => `${m.name}: ${free[i]} bytes free`).join(', '));
    },
    { timeoutMs: 60_000, intervalMs: 500, description: `${freeBytes} bytes free on every member` },
  );
}

export interface WriteLoadReport {
  /** Puts that succeeded. */
  writes: number;
  /** Failed puts whose error matched `expectedErrors`: the fault the test made on purpose. */
  expectedErrors: number;
  /** Every other failed put, counted by error message: a test asserts this is empty. */
  unexpectedErrors: Record<string, number>;
}

export interface WriteLoad {
  /** What the load saw so far. */
  report(): WriteLoadReport;
  /**
   * What the load saw so far (since `since`, a report taken earlier, when given); throws, listing
   * them, when a put failed unexpectedly or fewer than `minWrites` puts succeeded.
   */
  verify(options: { minWrites: number; since?: WriteLoadReport }): WriteLoadReport;
  /** Stops the load and returns what it saw. */
  stop(): Promise<WriteLoadReport>;
}

const CIRCUIT_OPEN = /circuit breaker is open/;

/**
 * Puts small values, about `perSecond` a second, until stopped. Paced: back-to-back writes would
 * take a whole core of the small shared test machine. A failed put is counted, never thrown:
 * as expected when its message matches `expectedErrors` (e.g. a member the test killed, or
 * NOSPACE), as unexpected otherwise; the caller asserts on the report.
 */
export function startWriteLoad(
  cluster: EtcdCluster,
  options: { perSecond?: number; expectedErrors?: RegExp } = {},
): WriteLoad {
  const pauseMs = 1000 / (options.perSecond ?? 50);
  const client = cluster.client();
  let running = true;
  const report: WriteLoadReport = { writes: 0, expectedErrors: 0, unexpectedErrors: {} };
  const loop = (async () => {
    while (running) {
      try {
        await client
          .put(`/load/${report.writes % 100}`)
          .value(String(report.writes))
          .exec();
        report.writes++;
        await delay(pauseMs);
      } catch (error) {
        const message = (error as Error).message;
        // etcd3's circuit breaker holds puts back for a while after repeated failures: no answer
        // from etcd, nothing to count; the failures that opened it were counted.
        if (CIRCUIT_OPEN.test(message)) {
          await delay(1_000);
          continue;
        }
        if (options.expectedErrors?.test(message)) report.expectedErrors++;
        else report.unexpectedErrors[message] = (report.unexpectedErrors[message] ?? 0) + 1;
        await delay(100);
      }
    }
  })();
  const snapshot = (): WriteLoadReport => ({ ...report, unexpectedErrors: { ...report.unexpectedErrors } });
  return {
    report: snapshot,
    verify: ({ minWrites, since }) => {
      const now = snapshot();
      const writes = now.writes - (since?.writes ?? 0);
      const unexpected = Object.entries(now.unexpectedErrors)
        .map(([message, count]) => [message, count - (since?.unexpectedErrors[message] ?? 0)] as const)
        .filter(([, count]) => count > 0);
      const problems = [
        ...(writes < minWrites ? [`${writes} puts succeeded, expected at least ${minWrites}`] : []),
        ...unexpected.map(([message, count]) => `${count}x unexpected error: ${message}`),
      ];
      if (problems.length > 0) throw new Error(`write load: ${problems.join('; ')}`);
      return now;
    },
    async stop() {
      running = false;
      await loop;
      return snapshot();
    },
  };
}

/**
 * Overwrites one key with `valueBytes`-sized values until etcd refuses with "database space
 * exceeded" (NOSPACE), the way a cluster nobody compacts fills up: the space is held by old
 * revisions, so compaction and defragmentation give it back. Returns the number of puts.
 */
export async function fillQuotaWithHistory(
  cluster: EtcdCluster,
  options: { valueBytes?: number; maxPuts?: number; key?: string } = {},
): Promise<number> {
  const { valueBytes = 512 * 1024, maxPuts = 1_000, key = '/fill-history' } = options;
  const client = cluster.client();
  for (let i = 0; i < maxPuts; i++) {
    try {
      await client
        .put(key)
        .value(Buffer.alloc(valueBytes, i % 26))
        .exec();
    } catch (error) {
      if (/database space exceeded/.test((error as Error).message)) return i;
      throw error;
    }
  }
  throw new Error(`quota not reached after ${maxPuts} puts of ${valueBytes} bytes`);
}
