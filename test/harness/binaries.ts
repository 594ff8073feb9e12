// Where the real binaries come from: the control plane (kube-apiserver, kubectl, etcd 3.6) is built
// from the Go module proxy by test/controlplane/build.sh and cached by version outside the repo;
// etcd 3.5 (mixed-version clusters) is built the same way by test/etcd-3.5/build.sh; Debian
// provides etcd 3.4, Prometheus and promtool.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('../controlplane/build.sh', import.meta.url));
const ETCD_3_5_BUILD_SCRIPT = fileURLToPath(new URL('../etcd-3.5/build.sh', import.meta.url));

/** Runs the (cached, usually instant) build and returns its bin dir. */
export function controlPlaneBinDir(): string {
  const fromEnv = process.env.EHC_CONTROLPLANE_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'kube-apiserver'))) return fromEnv;
  const output = execFileSync('bash', [BUILD_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const dir = output.trim().split('\n').pop() ?? '';
  if (!existsSync(join(dir, 'kube-apiserver')))
    throw new Error(`control plane build did not produce binaries in ${dir}`);
  process.env.EHC_CONTROLPLANE_BIN = dir;
  return dir;
}

export type EtcdVersion = '3.6' | '3.5' | '3.4';

/** The etcd binary for a version: 3.6 is the one Kubernetes pins and 3.5 is built, 3.4 is Debian's. */
export function etcdBinary(version: EtcdVersion = etcdVersionUnderTest()): string {
  if (version === '3.5') return join(cachedBuild(ETCD_3_5_BUILD_SCRIPT, 'etcd'), 'etcd');
  if (version === '3.4') {
    if (!existsSync('/usr/bin/etcd')) throw new Error('etcd 3.4 missing: apt-get install etcd-server');
    return '/usr/bin/etcd';
  }
  return join(controlPlaneBinDir(), 'etcd');
}

const builtDirs = new Map<string, string>();

/** Runs a (cached, usually instant) build script once per process; returns the bin dir it prints last. */
function cachedBuild(script: string, binary: string): string {
  const known = builtDirs.get(script);
  if (known !== undefined) return known;
  const output = execFileSync('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const dir = output.trim().split('\n').pop() ?? '';
  if (!existsSync(join(dir, binary))) throw new Error(`${script} did not produce ${binary} in ${dir}`);
  builtDirs.set(script, dir);
  return dir;
}

/** EHC_ETCD_VERSION selects the etcd the integration suite runs against (default 3.6). */
export function etcdVersionUnderTest(): EtcdVersion {
  return process.env.EHC_ETCD_VERSION === '3.4' ? '3.4' : '3.6';
}

export function nodeExporterBinary(): string {
  const path = '/usr/bin/prometheus-node-exporter';
  if (!existsSync(path)) throw new Error('node-exporter missing: apt-get install prometheus-node-exporter');
  return path;
}

export function prometheusBinary(): string {
  if (!existsSync('/usr/bin/prometheus')) throw new Error('prometheus missing: apt-get install prometheus');
  return '/usr/bin/prometheus';
}
