// Prometheus misbehaving for real, on the operator process: a real Prometheus frozen (SIGSTOP),
// killed, and started again with an empty TSDB, while a real etcd cluster and a real kube-apiserver
// go on; a fake only for garbage and huge answers, which a real Prometheus does not send. Each
// fault is judged where a user sees it: the CR's conditions and their reasons, the Events, the
// operator's /metrics, the operator process itself (same PID, still running), and the recovery
// once the fault is gone.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { MAX_ANSWER_BYTES } from '../../src/sources/prometheus/client.js';
import { checksIn, conditionOf, type NamespacedChecks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import {
  json,
  startFakePrometheus,
  type FakeHandler,
  type FakePrometheus,
} from '../harness/fake-prometheus.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
import { endlessAnswer, freeze, startAgain } from '../harness/prometheus-faults.js';

const NS = 'prometheus-faults';
// Checked through Prometheus, and one of the same etcd without it: the second must keep being
// checked while the first waits on a frozen Prometheus.
const MAIN = 'main';
const ETCD_ONLY = 'etcd-only';
const FAKE = 'fake';
const QUERY_TIMEOUT_MS = 2_000;
const INTERVAL_S = 10;
// The Deployment's heap bound (deploy/base/deployment.yaml): a huge answer must fit under it.
const DEPLOYMENT = readFileSync('deploy/base/deployment.yaml', 'utf8');
const NODE_OPTIONS = /--max-old-space-size=\d+/.exec(DEPLOYMENT)![0];
// Its memory limit: the operator's RSS must stay below it.
const MEMORY_LIMIT_BYTES =
  Number(/memory: (\d+)Mi/.exec(DEPLOYMENT.slice(DEPLOYMENT.indexOf('limits:')))![1]) * 1024 * 1024;

let cp: ControlPlane;
let cluster: EtcdCluster;
let prometheus: PrometheusServer;
let fake: FakePrometheus;
let operator: OperatorProcess;
let checks: NamespacedChecks;
let operatorPid: number;
let operatorStart: number | undefined;
// Writes keep the commit and fsync histograms fed: an idle member has no p99 in a 30s window.
let load: WriteLoad;

// Conditions that only etcd feeds, and the ones only Prometheus feeds.
const ETCD_CONDITIONS = ['EtcdMembersAvailable', 'AlarmsDegraded', 'ConsistencyDegraded'];
const PROMETHEUS_CONDITIONS = ['DiskLatencyDegraded', 'LeaderElectionDegraded', 'RequestsDegraded'];

const spec = (url: string) => ({
  etcd: { endpoints: cluster.endpoints },
  prometheus: { url, labelMatchers: ['job="etcd"'], timeout: `${QUERY_TIMEOUT_MS}ms`, rateWindow: '30s' },
  interval: `${INTERVAL_S}s`,
  // A loaded test machine's disk is not a production disk: latency must not be what changes here.
  thresholds: {
    degradedInertia: '0s',
    walFsyncP99: { warning: '1s', critical: '2s' },
    backendCommitP99: { warning: '1s', critical: '2s' },
    peerRoundTripP99: { warning: '1s', critical: '2s' },
  },
});

const metric = (name: string, labels: Record<string, string> = {}) => operator.metric(name, labels);
const sourceErrors = async (state: string) =>
  (await metric('etcd_health_operator_source_errors_total', { source: 'prometheus', state })) ?? 0;

/** The check once it was checked at or after `since` (ms) and `accept` holds. */
async function checkedAfter(
  name: string,
  since: number,
  accept: (check: EtcdHealthCheck) => boolean,
  description: string,
  timeoutMs = 60_000,
): Promise<EtcdHealthCheck> {
  return eventually(
    async () => {
      const check = await checks.get(name);
      const at = Date.parse(check.status?.lastCheck?.time ?? '');
      if (at >= since && accept(check)) return check;
      // Thrown, so that a timeout shows what the status said last.
      throw new Error(`checked at ${check.status?.lastCheck?.time}: ${summary(check)}`);
    },
    { timeoutMs, intervalMs: 500, description },
  );
}

const summary = (check: EtcdHealthCheck) =>
  JSON.stringify({
    prometheus: check.status?.lastCheck?.prometheus,
    conditions: check.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
  });

const healthy = (check: EtcdHealthCheck) =>
  conditionOf(check, 'MetricsSourceReachable')?.status === 'True' &&
  check.status?.lastCheck?.prometheus.state === 'OK' &&
  PROMETHEUS_CONDITIONS.every((type) => conditionOf(check, type)?.status === 'False');

/** The Event of a condition transition whose note matches, recorded at or after `since`. */
async function eventOf(name: string, reason: string | RegExp, note: RegExp, since: number) {
  return eventually(
    async () =>
      (await checks.eventsOf(name)).find(
        (e) =>
          (typeof reason === 'string' ? e.reason === reason : reason.test(e.reason ?? '')) &&
          note.test(e.note ?? '') &&
          Date.parse(String(e.eventTime ?? e.metadata?.creationTimestamp ?? '')) >= since - 1_000,
      ),
    { timeoutMs: 30_000, description: `an Event ${reason} of ${name} matching ${note}` },
  );
}

/** The operator is the process it was at the start, and it runs: what serves /metrics started when it did. */
async function expectSameOperator(): Promise<void> {
  expect(operator.process.exited()).toBe(false);
  expect(() => process.kill(operatorPid, 0)).not.toThrow();
  expect(await metric('process_start_time_seconds')).toBe(operatorStart);
}

/** While Prometheus is broken, etcd is still judged, and nothing is called Degraded for lack of data. */
function expectEtcdJudgedAndNothingInvented(check: EtcdHealthCheck): void {
  for (const type of ETCD_CONDITIONS)
    expect([type, conditionOf(check, type)?.status]).not.toEqual([type, 'Unknown']);
  expect(conditionOf(check, 'EtcdMembersAvailable')?.status).toBe('True');
  expect(conditionOf(check, 'Degraded')?.status).not.toBe('True');
  for (const type of PROMETHEUS_CONDITIONS) expect(conditionOf(check, type)?.status).not.toBe('True');
}

beforeAll(async () => {
  [cp, cluster, fake] = await Promise.all([
    startControlPlane(),
    startEtcdCluster({ members: 1 }),
    startFakePrometheus(),
  ]);
  prometheus = await startPrometheus(cluster);
  load = startWriteLoad(cluster, { perSecond: 5 });
  await cp.createNamespace(NS);
  checks = checksIn(cp.kubeConfig, NS);
  // One worker: a reconcile hung on Prometheus would stop every other check, which must not happen.
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('prometheus-faults-operator'),
    identity: 'operator-prometheus-faults',
    nodeOptions: NODE_OPTIONS,
    // No answers shared between checks: each check here must ask the Prometheus of its moment, not
    // reuse a 5s-old answer of the one that was just stopped (correct for the cache, not the test).
    extraArgs: ['--concurrency=1', '--source-cache-ttl=0s'],
  });
  operatorPid = operator.process.pid;
  operatorStart = await metric('process_start_time_seconds');
  expect(operatorStart).toBeGreaterThan(0);
  await prometheus.waitForScrapes(3);
  await checks.create(MAIN, spec(prometheus.url));
  await checks.create(ETCD_ONLY, { ...spec(prometheus.url), prometheus: undefined });
  await checkedAfter(MAIN, 0, healthy, 'a healthy first status through Prometheus', 90_000);
}, 240_000);

afterAll(async () => {
  const loaded = await load?.stop();
  await fake?.close();
  await cleanupAll();
  // No fault here touches etcd: every write went through.
  expect(loaded?.unexpectedErrors).toEqual({});
});

describe('a real Prometheus misbehaving, on the operator process', () => {
  it('frozen (SIGSTOP): Prometheus checks Unknown with a timeout, etcd still judged, no worker hung; thawed: recovered', async () => {
    const errorsBefore = await sourceErrors('Error');
    const since = Date.now();
    const thaw = freeze(prometheus);
    let frozen: EtcdHealthCheck;
    const etcdOnlyChecks = new Set<number>();
    try {
      frozen = await checkedAfter(
        MAIN,
        since,
        (c) => conditionOf(c, 'MetricsSourceReachable')?.status === 'False',
        'MetricsSourceReachable=False while Prometheus is frozen',
      );
      // Two checks of the etcd-only CR while the frozen one keeps timing out: the only worker is
      // free again after each timeout. (The operator's own clock: the status is only written on change.)
      await eventually(
        async () => {
          const at = await metric('etcd_health_check_last_check_timestamp_seconds', { name: ETCD_ONLY });
          if (at !== undefined && at * 1000 >= since) etcdOnlyChecks.add(at);
          return etcdOnlyChecks.size >= 2;
        },
        {
          timeoutMs: 4 * INTERVAL_S * 1000,
          intervalMs: 500,
          description: 'the etcd-only check checked twice',
        },
      );
      // Read while still frozen: once thawed, the next check rightly turns the series to True.
      expect(
        await metric('etcd_health_check_condition', {
          name: MAIN,
          type: 'MetricsSourceReachable',
          status: 'False',
        }),
      ).toBe(1);
    } finally {
      thaw();
    }
    const reason = new RegExp(`no answer within ${QUERY_TIMEOUT_MS}ms`);
    expect(frozen.status?.lastCheck?.prometheus).toMatchObject({
      state: 'Error',
      message: expect.stringMatching(reason),
    });
    // The reconcile ended at the query timeout, not later.
    expect(frozen.status?.lastCheck?.prometheus.durationMilliseconds).toBeLessThan(QUERY_TIMEOUT_MS + 3_000);
    expect(conditionOf(frozen, 'MetricsSourceReachable')).toMatchObject({
      reason: 'QueryFailed',
      message: expect.stringMatching(reason),
    });
    for (const type of PROMETHEUS_CONDITIONS)
      expect(conditionOf(frozen, type)).toMatchObject({
        status: 'Unknown',
        message: expect.stringMatching(reason),
      });
    expectEtcdJudgedAndNothingInvented(frozen);
    await eventOf(MAIN, 'MetricsSourceReachableFalse', reason, since);
    expect(await sourceErrors('Error')).toBeGreaterThan(errorsBefore);
    await expectSameOperator();

    const thawed = Date.now();
    const recovered = await checkedAfter(MAIN, thawed, healthy, 'recovery after SIGCONT');
    expect(conditionOf(recovered, 'MetricsSourceReachable')?.message).toBe('Prometheus answered every query');
    await eventOf(MAIN, 'MetricsSourceReachableTrue', /from False to True/, thawed);
    expect(
      await metric('etcd_health_check_condition', {
        name: MAIN,
        type: 'MetricsSourceReachable',
        status: 'True',
      }),
    ).toBe(1);
    await expectSameOperator();
  }, 180_000);

  it('killed: connection refused, an Event and the source error metric; started again: recovered', async () => {
    const errorsBefore = await sourceErrors('Error');
    const since = Date.now();
    await prometheus.process.kill();
    const down = await checkedAfter(
      MAIN,
      since,
      (c) => conditionOf(c, 'MetricsSourceReachable')?.status === 'False',
      'MetricsSourceReachable=False while Prometheus is down',
    );
    const reason = /ECONNREFUSED/;
    expect(down.status?.lastCheck?.prometheus).toMatchObject({
      state: 'Error',
      message: expect.stringMatching(/every query failed: .*ECONNREFUSED/),
    });
    expect(conditionOf(down, 'MetricsSourceReachable')).toMatchObject({
      reason: 'QueryFailed',
      message: expect.stringMatching(reason),
    });
    for (const type of PROMETHEUS_CONDITIONS)
      expect(conditionOf(down, type)).toMatchObject({
        status: 'Unknown',
        message: expect.stringMatching(reason),
      });
    expectEtcdJudgedAndNothingInvented(down);
    await eventOf(MAIN, 'MetricsSourceReachableFalse', reason, since);
    expect(await sourceErrors('Error')).toBeGreaterThan(errorsBefore);
    await expectSameOperator();

    prometheus = await startAgain(cluster, prometheus, { keepData: true });
    const restarted = Date.now();
    const recovered = await checkedAfter(MAIN, restarted, healthy, 'recovery after the restart');
    // The error is gone from the status, not left beside state OK.
    expect(recovered.status?.lastCheck?.prometheus.message ?? '').not.toMatch(reason);
    expect(conditionOf(recovered, 'MetricsSourceReachable')?.message).toBe('Prometheus answered every query');
    expect(
      await metric('etcd_health_check_condition', {
        name: MAIN,
        type: 'MetricsSourceReachable',
        status: 'True',
      }),
    ).toBe(1);
    await expectSameOperator();
  }, 120_000);

  it('started again with an empty TSDB: no data, said as absent series, neither an error nor Degraded; judged again once scraped', async () => {
    const errorsBefore = (await sourceErrors('Error')) + (await sourceErrors('Partial'));
    await prometheus.process.stop();
    // Scrapes 5s apart: a p99 needs two of them in the rate window, so the check below surely
    // comes before Prometheus has enough.
    prometheus = await startAgain(cluster, prometheus, { keepData: false, scrapeIntervalSeconds: 5 });
    const restarted = Date.now();
    const generation = (await checks.get(MAIN)).metadata.generation!;
    // A spec change is checked at once, not at the next interval.
    await checks.patchSpec(MAIN, { interval: `${INTERVAL_S + 1}s` });
    const empty = await checkedAfter(
      MAIN,
      restarted,
      (c) => c.status?.observedGeneration === generation + 1,
      'the first check after the restart',
    );
    // Before its first scrape Prometheus has no etcd series at all; after one, no rates yet (they
    // need two points). Either way the series are said to be absent, never "did not answer".
    const absent = /has no etcd series|no series/;
    expect(conditionOf(empty, 'MetricsSourceReachable')?.reason).toMatch(/^(NoEtcdSeries|PartialResults)$/);
    expect(conditionOf(empty, 'MetricsSourceReachable')?.message).toMatch(absent);
    expect(conditionOf(empty, 'DiskLatencyDegraded')).toMatchObject({
      status: 'Unknown',
      reason: 'NoData',
      message: expect.stringMatching(absent),
    });
    expect(JSON.stringify(empty.status?.conditions)).not.toMatch(/did not answer|QueryFailed/);
    expectEtcdJudgedAndNothingInvented(empty);
    // The transition (to MetricsSourceReachable=False, or disk latency to Unknown) says so too.
    await eventOf(MAIN, /^(MetricsSourceReachableFalse|DiskLatencyDegradedUnknown)$/, absent, restarted);
    expect((await sourceErrors('Error')) + (await sourceErrors('Partial'))).toBeGreaterThan(errorsBefore);
    await expectSameOperator();

    const recovered = await checkedAfter(MAIN, restarted, healthy, 'judged again once scraped', 90_000);
    expect(conditionOf(recovered, 'DiskLatencyDegraded')?.reason).toBe('AsExpected');
    expect(await metric('etcd_health_check_member_wal_fsync_p99_seconds', { name: MAIN })).toBeGreaterThan(0);
    await expectSameOperator();
  }, 150_000);

  it('garbage and huge answers (a fake: no real Prometheus sends them): a clear reason, bounded memory, no crash; sane answers again: recovered', async () => {
    // Sane answers: the fake passes the queries on to the real Prometheus.
    const sane: FakeHandler = (request, response) => {
      void fetch(`${prometheus.url}${request.path}?query=${encodeURIComponent(request.query)}`, {
        signal: AbortSignal.timeout(5_000),
      })
        .then(async (answer) => json(response, answer.status, await answer.text()))
        .catch(() => response.destroy());
    };
    const unreachable = (c: EtcdHealthCheck) => conditionOf(c, 'MetricsSourceReachable')?.status === 'False';
    fake.handle(sane);
    await checks.create(FAKE, spec(fake.url));
    await checkedAfter(FAKE, 0, healthy, 'a healthy first status through the fake');

    // Garbage: a proxy in front of Prometheus answering 200 with its own HTML page.
    fake.handle((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    const errorsBefore = await sourceErrors('Error');
    const since = Date.now();
    const garbage = await checkedAfter(FAKE, since, unreachable, 'MetricsSourceReachable=False on garbage');
    const notJson = /an answer that is not JSON \(\d+ bytes, not shown\)/;
    expect(garbage.status?.lastCheck?.prometheus).toMatchObject({
      state: 'Error',
      message: expect.stringMatching(notJson),
    });
    expect(conditionOf(garbage, 'MetricsSourceReachable')).toMatchObject({
      reason: 'QueryFailed',
      message: expect.stringMatching(notJson),
    });
    expect(JSON.stringify(garbage.status)).not.toContain('Bad Gateway');
    for (const type of PROMETHEUS_CONDITIONS) expect(conditionOf(garbage, type)?.status).toBe('Unknown');
    expectEtcdJudgedAndNothingInvented(garbage);
    await eventOf(FAKE, 'MetricsSourceReachableFalse', notJson, since);
    expect(await sourceErrors('Error')).toBeGreaterThan(errorsBefore);
    await expectSameOperator();

    fake.handle(sane);
    const fixed = Date.now();
    await checkedAfter(FAKE, fixed, healthy, 'recovery from garbage');
    await eventOf(FAKE, 'MetricsSourceReachableTrue', /from False to True/, fixed);

    // Huge: 64 MiB per answer, streamed without a Content-Length, under the Deployment's heap bound.
    const huge = endlessAnswer(64 * 1024 * 1024);
    fake.handle(huge.handler);
    const requestsBefore = fake.requests.length;
    const hugeSince = Date.now();
    let maxRss = 0;
    const tooLarge = new RegExp(`answer larger than ${MAX_ANSWER_BYTES} bytes, not read`);
    const cut = await checkedAfter(
      FAKE,
      hugeSince,
      (c) => {
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${operatorPid}/status`, 'utf8'));
        maxRss = Math.max(maxRss, Number(rss?.[1] ?? 0) * 1024);
        return unreachable(c);
      },
      'MetricsSourceReachable=False on huge answers',
    );
    const answered = fake.requests.length - requestsBefore;
    console.log(
      `huge answers: operator max RSS ${(maxRss / 1024 / 1024).toFixed(1)} MiB, ${huge.sent()} bytes sent to ${answered} requests`,
    );
    expect(cut.status?.lastCheck?.prometheus).toMatchObject({
      state: 'Error',
      message: expect.stringMatching(tooLarge),
    });
    expect(conditionOf(cut, 'MetricsSourceReachable')?.message).toMatch(tooLarge);
    expectEtcdJudgedAndNothingInvented(cut);
    await eventOf(FAKE, 'MetricsSourceReachableFalse', tooLarge, hugeSince);
    expect(answered).toBeGreaterThan(0);
    // Each answer was cut near the cap: far less than the 64 MiB offered went out.
    expect(huge.sent()).toBeLessThan(answered * 8 * 1024 * 1024);
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(MEMORY_LIMIT_BYTES);
    await expectSameOperator();

    fake.handle(sane);
    const saneAgain = Date.now();
    const recovered = await checkedAfter(FAKE, saneAgain, healthy, 'recovery once the answers are sane');
    // Nothing of the error is left in the status.
    expect(recovered.status?.lastCheck?.prometheus.message).toBeUndefined();
    expect(
      await metric('etcd_health_check_condition', {
        name: FAKE,
        type: 'MetricsSourceReachable',
        status: 'True',
      }),
    ).toBe(1);
    await expectSameOperator();
  }, 180_000);
});
