// The real `etcd-health check` (tsx src/cli/check.ts, its own process) against real etcd clusters
// and a real Prometheus: each exit code from the state that should produce it. One 3-member
// cluster is taken down step by step (healthy 0, fsync warnings 1, a member killed 1, two killed
// 2, all killed 3); a 1-member TLS cluster proves the TLS flags, etcdctl's ETCDCTL_* variables
// and a CR file.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startEtcdCluster,
  startEtcdClusterWithSlowDisk,
  type EtcdCluster,
  type SlowDiskControl,
} from '../harness/etcd-cluster.js';
import { runCheck, type CheckRun } from '../harness/cli.js';
import { eventually } from '../harness/eventually.js';
import { startWriteLoad, type WriteLoad } from '../harness/faults.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';

/** Runs the check with `args` and, of etcdctl's variables, only those in `etcdctl`. */
function check(args: string[], etcdctl: Record<string, string> = {}): Promise<CheckRun> {
  return runCheck(args, { dropped: (name) => name.startsWith('ETCDCTL_'), added: etcdctl });
}

/** Runs the check until it exits with `code` (the cluster settles after a fault); returns that run. */
async function checkUntil(code: number, args: string[], timeoutMs = 150_000): Promise<CheckRun> {
  let last: CheckRun | undefined;
  try {
    return await eventually(
      async () => {
        last = await check(args);
        return last.code === code && last;
      },
      { timeoutMs, intervalMs: 2_000, description: `etcd-health check to exit ${code}` },
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nlast exit ${last?.code}\n--- stdout\n${last?.stdout}\n--- stderr\n${last?.stderr}`,
      { cause: error },
    );
  }
}

interface JsonResult {
  result: { verdict: string; exitCode: number; reasons: string[] };
  status: {
    conditions: { type: string; status: string; reason: string }[];
    members: { name: string; reachable: boolean; healthy: boolean; walFsyncP99?: string }[];
  };
}

describe('etcd-health check against a 3-member cluster with Prometheus', () => {
  let cluster: EtcdCluster & SlowDiskControl;
  let prometheus: PrometheusServer;
  let load: WriteLoad;
  let base: string[];
  // The disks of a shared test machine are not production disks: latency thresholds out of the
  // way, except in the test that is about them.
  const relaxed = [
    '--wal-fsync-warning',
    '1s',
    '--wal-fsync-critical',
    '2s',
    '--backend-commit-warning',
    '1s',
    '--backend-commit-critical',
    '2s',
    '--peer-rtt-warning',
    '1s',
    '--peer-rtt-critical',
    '2s',
  ];

  beforeAll(async () => {
    cluster = await startEtcdClusterWithSlowDisk({ members: 3 });
    prometheus = await startPrometheus(cluster);
    // Enough writes for the fsync histograms to have samples; few enough that a loaded machine
    // rarely produces a slow apply, which warns at any rate above 0.
    load = startWriteLoad(cluster, { perSecond: 5 });
    await prometheus.waitForScrapes(3);
    base = [
      '--endpoints',
      cluster.endpoints.join(','),
      '--prometheus',
      prometheus.url,
      '--label-matcher',
      'job="etcd"',
      '--rate-window',
      '1m',
    ];
  });

  afterAll(async () => {
    await load?.stop();
    await prometheus?.stop();
    await cluster?.stop();
    await cleanupAll();
  });

  it('exits 0 for a healthy cluster, with the report on stdout and one progress line on stderr', async () => {
    const run = await checkUntil(0, [...base, ...relaxed]);
    expect(run.stdout).toMatch(/^etcd-health check: 3 endpoints from --endpoints, at /);
    expect(run.stdout).toMatch(/ {2}Available +True +AsExpected/);
    expect(run.stdout).toMatch(/ {2}Degraded +False +AsExpected/);
    for (const member of cluster.members)
      expect(run.stdout).toMatch(new RegExp(`  ${member.name} +${member.clientURL} +[0-9a-f]+ +3\\.`));
    expect(run.stdout).toContain('RESULT  Healthy: every check passed (exit code 0)');
    expect(run.stderr).toBe(
      `etcd-health: querying etcd (3 endpoints) and Prometheus at ${prometheus.url} ...\n`,
    );

    // A loaded machine can make a slow apply between two runs (it warns at any rate): poll again.
    const json = await checkUntil(0, [...base, ...relaxed, '-o', 'json', '-q']);
    expect(json.stderr).toBe('');
    const parsed = JSON.parse(json.stdout) as JsonResult;
    expect(parsed.result).toMatchObject({ verdict: 'Healthy', exitCode: 0 });
    expect(parsed.status.members.map((m) => [m.name, m.healthy])).toEqual(
      cluster.members.map((m) => [m.name, true]),
    );
    expect(parsed.status.members.every((m) => m.walFsyncP99 !== undefined)).toBe(true);
  }, 300_000);

  it('exits 1 when thresholds make WAL fsync warn, and names the metric', async () => {
    const run = await checkUntil(1, [
      ...base,
      ...relaxed,
      '--wal-fsync-warning',
      '0.1ms',
      '--set',
      'thresholds.walFsyncP99.critical=10s',
    ]);
    expect(run.stdout).toMatch(/ {2}DiskLatencyDegraded +False +SlowWALFsync/);
    expect(run.stdout).toContain('RESULT  Warning: something needs attention (exit code 1)');
    expect(run.stdout).toMatch(
      / - WAL fsync p99 on member-\d is [\d.]+(ms|µs), at or above the 100µs warning threshold/,
    );
    expect(run.stdout).toMatch(/Warning {2}InvestigateStorage on member-\d/);
  });

  it('reads the spec from a CR file, flags on top', async () => {
    const dir = makeTempDir('check-cr');
    const file = join(dir, 'etcd.yaml');
    writeFileSync(
      file,
      `apiVersion: etcdhealth.io/v1alpha1\nkind: EtcdHealthCheck\nmetadata: {name: etcd, namespace: etcd-team}\nspec:\n` +
        `  etcd:\n    endpoints: [${cluster.endpoints.join(', ')}]\n` +
        `  prometheus: {url: '${prometheus.url}', labelMatchers: ['job="etcd"'], rateWindow: 1m}\n` +
        `  thresholds:\n    walFsyncP99: {warning: 1s, critical: 2s}\n    backendCommitP99: {warning: 1s, critical: 2s}\n---\n`,
    );
    // The verdict itself is the other tests' business (a loaded machine may add a slow apply,
    // which warns): here, that the file was read, flags applied on top, and the output is YAML.
    const run = await check([
      '-f',
      file,
      '--peer-rtt-warning',
      '1s',
      '--peer-rtt-critical',
      '2s',
      '-o',
      'yaml',
    ]);
    expect([0, 1]).toContain(run.code);
    expect(run.stdout).toMatch(
      new RegExp(`^result:\n {2}verdict: (Healthy|Warning)\n {2}exitCode: ${run.code}\n`),
    );
    // The file's thresholds and the flag's: the OK messages name them.
    expect(run.stdout).toContain(
      'WAL fsync p99 is below 1s and backend commit p99 below 1s on every member checked',
    );
    expect(run.stdout).toContain('Peer round trip p99 is below 1s on every member checked');
    expect(run.stderr).toContain('etcd-health: querying etcd (3 endpoints)');
  }, 300_000);

  it('exits 2 for a slow disk on one member, naming the member and the storage recommendation', async () => {
    const leader = await cluster.waitForLeader();
    const slow = cluster.members.map((m) => m.name).find((name) => name !== leader)!;
    await cluster.slowDownMember(slow, 80_000);
    expect(cluster.isSlowedDown(slow)).toBe(true);
    // Default critical thresholds (50ms, 100ms); the warnings of this shared disk out of the way.
    const args = [
      ...base,
      '--wal-fsync-warning',
      '30ms',
      '--backend-commit-warning',
      '60ms',
      '--peer-rtt-warning',
      '1s',
      '--peer-rtt-critical',
      '2s',
    ];
    const run = await checkUntil(2, args, 150_000);
    expect(run.stdout).toMatch(/ {2}DiskLatencyDegraded +True +Slow(WALFsync|BackendCommit)/);
    expect(run.stdout).toMatch(new RegExp(`Critical {2}InvestigateStorage on ${slow}`));
    expect(run.stdout).toContain('RESULT  Critical: a check is critical (exit code 2)');
    await cluster.restoreMember(slow);
    expect(cluster.isSlowedDown(slow)).toBe(false);
  }, 300_000);

  // Before the next case kills members on purpose: the load behind the histograms above went through.
  it('the write load went through while the cluster was whole', async () => {
    const loaded = await load.stop();
    expect(loaded.unexpectedErrors).toEqual({});
    expect(loaded.expectedErrors).toBe(0);
    expect(loaded.writes).toBeGreaterThanOrEqual(50);
  });

  it('exits 1 with one member killed, 2 without quorum, 3 when nothing answers', async () => {
    const leader = await cluster.waitForLeader();
    const [first, second] = cluster.members.map((m) => m.name).filter((name) => name !== leader);

    await cluster.killMember(first!);
    const one = await checkUntil(1, [...base, ...relaxed]);
    expect(one.stdout).toMatch(/ {2}EtcdMembersDegraded +False +UnhealthyMembers/);
    expect(one.stdout).toMatch(new RegExp(`${first} +\\S+ +\\S+ .* unreachable`));
    expect(one.stdout).toContain('RESULT  Warning');

    await cluster.killMember(second!);
    const two = await checkUntil(2, [...base, ...relaxed, '-o', 'json', '-q']);
    const parsed = JSON.parse(two.stdout) as JsonResult;
    expect(parsed.result.verdict).toBe('Critical');
    expect(parsed.status.conditions.find((c) => c.type === 'Available')).toMatchObject({ status: 'False' });
    expect(parsed.result.reasons.join('\n')).toMatch(/1 of 3 members are available|No member knows a leader/);

    await cluster.killMember(leader);
    const none = await checkUntil(3, [...base, ...relaxed]);
    expect(none.stdout).toContain('RESULT  Unassessable: could not assess the cluster (exit code 3)');
    expect(none.stdout).toContain('  - No etcd member answered');
    for (const endpoint of cluster.endpoints) expect(none.stdout).toContain(endpoint);
    expect(none.stdout).not.toContain('CONDITIONS');
  }, 480_000);
});

describe('etcd-health check against a TLS cluster', () => {
  let cluster: EtcdCluster;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 1, tls: true });
  });

  afterAll(async () => {
    await cluster?.stop();
    await cleanupAll();
  });

  it('connects with --cacert, --cert and --key and exits 0 without Prometheus', async () => {
    const tls = cluster.tls!;
    // Without a /metrics sample either (test/cli/sample.it.ts has that): only what etcd answers.
    const run = await check([
      '--sample-window',
      '0s',
      '--endpoints',
      cluster.endpoints.join(','),
      '--cacert',
      tls.ca.certPath,
      '--cert',
      tls.client.certPath,
      '--key',
      tls.client.keyPath,
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: 'etcd-health: querying etcd (1 endpoint) ...\n',
    });
    expect(run.stdout).toMatch(/member-1 +https:\/\/\S+:2379 +[0-9a-f]+ +3\.\S+ .* true +false +true /);
    expect(run.stdout).toContain('not checked without Prometheus: WAL fsync, backend commit');
  });

  it('exits 3 and says so when the CA does not match', async () => {
    const tls = cluster.tls!;
    const run = await check([
      '--endpoints',
      cluster.endpoints.join(','),
      '--cacert',
      tls.otherCa.certPath,
      '--cert',
      tls.client.certPath,
      '--key',
      tls.client.keyPath,
    ]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('RESULT  Unassessable');
    expect(run.stdout).toMatch(/member-1|127\.0\.\d+\.2/);
  });

  it('needs nothing but ETCDCTL_* to check a TLS cluster, as etcdctl does', async () => {
    const tls = cluster.tls!;
    // No scheme: https:// because ETCDCTL_CACERT is set, as etcdctl decides. No /metrics sample:
    // an idle cluster's histograms have no observations in a window (test/cli/sample.it.ts).
    const run = await check(['--sample-window', '0s'], {
      ETCDCTL_ENDPOINTS: cluster.endpoints.map((endpoint) => endpoint.replace(/^https:\/\//, '')).join(','),
      ETCDCTL_CACERT: tls.ca.certPath,
      ETCDCTL_CERT: tls.client.certPath,
      ETCDCTL_KEY: tls.client.keyPath,
      ETCDCTL_DIAL_TIMEOUT: '3s',
      ETCDCTL_COMMAND_TIMEOUT: '10s',
    });
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: 'etcd-health: querying etcd (1 endpoint) ...\n',
    });
    expect(run.stdout).toMatch(/^etcd-health check: 1 endpoint from ETCDCTL_ENDPOINTS, at /);
    expect(run.stdout).toMatch(/member-1 +https:\/\/\S+:2379 +[0-9a-f]+ +3\.\S+ .* true +false +true /);
    expect(run.stdout).toContain('RESULT  Healthy: every check passed (exit code 0)');

    // -w is -o; the flag wins over the variable (a CA that signed nothing here: exit 3).
    const json = await check(['-w', 'json', '-q', '--cacert', tls.otherCa.certPath], {
      ETCDCTL_ENDPOINTS: cluster.endpoints.join(','),
      ETCDCTL_CACERT: tls.ca.certPath,
      ETCDCTL_CERT: tls.client.certPath,
      ETCDCTL_KEY: tls.client.keyPath,
    });
    expect(json.code).toBe(3);
    expect((JSON.parse(json.stdout) as JsonResult).result).toMatchObject({
      verdict: 'Unassessable',
      exitCode: 3,
    });
  });

  it('refuses --insecure-skip-tls-verify for etcd and says to pass --cacert', async () => {
    const run = await check(['--endpoints', cluster.endpoints.join(','), '--insecure-skip-tls-verify']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^etcd-health check: --insecure-skip-tls-verify: check cannot skip the verification of etcd's certificates .* pass the CA that signed them with --cacert/,
    );
  });

  it('exits 3 with the flag and the file when a TLS file cannot be read', async () => {
    const run = await check(['--endpoints', cluster.endpoints.join(','), '--cacert', '/nonexistent/ca.crt']);
    expect(run).toEqual({
      code: 3,
      stdout: '',
      stderr:
        "etcd-health check: --cacert /nonexistent/ca.crt: cannot read the file: no such file or directory\n\nRun 'etcd-health check --help' for the flags.\n",
    });
  });
});
