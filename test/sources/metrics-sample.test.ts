import { describe, expect, it } from '@jest/globals';
import { parseExposition } from '../../src/sources/metrics/exposition.js';
import type { ScrapeOutcome } from '../../src/sources/metrics/scrape.js';
import {
  metricsUrl,
  sampleMetrics,
  sampledObservation,
  type MetricsSample,
} from '../../src/sources/metrics/source.js';
import type { MemberIdentity } from '../../src/sources/prometheus/members.js';

const MEMBERS: MemberIdentity[] = [
  { id: '1', name: 'm1', clientURLs: ['https://10.0.0.1:2379'], peerURLs: ['https://10.0.0.1:2380'] },
  { id: '2', name: 'm2', clientURLs: ['https://10.0.0.2:2379'], peerURLs: ['https://10.0.0.2:2380'] },
];

const FSYNC = 'etcd_disk_wal_fsync_duration_seconds_bucket';
const COMMIT = 'etcd_disk_backend_commit_duration_seconds_bucket';
const RTT = 'etcd_network_peer_round_trip_time_seconds_bucket';

/** Cumulative buckets of `name` (labels added) at the bounds 0.001, 0.002, 0.004, +Inf. */
function histogram(name: string, counts: [number, number, number, number], labels = ''): string[] {
  return ['0.001', '0.002', '0.004', '+Inf'].map(
    (le, i) => `${name}{${labels}${labels ? ',' : ''}le="${le}"} ${counts[i]}`,
  );
}

function scrape(at: number, lines: string[]): Extract<ScrapeOutcome, { ok: true }> {
  const parsed = parseExposition(lines.join('\n'));
  if (!parsed.ok) throw new Error(parsed.error);
  return { ok: true, samples: parsed.samples, at };
}

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** m1 over 10s: 100 fsyncs, a bucket reset in commit, two peers, gauges, gRPC without failures. */
const first = scrape(T0, [
  ...histogram(FSYNC, [5, 10, 10, 10]),
  ...histogram(COMMIT, [50, 50, 50, 50]),
  ...histogram(RTT, [0, 0, 0, 0], 'To="2"'),
  ...histogram(RTT, [0, 0, 0, 0], 'To="3"'),
  ...histogram(RTT, [0, 0, 0, 0], 'To="4"'),
  'etcd_server_slow_apply_total 4',
  'etcd_server_proposals_failed_total 0',
  'etcd_server_slow_read_indexes_total 0',
  'grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 100',
  'etcd_mvcc_db_total_size_in_bytes 1000',
  'etcd_server_has_leader 1',
]);
const second = scrape(T0 + 10_000, [
  // +100 fsyncs: 10 at or below 1ms, 50 more up to 2ms, 40 more up to 4ms
  ...histogram(FSYNC, [15, 70, 110, 110]),
  // the member restarted: every bucket counts from zero again
  ...histogram(COMMIT, [0, 10, 20, 20]),
  ...histogram(RTT, [10, 10, 10, 10], 'To="2"'),
  ...histogram(RTT, [0, 10, 10, 10], 'To="3"'),
  // etcd observes a peer's round trip every 30s: a peer without one in the window is NaN, which
  // PromQL's max leaves out beside the others
  ...histogram(RTT, [0, 0, 0, 0], 'To="4"'),
  'etcd_server_slow_apply_total 9',
  'etcd_server_proposals_failed_total 0',
  'etcd_server_slow_read_indexes_total 0',
  'grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 150',
  // a series born inside the window has one sample only: rate() has none for it either
  'grpc_server_handled_total{grpc_code="Unavailable",grpc_method="Range"} 3',
  'etcd_mvcc_db_total_size_in_bytes 2000',
  'etcd_server_has_leader 1',
]);

function sample(targets: MetricsSample['targets']): MetricsSample {
  return { windowMs: 10_000, targets };
}

describe('sampledObservation', () => {
  const now = new Date(T0 + 10_500);

  it('computes what the Prometheus queries compute, from the increases between the two samples', () => {
    const observation = sampledObservation(
      sample([{ url: 'https://10.0.0.1:2379/metrics', first, second }]),
      MEMBERS.slice(0, 1),
      now,
    );
    const m1 = observation.members['1']!;
    // rank 99 of 100: 39 into the 40 of (0.002, 0.004]
    expect(m1.walFsyncP99).toBeCloseTo(0.002 + (0.002 * 39) / 40, 12);
    // after the reset the second sample is the increase: rank 19.8 of 20, 9.8 into (0.002, 0.004]
    expect(m1.backendCommitP99).toBeCloseTo(0.002 + (0.002 * 9.8) / 10, 12);
    // To=2 answers 0.00099, To=3 0.001 + 0.001 * 9.9/10, To=4 NaN: the worst known peer counts
    expect(m1.peerRoundTripP99).toBeCloseTo(0.001 + (0.001 * 9.9) / 10, 12);
    expect(m1.slowAppliesRate).toBeCloseTo(0.5, 12);
    expect(m1.proposalsFailedRate).toBe(0);
    expect(m1.slowReadIndexesRate).toBe(0);
    expect(m1.grpcRequestRate).toBeCloseTo(5, 12);
    expect(m1.grpcFailedRate).toBe(0);
    expect(m1.dbSizeBytes).toBe(2000);
    expect(m1.hasLeader).toBe(1);
    expect(m1.scrapeAgeSeconds).toBeCloseTo(0.5, 12);
    expect(observation.sampledOverSeconds).toBe(10);
    // No hour of history: leader changes and the growth prediction stay missing, not 0.
    expect(observation.leaderChanges1h).toBeUndefined();
    expect(observation.leaderChanges15m).toBeUndefined();
    expect(m1.dbSizePredicted).toBeUndefined();
    // Gauges etcd does not export here are named as missing, as the Prometheus source names them.
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toMatch(
      /^\/metrics sampled over 10s: m1: no series for DB size in use, backend quota/,
    );
  });

  it('folds several series of one gauge as the queries do: max for sizes, min for has-leader', () => {
    const doubled = scrape(T0 + 10_000, [
      'etcd_mvcc_db_total_size_in_bytes{shard="a"} 2000',
      'etcd_mvcc_db_total_size_in_bytes{shard="b"} 3000',
      'etcd_server_has_leader{shard="a"} 1',
      'etcd_server_has_leader{shard="b"} 0',
    ]);
    const observation = sampledObservation(
      sample([{ url: 'https://10.0.0.1:2379/metrics', first, second: doubled }]),
      MEMBERS.slice(0, 1),
      now,
    );
    expect(observation.members['1']).toMatchObject({ dbSizeBytes: 3000, hasLeader: 0 });
  });

  it('says NaN when a histogram had no observations in the window', () => {
    const observation = sampledObservation(
      sample([{ url: 'https://10.0.0.1:2379/metrics', first, second: { ...first, at: T0 + 10_000 } }]),
      MEMBERS.slice(0, 1),
      now,
    );
    expect(observation.members['1']!.walFsyncP99).toBeNaN();
    expect(observation.source.message).toContain(
      'WAL fsync p99 is NaN for m1 (no observations in the window)',
    );
  });

  it('attributes a metrics listener on another port to the member on its host', () => {
    const observation = sampledObservation(
      sample([{ url: 'http://10.0.0.2:2381/metrics', first, second }]),
      MEMBERS,
      now,
    );
    expect(Object.keys(observation.members)).toEqual(['2']);
    expect(observation.members['2']!.walFsyncP99).toBeGreaterThan(0.002);
  });

  it('reports a failed scrape by URL and error, with up=0 for its member, and keeps the others', () => {
    const failed: ScrapeOutcome = { ok: false, error: 'connect ECONNREFUSED 10.0.0.2:2379' };
    const observation = sampledObservation(
      sample([
        { url: 'https://10.0.0.1:2379/metrics', first, second },
        { url: 'https://10.0.0.2:2379/metrics', first: failed, second: failed },
      ]),
      MEMBERS,
      now,
    );
    expect(observation.members['1']!.walFsyncP99).toBeGreaterThan(0.002);
    expect(observation.members['2']).toBeUndefined();
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('m2: no series for WAL fsync p99');
    expect(observation.source.message).toContain('m2: the last scrape failed (up=0)');
    expect(observation.source.message).toMatch(
      /scrapes failed: https:\/\/10\.0\.0\.2:2379\/metrics: connect ECONNREFUSED 10\.0\.0\.2:2379$/,
    );
  });

  it('takes only the gauges from a second sample without a first', () => {
    const observation = sampledObservation(
      sample([{ url: 'https://10.0.0.1:2379/metrics', first: { ok: false, error: 'HTTP 503' }, second }]),
      MEMBERS.slice(0, 1),
      now,
    );
    expect(observation.members['1']!.dbSizeBytes).toBe(2000);
    expect(observation.members['1']!.walFsyncP99).toBeUndefined();
    expect(observation.members['1']!.slowAppliesRate).toBeUndefined();
    expect(observation.source.message).toContain('HTTP 503');
  });

  it('is an Error naming every URL when no scrape answered', () => {
    const failed: ScrapeOutcome = { ok: false, error: 'no answer within 5000ms' };
    const observation = sampledObservation(
      sample([{ url: 'https://10.0.0.1:2379/metrics', first: failed, second: failed }]),
      MEMBERS,
      now,
    );
    expect(observation.source).toEqual({
      state: 'Error',
      message:
        '/metrics sampled over 10s: every scrape failed: https://10.0.0.1:2379/metrics: no answer within 5000ms',
    });
    expect(observation.members).toEqual({});
  });
});

describe('sampleMetrics', () => {
  it('scrapes every URL, waits the window, and scrapes every URL again', async () => {
    const calls: { url: string; at: number }[] = [];
    const started = Date.now();
    const result = await sampleMetrics(
      { urls: ['http://a/metrics', 'http://b/metrics'], windowMs: 200, timeoutMs: 1_000 },
      undefined,
      (url) => {
        calls.push({ url, at: Date.now() - started });
        return Promise.resolve({ ok: true, samples: [], at: Date.now() });
      },
    );
    expect(calls.map((c) => c.url)).toEqual([
      'http://a/metrics',
      'http://b/metrics',
      'http://a/metrics',
      'http://b/metrics',
    ]);
    expect(calls[2]!.at - calls[0]!.at).toBeGreaterThanOrEqual(190);
    expect(result.targets.map((t) => [t.url, t.first.ok, t.second.ok])).toEqual([
      ['http://a/metrics', true, true],
      ['http://b/metrics', true, true],
    ]);
  });

  it('does not wait the window out when no URL answered the first scrape', async () => {
    let scrapes = 0;
    const started = Date.now();
    const result = await sampleMetrics(
      { urls: ['http://a/metrics'], windowMs: 60_000, timeoutMs: 1_000 },
      undefined,
      () => {
        scrapes++;
        return Promise.resolve({ ok: false, error: 'connect ECONNREFUSED' });
      },
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(scrapes).toBe(1);
    expect(result.targets[0]!.second).toEqual({ ok: false, error: 'connect ECONNREFUSED' });
  });

  it('ends the window at once when cancelled, without a second scrape', async () => {
    const cancel = new AbortController();
    let scrapes = 0;
    const started = Date.now();
    const running = sampleMetrics(
      { urls: ['http://a/metrics'], windowMs: 60_000, timeoutMs: 1_000 },
      cancel.signal,
      () => {
        scrapes++;
        return Promise.resolve({ ok: true, samples: [], at: Date.now() });
      },
    );
    cancel.abort();
    const result = await running;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(scrapes).toBe(1);
    expect(result.targets[0]!.second).toEqual({ ok: false, error: 'cancelled' });
  });
});

describe('metricsUrl', () => {
  it.each([
    ['https://10.0.0.1:2379', 'https://10.0.0.1:2379/metrics'],
    ['http://10.0.0.1:2381/', 'http://10.0.0.1:2381/metrics'],
    ['https://etcd.example:9979/custom/metrics', 'https://etcd.example:9979/custom/metrics'],
  ])('%s -> %s', (url, expected) => expect(metricsUrl(url)).toBe(expected));
});
