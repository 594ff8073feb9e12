// The executor's contract against a real 3-member etcd cluster with mutual TLS: every call the
// remediator can make, what it answers, and how a failure is classified (a refused connection
// proves nothing ran; a missed deadline may have left work running in etcd).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Etcd3 } from 'etcd3';
import { EtcdMaintenance } from '../../src/remediation/etcd-maintenance.js';
import { VERIFY_WRITE_KEY } from '../../src/remediation/executor.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { fragment } from '../harness/faults.js';
import { cleanupAll } from '../harness/process.js';

const QUOTA = 64 * 2 ** 20;

let cluster: EtcdCluster;
let executor: EtcdMaintenance;

function statusClient(endpoint: string): Etcd3 {
  return cluster.client([endpoint]);
}

async function memberIds(): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const member of cluster.members) {
    ids[member.name] = (await statusClient(member.clientURL).maintenance.status()).header.member_id;
  }
  return ids;
}

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 3, tls: true, quotaBackendBytes: QUOTA });
  executor = new EtcdMaintenance({
    tls: {
      caPem: cluster.tls!.ca.certPem,
      certPem: cluster.tls!.client.certPem,
      keyPem: cluster.tls!.client.keyPem,
    },
    dialTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  executor?.close();
  await cluster?.stop();
  await cleanupAll();
});

describe('EtcdMaintenance over mutual TLS', () => {
  it('defragments exactly the member it is pointed at', async () => {
    await fragment(cluster, { keys: 300, valueBytes: 16 * 1024 });
    const target = cluster.members[1]!;
    const before = await executor.dbSize(target.clientURL);
    const other = await executor.dbSize(cluster.members[0]!.clientURL);
    expect(before).toMatchObject({ ok: true });
    const result = await executor.defragment(target.clientURL);
    expect(result).toMatchObject({ ok: true });
    const after = await executor.dbSize(target.clientURL);
    expect(after.ok && before.ok && after.value < before.value / 4).toBe(true);
    // The other members were not touched.
    expect(await executor.dbSize(cluster.members[0]!.clientURL)).toEqual(other);
  });

  it('reads the backend quota from the member /metrics, with the client certificate', async () => {
    expect(await executor.quotaBytes(cluster.members[2]!.clientURL)).toEqual({ ok: true, value: QUOTA });
  });

  it('tells whether a revision is still in the history, and compacts to a revision once', async () => {
    const client = cluster.client();
    let revision = 0;
    for (let i = 0; i < 20; i++)
      revision = Number((await client.put('/history').value(String(i)).exec()).header.revision);
    const endpoint = cluster.members[0]!.clientURL;
    expect(await executor.revisionAvailable(endpoint, String(revision - 10))).toEqual({
      ok: true,
      value: true,
    });
    expect(await executor.compact(endpoint, String(revision - 5))).toMatchObject({
      ok: true,
      detail: `compacted to revision ${revision - 5}`,
    });
    expect(await executor.revisionAvailable(endpoint, String(revision - 10))).toEqual({
      ok: true,
      value: false,
    });
    expect(await executor.revisionAvailable(endpoint, String(revision - 5))).toEqual({
      ok: true,
      value: true,
    });
    // Compacting again is not an error: it is already done.
    expect(await executor.compact(endpoint, String(revision - 5))).toMatchObject({
      ok: true,
      detail: `already compacted at or beyond revision ${revision - 5}`,
    });
  });

  it('moves the leadership, sent to the leader', async () => {
    const leader = await cluster.waitForLeader();
    const ids = await memberIds();
    const target = cluster.members.find((m) => m.name !== leader)!;
    const result = await executor.moveLeader(cluster.member(leader).clientURL, ids[target.name]!);
    expect(result).toMatchObject({ ok: true });
    expect(await cluster.waitForLeader()).toBe(target.name);
    // Sent to a follower, etcd refuses: a definite failure, nothing ran.
    const refused = await executor.moveLeader(cluster.member(leader).clientURL, ids[leader]!);
    expect(refused).toMatchObject({ ok: false, ambiguous: false });
  });

  it('disarms NOSPACE for each member that raised it and verifies a write', async () => {
    const ids = await memberIds();
    const admin = cluster.client();
    for (const name of ['member-1', 'member-3']) {
      await admin.maintenance.alarm({ action: 'Activate', memberID: ids[name], alarm: 'Nospace' });
    }
    const endpoint = cluster.members[0]!.clientURL;
    expect(await executor.verifyWrite(endpoint)).toMatchObject({ ok: false, ambiguous: false });
    expect(await executor.disarmNoSpace(endpoint, [ids['member-1']!, ids['member-3']!])).toMatchObject({
      ok: true,
    });
    expect((await admin.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' })).alarms).toEqual([]);
    expect(await executor.verifyWrite(endpoint)).toMatchObject({ ok: true });
    // The probe key is gone again.
    expect(await admin.get(VERIFY_WRITE_KEY).string()).toBeNull();
  });

  it('classifies a refused connection as definite: nothing ran', async () => {
    const victim = cluster.members[2]!;
    await cluster.killMember(victim.name);
    const result = await executor.defragment(victim.clientURL);
    expect(result).toMatchObject({ ok: false, ambiguous: false });
    await cluster.restartMember(victim.name);
  });
});
