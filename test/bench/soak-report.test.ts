// The soak's verdict (bench/soak-report.ts): RSS flatness after the warm-up, and a pass only with
// no restart, every fault seen and recovered, and nothing stuck.
import { describe, expect, it } from '@jest/globals';
import { renderSoak, rssVerdict, type RssSample, type SoakReport } from '../../bench/soak-report.js';

const MIB = 1024 * 1024;
/** One sample every 10 s for `seconds`, RSS from `rssAt`. */
const series = (seconds: number, rssAt: (s: number) => number): RssSample[] =>
  Array.from({ length: seconds / 10 + 1 }, (_, i) => ({
    atS: i * 10,
    rssBytes: rssAt(i * 10),
    heapUsedBytes: 20 * MIB,
  }));

const machine = {
  nproc: '2',
  memory: '7900 MiB total',
  cpu: 'test',
  kernel: '6.1',
  node: 'v22',
  loadavg: [1, 1, 1],
};
const report = (overrides: Partial<SoakReport> = {}): SoakReport => ({
  command: 'npm run soak -- --duration 60m',
  startedAt: '2026-12-07T03:00:00.000Z',
  finishedAt: '2026-12-07T04:00:00.000Z',
  soakSeconds: 3600,
  durationRequested: '60m',
  machineBefore: machine,
  machineAfter: machine,
  etcdVersion: '3.6',
  operator: { pid: 42, alive: true, restarts: [], errorLines: { error: 0, fatal: 0 } },
  faults: [
    {
      cycle: 1,
      at: '0:10',
      kind: 'member kill',
      target: 'member-1',
      expected: 'x',
      recovery: 'y',
      notSettledBefore: [],
      onsetS: { 'soak-a/etcd': 12 },
      recoveryS: { 'soak-a/etcd': 30 },
      availableDuring: ['True'],
      events: { 'soak-a/etcd': ['UpgradeableFalse', 'UpgradeableTrue'] },
      missing: [],
    },
  ],
  rss: series(3600, () => 100 * MIB),
  finalSettle: { 'soak-a/etcd': 5 },
  stuck: [{ key: 'soak-a/etcd', unhealthy: [] }],
  writeLoad: { writes: 70_000, expectedErrors: 3, unexpectedErrors: {} },
  ...overrides,
});

describe('rssVerdict', () => {
  it('calls a series flat when the last window is within 10 % of the first after the warm-up', () => {
    // A warm-up that doubles RSS does not count; a 5 % drift afterwards is flat.
    const verdict = rssVerdict(
      series(3600, (s) => (s < 600 ? 50 * MIB : 100 * MIB * (1 + (0.05 * (s - 600)) / 3000))),
      3600,
    );
    expect(verdict.warmupS).toBe(600);
    expect(verdict.earlyBytes).toBeGreaterThanOrEqual(100 * MIB);
    expect(verdict.earlyBytes).toBeLessThan(101 * MIB);
    expect(verdict.change).toBeGreaterThan(0.03);
    expect(verdict.change).toBeLessThan(0.06);
    expect(verdict.flat).toBe(true);
  });

  it('calls a 20 % growth after the warm-up not flat', () => {
    const verdict = rssVerdict(
      series(3600, (s) => 100 * MIB * (1 + (0.2 * Math.max(0, s - 600)) / 3000)),
      3600,
    );
    expect(verdict.change).toBeGreaterThan(0.15);
    expect(verdict.flat).toBe(false);
  });
});

describe('renderSoak', () => {
  it('passes a run without restart, with every fault seen and recovered and nothing stuck', () => {
    const markdown = renderSoak(report(), 'bench/results/soak.json');
    expect(markdown).toContain('**Verdict: pass**');
    expect(markdown).toContain('Operator restarts: 0 (PID 42');
    expect(markdown).toContain('| 1 | 0:10 | member kill | member-1 |');

    const logged = renderSoak(
      report({
        operator: {
          pid: 42,
          alive: true,
          restarts: [],
          errorLines: {
            error: 3,
            fatal: 0,
            byMessage: { 'error: reconcile failed': 3, 'warn: LIST failed': 1 },
          },
        },
      }),
      'raw.json',
    );
    expect(logged).toContain('3x error: reconcile failed, 1x warn: LIST failed');
  });

  it('fails a run with a restart, a missing recovery or a stuck condition, and says which', () => {
    const restarted = renderSoak(
      report({
        operator: {
          pid: 42,
          alive: false,
          restarts: ['operator PID 42 gone at 12:00'],
          errorLines: { error: 0, fatal: 1 },
        },
      }),
      'raw.json',
    );
    expect(restarted).toContain('**Verdict: FAIL**');
    expect(restarted).toContain('operator PID 42 gone at 12:00');

    const base = report();
    const missing = renderSoak(
      report({
        faults: [
          { ...base.faults[0]!, recoveryS: { 'soak-a/etcd': undefined }, missing: ['soak-a/etcd: no y'] },
        ],
      }),
      'raw.json',
    );
    expect(missing).toContain('**Verdict: FAIL**');
    expect(missing).toContain('cycle 1 member kill: soak-a/etcd: no y');

    const stuck = renderSoak(
      report({ stuck: [{ key: 'soak-a/etcd', unhealthy: ['Degraded=True (X)'] }] }),
      'raw.json',
    );
    expect(stuck).toContain('**Verdict: FAIL**');
    expect(stuck).toContain('soak-a/etcd: Degraded=True (X)');
  });
});
