// A slow disk on one member: strace delays every fsync/fdatasync of member-3 by 80ms, and under a
// steady write load Prometheus must show its WAL fsync p99 above 50ms (the critical threshold of
// the field guide) while the other members stay below.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { analyzeObservation, metricsOf, observeCluster } from './support.js';

const SLOW = 'member-3';
const CRITICAL_SECONDS = 0.05;

describe(`sources against a slow disk under etcd ${etcdVersionUnderTest()}`, () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;
  let load: WriteLoad;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3, slowDisk: { member: SLOW, delayUs: 80_000 } });
    prometheus = await startPrometheus(cluster);
    load = startWriteLoad(cluster, { perSecond: 20 });
    await prometheus.waitForScrapes();
  });
  afterAll(async () => {
    await load?.stop();
    await prometheus?.stop();
    await cluster?.stop();
  });

  it(`shows ${SLOW}'s WAL fsync p99 above 50ms and the others below`, async () => {
    const fast = cluster.members.filter((m) => m.name !== SLOW).map((m) => m.name);
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        const slow = metricsOf(o, SLOW)?.walFsyncP99 ?? 0;
        const others = fast.map((name) => metricsOf(o, name)?.walFsyncP99 ?? NaN);
        return slow > CRITICAL_SECONDS && others.every((p99) => p99 < CRITICAL_SECONDS) && o;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        description: `${SLOW}'s WAL fsync p99 > 50ms with the others below`,
      },
    );
    const slowP99 = metricsOf(observation, SLOW)!.walFsyncP99!;
    // Every fsync takes at least 80ms, so the p99 lands in the 64-128ms bucket or above.
    expect(slowP99).toBeGreaterThan(0.064);
    for (const name of fast) expect(metricsOf(observation, name)!.walFsyncP99).toBeLessThan(CRITICAL_SECONDS);
    expect(observation.etcd.source.state).toBe('OK');

    const findings = analyzeObservation(observation).findings.filter((f) => f.check === 'WalFsync');
    expect(findings.find((f) => f.target === SLOW)?.severity).toBe('Critical');
    for (const name of fast) expect(findings.find((f) => f.target === name)?.severity).not.toBe('Critical');
    // The fsyncs measured were the load's: its puts went through, slowly, and none failed.
    const loaded = await load.stop();
    expect(loaded.unexpectedErrors).toEqual({});
    expect(loaded.expectedErrors).toBe(0);
    expect(loaded.writes).toBeGreaterThanOrEqual(20);
  });
});
