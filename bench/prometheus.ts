// Prometheus for the benchmark: the harness's (test/harness/prometheus.ts), scraping every 30s as
// production does unless told otherwise (--scrape-interval), and a wait for complete data.
import { eventually } from '../test/harness/eventually.js';
import type { PrometheusServer } from '../test/harness/prometheus.js';

/**
 * Waits until every signal the checks need has a value for every member: the p99 histograms need
 * two scrapes with observations inside the rate window (peer round trips are sampled only every
 * few seconds by etcd). Before that the checks say NoData, and the first real value would be a
 * condition transition, which is not the steady state the benchmark measures.
 */
export async function waitForData(
  prometheus: PrometheusServer,
  members: number,
  timeoutMs: number,
): Promise<void> {
  const quantile = (metric: string) =>
    `histogram_quantile(0.99, sum by (instance, le) (rate(${metric}{job="etcd"}[5m])))`;
  await eventually(
    async () => {
      for (const metric of [
        'etcd_disk_wal_fsync_duration_seconds_bucket',
        'etcd_disk_backend_commit_duration_seconds_bucket',
        'etcd_network_peer_round_trip_time_seconds_bucket',
      ]) {
        const result = await prometheus.query(quantile(metric));
        if (result.filter((r) => Number.isFinite(Number(r.value[1]))).length < members) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 2_000, description: 'Prometheus to have every p99 for every member' },
  );
}
