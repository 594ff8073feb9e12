// The members' nodes from a real node-exporter: one runs on the loopback address of one member of a
// real 3-member cluster, a real Prometheus scrapes it as job "node", and the findings of the node
// check name exactly that member; the others have no node-exporter and are Unknown by name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { analyze } from '../../src/health/analyze.js';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { nodeExporterBinary } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { makeTempDir, removeTempDir, startProcess, type ManagedProcess } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { observeCluster } from './support.js';

describe("a real node-exporter on one member's address", () => {
  let cluster: EtcdCluster;
  let prometheus: PrometheusServer;
  let exporter: ManagedProcess;
  let logDir: string;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3 });
    const address = `${cluster.members[1]!.ip}:9100`;
    logDir = makeTempDir('node-exporter');
    exporter = startProcess({
      name: 'node-exporter',
      command: nodeExporterBinary(),
      args: [
        `--web.listen-address=${address}`,
        '--collector.disable-defaults',
        '--collector.cpu',
        '--collector.meminfo',
        '--collector.filesystem',
        '--collector.diskstats',
      ],
      logDir,
    });
    prometheus = await startPrometheus(cluster, { nodeExporters: [address] });
    await prometheus.waitForScrapes();
  });
  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
    if (logDir) removeTempDir(logDir);
    await cluster?.stop();
  });

  it("judges that member's node only, and names the member", async () => {
    const member = cluster.members[1]!;
    // A rate needs two scrapes of the node's counters.
    const observation = await eventually(
      async () => {
        const o = await observeCluster(cluster, prometheus.url);
        const node = o.metrics.nodes?.[0];
        return node?.cpuPercent !== undefined && node.filesystemAvailablePercent !== undefined && o;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        description: "Prometheus to have the node-exporter's CPU and filesystem",
      },
    );
    expect(observation.metrics.nodes).toHaveLength(1);
    const node = observation.metrics.nodes![0]!;
    expect(node.instance).toBe(`${member.ip}:9100`);
    // No filesystem is mounted at /var/lib/etcd here: the root filesystem is read instead.
    expect(node.mountpoint).toBe('/');
    expect(node.filesystemAvailablePercent).toBeGreaterThan(0);
    expect(node.filesystemAvailablePercent).toBeLessThan(100);
    expect(node.memoryAvailablePercent).toBeGreaterThan(0);
    // The root filesystem's block device (e.g. /dev/vda) is found in node_disk_* by its bare name.
    const device = rootBlockDevice();
    if (device !== undefined) {
      expect(node.device).toBe(device);
      expect(node.diskWriteAwaitSeconds).toBeGreaterThanOrEqual(0);
      expect(node.diskUtilisationPercent).toBeGreaterThanOrEqual(0);
    }

    // Every filesystem with any space used is at or below a 100% free-space warning.
    const spec = EtcdHealthCheckSpecSchema.parse({
      etcd: { endpoints: cluster.endpoints },
      thresholds: { controlPlaneNodes: { filesystemAvailable: { warning: 100, critical: 100 } } },
    });
    const analysis = analyze({ observation, spec, previousConditions: [], generation: 1 });
    const findings = analysis.findings.filter((finding) => finding.check === 'ControlPlaneNodes');
    const lowSpace = findings.filter((finding) => finding.reason === 'LowDiskSpace');
    expect(lowSpace).toEqual([expect.objectContaining({ severity: 'Critical', target: member.name })]);
    expect(lowSpace[0]!.message).toContain(
      `Free space of filesystem / on node ${member.ip} (member ${member.name})`,
    );
    // CPU and memory of that node are measured, not NoData.
    const judged = findings.filter(
      (finding) => finding.target === member.name && finding.reason !== 'NoData',
    );
    expect(judged.map((finding) => finding.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CPU use of node /),
        expect.stringMatching(/^Available memory of node /),
      ]),
    );
    // The members without a node-exporter are Unknown by name, never judged.
    for (const other of cluster.members.filter((m) => m.name !== member.name)) {
      expect(findings.filter((finding) => finding.target === other.name)).toEqual([
        expect.objectContaining({ severity: 'Unknown', reason: 'NoData' }),
      ]);
    }
    expect(analysis.recommendations).toContainEqual(
      expect.objectContaining({
        type: 'InvestigateNodeResources',
        reason: 'LowDiskSpace',
        target: member.name,
      }),
    );
  });
});

/** The root filesystem's device when it is a block device the kernel keeps statistics of (not overlay). */
function rootBlockDevice(): string | undefined {
  const root = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[1] === '/' && fields[0]!.startsWith('/dev/'));
  const name = root?.[0]!.slice('/dev/'.length);
  const known = readFileSync('/proc/diskstats', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[2] === name);
  return name !== undefined && known ? name : undefined;
}
