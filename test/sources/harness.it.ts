// The harness itself: after stop() nothing it started is alive and nothing it created is left,
// including the etcd that runs under strace (strace does not take its tracee down with it).
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { startEtcdCluster } from '../harness/etcd-cluster.js';
import { pidAlive } from '../harness/leaks.js';
import { startPrometheus } from '../harness/prometheus.js';

describe('test harness', () => {
  it('stops every process and removes every directory of a TLS cluster with a slow-disk member and Prometheus', async () => {
    const cluster = await startEtcdCluster({
      members: 2,
      tls: true,
      slowDisk: { member: 'member-2', delayUs: 1_000 },
    });
    let prometheusDir: string;
    try {
      const prometheus = await startPrometheus(cluster);
      prometheusDir = prometheus.dataDir;
      await prometheus.waitForScrapes();
      const traced = cluster.member('member-2').etcdPid()!;
      expect(pidAlive(traced)).toBe(true);
      // Killing a traced member kills the etcd, not only strace.
      await cluster.killMember('member-2');
      expect(pidAlive(traced)).toBe(false);
      await cluster.restartMember('member-2');
      expect(cluster.member('member-2').etcdPid()).not.toBe(traced);
      await prometheus.stop();
      expect(pidAlive(prometheus.process.pid)).toBe(false);
      expect(existsSync(prometheusDir)).toBe(false);
    } finally {
      await cluster.stop();
    }
    const pids = cluster.pids();
    // member-1's etcd; member-2's strace and traced etcd, twice (started, restarted).
    expect(pids).toHaveLength(5);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});
