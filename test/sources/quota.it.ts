// A full quota: a single member with a 16 MiB quota is filled until etcd refuses writes with
// "database space exceeded"; the NOSPACE alarm must be visible, in the alarm list and in Status.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { fillQuota } from '../harness/faults.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { analyzeObservation, memberNamed, metricsOf, observeCluster } from './support.js';

const QUOTA = 16 * 1024 * 1024;

describe(`sources against a full quota under etcd ${etcdVersionUnderTest()}`, () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 1, quotaBackendBytes: QUOTA });
    prometheus = await startPrometheus(cluster);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await cluster?.stop();
  });

  it('shows the NOSPACE alarm, the DB at the quota, and the quota from Prometheus', async () => {
    const puts = await fillQuota(cluster);
    expect(puts).toBeGreaterThan(10);
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        return metricsOf(o, 'member-1')?.quotaBackendBytes !== undefined && o;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: 'Prometheus to scrape the quota' },
    );
    const member = memberNamed(observation, 'member-1');
    expect(observation.etcd.alarmsKnown).toBe(true);
    expect(observation.etcd.alarms).toEqual([{ memberId: member.id, alarm: 'NOSPACE' }]);
    // Status answers locally and lists the alarm too: the fallback when the alarm list fails.
    expect(member.status!.errors).toContainEqual(
      expect.stringMatching(new RegExp(`memberID:${member.id} +alarm:NOSPACE`)),
    );
    expect(member.status!.dbSize).toBeGreaterThan(0.9 * QUOTA);
    expect(metricsOf(observation, 'member-1')!.quotaBackendBytes).toBe(QUOTA);
    // The bundled etcd3 protos predate 3.6's dbSizeQuota: the quota comes from Prometheus.
    expect(member.status!.dbSizeQuota).toBeUndefined();

    const findings = analyzeObservation(observation).findings.filter((f) => f.check === 'Alarms');
    expect(findings.map((f) => f.severity)).toContain('Critical');
  });
});
