// The members' own nodes from node-exporter: every threshold at, just below and just above its
// value, missing and NaN values, and the scoping to the members' nodes (never any other node).
import { describe, expect, it } from '@jest/globals';
import type { FindingSeverity } from '../../src/health/findings.js';
import type { NodeMetrics } from '../../src/health/observation.js';
import {
  conditionOf,
  findingsOf,
  healthyCluster,
  healthyNode,
  killed,
  notStarted,
  run,
  specWith,
  withClusterMetrics,
  withNodes,
  type Change,
} from './fixtures.js';

const CHECK = 'ControlPlaneNodes';

/** The finding of one measurement of member etcd-1's node, picked by its reason or its words. */
function verdictOf(changes: Change[], words: string, spec = specWith()) {
  const analysis = run(healthyCluster(3, ...changes), { spec });
  const findings = findingsOf(analysis, CHECK, 'etcd-1').filter((finding) => finding.message.includes(words));
  expect(findings).toHaveLength(1);
  return { finding: findings[0]!, condition: conditionOf(analysis, 'ControlPlaneNodesDegraded') };
}

type Table = [number, FindingSeverity][];

const bands: [string, keyof NodeMetrics, string, string, Table][] = [
  [
    'disk write await (20ms warning, 50ms critical)',
    'diskWriteAwaitSeconds',
    'Write await of disk nvme0n1 (under /var/lib/etcd)',
    'SlowDiskWrites',
    [
      [0.0199, 'OK'],
      [0.02, 'Warning'],
      [0.0201, 'Warning'],
      [0.0499, 'Warning'],
      [0.05, 'Critical'],
      [0.0501, 'Critical'],
    ],
  ],
  [
    'disk utilisation (90% warning)',
    'diskUtilisationPercent',
    'Utilisation of disk nvme0n1',
    'DiskSaturated',
    [
      [89.9, 'OK'],
      [90, 'Warning'],
      [90.1, 'Warning'],
      [100, 'Warning'],
    ],
  ],
  [
    'free space of the data dir filesystem (5% warning, 3% critical, at or below)',
    'filesystemAvailablePercent',
    'Free space of filesystem /var/lib/etcd',
    'LowDiskSpace',
    [
      [5.1, 'OK'],
      [5, 'Warning'],
      [4.9, 'Warning'],
      [3.1, 'Warning'],
      [3, 'Critical'],
      [2.9, 'Critical'],
    ],
  ],
  [
    'available memory (10% warning, 5% critical, at or below)',
    'memoryAvailablePercent',
    'Available memory',
    'LowMemory',
    [
      [10.1, 'OK'],
      [10, 'Warning'],
      [9.9, 'Warning'],
      [5.1, 'Warning'],
      [5, 'Critical'],
      [4.9, 'Critical'],
    ],
  ],
  [
    'CPU incl. iowait (80% warning)',
    'cpuPercent',
    'CPU use',
    'HighCPU',
    [
      [79.9, 'OK'],
      [80, 'Warning'],
      [80.1, 'Warning'],
    ],
  ],
];

describe.each(bands)('%s', (_title, field, words, reason, table) => {
  it.each(table)('%d is %s, on member etcd-1 and naming its node', (value, severity) => {
    const { finding, condition } = verdictOf([withNodes(3, 1, { [field]: value })], words);
    expect(finding).toMatchObject({ severity, reason: severity === 'OK' ? 'AsExpected' : reason, value });
    expect(finding.message).toContain('node 127.0.0.2 (member etcd-1)');
    expect(condition.status).toBe(severity === 'Critical' ? 'True' : 'False');
  });

  it.each([
    ['missing', undefined, 'missing (no series)'],
    ['NaN', NaN, 'not a number'],
  ])('%s is Unknown, never healthy', (_name, value, why) => {
    const patch: Partial<NodeMetrics> = { [field]: value };
    const { finding, condition } = verdictOf([withNodes(3, 1, patch)], words);
    expect(finding).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
    expect(finding.message).toContain(why);
    expect(condition.status).toBe('Unknown');
  });
});

describe("thresholds from the spec and the node's details", () => {
  it('judges write await against the spec band', () => {
    const spec = specWith({
      thresholds: { controlPlaneNodes: { diskWriteAwait: { warning: '5ms', critical: '10ms' } } },
    });
    const { finding } = verdictOf([withNodes(3, 1, { diskWriteAwaitSeconds: 0.01 })], 'Write await', spec);
    expect(finding).toMatchObject({ severity: 'Critical', threshold: 0.01 });
    expect(finding.message).toContain('at or above the 10ms critical threshold');
  });

  it('judges free space against the spec band, at or below', () => {
    const spec = specWith({
      thresholds: { controlPlaneNodes: { filesystemAvailable: { warning: 50, critical: 20 } } },
    });
    const { finding } = verdictOf([withNodes(3, 1, { filesystemAvailablePercent: 40 })], 'Free space', spec);
    expect(finding).toMatchObject({ severity: 'Warning', threshold: 50 });
    expect(finding.message).toContain('at or below the 50% warning threshold');
  });

  it.each(['var/lib/etcd', '/var/lib/etcd with space', '/a"b'])(
    'refuses the data dir mountpoint %j',
    (mountpoint) => {
      expect(() =>
        specWith({
          prometheus: {
            url: 'https://prometheus.example:9090',
            nodeExporter: { dataDirMountpoint: mountpoint },
          },
        }),
      ).toThrow();
    },
  );

  it('refuses a free-space band whose critical exceeds its warning', () => {
    expect(() =>
      specWith({ thresholds: { controlPlaneNodes: { filesystemAvailable: { warning: 3, critical: 5 } } } }),
    ).toThrow(/critical must not exceed warning/);
  });

  it('names the iowait share beside the CPU use', () => {
    const { finding } = verdictOf([withNodes(3, 1, { cpuPercent: 90, cpuIowaitPercent: 60 })], 'CPU use');
    expect(finding.message).toBe(
      'CPU use of node 127.0.0.2 (member etcd-1) (iowait 60%) is 90%, at or above the 80% warning threshold',
    );
  });

  it('names the root filesystem when the node has no separate data dir mountpoint', () => {
    const { finding } = verdictOf(
      [withNodes(3, 1, { mountpoint: '/', filesystemAvailablePercent: 2 })],
      'Free space of filesystem / on',
    );
    expect(finding.severity).toBe('Critical');
  });
});

describe("scoped to the members' own nodes", () => {
  const nodeTargets = (changes: Change[]) =>
    findingsOf(run(healthyCluster(3, ...changes)), CHECK).map((finding) => finding.target);

  it('never judges a node that is not a member’s', () => {
    const stranger = {
      ...healthyNode(0, { cpuPercent: 100, filesystemAvailablePercent: 0 }),
      instance: '10.9.9.9:9100',
    };
    const analysis = run(
      healthyCluster(3, (observation) => {
        withNodes(3)(observation);
        observation.metrics.nodes!.push(stranger);
      }),
    );
    const findings = findingsOf(analysis, CHECK);
    expect(findings.every((finding) => finding.severity === 'OK')).toBe(true);
    expect(findings.some((finding) => finding.message.includes('10.9.9.9'))).toBe(false);
    expect(new Set(findings.map((finding) => finding.target))).toEqual(
      new Set(['etcd-0', 'etcd-1', 'etcd-2']),
    );
  });

  it('a member whose node has no series is Unknown by name, the others judged', () => {
    const analysis = run(
      healthyCluster(3, withClusterMetrics({ nodes: [healthyNode(0, { diskWriteAwaitSeconds: 0.06 })] })),
    );
    expect(findingsOf(analysis, CHECK, 'etcd-0').map((finding) => finding.severity)).toContain('Critical');
    for (const target of ['etcd-1', 'etcd-2']) {
      const [finding, ...rest] = findingsOf(analysis, CHECK, target);
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
      expect(finding!.message).toContain(`The node of ${target} is not checked`);
    }
  });

  it.each([
    ['the member name as instance (kube-prometheus, OpenShift)', { instance: 'ETCD-1' }],
    ['the member name as the node label', { instance: '10.1.1.1:9100', nodeName: 'etcd-1' }],
    ['the client host without a port', { instance: '127.0.0.2' }],
  ])('matches by %s', (_how, names) => {
    const node: NodeMetrics = { ...healthyNode(1, { filesystemAvailablePercent: 1 }), ...names };
    const analysis = run(
      healthyCluster(3, withClusterMetrics({ nodes: [healthyNode(0), node, healthyNode(2)] })),
    );
    expect(
      findingsOf(analysis, CHECK, 'etcd-1').find((finding) => finding.reason === 'LowDiskSpace')?.severity,
    ).toBe('Critical');
  });

  it('matches IPv6 instances to IPv6 member URLs', () => {
    const v6: Change = (observation) => {
      const member = observation.etcd.members[1]!;
      member.clientURLs = ['https://[fd00::2]:2379'];
      member.endpoint = 'https://[fd00::2]:2379';
      member.peerURLs = ['https://[fd00::2]:2380'];
      withClusterMetrics({
        nodes: [healthyNode(0), healthyNode(1, { instance: '[FD00::2]:9100' }), healthyNode(2)],
      })(observation);
    };
    const findings = findingsOf(run(healthyCluster(3, v6)), CHECK, 'etcd-1');
    expect(findings.map((finding) => finding.severity)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
    expect(findings[0]!.message).toContain('node FD00::2 (member etcd-1)');
  });

  it("a down member's node without series is not NoData noise", () => {
    const analysis = run(
      healthyCluster(3, killed(1), withClusterMetrics({ nodes: [healthyNode(0), healthyNode(2)] })),
    );
    expect(findingsOf(analysis, CHECK, 'etcd-1')).toEqual([]);
    expect(conditionOf(analysis, 'ControlPlaneNodesDegraded').status).toBe('False');
  });

  it("a down member's node that still reports is judged, and its missing values stay quiet", () => {
    const analysis = run(
      healthyCluster(3, killed(1), withNodes(3, 1, { filesystemAvailablePercent: 0, cpuPercent: undefined })),
    );
    const findings = findingsOf(analysis, CHECK, 'etcd-1');
    expect(findings.find((finding) => finding.reason === 'LowDiskSpace')?.severity).toBe('Critical');
    expect(findings.some((finding) => finding.reason === 'NoData')).toBe(false);
  });

  it('a member that has not started has no node to judge', () => {
    const targets = nodeTargets([notStarted(2), withNodes(3)]);
    expect(targets).not.toContain('etcd-2');
    expect(targets).toContain('etcd-0');
  });
});

describe('recommendations for a member’s node', () => {
  it.each([
    ['LowDiskSpace', { filesystemAvailablePercent: 2 }, 'Critical', 'df -h /var/lib/etcd'],
    ['SlowDiskWrites', { diskWriteAwaitSeconds: 0.03 }, 'Warning', 'iostat -xm 5 3'],
    ['DiskSaturated', { diskUtilisationPercent: 95 }, 'Warning', 'iostat -xm 5 3'],
    ['LowMemory', { memoryAvailablePercent: 4 }, 'Critical', 'free -m'],
  ] as [string, Partial<NodeMetrics>, FindingSeverity, string][])(
    '%s gives the commands to run on the member’s host',
    (reason, patch, severity, command) => {
      const recommendations = run(healthyCluster(3, withNodes(3, 1, patch))).recommendations;
      const node = recommendations.filter(
        (recommendation) => recommendation.type === 'InvestigateNodeResources',
      );
      expect(node).toEqual([expect.objectContaining({ reason, severity, target: 'etcd-1' })]);
      expect(node[0]!.commands).toContain(command);
      // Without discovery no node name is known: the commands run on the member's host, as said.
      expect(node[0]!.message).toContain('Run the host commands below on the host of member etcd-1');
    },
  );
});
