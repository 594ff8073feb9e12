// Commands that work when pasted: the TLS flags this check used (the CLI's real paths, or the
// files of the resource's Secret with the command that extracts them), the shell's ETCDCTL_*
// variables unset where a flag replaces them, OpenShift's oc rsh, and host commands only through a
// real node name.
import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheckSpec } from '../../src/api/v1alpha1/spec.js';
import type { Recommendation } from '../../src/api/v1alpha1/status.js';
import { buildClusterView } from '../../src/health/cluster.js';
import {
  commandStyle,
  etcdctlCluster,
  etcdctlOn,
  nodeOf,
  onHost,
  type CommandInput,
} from '../../src/health/commands.js';
import type { Observation } from '../../src/health/observation.js';
import {
  GiB,
  MiB,
  clientURL,
  healthyCluster,
  killed,
  run,
  specWith,
  withAlarm,
  withClusterMetrics,
  withMember,
  withMetric,
  withStatus,
  withStatusEverywhere,
  type Change,
} from './fixtures.js';

const ONE = clientURL(1);
const ALL = [0, 1, 2].map(clientURL).join(',');
const CLI_FILES: CommandInput = {
  tlsFiles: { cacert: '/etc/etcd/ca.crt', cert: '/etc/etcd/client.crt', key: '/etc/etcd/client.key' },
};
const CLI_FLAGS = '--cacert=/etc/etcd/ca.crt --cert=/etc/etcd/client.crt --key=/etc/etcd/client.key';
const TLS_SECRET = specWith({ etcd: { endpoints: [clientURL(0)], tlsSecretRef: { name: 'etcd-client' } } });
const SECRET_FLAGS = '--cacert=etcd-client/ca.crt --cert=etcd-client/tls.crt --key=etcd-client/tls.key';
const OPENSHIFT = specWith({ etcd: { discovery: {}, tlsSecretRef: { name: 'etcd-client' } } });

/** Every member's client URL in plain http. */
const plainHttp: Change = (observation) => {
  for (const member of observation.etcd.members) {
    member.endpoint = member.endpoint.replace('https://', 'http://');
    member.clientURLs = member.clientURLs.map((url) => url.replace('https://', 'http://'));
  }
};

function styleOf(spec: EtcdHealthCheckSpec, input: CommandInput, observation = healthyCluster(3)) {
  const view = buildClusterView(observation, spec);
  return { view, style: commandStyle(spec, view, input) };
}

describe('etcdctl commands in each style', () => {
  it.each<[string, EtcdHealthCheckSpec, CommandInput, Observation, string, string]>([
    [
      'https without TLS files (the system CA bundle)',
      specWith(),
      {},
      healthyCluster(3),
      `etcdctl --endpoints=${ONE} endpoint status -w table`,
      `etcdctl --endpoints=${ALL} alarm list`,
    ],
    [
      'plain http, even with a TLS Secret (etcdctl uses TLS files for https only)',
      TLS_SECRET,
      { namespace: 'team-a' },
      healthyCluster(3, plainHttp),
      'etcdctl --endpoints=http://127.0.0.2:2379 endpoint status -w table',
      'etcdctl --endpoints=http://127.0.0.1:2379,http://127.0.0.2:2379,http://127.0.0.3:2379 alarm list',
    ],
    [
      "a resource's TLS Secret: files in a directory named after it",
      TLS_SECRET,
      { namespace: 'team-a' },
      healthyCluster(3),
      `etcdctl --endpoints=${ONE} ${SECRET_FLAGS} endpoint status -w table`,
      `etcdctl --endpoints=${ALL} ${SECRET_FLAGS} alarm list`,
    ],
    [
      "a resource's CA ConfigMap beside its Secret",
      specWith({
        etcd: {
          endpoints: [clientURL(0)],
          tlsSecretRef: { name: 'etcd-client' },
          caConfigMapRef: { name: 'etcd-ca' },
        },
      }),
      { namespace: 'team-a' },
      healthyCluster(3),
      `etcdctl --endpoints=${ONE} --cacert=etcd-ca/ca-bundle.crt --cert=etcd-client/tls.crt --key=etcd-client/tls.key endpoint status -w table`,
      `etcdctl --endpoints=${ALL} --cacert=etcd-ca/ca-bundle.crt --cert=etcd-client/tls.crt --key=etcd-client/tls.key alarm list`,
    ],
    [
      "a resource's CA ConfigMap alone (no client certificate)",
      specWith({ etcd: { endpoints: [clientURL(0)], caConfigMapRef: { name: 'etcd-ca', key: 'ca.pem' } } }),
      { namespace: 'team-a' },
      healthyCluster(3),
      `etcdctl --endpoints=${ONE} --cacert=etcd-ca/ca.pem endpoint status -w table`,
      `etcdctl --endpoints=${ALL} --cacert=etcd-ca/ca.pem alarm list`,
    ],
    [
      "the CLI's own files, by the paths it read",
      TLS_SECRET,
      CLI_FILES,
      healthyCluster(3),
      `etcdctl --endpoints=${ONE} ${CLI_FLAGS} endpoint status -w table`,
      `etcdctl --endpoints=${ALL} ${CLI_FLAGS} alarm list`,
    ],
    [
      "the CLI's CA alone, under a path the shell must not split",
      specWith(),
      { tlsFiles: { cacert: "/home/me/my certs/ca's.crt" } },
      healthyCluster(3),
      `etcdctl --endpoints=${ONE} --cacert='/home/me/my certs/ca'\\''s.crt' endpoint status -w table`,
      `etcdctl --endpoints=${ALL} --cacert='/home/me/my certs/ca'\\''s.crt' alarm list`,
    ],
    [
      'a shell with ETCDCTL_* set: those a flag replaces are unset, the others kept',
      specWith(),
      {
        ...CLI_FILES,
        etcdctlVariables: ['ETCDCTL_API', 'ETCDCTL_CACERT', 'ETCDCTL_ENDPOINTS', 'ETCDCTL_WRITE_OUT'],
      },
      healthyCluster(3),
      `env -u ETCDCTL_ENDPOINTS -u ETCDCTL_CACERT -u ETCDCTL_WRITE_OUT etcdctl --endpoints=${ONE} ${CLI_FLAGS} endpoint status -w table`,
      `env -u ETCDCTL_ENDPOINTS -u ETCDCTL_CACERT etcdctl --endpoints=${ALL} ${CLI_FLAGS} alarm list`,
    ],
    [
      "OpenShift: in the member's pod, whose etcdctl container has the certificates",
      OPENSHIFT,
      { namespace: 'openshift-etcd' },
      healthyCluster(3),
      `oc rsh -n openshift-etcd -c etcdctl etcd-etcd-1 env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=${ONE} endpoint status -w table`,
      `oc rsh -n openshift-etcd -c etcdctl etcd-etcd-0 env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=${ALL} alarm list`,
    ],
  ])('%s', (_name, spec, input, observation, onMember, onCluster) => {
    const { view, style } = styleOf(spec, input, observation);
    expect(etcdctlOn(style, view.members[1]!, 'endpoint status -w table')).toBe(onMember);
    expect(etcdctlCluster(style, 'alarm list')).toBe(onCluster);
  });

  it('extracts the Secret only for placeholders, with a umask that keeps the key private', () => {
    expect(styleOf(TLS_SECRET, { namespace: 'team-a' }).style.extractTlsFiles).toBe(
      "(umask 077 && mkdir -p etcd-client && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.ca\\.crt}' | base64 -d > etcd-client/ca.crt && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.tls\\.crt}' | base64 -d > etcd-client/tls.crt && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.tls\\.key}' | base64 -d > etcd-client/tls.key)",
    );
    const withConfigMap = specWith({
      etcd: {
        endpoints: [clientURL(0)],
        tlsSecretRef: { name: 'etcd-client' },
        caConfigMapRef: { name: 'etcd-ca' },
      },
    });
    expect(styleOf(withConfigMap, { namespace: 'team-a' }).style.extractTlsFiles).toBe(
      "(umask 077 && mkdir -p etcd-ca etcd-client && kubectl -n team-a get configmap etcd-ca -o jsonpath='{.data.ca-bundle\\.crt}' > etcd-ca/ca-bundle.crt && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.tls\\.crt}' | base64 -d > etcd-client/tls.crt && kubectl -n team-a get secret etcd-client -o jsonpath='{.data.tls\\.key}' | base64 -d > etcd-client/tls.key)",
    );
    expect(styleOf(TLS_SECRET, CLI_FILES).style.extractTlsFiles).toBeUndefined();
    expect(styleOf(OPENSHIFT, { namespace: 'openshift-etcd' }).style.extractTlsFiles).toBeUndefined();
    expect(styleOf(specWith(), { namespace: 'team-a' }).style.extractTlsFiles).toBeUndefined();
  });
});

describe('commands on a member host: only through a real node name', () => {
  it.each<[string, EtcdHealthCheckSpec, Change[], string | undefined, string]>([
    ['no discovery: unknown, the command as it is', specWith(), [], undefined, 'iostat -xm 5'],
    [
      'the node of its pod, from discovery',
      specWith(),
      [withMember(1, { node: 'worker-7' })],
      'worker-7',
      'ssh worker-7 iostat -xm 5',
    ],
    [
      'OpenShift: the member name is the node name',
      OPENSHIFT,
      [],
      'etcd-1',
      'oc debug node/etcd-1 -- chroot /host iostat -xm 5',
    ],
    [
      'OpenShift with the node of its pod',
      OPENSHIFT,
      [withMember(1, { node: 'master-1.example' })],
      'master-1.example',
      'oc debug node/master-1.example -- chroot /host iostat -xm 5',
    ],
  ])('%s', (_name, spec, changes, node, command) => {
    const { view, style } = styleOf(spec, {}, healthyCluster(3, ...changes));
    expect(nodeOf(style, view.members[1]!)).toBe(node);
    expect(onHost(style, nodeOf(style, view.members[1]!), 'iostat -xm 5')).toBe(command);
  });

  it('never takes the client URL host for a node to ssh to', () => {
    const analysis = run(healthyCluster(3, withMetric(1, { walFsyncP99: 0.07, peerRoundTripP99: 0.2 })));
    const commands = analysis.recommendations.flatMap((recommendation) => recommendation.commands ?? []);
    expect(commands.filter((command) => command.startsWith('ssh '))).toEqual([]);
    const network = analysis.recommendations.find(
      (recommendation) => recommendation.type === 'InvestigateNetwork',
    );
    // The peers are what etcd-1's packets go to: their addresses are right to ping.
    expect(network!.commands).toEqual(['ping -c 10 127.0.0.1', 'ping -c 10 127.0.0.3']);
    expect(network!.message).toContain(
      "Run the host commands below on the host of member etcd-1: the check does not know its node's name.",
    );
  });

  it('pings an IPv6 peer by its address, without the brackets of its URL', () => {
    const ipv6: Change = (observation) => {
      observation.etcd.members[2]!.peerURLs = ['https://[fd00::3]:2380'];
    };
    const analysis = run(
      healthyCluster(3, ipv6, withMember(1, { node: 'worker-1' }), withMetric(1, { peerRoundTripP99: 0.2 })),
    );
    const network = analysis.recommendations.find(
      (recommendation) => recommendation.type === 'InvestigateNetwork',
    );
    expect(network!.commands).toEqual([
      'ssh worker-1 ping -c 10 127.0.0.1',
      'ssh worker-1 ping -c 10 fd00::3',
    ]);
  });

  // Node metrics belong to a member by its address (etcd-1 is 127.0.0.2); host commands go to the
  // member's node by name, never to that address.
  it.each<[string, EtcdHealthCheckSpec, Change[], string[], boolean]>([
    [
      'a node known from discovery: ssh to it by name',
      specWith(),
      [withMember(1, { node: 'worker-7' })],
      ['ssh worker-7 top -b -n 1 -o %CPU | head -20'],
      false,
    ],
    [
      'no node known: the command as it is, and the message says where',
      specWith(),
      [],
      ['top -b -n 1 -o %CPU | head -20'],
      true,
    ],
    [
      'OpenShift, where the member name is the node name: oc debug',
      OPENSHIFT,
      [],
      ['oc debug node/etcd-1 -- chroot /host top -b -n 1 -o %CPU | head -20'],
      false,
    ],
  ])('node resources, %s', (_name, spec, changes, commands, unknown) => {
    const analysis = run(
      healthyCluster(
        3,
        ...changes,
        withClusterMetrics({ nodes: [{ instance: '127.0.0.2:9100', cpuPercent: 95, swapUsedBytes: 0 }] }),
      ),
      { spec },
    );
    const [investigate] = analysis.recommendations.filter((r) => r.type === 'InvestigateNodeResources');
    expect(investigate).toMatchObject({ target: 'etcd-1', commands });
    expect(investigate!.message.includes('does not know its node')).toBe(unknown);
  });
});

describe('every etcdctl command carries the TLS flags the check used', () => {
  // One observation per remedy that runs etcdctl: together they reach every builder that does.
  const scenarios: [string, Change[]][] = [
    ['NOSPACE', [withAlarm('NOSPACE', 1)]],
    ['CORRUPT', [withAlarm('CORRUPT', 1)]],
    ['quorum lost', [killed(1), killed(2)]],
    ['member down', [killed(2)]],
    ['fragmented leader', [withStatus(0, { dbSize: 1 * GiB, dbSizeInUse: 300 * MiB })]],
    ['quota', [withStatus(1, { dbSize: 6.5 * GiB, dbSizeInUse: 6.5 * GiB })]],
    ['DB size', [withStatus(1, { dbSize: 4 * GiB, dbSizeInUse: 4 * GiB })]],
    ['growth', [withMetric(1, { dbSizePredicted: 9 * GiB })]],
    ['leader changes', [withClusterMetrics({ leaderChanges1h: 2, leaderChanges15m: 1 })]],
    ['slow applies', [withMetric(2, { slowAppliesRate: 3 })]],
    [
      'apply backlog',
      [
        withStatusEverywhere({ raftIndex: '100000', raftAppliedIndex: '100000' }),
        withStatus(1, { raftAppliedIndex: '80000' }),
      ],
    ],
  ];
  const recommendationsWith = (spec: EtcdHealthCheckSpec, commands: CommandInput): Recommendation[] =>
    scenarios.flatMap(
      ([, changes]) => run(healthyCluster(3, ...changes), { spec, commands }).recommendations,
    );
  const etcdctlCommands = (recommendations: Recommendation[]) =>
    recommendations.flatMap((recommendation) =>
      (recommendation.commands ?? []).filter((command) => command.includes('etcdctl ')),
    );

  it("the CLI's paths, in every one", () => {
    const recommendations = recommendationsWith(TLS_SECRET, CLI_FILES);
    const types = new Set(recommendations.filter((r) => etcdctlCommands([r]).length > 0).map((r) => r.type));
    expect([...types].sort()).toEqual([
      'Defragment',
      'InvestigateDatabaseGrowth',
      'InvestigateLeaderElection',
      'InvestigateMember',
      'InvestigateMemberLag',
      'InvestigateRequests',
      'RecoverFromNoSpace',
      'ReduceDatabaseSize',
      'RelieveQuotaPressure',
      'RestoreFromBackup',
      'RestoreQuorum',
    ]);
    const commands = etcdctlCommands(recommendations);
    expect(commands.length).toBeGreaterThan(30);
    for (const command of commands) expect(command).toContain(`etcdctl --endpoints=https://`);
    for (const command of commands) expect(command).toContain(` ${CLI_FLAGS} `);
  });

  it("the Secret's placeholders, in every one, after the command that extracts them", () => {
    const recommendations = recommendationsWith(TLS_SECRET, { namespace: 'team-a' });
    for (const recommendation of recommendations) {
      const commands = recommendation.commands ?? [];
      const etcdctl = etcdctlCommands([recommendation]);
      for (const command of etcdctl) expect(command).toContain(` ${SECRET_FLAGS} `);
      if (etcdctl.length > 0)
        expect(commands[0]).toMatch(
          /^\(umask 077 && mkdir -p etcd-client && kubectl -n team-a get secret etcd-client /,
        );
      else expect(commands.join('\n')).not.toContain('get secret');
    }
    expect(etcdctlCommands(recommendations).length).toBeGreaterThan(30);
  });

  it('none on OpenShift, where the pod has them', () => {
    const commands = etcdctlCommands(recommendationsWith(OPENSHIFT, { namespace: 'openshift-etcd' }));
    expect(commands.length).toBeGreaterThan(30);
    for (const command of commands)
      expect(command).toMatch(
        /^(rev=\$\()?oc rsh -n openshift-etcd -c etcdctl etcd-etcd-\d env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=https:\/\/[^ ]+ (?!--cacert)/,
      );
  });
});
