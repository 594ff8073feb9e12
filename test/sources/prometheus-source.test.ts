// The Prometheus source: queries built from parsed matchers, and series attributed to members,
// with every gap (failed query, missing member, stale or failed scrape, odd value) in the state.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { QueryOutcome, Sample } from '../../src/sources/prometheus/client.js';
import type { MemberIdentity } from '../../src/sources/prometheus/members.js';
import { SIGNALS, type ClusterField, type MemberField } from '../../src/sources/prometheus/queries.js';
import {
  metricsObservation,
  queryPrometheus,
  type PrometheusSnapshot,
  type PrometheusSourceOptions,
} from '../../src/sources/prometheus/source.js';
import { json, startFakePrometheus, vector, type FakePrometheus } from '../harness/fake-prometheus.js';

const MEMBERS: MemberIdentity[] = [1, 2, 3].map((i) => ({
  id: `1844674407370955161${i}`,
  name: `member-${i}`,
  clientURLs: [`https://10.0.0.${i}:2379`],
  peerURLs: [`https://10.0.0.${i}:2380`],
}));

/** Every member signal answers for every member with `value`; cluster signals with one sample. */
function healthyAnswers(value = '0.002'): Map<string, QueryOutcome> {
  const answers = new Map<string, QueryOutcome>();
  for (const signal of SIGNALS) {
    const v =
      signal.field === 'up' || signal.field === 'hasLeader'
        ? '1'
        : signal.field === 'scrapeAgeSeconds'
          ? '1.2'
          : value;
    const samples =
      signal.kind === 'member'
        ? MEMBERS.map((_, i) => ({
            labels: { instance: `10.0.0.${i + 1}:2379`, job: 'etcd' },
            value: Number(v),
          }))
        : signal.required
          ? [{ labels: {}, value: 0 }]
          : [];
    answers.set(signal.field, { ok: true, samples, warnings: [] });
  }
  return answers;
}

function snapshot(answers: Map<string, QueryOutcome>, memberLabel = 'instance'): PrometheusSnapshot {
  return {
    url: 'https://thanos:9091',
    memberLabel,
    matchers: [{ name: 'job', op: '=', value: 'etcd' }],
    answers: SIGNALS.map((signal) => ({
      signal,
      query: `q(${signal.field})`,
      outcome: answers.get(signal.field)!,
    })),
  };
}

const set = (
  answers: Map<string, QueryOutcome>,
  field: MemberField | ClusterField,
  outcome: QueryOutcome,
) => {
  answers.set(field, outcome);
  return answers;
};
const samples = (...values: [string, number][]): QueryOutcome => ({
  ok: true,
  samples: values.map(([instance, value]) => ({ labels: { instance }, value })),
  warnings: [],
});

describe('metricsObservation', () => {
  it('attributes every series to its member by instance host', () => {
    const observation = metricsObservation(snapshot(healthyAnswers()), MEMBERS);
    expect(observation.source).toEqual({ state: 'OK' });
    expect(Object.keys(observation.members)).toEqual(MEMBERS.map((m) => m.id));
    expect(observation.members[MEMBERS[0]!.id]).toMatchObject({
      walFsyncP99: 0.002,
      hasLeader: 1,
      scrapeAgeSeconds: 1.2,
    });
    expect(observation.members[MEMBERS[0]!.id]).not.toHaveProperty('up');
    expect(observation.leaderChanges1h).toBe(0);
  });

  it('attributes by member name with another member label', () => {
    const answers = healthyAnswers();
    for (const [field, outcome] of answers) {
      if (!outcome.ok) continue;
      answers.set(field, {
        ...outcome,
        samples: outcome.samples.map((s): Sample => {
          const instance = s.labels.instance;
          return { ...s, labels: instance ? { member: `member-${instance.split('.')[3]![0]}` } : {} };
        }),
      });
    }
    const observation = metricsObservation(snapshot(answers, 'member'), MEMBERS);
    expect(observation.source.state).toBe('OK');
    expect(Object.keys(observation.members)).toHaveLength(3);
  });

  it('is Partial when a member has no series, naming the member and the signals', () => {
    const answers = set(
      healthyAnswers(),
      'walFsyncP99',
      samples(['10.0.0.1:2379', 0.003], ['10.0.0.2:2379', 0.004]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('https://thanos:9091');
    expect(observation.source.message).toContain('member-3: no series for WAL fsync p99');
    expect(observation.members[MEMBERS[2]!.id]!.walFsyncP99).toBeUndefined();
  });

  it('is Partial when a member was not scraped at all', () => {
    const answers = healthyAnswers();
    for (const [field, outcome] of answers) {
      if (outcome.ok)
        answers.set(field, {
          ...outcome,
          samples: outcome.samples.filter((s) => s.labels.instance !== '10.0.0.2:2379'),
        });
    }
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('member-2: no series at all');
    expect(observation.members[MEMBERS[1]!.id]).toBeUndefined();
  });

  it('says when the last scrape failed and when metrics are stale', () => {
    const answers = healthyAnswers();
    set(answers, 'up', samples(['10.0.0.1:2379', 1], ['10.0.0.2:2379', 0], ['10.0.0.3:2379', 1]));
    set(
      answers,
      'scrapeAgeSeconds',
      samples(['10.0.0.1:2379', 1], ['10.0.0.2:2379', 1], ['10.0.0.3:2379', 600]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('member-2: the last scrape failed (up=0)');
    expect(observation.source.message).toContain('member-3: metrics are stale, last scraped 600s ago');
    expect(observation.members[MEMBERS[2]!.id]!.scrapeAgeSeconds).toBe(600);
  });

  it('keeps NaN (no observations) and +Inf (beyond the last bucket) and drops -Inf', () => {
    const answers = healthyAnswers();
    set(
      answers,
      'walFsyncP99',
      samples(['10.0.0.1:2379', NaN], ['10.0.0.2:2379', Infinity], ['10.0.0.3:2379', -Infinity]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    const wal = MEMBERS.map((m) => observation.members[m.id]!.walFsyncP99);
    expect(wal).toEqual([NaN, Infinity, undefined]);
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('WAL fsync p99 of member-3 is -Inf');
    expect(observation.source.message).toContain(
      'WAL fsync p99 is NaN for member-1 (no observations in the window)',
    );
  });

  it('keeps the worst value when one member has several series', () => {
    const answers = healthyAnswers();
    set(
      answers,
      'walFsyncP99',
      samples(
        ['10.0.0.1:2379', 0.001],
        ['10.0.0.1:9979', 0.2],
        ['10.0.0.2:2379', 0.001],
        ['10.0.0.3:2379', 0.001],
      ),
    );
    set(
      answers,
      'hasLeader',
      samples(['10.0.0.1:2379', 1], ['10.0.0.1:9979', 0], ['10.0.0.2:2379', 1], ['10.0.0.3:2379', 1]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.members[MEMBERS[0]!.id]).toMatchObject({ walFsyncP99: 0.2, hasLeader: 0 });
  });

  it('is Partial with the query and error when some queries fail', () => {
    const answers = set(healthyAnswers(), 'backendCommitP99', {
      ok: false,
      error: 'HTTP 422: execution: query timed out',
    });
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('1 of');
    expect(observation.source.message).toContain(
      'backend commit p99 (query: q(backendCommitP99)): HTTP 422: execution: query timed out',
    );
  });

  it('names the members it is Partial for when only their series are at fault', () => {
    const down = MEMBERS[2]!;
    const answers = set(
      healthyAnswers(),
      'up',
      samples(['10.0.0.1:2379', 1], ['10.0.0.2:2379', 1], ['10.0.0.3:2379', 0]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain(`${down.name}: the last scrape failed (up=0)`);
    expect(observation.partialMembers).toEqual([down.id]);

    // A failed query is the source's own problem: no member explains it.
    set(answers, 'backendCommitP99', { ok: false, error: 'HTTP 422: execution: query timed out' });
    expect(metricsObservation(snapshot(answers), MEMBERS).partialMembers).toBeUndefined();
  });

  it('is Partial on warnings (e.g. a Thanos store is down)', () => {
    const answers = healthyAnswers();
    const wal = answers.get('walFsyncP99') as Extract<QueryOutcome, { ok: true }>;
    answers.set('walFsyncP99', { ...wal, warnings: ['partial response: store 10.0.0.9 unavailable'] });
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source).toMatchObject({ state: 'Partial' });
    expect(observation.source.message).toContain(
      'WAL fsync p99: Prometheus warns: partial response: store 10.0.0.9 unavailable',
    );
  });

  it('is an Error, once, when every query fails alike', () => {
    const answers = new Map(
      SIGNALS.map((s): [string, QueryOutcome] => [
        s.field,
        { ok: false, error: 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.9:9091' },
      ]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Error');
    expect(observation.source.message).toMatch(
      /^Prometheus https:\/\/thanos:9091: every query failed: .*: ECONNREFUSED: connect ECONNREFUSED 10.0.0.9:9091$/,
    );
    expect(observation.source.message!.match(/ECONNREFUSED 10/g)).toHaveLength(1);
    expect(observation.members).toEqual({});
  });

  it('is an Error when the matchers select no etcd series, marked as absent series', () => {
    const answers = new Map(
      SIGNALS.map((s): [string, QueryOutcome] => [s.field, { ok: true, samples: [], warnings: [] }]),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Error');
    expect(observation.source.message).toBe(
      'Prometheus https://thanos:9091: no etcd series match {job="etcd"}: Prometheus has not scraped etcd (yet), or labelMatchers select nothing',
    );
    // Every query was answered: the series are absent, Prometheus did not fail.
    expect(observation.etcdSeriesAbsent).toBe(true);
  });

  it('does not call the series absent when a query failed beside the empty answers', () => {
    const answers = new Map(
      SIGNALS.map((s): [string, QueryOutcome] => [s.field, { ok: true, samples: [], warnings: [] }]),
    );
    answers.set(SIGNALS[0]!.field, { ok: false, error: 'no answer within 10000ms' });
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Error');
    expect(observation.source.message).toContain('some queries failed');
    expect(observation.etcdSeriesAbsent).toBeUndefined();
  });

  it('is an Error when no series belongs to a member of this cluster', () => {
    const answers = healthyAnswers();
    for (const [field, outcome] of answers) {
      if (outcome.ok)
        answers.set(field, {
          ...outcome,
          samples: outcome.samples.map((s) => ({ ...s, labels: { instance: '192.168.1.1:2379' } })),
        });
    }
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.state).toBe('Error');
    expect(observation.source.message).toContain('no series matches an etcd member by label instance');
    expect(observation.source.message).toContain('series of 1 instance value match no member');
    expect(observation.source.message).not.toContain('192.168.1.1');
  });

  it('notes series of other clusters without failing, and without quoting their labels', () => {
    const answers = set(
      healthyAnswers(),
      'walFsyncP99',
      samples(
        ['10.0.0.1:2379', 0.001],
        ['10.0.0.2:2379', 0.001],
        ['10.0.0.3:2379', 0.001],
        ['10.9.9.9:2379', 1],
      ),
    );
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source).toEqual({
      state: 'OK',
      message: 'Prometheus https://thanos:9091: series of 1 instance value match no member of this cluster',
    });
    expect(observation.source.message).not.toContain('10.9.9.9');
  });

  it('needs peer round trips only when there are peers', () => {
    const answers = set(healthyAnswers(), 'peerRoundTripP99', { ok: true, samples: [], warnings: [] });
    expect(metricsObservation(snapshot(answers), MEMBERS.slice(0, 1)).source.state).toBe('OK');
    expect(metricsObservation(snapshot(answers), MEMBERS).source.state).toBe('Partial');
  });

  it('is Partial when the required cluster signals are missing', () => {
    const answers = set(healthyAnswers(), 'leaderChanges1h', { ok: true, samples: [], warnings: [] });
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.source.message).toContain('no series for leader changes in 1h');
    expect(observation.leaderChanges1h).toBeUndefined();
  });

  it('reads API churn and node metrics when they exist', () => {
    const answers = healthyAnswers();
    set(answers, 'apiMutatingRequestsPerSecond', {
      ok: true,
      samples: [{ labels: {}, value: 42 }],
      warnings: [],
    });
    set(answers, 'apiTopChurn', {
      ok: true,
      samples: [
        { labels: { resource: 'events', verb: 'POST' }, value: 10 },
        { labels: { resource: 'leases', verb: 'PUT' }, value: 30 },
      ],
      warnings: [],
    });
    set(answers, 'nodeCpuPercent', samples(['master-0', 85], ['master-1', 20]));
    set(answers, 'nodeSwapUsedBytes', samples(['master-0', 1024]));
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.apiMutatingRequestsPerSecond).toBe(42);
    expect(observation.apiTopChurn).toEqual([
      { resource: 'leases', verb: 'PUT', requestsPerSecond: 30 },
      { resource: 'events', verb: 'POST', requestsPerSecond: 10 },
    ]);
    expect(observation.nodes).toEqual([
      { instance: 'master-0', cpuPercent: 85, swapUsedBytes: 1024 },
      { instance: 'master-1', cpuPercent: 20 },
    ]);
  });

  it("reads the data dir's filesystem and disk of each node with their mountpoint, device and node label", () => {
    const answers = healthyAnswers();
    const node = (labels: Record<string, string>, value: number) => ({ labels, value });
    const at = { instance: '10.0.0.1:9100', mountpoint: '/var/lib/etcd' };
    set(answers, 'nodeFilesystemAvailablePercent', { ok: true, samples: [node(at, 42)], warnings: [] });
    set(answers, 'nodeDiskWriteAwaitSeconds', {
      ok: true,
      samples: [node({ ...at, device: 'sdb' }, 0.025)],
      warnings: [],
    });
    set(answers, 'nodeDiskUtilisationPercent', {
      ok: true,
      samples: [node({ ...at, device: 'sdb' }, 91)],
      warnings: [],
    });
    set(answers, 'nodeCpuIowaitPercent', {
      ok: true,
      samples: [node({ instance: '10.0.0.1:9100' }, 7), node({ instance: 'worker', node: 'worker-0' }, 1)],
      warnings: [],
    });
    set(answers, 'nodeMemoryAvailablePercent', {
      ok: true,
      samples: [node({ instance: '10.0.0.1:9100' }, 30)],
      warnings: [],
    });
    expect(metricsObservation(snapshot(answers), MEMBERS).nodes).toEqual([
      {
        instance: '10.0.0.1:9100',
        mountpoint: '/var/lib/etcd',
        device: 'sdb',
        filesystemAvailablePercent: 42,
        diskWriteAwaitSeconds: 0.025,
        diskUtilisationPercent: 91,
        cpuIowaitPercent: 7,
        memoryAvailablePercent: 30,
      },
      { instance: 'worker', nodeName: 'worker-0', cpuIowaitPercent: 1 },
    ]);
  });

  it('reads API latency, the flows that carry the load and the largest resources', () => {
    const answers = healthyAnswers();
    set(answers, 'apiMutatingP99Seconds', { ok: true, samples: [{ labels: {}, value: 1.2 }], warnings: [] });
    set(answers, 'apiEtcdRequestP99Seconds', {
      ok: true,
      samples: [{ labels: {}, value: 0.9 }],
      warnings: [],
    });
    set(answers, 'apiTopFlows', {
      ok: true,
      samples: [
        { labels: { flow_schema: 'service-accounts', priority_level: 'workload-low' }, value: 5 },
        { labels: { flow_schema: 'kube-scheduler\u001b[31m', priority_level: 'workload-high' }, value: 50 },
      ],
      warnings: [],
    });
    set(answers, 'apiTopStoredObjects', {
      ok: true,
      samples: [
        { labels: { resource: 'pods' }, value: 300 },
        // The API server reports -1 when it could not count.
        { labels: { resource: 'secrets' }, value: -1 },
        { labels: { resource: 'events' }, value: 9000 },
      ],
      warnings: [],
    });
    const observation = metricsObservation(snapshot(answers), MEMBERS);
    expect(observation.apiMutatingP99Seconds).toBe(1.2);
    expect(observation.apiEtcdRequestP99Seconds).toBe(0.9);
    expect(observation.apiTopFlows?.map((flow) => flow.requestsPerSecond)).toEqual([50, 5]);
    expect(observation.apiTopFlows?.[0]?.flowSchema).not.toContain('\u001b');
    expect(observation.apiTopStoredObjects).toEqual([
      { resource: 'events', objects: 9000 },
      { resource: 'pods', objects: 300 },
    ]);
  });

  it('attributes nothing but says so when etcd knows no member', () => {
    const observation = metricsObservation(snapshot(healthyAnswers()), [{ ...MEMBERS[0]!, id: '' }]);
    expect(observation.members).toEqual({});
    expect(observation.source.state).toBe('Partial');
    expect(observation.source.message).toContain('no etcd member is known');
  });
});

describe('queryPrometheus', () => {
  let fake: FakePrometheus;
  beforeAll(async () => {
    fake = await startFakePrometheus();
  });
  afterAll(() => fake.close());

  const options = (labelMatchers: string[]): PrometheusSourceOptions => ({
    url: fake.url,
    insecureSkipTLSVerify: false,
    // The fake answers at once; a short deadline would only measure the machine's load.
    timeoutMs: 30_000,
    labelMatchers,
    memberLabel: 'instance',
    rateWindowMs: 300_000,
    growthHorizonMs: 4 * 3_600_000,
    dataDirMountpoint: '/var/lib/etcd',
  });

  it('runs one query per signal at one evaluation time, each scoped by the escaped matchers', async () => {
    fake.requests.length = 0;
    fake.handle((_req, res) => json(res, 200, vector([])));
    const hostile = 'job="etcd\\"} or vector(1) or up{a=\\""';
    const result = await queryPrometheus(
      options(['namespace="openshift-etcd"', hostile]),
      new Date(1_700_000_000_000),
    );
    expect(result.configError).toBeUndefined();
    expect(result.answers).toHaveLength(SIGNALS.length);
    expect(fake.requests).toHaveLength(SIGNALS.length);
    const scoped = 'namespace="openshift-etcd",job="etcd\\"} or vector(1) or up{a=\\""';
    for (const answer of result.answers.filter(
      (a) => a.signal.kind === 'member' || a.signal.field.startsWith('leader'),
    )) {
      expect(answer.query).toContain(scoped);
    }
    const wal = result.answers.find((a) => a.signal.field === 'walFsyncP99')!.query;
    expect(wal).toBe(
      `histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{${scoped}}[300s])))`,
    );
    const growth = result.answers.find((a) => a.signal.field === 'dbSizePredicted')!.query;
    expect(growth).toContain('[14400s], 14400)');
    const history = result.answers.find((a) => a.signal.field === 'dbSizeHistorySeconds')!.query;
    expect(history).toBe(
      `time() - min by (instance) (min_over_time(timestamp(etcd_mvcc_db_total_size_in_bytes{${scoped}})[14400s:1m]))`,
    );
  });

  it('refuses a malformed matcher before sending anything', async () => {
    fake.requests.length = 0;
    const result = await queryPrometheus(options(['job="etcd"', 'job="etcd"} or vector(1)']), new Date());
    expect(result.configError).toMatch(/^labelMatchers\[1\]: .*text after the closing quote/);
    expect(fake.requests).toHaveLength(0);
    const observation = metricsObservation(result, MEMBERS);
    expect(observation.source.state).toBe('Error');
    expect(observation.source.message).toContain(fake.url);
  });

  it('refuses a member label that is no label name', async () => {
    const result = await queryPrometheus(
      { ...options([]), memberLabel: 'instance) or vector(1' },
      new Date(),
    );
    expect(result.configError).toMatch(/invalid label name/);
  });
});

describe("node queries of the data dir's filesystem and disk", () => {
  const ctx = {
    etcdMatchers: [],
    memberLabel: 'instance',
    rateWindowMs: 60_000,
    growthHorizonMs: 3_600_000,
    dataDirMountpoint: '/srv/etcd',
  };
  const promql = (field: ClusterField) => SIGNALS.find((signal) => signal.field === field)!.promql(ctx);

  it('reads the spec mountpoint, and "/" only on nodes without it', () => {
    const query = promql('nodeFilesystemAvailablePercent');
    expect(query).toContain(
      'node_filesystem_avail_bytes{mountpoint="/srv/etcd"} or (node_filesystem_avail_bytes{mountpoint="/"} unless on (instance) node_filesystem_avail_bytes{mountpoint="/srv/etcd"})',
    );
    expect(query).toMatch(/^100 \* min by \(instance, node, mountpoint\)/);
  });

  it.each(['nodeDiskWriteAwaitSeconds', 'nodeDiskUtilisationPercent'] as const)(
    '%s keeps the device under that filesystem, named as node_disk_* name it',
    (field) => {
      const query = promql(field);
      expect(query).toContain('* on (instance, device) group_left (mountpoint)');
      expect(query).toContain('"device", "$1", "device", "/dev/(.+)"');
      expect(query).toContain('node_filesystem_size_bytes{mountpoint="/srv/etcd"}');
    },
  );

  it('gives an idle device an await of 0, as iostat does, instead of 0/0', () => {
    expect(promql('nodeDiskWriteAwaitSeconds')).toContain(
      '(rate(node_disk_write_time_seconds_total[60s]) / (rate(node_disk_writes_completed_total[60s]) > 0)) or (0 * rate(node_disk_write_time_seconds_total[60s]))',
    );
  });
});
