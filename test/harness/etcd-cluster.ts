// Real etcd clusters for tests: members member-1..N on 127.0.N.2, .3, ... with the standard ports
// 2379 (client) and 2380 (peer), optionally with mutual TLS, a small quota, or one member whose
// fsync/fdatasync calls are delayed by strace (a slow disk). Everything the cluster starts or
// creates is stopped/removed by stop(), which tests call in afterAll.
import { Etcd3, type IOptions } from 'etcd3';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { allocateAddressBlock, type AddressBlock } from './addresses.js';
import { etcdBinary, etcdVersionUnderTest, type EtcdVersion } from './binaries.js';
import { createClusterTls, type CertificateDays, type ClusterTls } from './certs.js';
import { eventually } from './eventually.js';
import { pidAlive } from './leaks.js';
import {
  HARNESS_LEDGER,
  registerCleanup,
  makeTempDir,
  removeTempDir,
  startProcess,
  type ManagedProcess,
} from './process.js';

export interface EtcdClusterOptions {
  members?: number;
  version?: EtcdVersion;
  /** Members that run another version than `version`; read at each (re)start, as slowDisk is. */
  memberVersions?: Record<string, EtcdVersion>;
  tls?: boolean;
  /** With tls: certificates that expire sooner than the default year. */
  certificateDays?: CertificateDays;
  quotaBackendBytes?: number;
  /** Delay every fsync/fdatasync of this member by `delayUs` microseconds (strace inject). */
  slowDisk?: { member: string; delayUs: number };
  /** Also serve /metrics on plain http://<ip>:2381 (--listen-metrics-urls), as kubeadm does. */
  metricsListener?: boolean;
  /**
   * More client URLs by member name, advertised besides its own (a DNS name, say); it listens on
   * those whose host is an IP. Read at each (re)start, like slowDisk.
   */
  extraClientUrls?: Record<string, string[]>;
}

export interface EtcdMember {
  readonly name: string;
  readonly ip: string;
  readonly clientURL: string;
  readonly peerURL: string;
  readonly dataDir: string;
  /** http://<ip>:2381, with the option metricsListener. */
  readonly metricsURL?: string;
  /** PID of the etcd process itself (under strace for a slow-disk member), while it runs. */
  etcdPid(): number | undefined;
  running(): boolean;
}

export interface EtcdCluster {
  readonly version: EtcdVersion;
  readonly members: readonly EtcdMember[];
  readonly endpoints: string[];
  readonly tls?: ClusterTls;
  readonly addresses: AddressBlock;
  /** Temp dir holding data dirs, logs and certificates. */
  readonly dir: string;
  member(name: string): EtcdMember;
  /** A client for test set-up (writes, compaction); closed by stop(). */
  client(endpoints?: string[]): Etcd3;
  /** The member every running member names as leader, once they agree. */
  leaderName(): Promise<string | undefined>;
  waitForLeader(): Promise<string>;
  /** SIGKILL, as a crash. */
  killMember(name: string): Promise<void>;
  /** Kills the current leader and returns its name. */
  killLeader(): Promise<string>;
  restartMember(name: string): Promise<void>;
  /** SIGSTOP/SIGCONT: a member that accepts connections and never answers. */
  freezeMember(name: string): void;
  thawMember(name: string): void;
  /** Every PID this cluster ever started, for leak checks. */
  pids(): number[];
  stop(): Promise<void>;
}

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;
const METRICS_PORT = 2381;
const CALL_DEADLINE_MS = 5_000;

interface MemberState extends EtcdMember {
  process?: ManagedProcess;
  tracedPid?: number;
}

export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const version = options.version ?? etcdVersionUnderTest();
  const versionOf = (m: MemberState): EtcdVersion => options.memberVersions?.[m.name] ?? version;
  const count = options.members ?? 3;
  const addresses = await allocateAddressBlock();
  const dir = makeTempDir(`etcd-${addresses.prefix}`);
  const scheme = options.tls ? 'https' : 'http';
  const token = `ehc-${addresses.prefix}-${Date.now()}`;
  const members: MemberState[] = Array.from({ length: count }, (_, i) => {
    const ip = addresses.address(i + 2);
    const state: MemberState = {
      name: `member-${i + 1}`,
      ip,
      clientURL: `${scheme}://${ip}:${CLIENT_PORT}`,
      peerURL: `${scheme}://${ip}:${PEER_PORT}`,
      dataDir: join(dir, `member-${i + 1}.etcd`),
      ...(options.metricsListener && { metricsURL: `http://${ip}:${METRICS_PORT}` }),
      etcdPid: () =>
        state.process && !state.process.exited() ? (state.tracedPid ?? state.process.pid) : undefined,
      running: () => state.process !== undefined && !state.process.exited(),
    };
    return state;
  });
  const tls = options.tls ? createClusterTls(dir, members, options.certificateDays) : undefined;
  const initialCluster = members.map((m) => `${m.name}=${m.peerURL}`).join(',');
  const pids: number[] = [];
  const clients: Etcd3[] = [];

  const memberArgs = (m: MemberState): string[] => [
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    ...clientUrlArgs(m.clientURL, options.extraClientUrls?.[m.name] ?? []),
    `--listen-peer-urls=${m.peerURL}`,
    `--initial-advertise-peer-urls=${m.peerURL}`,
    `--initial-cluster=${initialCluster}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${token}`,
    // Twice the defaults: the test machine is small and shared; spurious elections would be noise.
    '--heartbeat-interval=200',
    '--election-timeout=2000',
    ...(versionOf(m) === '3.4' ? ['--logger=zap'] : []),
    ...(options.quotaBackendBytes ? [`--quota-backend-bytes=${options.quotaBackendBytes}`] : []),
    ...(m.metricsURL ? [`--listen-metrics-urls=${m.metricsURL}`] : []),
    ...(tls
      ? [
          `--cert-file=${tls.member(m.name).certPath}`,
          `--key-file=${tls.member(m.name).keyPath}`,
          `--trusted-ca-file=${tls.ca.certPath}`,
          '--client-cert-auth',
          `--peer-cert-file=${tls.member(m.name).certPath}`,
          `--peer-key-file=${tls.member(m.name).keyPath}`,
          `--peer-trusted-ca-file=${tls.ca.certPath}`,
          '--peer-client-cert-auth',
        ]
      : []),
  ];

  const launch = async (m: MemberState): Promise<void> => {
    const slow = options.slowDisk?.member === m.name ? options.slowDisk : undefined;
    if (!slow) {
      m.process = startProcess({
        name: m.name,
        command: etcdBinary(versionOf(m)),
        args: memberArgs(m),
        logDir: dir,
      });
      m.tracedPid = undefined;
      pids.push(m.process.pid);
      return;
    }
    // strace ignores SIGTERM when it writes to a file (-I 3) and a SIGKILLed strace leaves its
    // tracee running (verified with strace 6.1), so the harness stops the traced etcd by its own
    // PID; strace exits with it.
    // prettier-ignore
    m.process = startProcess({
      name: `${m.name}-strace`,
      command: 'strace',
      args: ['-f', '--seccomp-bpf', '-o', '/dev/null', '-e', 'trace=fdatasync,fsync',
        '-e', `inject=fdatasync,fsync:delay_enter=${slow.delayUs}`, etcdBinary(versionOf(m)), ...memberArgs(m)],
      logDir: dir,
    });
    pids.push(m.process.pid);
    const strace = m.process;
    m.tracedPid = await eventually(() => tracedEtcdPid(strace.pid), {
      timeoutMs: 10_000,
      description: `etcd under strace for ${m.name}`,
    });
    pids.push(m.tracedPid);
    appendFileSync(HARNESS_LEDGER, `pid ${m.tracedPid} ${m.name}-traced\n`);
  };

  const stopMember = async (m: MemberState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const proc = m.process;
    if (!proc) return;
    if (m.tracedPid !== undefined) {
      // The etcd and anything else strace still traces; strace exits once they are gone.
      const traced = [...new Set([m.tracedPid, ...childPids(proc.pid)])];
      for (const pid of traced) {
        signalPid(pid, 'SIGCONT');
        signalPid(pid, signal);
      }
      // A traced etcd that ignores SIGTERM for too long is killed like any other.
      const timer = setTimeout(() => traced.forEach((pid) => signalPid(pid, 'SIGKILL')), 10_000);
      await eventually(() => proc.exited() || traced.every((pid) => !pidAlive(pid)), {
        timeoutMs: 30_000,
        description: `${m.name} to exit`,
      });
      clearTimeout(timer);
    } else {
      thaw(m);
    }
    if (signal === 'SIGKILL') await proc.kill();
    else await proc.stop();
  };

  const client = (endpoints = members.map((m) => m.clientURL)): Etcd3 => {
    const credentials: IOptions['credentials'] = tls
      ? {
          rootCertificate: Buffer.from(tls.ca.certPem),
          certChain: Buffer.from(tls.client.certPem),
          privateKey: Buffer.from(tls.client.keyPem),
        }
      : undefined;
    const created = new Etcd3({
      hosts: endpoints,
      credentials,
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: new Date(Date.now() + CALL_DEADLINE_MS) },
    });
    clients.push(created);
    return created;
  };

  const memberStatus = async (m: MemberState) => {
    const single = client([m.clientURL]);
    try {
      return await single.maintenance.status();
    } finally {
      single.close();
      clients.splice(clients.indexOf(single), 1);
    }
  };

  const leaderName = async (): Promise<string | undefined> => {
    const running = members.filter((m) => m.running());
    const answers = await Promise.all(running.map((m) => memberStatus(m).catch(() => undefined)));
    const leaders = new Set(answers.map((s) => s?.leader));
    if (leaders.size !== 1) return undefined;
    const leaderId = [...leaders][0];
    if (!leaderId || leaderId === '0') return undefined;
    const leader = running.find((_, i) => answers[i]?.header.member_id === leaderId);
    return leader?.name;
  };

  const cluster: EtcdCluster = {
    version,
    members,
    endpoints: members.map((m) => m.clientURL),
    tls,
    addresses,
    dir,
    member: (name) => find(name),
    client,
    leaderName,
    waitForLeader: () =>
      eventually(leaderName, { timeoutMs: 60_000, intervalMs: 500, description: 'an agreed etcd leader' }),
    killMember: (name) => stopMember(find(name), 'SIGKILL'),
    async killLeader() {
      const leader = await cluster.waitForLeader();
      await cluster.killMember(leader);
      return leader;
    },
    async restartMember(name) {
      const m = find(name);
      if (m.running()) await stopMember(m, 'SIGTERM');
      await launch(m);
      await eventually(() => memberStatus(m), {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: `${name} to answer after restart`,
      });
    },
    freezeMember: (name) => signalPid(requirePid(find(name)), 'SIGSTOP'),
    thawMember: (name) => thaw(find(name)),
    pids: () => [...pids],
    async stop() {
      unregister();
      try {
        // Followers first: a leader stopping among live followers first tries to hand over its
        // leadership, which with peers that are stopping too waits out a request timeout (9s here).
        for (const m of members) thaw(m);
        const leader = await leaderName().catch(() => undefined);
        await Promise.all(members.filter((m) => m.name !== leader).map((m) => stopMember(m, 'SIGTERM')));
        await Promise.all(members.filter((m) => m.name === leader).map((m) => stopMember(m, 'SIGTERM')));
      } finally {
        for (const c of clients.splice(0)) c.close();
        removeTempDir(dir);
        addresses.release();
      }
    },
  };

  const unregister = registerCleanup(() => cluster.stop());

  function find(name: string): MemberState {
    const m = members.find((candidate) => candidate.name === name);
    if (!m) throw new Error(`no member ${name} in this cluster`);
    return m;
  }

  try {
    await Promise.all(members.map(launch));
    await cluster.waitForLeader();
  } catch (error) {
    const logs = tails(members, dir);
    await cluster.stop();
    throw new Error(
      `etcd ${version} cluster in ${dir} did not start: ${(error as Error).message}; logs:\n${logs}`,
      {
        cause: error,
      },
    );
  }
  return cluster;
}

function clientUrlArgs(own: string, extra: string[]): string[] {
  const listened = extra.filter((url) => isIP(new URL(url).hostname) !== 0);
  return [
    `--listen-client-urls=${[own, ...listened].join(',')}`,
    `--advertise-client-urls=${[own, ...extra].join(',')}`,
  ];
}

function thaw(m: MemberState): void {
  const pid = m.etcdPid();
  if (pid !== undefined) signalPid(pid, 'SIGCONT');
}

function requirePid(m: MemberState): number {
  const pid = m.etcdPid();
  if (pid === undefined) throw new Error(`${m.name} is not running`);
  return pid;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** strace's child once it runs etcd: strace first forks short-lived children to probe seccomp. */
function tracedEtcdPid(stracePid: number): number | undefined {
  return childPids(stracePid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'etcd';
    } catch {
      return false;
    }
  });
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function tails(members: readonly MemberState[], dir: string): string {
  return members
    .map((m) => m.process?.logPath ?? join(dir, `${m.name}.log`))
    .filter((path) => existsSync(path))
    .map((path) => `--- ${path}\n${readFileSync(path, 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

// --- A slow disk switched on and off while the cluster runs (the demo's fault) ---------------

export interface SlowDiskControl {
  /** Restarts `name` (SIGTERM) under strace, with every fsync/fdatasync delayed by `delayUs` µs. */
  slowDownMember(name: string, delayUs: number): Promise<void>;
  /** Restarts `name` without strace: a normal disk again. */
  restoreMember(name: string): Promise<void>;
  /** Whether the running etcd of `name` is traced (slowed down) right now. */
  isSlowedDown(name: string): boolean;
}

/**
 * startEtcdCluster, plus slowDownMember/restoreMember. A member's launch reads options.slowDisk
 * each time it (re)starts, so this owns the options object, sets or clears slowDisk and restarts
 * the member; /proc then proves the new etcd is (or is not) traced. One slow member at a time:
 * slowing down another leaves the first traced until restoreMember is called for it.
 */
export async function startEtcdClusterWithSlowDisk(
  options: Omit<EtcdClusterOptions, 'slowDisk'> = {},
): Promise<EtcdCluster & SlowDiskControl> {
  const live: EtcdClusterOptions = { ...options };
  const cluster = await startEtcdCluster(live);
  const isSlowedDown = (name: string): boolean => {
    const pid = cluster.member(name).etcdPid();
    if (pid === undefined) return false;
    try {
      const tracer = /^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return tracer !== null && tracer[1] !== '0';
    } catch {
      return false;
    }
  };
  const restartAs = async (name: string, slow: boolean) => {
    await cluster.restartMember(name);
    if (isSlowedDown(name) !== slow) {
      throw new Error(`${name} restarted ${slow ? 'without' : 'under'} strace, expected the opposite`);
    }
  };
  return Object.assign(cluster, {
    isSlowedDown,
    async slowDownMember(name: string, delayUs: number) {
      cluster.member(name); // throws for an unknown name before anything is changed
      live.slowDisk = { member: name, delayUs };
      await restartAs(name, true);
    },
    async restoreMember(name: string) {
      cluster.member(name);
      if (live.slowDisk?.member === name) live.slowDisk = undefined;
      await restartAs(name, false);
    },
  });
}
