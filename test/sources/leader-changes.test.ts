// The leader-change signals' PromQL, evaluated by Prometheus's own engine (promtool's
// promql_expr_test) on series shaped like a real cluster's: members killed and restarted, their
// counters reset. No server needed: the query is what is under test, not the scrape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { SIGNALS, type QueryContext } from '../../src/sources/prometheus/queries.js';
import { PROMTOOL, promtool } from '../alerts/promtool.js';

const CTX: QueryContext = {
  etcdMatchers: [{ name: 'job', op: '=', value: 'etcd' }],
  memberLabel: 'instance',
  rateWindowMs: 300_000,
  growthHorizonMs: 4 * 3_600_000,
  dataDirMountpoint: '/var/lib/etcd',
};
const leaderChanges15m = SIGNALS.find((s) => s.field === 'leaderChanges15m')!.promql(CTX);

/** Per member, one sample a minute from 0m to 15m (`_`: no sample, the member is down). */
interface Member {
  changesSeen: string;
  isLeader: string;
}

let dir: string;
beforeAll(() => {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} missing: apt-get install prometheus`);
  dir = mkdtempSync(join(tmpdir(), 'ehc-leader-changes-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What Prometheus answers for leaderChanges15m at 15m: the value, or undefined for no data. */
async function evaluate(members: Record<string, Member>, expected: number | undefined): Promise<string> {
  const series = Object.entries(members).flatMap(([instance, m]) => [
    {
      series: `etcd_server_leader_changes_seen_total{job="etcd",instance="${instance}"}`,
      values: m.changesSeen,
    },
    { series: `etcd_server_is_leader{job="etcd",instance="${instance}"}`, values: m.isLeader },
  ]);
  const test = {
    rule_files: [],
    tests: [
      {
        interval: '1m',
        input_series: series,
        promql_expr_test: [
          {
            expr: leaderChanges15m,
            eval_time: '15m',
            exp_samples: expected === undefined ? [] : [{ labels: '{}', value: expected }],
          },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'test.yaml'), yaml.dump(test));
  const result = await promtool(['test', 'rules', 'test.yaml'], dir);
  return result.code === 0 ? 'as expected' : result.output;
}

describe('leader changes in 15 minutes', () => {
  it('are 0 on a steady cluster', async () => {
    const steady = { changesSeen: '1x15', isLeader: '0x15' };
    const members = { a: { changesSeen: '1x15', isLeader: '1x15' }, b: steady, c: steady };
    expect(await evaluate(members, 0)).toBe('as expected');
  });

  it('come from a counter that did not reset while others restarted', async () => {
    // a leads, is killed at 4m (b leads), restarts at 5m; b is killed at 8m (c leads), restarts at 9m.
    const members = {
      a: { changesSeen: '5 5 5 5 _ 1 1 1 2 2 2 2 2 2 2 2', isLeader: '1 1 1 1 _ 0 0 0 0 0 0 0 0 0 0 0' },
      b: { changesSeen: '5 5 5 5 6 6 6 6 _ 1 1 1 1 1 1 1', isLeader: '0 0 0 0 1 1 1 1 _ 0 0 0 0 0 0 0' },
      c: { changesSeen: '5 5 5 5 6 6 6 6 7 7 7 7 7 7 7 7', isLeader: '0 0 0 0 0 0 0 0 1 1 1 1 1 1 1 1' },
    };
    expect(await evaluate(members, 2)).toBe('as expected');
  });

  it('are still counted when every member restarted inside the window (the leader killed again and again)', async () => {
    // As above, then c (leading) is killed at 12m, a leads, and c restarts at 13m: every counter
    // reset, so none covers the window; the is_leader flips do (two per change).
    const members = {
      a: { changesSeen: '5 5 5 5 _ 1 1 1 2 2 2 2 3 3 3 3', isLeader: '1 1 1 1 _ 0 0 0 0 0 0 0 1 1 1 1' },
      b: { changesSeen: '5 5 5 5 6 6 6 6 _ 1 1 1 2 2 2 2', isLeader: '0 0 0 0 1 1 1 1 _ 0 0 0 0 0 0 0' },
      c: { changesSeen: '5 5 5 5 6 6 6 6 7 7 7 7 _ 1 1 1', isLeader: '0 0 0 0 0 0 0 0 1 1 1 1 _ 0 0 0' },
    };
    expect(await evaluate(members, 3)).toBe('as expected');
  });

  it('are no data, not 0, when Prometheus has no etcd series at all', async () => {
    expect(await evaluate({}, undefined)).toBe('as expected');
  });
});
