// A real TLS etcd cluster whose members each run in a network namespace the test makes, so that a
// test can cut one member's network for real (a partition), which loopback addresses cannot do.
//
//   - each member runs in its own namespace ehc-<id>-member-N (`ip netns add`, deleted by stop());
//   - peers talk over veth pairs on a bridge inside a "switch" namespace ehc-<id>-switch, on a
//     private range that exists only inside these namespaces (no route to or from the host);
//   - clients (the operator, Prometheus, the test) reach a member's client port from the host
//     namespace through two relays (relay.mjs) joined by a unix socket in the temp dir: one on the
//     host listens on the member's loopback address 127.0.N.k:2379, one inside the member's
//     namespace dials its etcd there (the same address on that namespace's own lo). The member
//     advertises that address, so the member list is dialable from the host. TLS is end to end.
//
// cutPeerLink sets the member's veth down on the switch side (its packets to peers, and theirs to
// it, go nowhere; its client port keeps answering); cutClientLink stops its host relay (the
// client port refuses; the peers keep talking). Nothing touches the host namespace's routes,
// sysctls or netfilter. stop() stops every process by PID and deletes the namespaces, which takes
// the veths and the bridge with them; it is registered as a cleanup, so it runs if a test fails.
import { Etcd3 } from 'etcd3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateAddressBlock, type AddressBlock } from './addresses.js';
import { etcdBinary, etcdVersionUnderTest, type EtcdVersion } from './binaries.js';
import type { ClusterTls } from './certs.js';
import { eventually } from './eventually.js';
import { createCertificateAuthority, issueCertificate, type CertificateFiles } from './pki.js';
import { makeTempDir, registerCleanup, removeTempDir, startProcess, type ManagedProcess } from './process.js';

const RELAY_SCRIPT = fileURLToPath(new URL('./relay.mjs', import.meta.url));
const CLIENT_PORT = 2379;
const PEER_PORT = 2380;
/** The peers' range: only inside this cluster's namespaces, so every cluster may use the same. */
const PEER_PREFIX = '10.213.0';
const CALL_DEADLINE_MS = 5_000;
const COMMAND_TIMEOUT_MS = 10_000;

export interface NetnsMember {
  readonly name: string;
  /** The client address: the host relay's, and the same address on lo inside the member's namespace. */
  readonly ip: string;
  readonly peerIp: string;
  readonly clientURL: string;
  readonly peerURL: string;
  readonly dataDir: string;
  /** The member's network namespace (`ip netns` name). */
  readonly netns: string;
  etcdPid(): number | undefined;
  running(): boolean;
}

/** Maintenance.Status of one member, as the test reads it. */
export interface NetnsMemberStatus {
  memberId: string;
  leaderId: string;
  raftIndex: number;
  isLearner: boolean;
}

export interface NetnsCluster {
  readonly version: EtcdVersion;
  readonly members: readonly NetnsMember[];
  /** The voting members' client URLs at creation. */
  readonly endpoints: string[];
  readonly tls: ClusterTls;
  readonly addresses: AddressBlock;
  readonly dir: string;
  member(name: string): NetnsMember;
  /** A client for test set-up; closed by stop(). */
  client(endpoints?: string[]): Etcd3;
  memberStatus(name: string): Promise<NetnsMemberStatus>;
  /** The member every answering member names as leader, once they agree. */
  leaderName(names?: string[]): Promise<string | undefined>;
  /** Waits until the members `names` (default: every member) agree on a leader. */
  waitForLeader(names?: string[]): Promise<string>;
  /** Its veth down on the switch: no packet between it and its peers; the client port still answers. */
  cutPeerLink(name: string): Promise<void>;
  restorePeerLink(name: string): Promise<void>;
  /** Its host relay stopped: the client port refuses; the peers still talk. */
  cutClientLink(name: string): Promise<void>;
  restoreClientLink(name: string): Promise<void>;
  /** `member add --learner` a new member and starts it; it is in sync when this returns. */
  addLearner(): Promise<NetnsMember>;
  pids(): number[];
  stop(): Promise<void>;
}

interface MemberState extends NetnsMember {
  etcd?: ManagedProcess;
  netnsRelay?: ManagedProcess;
  hostRelay?: ManagedProcess;
  socket: string;
  veth: string;
}

export async function startNetnsEtcdCluster(
  options: { members?: number; version?: EtcdVersion } = {},
): Promise<NetnsCluster> {
  const version = options.version ?? etcdVersionUnderTest();
  const binary = etcdBinary(version);
  const count = options.members ?? 3;
  const addresses = await allocateAddressBlock();
  const dir = makeTempDir(`netns-etcd-${addresses.prefix}`);
  const id = randomBytes(3).toString('hex');
  const switchNetns = `ehc-${id}-switch`;
  const token = `ehc-netns-${id}`;
  const ca = createCertificateAuthority(dir, 'etcd-ca', 'etcd-ca-ca', 30);
  const tlsCerts = new Map<string, CertificateFiles>();
  const tls: ClusterTls = {
    ca,
    client: issueCertificate(ca, dir, 'client', {
      commonName: 'etcd-health-operator',
      usage: 'client',
      days: 30,
    }),
    otherCa: createCertificateAuthority(dir, 'other-ca', 'other-ca-ca', 30),
    member: (name) => {
      const cert = tlsCerts.get(name);
      if (!cert) throw new Error(`no certificate for ${name}`);
      return cert;
    },
  };
  const members: MemberState[] = [];
  const madeNetns: string[] = [];
  const pids: number[] = [];
  const clients: Etcd3[] = [];
  let stopped = false;

  const newMember = (index: number): MemberState => {
    const name = `member-${index}`;
    const ip = addresses.address(index + 1);
    const peerIp = `${PEER_PREFIX}.${index + 1}`;
    tlsCerts.set(
      name,
      // etcd checks a peer's client certificate against the connection's source address: peerIp.
      issueCertificate(ca, dir, name, {
        commonName: name,
        usage: 'peer',
        ipAddresses: [ip, peerIp],
        days: 30,
      }),
    );
    const state: MemberState = {
      name,
      ip,
      peerIp,
      clientURL: `https://${ip}:${CLIENT_PORT}`,
      peerURL: `https://${peerIp}:${PEER_PORT}`,
      dataDir: join(dir, `${name}.etcd`),
      netns: `ehc-${id}-${name}`,
      socket: join(dir, `${name}.sock`),
      veth: `veth-${index}`,
      etcdPid: () => (state.etcd && !state.etcd.exited() ? state.etcd.pid : undefined),
      running: () => state.etcd !== undefined && !state.etcd.exited(),
    };
    members.push(state);
    return state;
  };

  const addNetns = async (name: string) => {
    await ip(['netns', 'add', name]);
    madeNetns.push(name);
  };

  const wire = async (m: MemberState) => {
    await addNetns(m.netns);
    // Made inside the switch, its other end moved straight into the member: the host never sees it.
    await ip([
      '-n',
      switchNetns,
      'link',
      'add',
      m.veth,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      m.netns,
    ]);
    await ip(['-n', switchNetns, 'link', 'set', m.veth, 'master', 'br0', 'up']);
    await ip(['-n', m.netns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', m.netns, 'address', 'add', `${m.ip}/32`, 'dev', 'lo']);
    await ip(['-n', m.netns, 'address', 'add', `${m.peerIp}/24`, 'dev', 'eth0']);
    await ip(['-n', m.netns, 'link', 'set', 'eth0', 'up']);
  };

  const etcdArgs = (m: MemberState, initialCluster: string, state: 'new' | 'existing'): string[] => {
    const cert = tls.member(m.name);
    return [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientURL}`,
      `--advertise-client-urls=${m.clientURL}`,
      `--listen-peer-urls=${m.peerURL}`,
      `--initial-advertise-peer-urls=${m.peerURL}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=${token}`,
      // As test/harness/etcd-cluster.ts: twice the defaults, for a small shared machine.
      '--heartbeat-interval=200',
      '--election-timeout=2000',
      ...(version === '3.4' ? ['--logger=zap'] : []),
      `--cert-file=${cert.certPath}`,
      `--key-file=${cert.keyPath}`,
      `--trusted-ca-file=${ca.certPath}`,
      '--client-cert-auth',
      `--peer-cert-file=${cert.certPath}`,
      `--peer-key-file=${cert.keyPath}`,
      `--peer-trusted-ca-file=${ca.certPath}`,
      '--peer-client-cert-auth',
    ];
  };

  let relayStarts = 0;
  const startRelay = async (role: string, command: string, args: string[]): Promise<ManagedProcess> => {
    // A log of its own per start: a restarted relay's "ready" must not be its predecessor's.
    const name = `${role}-${++relayStarts}`;
    const relay = startProcess({ name, command, args, logDir: dir });
    pids.push(relay.pid);
    await eventually(
      () => {
        if (relay.exited()) throw new Error(`${name} exited: ${readFileSync(relay.logPath, 'utf8')}`);
        return readFileSync(relay.logPath, 'utf8').includes('ready');
      },
      { timeoutMs: 15_000, intervalMs: 100, description: `${name} ready` },
    );
    return relay;
  };

  const startHostRelay = async (m: MemberState) => {
    m.hostRelay = await startRelay(`${m.name}-relay-host`, process.execPath, [
      RELAY_SCRIPT,
      'tcp-to-unix',
      `${m.ip}:${CLIENT_PORT}`,
      m.socket,
    ]);
  };

  const launch = async (m: MemberState, initialCluster: string, state: 'new' | 'existing') => {
    // nsenter execs etcd in place, so the PID is etcd's.
    m.etcd = startProcess({
      name: m.name,
      command: 'nsenter',
      args: [`--net=/run/netns/${m.netns}`, binary, ...etcdArgs(m, initialCluster, state)],
      logDir: dir,
    });
    pids.push(m.etcd.pid);
    m.netnsRelay = await startRelay(`${m.name}-relay-netns`, 'nsenter', [
      `--net=/run/netns/${m.netns}`,
      process.execPath,
      RELAY_SCRIPT,
      'unix-to-tcp',
      m.socket,
      `${m.ip}:${CLIENT_PORT}`,
    ]);
    await startHostRelay(m);
  };

  const client = (endpoints = members.map((m) => m.clientURL)): Etcd3 => {
    const created = new Etcd3({
      hosts: endpoints,
      credentials: {
        rootCertificate: Buffer.from(ca.certPem),
        certChain: Buffer.from(tls.client.certPem),
        privateKey: Buffer.from(tls.client.keyPem),
      },
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: new Date(Date.now() + CALL_DEADLINE_MS) },
    });
    clients.push(created);
    return created;
  };

  const memberStatus = async (name: string): Promise<NetnsMemberStatus> => {
    const single = client([find(name).clientURL]);
    try {
      const status = await single.maintenance.status();
      return {
        memberId: status.header.member_id,
        leaderId: status.leader,
        raftIndex: Number(status.raftIndex),
        isLearner: (status as { isLearner?: boolean }).isLearner === true,
      };
    } finally {
      single.close();
      clients.splice(clients.indexOf(single), 1);
    }
  };

  const leaderName = async (names = members.map((m) => m.name)): Promise<string | undefined> => {
    const answers = await Promise.all(names.map((name) => memberStatus(name).catch(() => undefined)));
    const leaders = new Set(answers.map((s) => s?.leaderId));
    if (leaders.size !== 1) return undefined;
    const leaderId = [...leaders][0];
    if (!leaderId || leaderId === '0') return undefined;
    return names.find((_, i) => answers[i]?.memberId === leaderId);
  };

  const find = (name: string): MemberState => {
    const m = members.find((candidate) => candidate.name === name);
    if (!m) throw new Error(`no member ${name} in this cluster`);
    return m;
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    const problems: string[] = [];
    try {
      for (const c of clients.splice(0)) c.close();
      // Relays first: nothing dials a member that is stopping.
      const relays = members.flatMap((m) => [m.hostRelay, m.netnsRelay]);
      await Promise.all(relays.flatMap((p) => (p ? [p.stop(5_000)] : [])));
      // All members at once: the data is thrown away, a clean hand-over is not needed.
      await Promise.all(members.flatMap((m) => (m.etcd ? [m.etcd.stop(15_000)] : [])));
      for (const name of madeNetns.reverse()) {
        await ip(['netns', 'delete', name]).catch((error: Error) => problems.push(error.message));
      }
    } finally {
      removeTempDir(dir);
      addresses.release();
    }
    if (problems.length > 0)
      throw new Error(`netns cluster ${id} left things behind:\n${problems.join('\n')}`);
  };
  const unregister = registerCleanup(stop);

  const cluster: NetnsCluster = {
    version,
    members,
    endpoints: [],
    tls,
    addresses,
    dir,
    member: find,
    client,
    memberStatus,
    leaderName,
    waitForLeader: (names) =>
      eventually(() => leaderName(names), {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: 'an agreed etcd leader',
      }),
    cutPeerLink: (name) => ip(['-n', switchNetns, 'link', 'set', find(name).veth, 'down']),
    restorePeerLink: (name) => ip(['-n', switchNetns, 'link', 'set', find(name).veth, 'up']),
    async cutClientLink(name) {
      const m = find(name);
      await m.hostRelay?.stop(5_000);
      m.hostRelay = undefined;
    },
    async restoreClientLink(name) {
      const m = find(name);
      if (m.hostRelay === undefined) await startHostRelay(m);
    },
    async addLearner() {
      const m = newMember(members.length + 1);
      await wire(m);
      const admin = client(cluster.endpoints);
      const added = await admin.cluster.memberAdd({ peerURLs: [m.peerURL], isLearner: true });
      const initialCluster = added.members
        .map((listed) => `${listed.name || m.name}=${listed.peerURLs[0] ?? ''}`)
        .join(',');
      await launch(m, initialCluster, 'existing');
      const leader = await cluster.waitForLeader(cluster.endpoints.map((url) => nameOf(url)));
      await eventually(
        async () => {
          const [own, leads] = await Promise.all([memberStatus(m.name), memberStatus(leader)]);
          return own.isLearner && leads.raftIndex - own.raftIndex < 100;
        },
        { timeoutMs: 60_000, intervalMs: 500, description: `learner ${m.name} in sync` },
      );
      return m;
    },
    pids: () => [...pids],
    stop,
  };

  const nameOf = (url: string): string => members.find((m) => m.clientURL === url)?.name ?? url;

  try {
    await addNetns(switchNetns);
    await ip(['-n', switchNetns, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', switchNetns, 'link', 'set', 'br0', 'up']);
    const initial = Array.from({ length: count }, (_, i) => newMember(i + 1));
    cluster.endpoints.push(...initial.map((m) => m.clientURL));
    for (const m of initial) await wire(m);
    const initialCluster = initial.map((m) => `${m.name}=${m.peerURL}`).join(',');
    await Promise.all(initial.map((m) => launch(m, initialCluster, 'new')));
    await cluster.waitForLeader();
  } catch (error) {
    const logs = members
      .map((m) => m.etcd?.logPath)
      .filter((path): path is string => path !== undefined && existsSync(path))
      .map((path) => `--- ${path}\n${readFileSync(path, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
    await stop().catch(() => undefined);
    throw new Error(`netns etcd cluster did not start: ${(error as Error).message}\n${logs}`, {
      cause: error,
    });
  }
  return cluster;
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: COMMAND_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
