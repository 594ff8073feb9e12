// The detection benchmark's pure parts: the anchors' rule file (bench/detect/anchor-rules.yaml)
// parses with promtool and encodes the anchors' thresholds and `for:` per anchor (a quota at 80 %:
// cluster-etcd-operator's 75 % warning fires after its 10 m, the mixin's 95 % never; leader changes
// counted per cluster), and the table of bench/detect/report.ts (who was first, the goal).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prometheusConfig } from '../../bench/detect/prometheus.js';
import {
  formatSeconds,
  renderDetect,
  renderRuns,
  summarize,
  type DetectReport,
  type FaultResult,
} from '../../bench/detect/report.js';
import { expectSuccess, promtool } from '../alerts/promtool.js';

const RULES = fileURLToPath(new URL('../../bench/detect/anchor-rules.yaml', import.meta.url));
const MIB = 2 ** 20;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ehc-detect-rules-'));
  copyFileSync(RULES, join(dir, 'anchor-rules.yaml'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const member = (cluster: string, n: number) => `job="etcd",cluster="${cluster}",instance="127.0.9.${n}:2379"`;

describe('the anchor rule file', () => {
  it('parses with promtool', async () => {
    const result = await promtool(['check', 'rules', 'anchor-rules.yaml'], dir);
    expectSuccess(result);
    expect(result.output).toContain('SUCCESS: 33 rules found');
  });

  it('fires per anchor at its own threshold and after its own for:', async () => {
    // Every member at 80 % of a 64 MiB quota; cluster b's leader changes 6 times in 10 minutes
    // (every member's etcd_server_is_leader toggles each minute), cluster a's never.
    const quota = 64 * MIB;
    const series = [1, 2, 3].flatMap((n) => [
      { series: `etcd_mvcc_db_total_size_in_bytes{${member('a', n)}}`, values: `${0.8 * quota}x30` },
      { series: `etcd_server_quota_backend_bytes{${member('a', n)}}`, values: `${quota}x30` },
      { series: `etcd_server_is_leader{${member('a', n)}}`, values: n === 1 ? '1x30' : '0x30' },
      {
        series: `etcd_server_is_leader{${member('b', n)}}`,
        values: '1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1',
      },
    ]);
    const testFile = yaml.dump({
      rule_files: ['anchor-rules.yaml'],
      evaluation_interval: '30s',
      tests: [
        {
          interval: '1m',
          input_series: series,
          alert_rule_test: [
            { eval_time: '9m', alertname: 'etcdDatabaseQuotaLowSpace', exp_alerts: [] },
            {
              eval_time: '11m',
              alertname: 'etcdDatabaseQuotaLowSpace',
              // 80 % is above 65 % (info) and 75 % (warning), below 85 % and the mixin's 95 %.
              exp_alerts: [1, 2, 3].flatMap((n) =>
                ['info', 'warning'].map((severity) => ({
                  exp_labels: { ...labelsOf(member('a', n)), severity, anchor: 'cluster-etcd-operator' },
                })),
              ),
            },
            {
              eval_time: '16m',
              alertname: 'etcdHighNumberOfLeaderChanges',
              exp_alerts: [
                { exp_labels: { cluster: 'b', severity: 'warning', anchor: 'cluster-etcd-operator' } },
              ],
            },
          ],
        },
      ],
    });
    writeFileSync(join(dir, 'anchors.test.yaml'), testFile);
    const result = await promtool(['test', 'rules', 'anchors.test.yaml'], dir);
    expectSuccess(result);
  });
});

function labelsOf(selector: string): Record<string, string> {
  return Object.fromEntries([...selector.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe('the Prometheus configuration', () => {
  it('labels each cluster’s targets with its name and loads the rules', () => {
    const config = prometheusConfig(
      { healthy: { members: [{ ip: '127.0.9.2' }, { ip: '127.0.9.3' }] as never } },
      '/rules.yaml',
      30,
    );
    expect(config).toMatchObject({
      global: { scrape_interval: '30s', evaluation_interval: '30s' },
      rule_files: ['/rules.yaml'],
      scrape_configs: [
        {
          job_name: 'etcd',
          static_configs: [{ targets: ['127.0.9.2:2379', '127.0.9.3:2379'], labels: { cluster: 'healthy' } }],
        },
      ],
    });
  });
});

const fault = (overrides: Partial<FaultResult> = {}): FaultResult => ({
  id: 'slow-disk-80ms',
  fault: "one member's disk slowed: fdatasync +80 ms",
  member: 'member-2',
  cause: 'DiskLatency',
  injectedAtS: 300,
  note: 'member-2 restarted under strace',
  transitions: [
    {
      atS: 20,
      type: 'Upgradeable',
      status: 'False',
      reason: 'EtcdMembers_UnhealthyMembers',
      message: 'EtcdMembersUpgradeable: member-2 is unreachable',
    },
    {
      atS: 150,
      type: 'Degraded',
      status: 'True',
      reason: 'DiskLatency_SlowWALFsync',
      message: 'DiskLatencyDegraded: WAL fsync p99 on member-2 is 127.6ms',
    },
  ],
  alerts: [
    { atS: 900, alertname: 'etcdHighCommitDurations', anchor: 'mixin', severity: 'warning' },
    { atS: 930, alertname: 'etcdHighCommitDurations', anchor: 'mixin', severity: 'warning' },
  ],
  firingBefore: [],
  ...overrides,
});

const machine = {
  nproc: '2',
  cpu: 'test',
  memory: '1 MiB',
  kernel: '6',
  node: 'v20',
  uptime: 'load average: 1',
};
const report = (faults: FaultResult[]): DetectReport => ({
  command: 'npm run bench:detect',
  startedAt: '2026-12-07T06:00:00.000Z',
  finishedAt: '2026-12-07T06:25:00.000Z',
  machineBefore: machine,
  machineAfter: machine,
  etcdVersion: '3.6',
  windowSeconds: 1200,
  pollSeconds: 5,
  settings: { interval: '30s', rateWindow: '5m', degradedInertia: '2m', scrapeInterval: '30s' },
  quotaBackendBytes: 64 * MIB,
  faults,
  healthy: { transitions: [], alerts: [] },
  notes: [],
});

describe('the detection table', () => {
  it('takes the flip that names the cause, not the restart before it, and meets the goal at a third', () => {
    const summary = summarize(fault(), 1200);
    expect(summary.flip).toMatchObject({ atS: 150, type: 'Degraded', namesMember: true, namesCause: true });
    expect(summary.fastestAlert?.atS).toBe(900);
    expect(summary.goalMet).toBe(true);
  });

  it('misses the goal when the flip names other members besides the faulted one', () => {
    const everyone = fault({
      transitions: [
        {
          ...fault().transitions[1]!,
          message:
            'DiskLatencyDegraded: WAL fsync p99 on member-1 is 63ms\nDiskLatencyDegraded: WAL fsync p99 on member-2 is 127.6ms',
        },
      ],
    });
    const summary = summarize(everyone, 1200);
    expect(summary.flip).toMatchObject({ namesMember: false, otherMembers: ['member-1'] });
    expect(summary.goalText).toContain('names member-1 besides member-2');
  });

  it('does not take a check without data for the cause', () => {
    const flapping = fault({
      id: 'leader-flapping',
      member: undefined,
      cause: 'LeaderElection',
      transitions: [
        {
          atS: 400,
          type: 'Degraded',
          status: 'True',
          reason: 'DiskLatency_SlowWALFsync::LeaderElection_NoData',
          message: '',
        },
      ],
    });
    expect(summarize(flapping, 1200).flip).toMatchObject({ atS: 400, namesCause: false });
  });

  it('misses the goal above a third of the fastest anchor alert, and says why', () => {
    const summary = summarize(
      fault({ alerts: [{ atS: 420, alertname: 'x', anchor: 'mixin', severity: 'warning' }] }),
      1200,
    );
    expect(summary.goalMet).toBe(false);
    expect(summary.goalText).toContain('above a third of the fastest anchor alert (2:20)');
  });

  it('writes times as m:ss, with a sign before the fault was in effect', () => {
    expect([formatSeconds(617.4), formatSeconds(-70), formatSeconds(-0.2)]).toEqual([
      '10:17',
      '-1:10',
      '0:00',
    ]);
  });

  it('compares with a third of the window when no anchor alert fired, and misses without a flip', () => {
    expect(summarize(fault({ alerts: [] }), 1200).goalMet).toBe(true);
    const silent = summarize(fault({ transitions: [] }), 1200);
    expect(silent.goalMet).toBe(false);
    expect(silent.goalText).toContain('no condition flipped');
  });

  it('renders one row per fault with our flip and each anchor alert once', () => {
    const markdown = renderDetect(
      report([
        fault(),
        fault({ id: 'member-killed', fault: 'a member killed', transitions: [], alerts: [] }),
      ]),
      'bench/results/detect-x.json',
    );
    expect(markdown).toContain(
      "| one member's disk slowed: fdatasync +80 ms | 2:30 Degraded=True (DiskLatency_SlowWALFsync) | member-2 yes, cause yes | 2:30 Degraded=True | - | mixin etcdHighCommitDurations (warning) 15:00 | met |",
    );
    expect(markdown).toContain(
      '| a member killed | never in 20:00 | - | never | - | never in 20:00 | **missed**: no condition flipped |',
    );
    expect(markdown).toContain('**Healthy cluster, 20:00 window**: ours no flip; anchors no alert.');
  });

  it('shows the WAL fsync p99 each member had over the window, in ms', () => {
    const markdown = renderDetect(
      {
        ...report([fault()]),
        walFsyncP99: {
          healthy: { 'member-1': { median: 0.0631, max: 0.12 }, 'member-2': { median: NaN, max: NaN } },
        },
      },
      'x.json',
    );
    expect(markdown).toContain('| healthy | 63 / 120 | - / - |');
  });

  it('puts two runs side by side, with the healthy cluster as the last row', () => {
    const slower = fault({ transitions: [{ ...fault().transitions[1]!, atS: 170 }] });
    const table = renderRuns([
      { report: report([fault()]), path: 'a.json' },
      { report: report([slower]), path: 'b.json' },
    ]);
    expect(table).toContain(
      "| one member's disk slowed: fdatasync +80 ms | 2:30 Degraded / 2:50 Degraded | yes, yes / yes, yes | 2:30 Degraded / 2:50 Degraded | mixin etcdHighCommitDurations (warning) 15:00 / mixin etcdHighCommitDurations (warning) 15:00 | met / met |",
    );
    expect(table.split('\n').at(-1)).toBe(
      '| healthy cluster (false alarms) | ours 0 flip(s), anchors 0 alert(s) / ours 0 flip(s), anchors 0 alert(s) | | | | |',
    );
  });
});
