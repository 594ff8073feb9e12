// Data faults on a test cluster, made through the etcd API: a full quota (NOSPACE), fragmentation
// (write, delete, compact: physical size stays, in-use shrinks) and a steady write load (so that
// WAL fsync and backend commit histograms have observations).
import { setTimeout as delay } from 'node:timers/promises';
import type { EtcdCluster } from './etcd-cluster.js';

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
 * freed pages stay allocated (dbSize) but are no longer in use (dbSizeInUse).
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
}

export interface WriteLoad {
  writes(): number;
  stop(): Promise<void>;
}

/**
 * Puts small values, about `perSecond` a second, until stopped. Paced: back-to-back writes would
 * take a whole core of the small shared test machine.
 */
export function startWriteLoad(cluster: EtcdCluster, options: { perSecond?: number } = {}): WriteLoad {
  const pauseMs = 1000 / (options.perSecond ?? 50);
  const client = cluster.client();
  let running = true;
  let count = 0;
  const loop = (async () => {
    while (running) {
      try {
        await client
          .put(`/load/${count % 100}`)
          .value(String(count))
          .exec();
        count++;
        await delay(pauseMs);
      } catch {
        // A member being killed under load is part of some tests: back off a little, keep going.
        await delay(100);
      }
    }
  })();
  return {
    writes: () => count,
    async stop() {
      running = false;
      await loop;
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
