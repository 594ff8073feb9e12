// NOSPACE recovery end to end: a real 3-member etcd cluster with a 16 MiB quota, filled the way an
// uncompacted cluster fills up (one key overwritten until etcd refuses writes), the operator as its
// own process on a real kube-apiserver. No Prometheus: the quota comes from the members' own
// /metrics, and so do the gRPC counters that prove mode Recommend touched nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { eventually } from '../harness/eventually.js';
import { fillQuotaWithHistory, startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startOperator, sumSamples, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { defragIntervals, historyOf, memberSizes, overlapping, story } from './e2e-support.js';

const ns = 'etcd-team';
const NAME = 'full';
const QUOTA = 16 * 2 ** 20;

let cp: ControlPlane;
let cluster: EtcdCluster;
let operator: OperatorProcess;
let checks: NamespacedChecks;
let load: WriteLoad | undefined;

/** Maintenance calls each member answered, from its own /metrics. */
async function maintenanceCalls(): Promise<number> {
  let total = 0;
  for (const member of cluster.members) {
    const text = await (await fetch(`${member.clientURL}/metrics`)).text();
    for (const method of ['Defragment', 'Compact', 'MoveLeader']) {
      total += sumSamples(text, 'grpc_server_handled_total', { grpc_method: method }) ?? 0;
    }
  }
  return total;
}

async function alarms(): Promise<string[]> {
  const client = new Etcd3({ hosts: cluster.endpoints });
  try {
    const answer = await client.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
    return answer.alarms.map((a) => a.alarm);
  } finally {
    client.close();
  }
}

const NOSPACE = /database space exceeded/;

/** One put: 'ok', or the error etcd refused it with. */
async function tryWrite(): Promise<string> {
  const client = new Etcd3({ hosts: cluster.endpoints });
  try {
    await client.put('/after-recovery').value('ok');
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  [cp, cluster] = await Promise.all([
    startControlPlane(),
    startEtcdCluster({ members: 3, quotaBackendBytes: QUOTA }),
  ]);
  await cp.createNamespace(ns);
  checks = checksIn(cp.kubeConfig, ns);
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('remediation-nospace-logs'),
    identity: 'operator-nospace',
  });
});

afterAll(async () => {
  await load?.stop();
  await cluster?.stop();
  await cleanupAll();
});

describe('NOSPACE recovery on real etcd', () => {
  it('mode Recommend leaves the cluster in NOSPACE; Automatic compacts, defragments every member, disarms and verifies a write', async () => {
    const puts = await fillQuotaWithHistory(cluster, { valueBytes: 512 * 1024 });
    expect(puts).toBeGreaterThan(5);
    expect(await alarms()).toContain('Nospace');
    expect(await tryWrite()).toMatch(NOSPACE);
    const callsBefore = await maintenanceCalls();
    // Writers keep trying while the operator only recommends: etcd refuses each with NOSPACE.
    load = startWriteLoad(cluster, { perSecond: 5, expectedErrors: NOSPACE });

    const spec = {
      etcd: { endpoints: cluster.endpoints },
      interval: '10s',
      thresholds: { degradedInertia: '0s', fragmentation: { minDatabaseSize: '1Mi' } },
      remediation: { mode: 'Recommend' },
    };
    await checks.create(NAME, spec);
    await eventually(
      async () =>
        (await checks.get(NAME)).status?.recommendations?.some((r) => r.type === 'RecoverFromNoSpace'),
      { timeoutMs: 60_000, description: 'the RecoverFromNoSpace recommendation' },
    );
    // Said once: the recovery stands in for every member's quota pressure and fragmentation.
    const recommended = (await checks.get(NAME)).status?.recommendations ?? [];
    expect(recommended.filter((r) => r.severity === 'Critical').map((r) => r.type)).toEqual([
      'RecoverFromNoSpace',
    ]);
    for (const folded of ['RelieveQuotaPressure', 'Defragment', 'InvestigateDatabaseGrowth'])
      expect(recommended.map((r) => r.type)).not.toContain(folded);
    const reconciles = (await operator.metric('etcd_health_operator_reconcile_total')) ?? 0;
    await eventually(
      async () => ((await operator.metric('etcd_health_operator_reconcile_total')) ?? 0) >= reconciles + 3,
      {
        timeoutMs: 60_000,
        description: 'three more reconciles in mode Recommend',
      },
    );
    const refused = await load.stop();
    expect(refused.unexpectedErrors).toEqual({});
    expect(refused.writes).toBe(0);
    expect(refused.expectedErrors).toBeGreaterThan(0);
    expect(await maintenanceCalls()).toBe(callsBefore);
    expect(await alarms()).toContain('Nospace');
    expect((await checks.get(NAME)).status?.remediation).toBeUndefined();

    const started = Date.now();
    await checks.patchSpec(NAME, { remediation: { mode: 'Automatic', settleTime: '2s' } });
    const recovered = await eventually(
      async () => {
        const check = await checks.get(NAME);
        const verified = historyOf(check).some((r) => r.action === 'VerifyWrite' && r.phase === 'Succeeded');
        return verified && check;
      },
      { timeoutMs: 150_000, intervalMs: 500, description: 'the NOSPACE recovery to finish' },
    );
    const seconds = (Date.now() - started) / 1000;
    const history = historyOf(recovered);
    expect(story(history)).toEqual([
      'Compact Succeeded (NoSpaceRecovery)',
      expect.stringMatching(/^Defragment member-\d Succeeded \(NoSpaceRecovery\)$/),
      expect.stringMatching(/^Defragment member-\d Succeeded \(NoSpaceRecovery\)$/),
      expect.stringMatching(/^MoveLeader member-\d Succeeded \(NoSpaceRecovery\)$/),
      expect.stringMatching(/^Defragment member-\d Succeeded \(NoSpaceRecovery\)$/),
      'DisarmNoSpace Succeeded (NoSpaceRecovery)',
      'VerifyWrite Succeeded (NoSpaceRecovery)',
    ]);
    expect(new Set(history.filter((r) => r.action === 'Defragment').map((r) => r.member)).size).toBe(3);
    expect(overlapping(defragIntervals(cluster))).toEqual([]);

    // Writes succeed again, the alarm is gone, every member is well below the quota.
    expect(await alarms()).toEqual([]);
    expect(await tryWrite()).toBe('ok');
    for (const size of Object.values(await memberSizes(cluster)))
      expect(size.dbSize).toBeLessThan(0.8 * QUOTA);

    // The status tells the story, and the alarm condition clears.
    const clear = await eventually(
      async () => {
        const check = await checks.get(NAME);
        return conditionOf(check, 'AlarmsDegraded')?.status === 'False' && check;
      },
      { timeoutMs: 60_000, description: 'AlarmsDegraded=False' },
    );
    expect(clear.status?.recommendations?.some((r) => r.type === 'RecoverFromNoSpace')).toBe(false);
    const reasons = (await checks.eventsOf(NAME)).map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['CompactSucceeded', 'DisarmNoSpaceSucceeded', 'VerifyWriteSucceeded']),
    );
    console.log(
      `NOSPACE recovered in ${seconds.toFixed(1)}s after ${puts} puts: ${story(history).join(', ')}`,
    );
  });
});
