// Cluster shapes beyond startEtcdCluster's N voting members of one version: a learner added to a
// running cluster (`member add --learner`, started, later promoted), and a rolling upgrade (every
// member starts on one version, then members are restarted on another one at a time).
import { join } from 'node:path';
import { etcdBinary, type EtcdVersion } from './binaries.js';
import { startEtcdCluster, type EtcdCluster, type EtcdClusterOptions } from './etcd-cluster.js';
import { eventually } from './eventually.js';
import { registerCleanup, startProcess, type ManagedProcess } from './process.js';

export interface LearnerMember {
  readonly name: string;
  /** Member ID as etcd gave it in MemberAdd (decimal). */
  readonly id: string;
  readonly clientURL: string;
  readonly peerURL: string;
  readonly process: ManagedProcess;
  /** MemberPromote, retried until etcd accepts it (it refuses a learner not yet in sync). */
  promote(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Adds `name` as a learner (MemberAdd with isLearner, as `etcdctl member add --learner`) on the
 * next free host of the cluster's address block, and starts it with --initial-cluster-state
 * existing. Plain-text clusters only. The caller stops it before stopping the cluster (its data
 * dir lives in the cluster's dir); a cleanup is registered in case a test fails first.
 */
export async function addLearner(cluster: EtcdCluster, name: string): Promise<LearnerMember> {
  if (cluster.tls) throw new Error('addLearner: TLS clusters are not supported');
  const ip = cluster.addresses.address(cluster.members.length + 2);
  const clientURL = `http://${ip}:2379`;
  const peerURL = `http://${ip}:2380`;
  const client = cluster.client();
  const added = await client.cluster.memberAdd({ peerURLs: [peerURL], isLearner: true });
  const id = added.member.ID;
  // The new member is listed without a name until it starts; etcd matches it by peer URL.
  const initialCluster = added.members
    .flatMap((m) => m.peerURLs.map((url) => `${m.ID === id ? name : m.name}=${url}`))
    .join(',');
  const child = startProcess({
    name,
    command: etcdBinary(cluster.version),
    args: [
      `--name=${name}`,
      `--data-dir=${join(cluster.dir, `${name}.etcd`)}`,
      `--listen-client-urls=${clientURL}`,
      `--advertise-client-urls=${clientURL}`,
      `--listen-peer-urls=${peerURL}`,
      `--initial-advertise-peer-urls=${peerURL}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=existing',
      // The cluster's own timings (etcd-cluster.ts): a member with other ones disturbs elections.
      '--heartbeat-interval=200',
      '--election-timeout=2000',
      ...(cluster.version === '3.4' ? ['--logger=zap'] : []),
    ],
    logDir: cluster.dir,
  });
  const unregister = registerCleanup(() => child.stop());
  return {
    name,
    id,
    clientURL,
    peerURL,
    process: child,
    async promote() {
      await eventually(() => client.cluster.memberPromote({ ID: id }), {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        description: `etcd to promote learner ${name}`,
      });
    },
    async stop() {
      unregister();
      await child.stop();
    },
  };
}

export interface RollingUpgrade {
  /** The version `name` runs now. */
  versionOf(name: string): EtcdVersion;
  /** Restarts `name` (SIGTERM) on `version`, keeping its data dir, as one step of a rolling upgrade. */
  upgradeMember(name: string, version: EtcdVersion): Promise<void>;
}

/** startEtcdCluster on `from`, plus upgradeMember: the shape of a cluster in a rolling upgrade. */
export async function startUpgradableEtcdCluster(
  options: Omit<EtcdClusterOptions, 'memberVersions' | 'version'> & { from: EtcdVersion },
): Promise<EtcdCluster & RollingUpgrade> {
  const { from, ...rest } = options;
  // The cluster's launch reads memberVersions at each (re)start; this owns the object.
  const live: EtcdClusterOptions = { ...rest, version: from, memberVersions: {} };
  const cluster = await startEtcdCluster(live);
  const versionOf = (name: string): EtcdVersion => {
    cluster.member(name); // throws for an unknown name
    return live.memberVersions?.[name] ?? from;
  };
  return Object.assign(cluster, {
    versionOf,
    async upgradeMember(name: string, version: EtcdVersion) {
      cluster.member(name);
      live.memberVersions = { ...live.memberVersions, [name]: version };
      await cluster.restartMember(name);
    },
  });
}
