// Split brain during Automatic remediation: two operator processes with leader election, and the
// leading one frozen (SIGSTOP) in the middle of a defragmentation until its Lease expires and the
// other replica leads, then woken (SIGCONT). member-3 has a slow disk (strace delays every fsync
// by 1s), so its defragmentation runs for seconds in etcd and the freeze lands inside it.
// Judges: the kube-apiserver's audit log (which replica wrote what, and what was accepted), each
// etcd member's own log (when each defragmentation started and finished), the CR status, the
// Events, the operators' /metrics, and the processes themselves.
// Lease timings are short (10s / 8s / 1s instead of 15s / 10s / 2s) so the takeover comes soon;
// the 8s renew deadline leaves room for a slow apiserver on a loaded machine.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { eventually } from '../harness/eventually.js';
import { fragment } from '../harness/faults.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import {
  replicaCredentials,
  writeAudit,
  type ReplicaCredentials,
  type WriteAudit,
} from '../harness/replica-audit.js';
import {
  defragIntervals,
  historyOf,
  memberSizes,
  overlapping,
  overlappingRecords,
  story,
} from '../remediation/e2e-support.js';

const ns = 'etcd-team';
const leaseNs = 'etcd-health-operator';
const LEASE = 'etcd-health-operator';
const NAME = 'split';
const SLOW = 'member-3';
const IDENTITIES = ['replica-a', 'replica-b'] as const;

let cp: ControlPlane;
let cluster: EtcdCluster;
let checks: NamespacedChecks;
let audit: WriteAudit;
const credentials = new Map<string, ReplicaCredentials>();
let frozenPid: number | undefined;

async function holder(): Promise<string | undefined> {
  const lease = await cp.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: leaseNs, name: LEASE });
  return lease.spec?.holderIdentity;
}

function signal(pid: number, name: 'SIGSTOP' | 'SIGCONT'): void {
  process.kill(pid, name);
  frozenPid = name === 'SIGSTOP' ? pid : undefined;
}

beforeAll(async () => {
  audit = writeAudit(makeTempDir('split-brain-audit'));
  [cp, cluster] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startEtcdCluster({ members: 3, slowDisk: { member: SLOW, delayUs: 1_000_000 } }),
  ]);
  await cp.createNamespace(ns);
  await cp.createNamespace(leaseNs);
  checks = checksIn(cp.kubeConfig, ns);
  for (const identity of IDENTITIES)
    credentials.set(identity, await replicaCredentials(cp, leaseNs, identity));
  // Writes must not wait for the slow disk: keep the etcd leadership on a fast member.
  if ((await cluster.waitForLeader()) === SLOW) {
    const sizes = await memberSizes(cluster);
    const client = new Etcd3({ hosts: cluster.member(SLOW).clientURL });
    await client.maintenance.moveLeader({ targetID: sizes['member-1']!.id });
    client.close();
    await eventually(async () => (await cluster.leaderName()) !== SLOW, { description: 'a fast leader' });
  }
  await fragment(cluster, { keys: 600, valueBytes: 16 * 1024, through: ['member-1', 'member-2'] });
  await eventually(async () => ((await memberSizes(cluster))[SLOW]?.dbSizeInUse ?? Infinity) < 2 ** 20, {
    timeoutMs: 120_000,
    intervalMs: 1_000,
    description: `${SLOW} to apply the compaction`,
  });
});

afterAll(async () => {
  if (frozenPid !== undefined) process.kill(frozenPid, 'SIGCONT');
  await cluster?.stop();
  await cleanupAll();
});

describe('split brain during Automatic remediation', () => {
  it('the leader frozen mid-defragmentation past its Lease writes nothing once woken, exits, and etcd never runs two defragmentations at once', async () => {
    const logDir = makeTempDir('split-brain-logs');
    const replicas = await Promise.all(
      IDENTITIES.map((identity) =>
        startOperator({
          kubeconfigPath: credentials.get(identity)!.kubeconfigPath,
          logDir,
          identity,
          leaseNamespace: leaseNs,
          extraArgs: ['--lease-duration=10s', '--renew-deadline=8s', '--retry-period=1s'],
        }),
      ),
    );
    const before = await memberSizes(cluster);
    await checks.create(NAME, {
      etcd: { endpoints: cluster.endpoints },
      interval: '10s',
      thresholds: { degradedInertia: '0s', fragmentation: { minDatabaseSize: '1Mi' } },
      remediation: { mode: 'Automatic', settleTime: '3s' },
    });

    // The leader has started the slow member's defragmentation: its lock is in the status and
    // etcd has logged the start.
    await eventually(
      async () => {
        const current = (await checks.get(NAME)).status?.remediation?.current;
        const inFlight = defragIntervals(cluster).some((i) => i.member === SLOW && i.end === Infinity);
        return current?.member === SLOW && current.phase === 'Running' && inFlight;
      },
      { timeoutMs: 120_000, intervalMs: 50, description: `the defragmentation of ${SLOW} in flight` },
    );
    const lockAtFreeze = (await checks.get(NAME)).status!.remediation!.current!;
    const leaderName = (await holder())!;
    const frozen = replicas.find((r) => r.identity === leaderName)!;
    const standby: OperatorProcess = replicas.find((r) => r !== frozen)!;
    expect(frozen.process.exited()).toBe(false);
    expect(standby.process.exited()).toBe(false);
    const standbyPid = standby.process.pid;

    signal(frozen.process.pid, 'SIGSTOP');
    const frozenAt = Date.now();
    await eventually(async () => (await holder()) === standby.identity, {
      timeoutMs: 60_000,
      intervalMs: 200,
      description: `${standby.identity} holding the Lease`,
    });
    const tookOverAt = Date.now();
    signal(frozen.process.pid, 'SIGCONT');
    const wokenAt = Date.now();

    // The woken replica steps down: it exits (client-go semantics: leadership lost is fatal).
    await eventually(() => frozen.process.exited(), {
      timeoutMs: 60_000,
      description: `${frozen.identity} exiting after it lost the Lease`,
    });
    expect(frozen.process.child.exitCode).toBe(1);
    expect(frozen.logs()).toContain('leader election lost');

    // The Lease holder did all the rest.
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
      { timeoutMs: 120_000, intervalMs: 500, description: 'every member defragmented' },
    );
    const history = historyOf(done);

    // Nothing the woken replica sent after SIGCONT was accepted by the apiserver: no Lease
    // renewal, no status write (the product refuses before sending; a stale one would be a 409).
    const frozenUser = credentials.get(frozen.identity)!.username;
    const afterWake = audit.writes({ username: frozenUser }).filter((w) => w.receivedAt >= wokenAt);
    expect(afterWake.filter((w) => w.code < 300)).toEqual([]);
    // Before the freeze it did lead and write: the audit log tells the replicas apart.
    const beforeFreeze = audit.writes({ username: frozenUser }).filter((w) => w.receivedAt < frozenAt);
    expect(beforeFreeze.some((w) => w.resource === 'leases' && w.code === 200)).toBe(true);
    expect(beforeFreeze.some((w) => w.subresource === 'status' && w.code === 200)).toBe(true);

    // etcd's own logs: one defragmentation per member, never two at once, the frozen step not repeated.
    const intervals = defragIntervals(cluster);
    expect(overlapping(intervals)).toEqual([]);
    expect(intervals.map((i) => i.member).sort()).toEqual(['member-1', 'member-2', 'member-3']);
    const slow = intervals.find((i) => i.member === SLOW)!;
    expect(slow.start).toBeLessThan(frozenAt);

    // The status: one record per defragmentation, the frozen step finished once by the new leader.
    expect(overlappingRecords(history)).toEqual([]);
    const defrags = history.filter((r) => r.action === 'Defragment');
    expect(defrags.map((r) => r.member).sort()).toEqual(['member-1', 'member-2', 'member-3']);
    expect(defrags.find((r) => r.member === SLOW)).toMatchObject({
      phase: 'Succeeded',
      reason: 'Verified',
      startedAt: lockAtFreeze.startedAt,
    });
    if (slow.end < wokenAt) {
      // Its step's answer was waiting when it woke: it ran to the end and was not recorded.
      expect(frozen.logs()).toContain('remediation step finished; not recording it');
    }
    expect(standby.logs()).toContain('finished an interrupted remediation step');

    // Events: one DefragmentSucceeded per member; the frozen step's from the new leader.
    const events = await checks.eventsOf(NAME);
    const succeeded = events.filter((e) => e.reason === 'DefragmentSucceeded');
    expect(succeeded).toHaveLength(3);
    expect(succeeded.map((e) => ({ by: e.reportingInstance, note: e.note }))).toContainEqual({
      by: standby.identity,
      note: expect.stringMatching(new RegExp(`^${SLOW} is healthy again`, 'i')),
    });

    // The new leader: same process throughout, still leading, its metrics say so; the run is over.
    expect(standby.process.exited()).toBe(false);
    expect(standby.process.pid).toBe(standbyPid);
    expect(await holder()).toBe(standby.identity);
    expect(await standby.metric('etcd_health_operator_leader')).toBe(1);
    expect(
      await standby.metric('etcd_health_operator_remediation_total', {
        action: 'Defragment',
        result: 'success',
      }),
    ).toBeGreaterThanOrEqual(1);
    await eventually(async () => conditionOf(await checks.get(NAME), 'Progressing')?.status === 'False', {
      timeoutMs: 60_000,
      description: 'Progressing=False after the run',
    });
    expect(await standby.metric('etcd_health_check_remediation_in_progress', { name: NAME })).toBe(0);
    for (const [name, size] of Object.entries(await memberSizes(cluster)))
      expect(size.dbSize).toBeLessThan(before[name]!.dbSize / 4);

    const seconds = (t: number) => ((t - frozenAt) / 1000).toFixed(1);
    console.log(
      `${frozen.identity} frozen during ${SLOW}'s defragmentation (etcd: ${((slow.end - slow.start) / 1000).toFixed(1)}s, ended ${seconds(slow.end)}s after the freeze); ${standby.identity} held the Lease ${seconds(tookOverAt)}s after it; woken at ${seconds(wokenAt)}s; writes it sent after waking: ${afterWake.length}; history: ${story(history).join(', ')}`,
    );
  }, 240_000);
});
