// The commands `etcd-health check` recommends, pasted into a shell exactly as printed, work on a
// real 3-member TLS cluster in NOSPACE: run with /usr/bin/etcdctl (Debian's 3.4) through `sh -c`
// from another directory, with the TLS files given by flags (relative paths) and by etcdctl's own
// ETCDCTL_* variables (which etcdctl refuses beside the same flags). The read-only commands each
// exit 0; then the whole NOSPACE recovery, pasted in order into one shell, recovers the cluster.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Recommendation } from '../../src/api/v1alpha1/status.js';
import { runCheck, type CheckRun } from '../harness/cli.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { fillQuotaWithHistory } from '../harness/faults.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ETCDCTL = '/usr/bin/etcdctl';
const QUOTA = 16 * 2 ** 20;

/** The environment without etcdctl's variables, plus `etcdctl`: a shell as the test wants it. */
function environment(etcdctl: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('ETCDCTL_'));
  return { ...Object.fromEntries(inherited), ...etcdctl, NODE_OPTIONS: '' };
}

function execute(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CheckRun> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number')
        reject(new Error(`${file} did not exit by itself: ${error.message}`, { cause: error }));
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

async function recommendations(
  args: string[],
  etcdctl: Record<string, string> = {},
): Promise<Recommendation[]> {
  const run = await runCheck(['-w', 'json', '-q', ...args], {
    dropped: (name) => name.startsWith('ETCDCTL_'),
    added: etcdctl,
  });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: '' });
  const document = JSON.parse(run.stdout) as { status: { recommendations?: Recommendation[] } };
  return document.status.recommendations ?? [];
}

/** `sh -c COMMAND` from `cwd`, with `etcdctl` as the shell's variables and Debian's etcdctl first on PATH. */
function paste(command: string, cwd: string, etcdctl: Record<string, string> = {}): Promise<CheckRun> {
  const env = environment(etcdctl);
  env.PATH = `${dirname(ETCDCTL)}:${env.PATH ?? ''}`;
  return execute('/bin/sh', ['-c', command], cwd, env);
}

/** Commands that only read: safe to run at any point, the ones each run on its own. */
const READ_ONLY =
  /etcdctl --endpoints=\S+(?: --\S+)* (?:endpoint status|endpoint health|endpoint hashkv|alarm list|member list)\b/;

function commandsOf(recommendations: readonly Recommendation[]): string[] {
  return recommendations.flatMap((recommendation) => recommendation.commands ?? []);
}

describe('recommended commands pasted into a shell, on a real TLS cluster in NOSPACE', () => {
  let cluster: EtcdCluster;
  let elsewhere: string;
  let files: { cacert: string; cert: string; key: string };
  let variables: Record<string, string>;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3, tls: true, quotaBackendBytes: QUOTA });
    await fillQuotaWithHistory(cluster);
    const tls = cluster.tls!;
    files = { cacert: tls.ca.certPath, cert: tls.client.certPath, key: tls.client.keyPath };
    variables = {
      ETCDCTL_ENDPOINTS: cluster.endpoints.join(','),
      ETCDCTL_CACERT: files.cacert,
      ETCDCTL_CERT: files.cert,
      ETCDCTL_KEY: files.key,
    };
    elsewhere = makeTempDir('pasted-commands-cwd');
  });

  afterAll(async () => {
    await cluster?.stop();
    await cleanupAll();
  });

  it('with --cacert, --cert and --key given as relative paths: the absolute paths, and every read-only command exits 0 from another directory', async () => {
    const found = await recommendations([
      '--endpoints',
      cluster.endpoints.join(','),
      '--cacert',
      relative(REPO, files.cacert),
      '--cert',
      relative(REPO, files.cert),
      '--key',
      relative(REPO, files.key),
    ]);
    expect(found.map((recommendation) => recommendation.type)).toContain('RecoverFromNoSpace');
    const etcdctl = commandsOf(found).filter((command) => command.includes('etcdctl '));
    const flags = `--cacert=${files.cacert} --cert=${files.cert} --key=${files.key}`;
    for (const command of etcdctl) expect(command).toContain(` ${flags} `);

    const readOnly = etcdctl.filter((command) => READ_ONLY.test(command) && !command.startsWith('rev='));
    expect(readOnly).toEqual(
      expect.arrayContaining([
        `etcdctl --endpoints=${cluster.endpoints.join(',')} ${flags} endpoint status -w table`,
        `etcdctl --endpoints=${cluster.endpoints.join(',')} ${flags} alarm list`,
      ]),
    );
    for (const command of readOnly) {
      const run = await paste(command, elsewhere);
      expect({ command, code: run.code, stderr: run.stderr }).toEqual({ command, code: 0, stderr: '' });
      if (command.endsWith('alarm list')) expect(run.stdout).toContain('alarm:NOSPACE');
    }

    // The recovery's first step reads the revision into $rev for the next.
    const revision = etcdctl.find((command) => command.startsWith('rev=$('));
    const run = await paste(`${revision!} && echo "$rev"`, elsewhere);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[1-9][0-9]*\n$/);
  });

  it('with only ETCDCTL_*: commands unset the variables their flags replace, and exit 0 in that shell', async () => {
    const found = await recommendations([], variables);
    const etcdctl = commandsOf(found).filter((command) => command.includes('etcdctl '));
    const unset = 'env -u ETCDCTL_ENDPOINTS -u ETCDCTL_CACERT -u ETCDCTL_CERT -u ETCDCTL_KEY etcdctl ';
    for (const command of etcdctl) expect(command).toContain(unset);

    const readOnly = etcdctl.filter((command) => READ_ONLY.test(command) && !command.startsWith('rev='));
    expect(readOnly.length).toBeGreaterThanOrEqual(2);
    for (const command of readOnly) {
      const run = await paste(command, elsewhere, variables);
      expect({ command, code: run.code, stderr: run.stderr }).toEqual({ command, code: 0, stderr: '' });
    }
    // Without the unset, etcdctl refuses the command in that very shell.
    const bare = await paste(readOnly[0]!.replace(/^env( -u \S+)+ /, ''), elsewhere, variables);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/conflicting environment variable "ETCDCTL_[A-Z]+" is shadowed/);
  });

  it('the NOSPACE recovery, pasted in order into one shell, recovers the cluster', async () => {
    const found = await recommendations(['--endpoints', cluster.endpoints.join(','), ...tlsFlags(files)]);
    const recovery = found.find((recommendation) => recommendation.type === 'RecoverFromNoSpace');
    const script = recovery!.commands!.join('\n');
    expect(script).toContain('defrag');
    expect(script).toContain('alarm disarm');
    const run = await paste(`set -e\n${script}`, elsewhere);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // The verifying put and delete answered, and the closing `alarm list` printed no alarm.
    expect(run.stdout).toMatch(/\nOK\n1\n$/);
    const alarms = await paste(
      `${ETCDCTL} --endpoints=${cluster.endpoints.join(',')} ${tlsFlags(files).join(' ')} alarm list`,
      elsewhere,
    );
    expect(alarms).toEqual({ code: 0, stdout: '', stderr: '' });
    await cluster.client().put('/after-recovery').value('ok');
  });
});

function tlsFlags(files: { cacert: string; cert: string; key: string }): string[] {
  return ['--cacert', files.cacert, '--cert', files.cert, '--key', files.key];
}
