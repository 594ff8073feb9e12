// The operator killed in the middle of a defragmentation and started again. member-3 has a slow
// disk (strace delays every fsync by 1s), so its defragmentation runs for seconds in etcd: the
// operator is SIGKILLed while etcd is still defragmenting, and the new process must verify and
// finish that step instead of starting a second, concurrent one. etcd's own log is the judge.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { checksIn, type NamespacedChecks } from '../harness/checks.js';
import { eventually } from '../harness/eventually.js';
import { fragment } from '../harness/faults.js';
import { startOperator } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import {
  defragIntervals,
  historyOf,
  memberSizes,
  overlapping,
  overlappingRecords,
  story,
} from './e2e-support.js';

const ns = 'etcd-team';
const leaseNs = 'etcd-health-operator';
const NAME = 'slow';
const SLOW = 'member-3';

let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: NamespacedChecks;
let logDir: string;

const operatorOptions = (identity: string) => ({
  kubeconfigPath: cp.kubeconfigPath,
  logDir,
  identity,
  leaseNamespace: leaseNs,
  // A short Lease, so that the replacement takes over soon after the kill.
  extraArgs: ['--lease-duration=6s', '--renew-deadline=4s', '--retry-period=1s'],
});

beforeAll(async () => {
  [cp, cluster] = await Promise.all([
    startControlPlane(),
    startEtcdCluster({ members: 3, slowDisk: { member: SLOW, delayUs: 1_000_000 } }),
  ]);
  await cp.createNamespace(ns);
  await cp.createNamespace(leaseNs);
  checks = checksIn(cp.kubeConfig, ns);
  logDir = makeTempDir('remediation-restart-logs');
  // Writes must not wait for the slow disk: keep the leadership on a fast member.
  if ((await cluster.waitForLeader()) === SLOW) {
    const sizes = await memberSizes(cluster);
    const client = new Etcd3({ hosts: cluster.member(SLOW).clientURL });
    await client.maintenance.moveLeader({ targetID: sizes['member-1']!.id });
    client.close();
    await eventually(async () => (await cluster.leaderName()) !== SLOW, { description: 'a fast leader' });
  }
  // Written and compacted through the fast members (a physical compaction waits for the member
  // it is sent to; on the slow one it would outlive the call deadline).
  await fragment(cluster, { keys: 600, valueBytes: 16 * 1024, through: ['member-1', 'member-2'] });
  // The slow member applies the compaction late; it qualifies once it has.
  await eventually(async () => ((await memberSizes(cluster))[SLOW]?.dbSizeInUse ?? Infinity) < 2 ** 20, {
    timeoutMs: 120_000,
    intervalMs: 1_000,
    description: `${SLOW} to apply the compaction`,
  });
});

afterAll(async () => {
  await cluster?.stop();
  await cleanupAll();
});

describe('an operator killed mid-remediation', () => {
  it('resumes safely: the new process finishes the interrupted step and never runs a second defragmentation at once', async () => {
    const first = await startOperator(operatorOptions('operator-a'));
    const before = await memberSizes(cluster);
    await checks.create(NAME, {
      etcd: { endpoints: cluster.endpoints },
      interval: '10s',
      thresholds: { fragmentation: { minDatabaseSize: '1Mi' } },
      remediation: { mode: 'Automatic', settleTime: '3s' },
    });

    // Kill the operator while etcd runs the slow member's defragmentation: once the lock is in
    // the status and etcd has logged the start (the call is in flight).
    await eventually(
      async () => {
        const current = (await checks.get(NAME)).status?.remediation?.current;
        const inFlight = defragIntervals(cluster).some((i) => i.member === SLOW && i.end === Infinity);
        return (
          current?.action === 'Defragment' &&
          current.member === SLOW &&
          current.phase === 'Running' &&
          inFlight
        );
      },
      { timeoutMs: 120_000, intervalMs: 50, description: `the defragmentation of ${SLOW} in flight` },
    );
    await first.kill();
    const killedAt = Date.now();
    const lockAtKill = (await checks.get(NAME)).status?.remediation?.current;
    expect(lockAtKill).toMatchObject({ member: SLOW, phase: 'Running' });

    const second = await startOperator(operatorOptions('operator-b'));
    const done = await eventually(
      async () => {
        const check = await checks.get(NAME);
        const defragmented = new Set(
          historyOf(check)
            .filter((r) => r.action === 'Defragment' && r.phase === 'Succeeded')
            .map((r) => r.member),
        );
        return defragmented.size === 3 && check.status?.remediation?.current === undefined && check;
      },
      { timeoutMs: 150_000, intervalMs: 500, description: 'every member defragmented after the restart' },
    );
    const history = historyOf(done);

    // etcd's log: the slow member was still defragmenting when the operator died, and no two
    // defragmentations ever ran at once, across both processes.
    const intervals = defragIntervals(cluster);
    const slow = intervals.filter((i) => i.member === SLOW);
    expect(slow[0]!.start).toBeLessThan(killedAt);
    expect(overlapping(intervals)).toEqual([]);
    expect(overlappingRecords(history)).toEqual([]);

    // The interrupted step was finished by the new process, by verification, not by a second call.
    const slowRecords = history.filter((r) => r.action === 'Defragment' && r.member === SLOW);
    expect(slowRecords[0]).toMatchObject({
      phase: 'Succeeded',
      reason: 'Verified',
      startedAt: lockAtKill!.startedAt,
    });
    expect(slow).toHaveLength(1);
    expect(second.logs()).toContain('finished an interrupted remediation step');
    for (const [name, size] of Object.entries(await memberSizes(cluster))) {
      expect(size.dbSize).toBeLessThan(before[name]!.dbSize / 4);
    }
    const slowTook = (slow[0]!.end - slow[0]!.start) / 1000;
    const killedInside = killedAt < slow[0]!.end;
    console.log(
      `${SLOW} defragmented for ${slowTook.toFixed(1)}s; operator killed ${killedInside ? 'during' : 'after'} it; history: ${story(history).join(', ')}`,
    );
    expect(killedInside).toBe(true);
  });
});
