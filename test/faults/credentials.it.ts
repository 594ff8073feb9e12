// Credential faults on the operator process: a real kube-apiserver, a real 3-member etcd cluster
// with mutual TLS, and the operator as its own process. Each fault is proved on the CR status (the
// per-member error in words), an Event where a condition changes, the operator's /metrics, and the
// same operator process throughout; and recovery once the fault is gone:
// - an expired client certificate, then a renewed one;
// - a member certificate that does not name the endpoint dialled, then the right endpoint;
// - an endpoint whose DNS name does not resolve, then a resolvable one;
// - the client certificate Secret rotated within the CA, then the whole CA rotated: the cluster
//   restarted on a new CA it alone trusts, the CA ConfigMap and the client Secret replaced.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import { checksApi, conditionOf, type Checks } from '../harness/checks.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { putConfigMap, putSecret, rotateClusterCa, tlsSecretData } from '../harness/credentials.js';
import { startEtcdCluster, type EtcdCluster, type EtcdClusterOptions } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { issueCertificate } from '../harness/pki.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const NS = 'credentials';
const CLIENT_SECRET = 'etcd-client';
const CA_CONFIG_MAP = 'etcd-ca';
// .invalid never resolves (RFC 6761).
const UNRESOLVABLE = 'https://etcd-1.does-not-exist.invalid:2379';

let cp: ControlPlane;
let cluster: EtcdCluster;
let operator: OperatorProcess;
let operatorPid: number;
let checks: Checks;
let certDir: string;
/** An address of member-1 that its certificate does not name. */
let unnamedEndpoint: string;

const clusterOptions: EtcdClusterOptions = { members: 3, tls: true };

beforeAll(async () => {
  [cp, cluster] = await Promise.all([startControlPlane(), startEtcdCluster(clusterOptions)]);
  // member-1 also listens on an address of its block that its certificate lacks, and advertises
  // a name DNS does not know: a check configured with either dials member-1 there.
  unnamedEndpoint = `https://${cluster.addresses.address(9)}:2379`;
  clusterOptions.extraClientUrls = { 'member-1': [unnamedEndpoint, UNRESOLVABLE] };
  await cluster.restartMember('member-1');
  await cluster.waitForLeader();
  certDir = makeTempDir('credentials-certs');
  checks = checksApi(cp.kubeConfig);
  await cp.createNamespace(NS);
  await putSecret(cp.kubeConfig, NS, CLIENT_SECRET, tlsSecretData(cluster.tls!.client));
  await putConfigMap(cp.kubeConfig, NS, CA_CONFIG_MAP, { 'ca-bundle.crt': cluster.tls!.ca.certPem });
  operator = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    logDir: makeTempDir('credentials-operator-logs'),
    identity: 'credentials',
  });
  operatorPid = operator.process.pid;
}, 180_000);

afterAll(async () => {
  await cleanupAll();
});

const spec = (endpoints: string[], secret = CLIENT_SECRET) => ({
  etcd: { endpoints, tlsSecretRef: { name: secret }, caConfigMapRef: { name: CA_CONFIG_MAP } },
  interval: '10s',
  thresholds: { degradedInertia: '0s' },
});

/** The check once `accept` holds, or the deadline's error with the last status. */
async function checkWhen(
  name: string,
  accept: (check: EtcdHealthCheck) => boolean,
  description: string,
  timeoutMs = 60_000,
): Promise<EtcdHealthCheck> {
  return eventually(
    async () => {
      const check = await checks.get(NS, name);
      if (accept(check)) return check;
      throw new Error(
        JSON.stringify({ conditions: check.status?.conditions, members: check.status?.members }),
      );
    },
    { timeoutMs, intervalMs: 500, description: `${name}: ${description}` },
  );
}

const status = (check: EtcdHealthCheck, type: string) => conditionOf(check, type)?.status;
const errorOf = (check: EtcdHealthCheck, member: string) =>
  check.status?.members?.find((m) => m.name === member)?.error;

/** The Event of a condition change, e.g. AvailableFalse. */
function eventOf(name: string, reason: string) {
  return eventually(async () => (await checks.eventsOf(NS, name)).find((e) => e.reason === reason), {
    timeoutMs: 30_000,
    description: `${name}: a ${reason} Event`,
  });
}

async function conditionMetric(name: string, type: string, value: string) {
  return operator.metric('etcd_health_check_condition', { namespace: NS, name, type, status: value });
}

/** The operator process that started is the one still running and ready. */
async function expectSameOperator(): Promise<void> {
  expect(operator.process.pid).toBe(operatorPid);
  expect(operator.process.exited()).toBe(false);
  expect((await fetch(`${operator.healthUrl}/readyz`)).ok).toBe(true);
}

/** A user-readable message: one line of words, no stack trace, no stringified object. */
function expectReadable(text: string | undefined): void {
  expect(text).toBeDefined();
  expect(text).not.toMatch(/[\r\n]|\[object Object\]|\bundefined\b|\bnull\b/);
}

describe('credential faults on the operator process', () => {
  it('an expired client certificate: each member says the certificate expired, Certificates says so, and a renewed one recovers', async () => {
    const expired = issueCertificate(cluster.tls!.ca, certDir, 'client-expired', {
      commonName: 'etcd-health-operator',
      usage: 'client',
      expiredOn: new Date(Date.now() - 86_400_000),
    });
    await putSecret(cp.kubeConfig, NS, 'etcd-client-expired', tlsSecretData(expired));
    const errorsBefore =
      (await operator.metric('etcd_health_operator_source_errors_total', {
        source: 'etcd',
        state: 'Error',
      })) ?? 0;
    await checks.create(NS, 'expired', spec(cluster.endpoints, 'etcd-client-expired'));
    const failed = await checkWhen(
      'expired',
      (c) => status(c, 'Available') === 'False' && (c.status?.members?.length ?? 0) === 3,
      'Available=False with every member',
    );
    for (const member of failed.status!.members!) {
      expectReadable(member.error);
      expect(member.error).toMatch(
        new RegExp(
          `^${member.endpoint}: dial: the member refused the client certificate: \\S+ alert certificate expired \\(ERR_SSL_\\w+_ALERT_CERTIFICATE_EXPIRED\\)$`,
        ),
      );
    }
    const degraded = conditionOf(failed, 'Degraded')!;
    expect(degraded.message).toContain(
      'The client certificate the check presents (CN=etcd-health-operator) expired on',
    );
    expect((await eventOf('expired', 'AvailableFalse')).type).toBe('Warning');
    expect(await conditionMetric('expired', 'Available', 'False')).toBe(1);
    expect(
      await operator.metric('etcd_health_operator_source_errors_total', { source: 'etcd', state: 'Error' }),
    ).toBeGreaterThan(errorsBefore);
    await expectSameOperator();

    await putSecret(cp.kubeConfig, NS, 'etcd-client-expired', tlsSecretData(cluster.tls!.client));
    const recovered = await checkWhen(
      'expired',
      (c) => status(c, 'Available') === 'True' && c.status?.summary?.members === '3/3',
      'Available=True, 3/3 with the renewed certificate',
    );
    expect(recovered.status?.members?.map((m) => m.error)).toEqual([undefined, undefined, undefined]);
    expect((await eventOf('expired', 'AvailableTrue')).type).toBe('Normal');
    expect(await conditionMetric('expired', 'Available', 'True')).toBe(1);
    await expectSameOperator();
  });

  /**
   * A healthy check of `name` is pointed at `endpoint` for member-1: member-1's error must match
   * `error`, the other two are still judged, EtcdMembersUpgradeable turns False with an Event and
   * its metric; pointed back at member-1's own address, everything recovers.
   */
  async function oneMemberEndpointFault(name: string, endpoint: string, error: RegExp) {
    const [own, second, third] = cluster.endpoints;
    await checks.create(NS, name, spec(cluster.endpoints));
    await checkWhen(
      name,
      (c) => status(c, 'EtcdMembersUpgradeable') === 'True' && c.status?.summary?.members === '3/3',
      'healthy, 3/3',
    );
    await checks.patchSpec(NS, name, { etcd: { endpoints: [endpoint, second!, third!] } });
    const faulty = await checkWhen(
      name,
      (c) => c.status?.observedGeneration === 2 && errorOf(c, 'member-1') !== undefined,
      'an error on member-1',
    );
    const memberError = errorOf(faulty, 'member-1');
    expectReadable(memberError);
    expect(memberError).toMatch(error);
    expect(memberError!.startsWith(`${endpoint}: dial: `)).toBe(true);
    expect(conditionOf(faulty, 'EtcdMembersDegraded')?.message).toContain(
      `Member member-1 is unreachable: ${memberError}`,
    );
    // Two of three answer: quorum holds, the cluster is available and judged on the others.
    expect(status(faulty, 'Available')).toBe('True');
    expect(faulty.status?.summary?.members).toBe('2/3');
    expect(errorOf(faulty, 'member-2')).toBeUndefined();
    expect(errorOf(faulty, 'member-3')).toBeUndefined();
    expect(status(faulty, 'EtcdMembersUpgradeable')).toBe('False');
    const event = await eventOf(name, 'EtcdMembersUpgradeableFalse');
    expect(event.type).toBe('Warning');
    expect(event.note).toContain('member-1 is unhealthy');
    expect(await conditionMetric(name, 'EtcdMembersUpgradeable', 'False')).toBe(1);
    await expectSameOperator();

    await checks.patchSpec(NS, name, { etcd: { endpoints: [own!, second!, third!] } });
    await checkWhen(
      name,
      (c) => status(c, 'EtcdMembersUpgradeable') === 'True' && c.status?.summary?.members === '3/3',
      'healthy again, 3/3',
    );
    expect((await eventOf(name, 'EtcdMembersUpgradeableTrue')).type).toBe('Normal');
    expect(await conditionMetric(name, 'EtcdMembersUpgradeable', 'True')).toBe(1);
    await expectSameOperator();
    return faulty;
  }

  it('a member certificate that does not name the endpoint: member-1 says which address its certificate lacks, the others are judged, and the right endpoint recovers', async () => {
    const address = new URL(unnamedEndpoint).hostname;
    await oneMemberEndpointFault(
      'wrong-name',
      unnamedEndpoint,
      new RegExp(
        `dial: the member's certificate does not name this endpoint: Hostname/IP does not match certificate's altnames: IP: ${address.replace(/\./g, '\\.')} is not in the cert's list: `,
      ),
    );
  });

  it('an endpoint whose name does not resolve: member-1 says so at once, the others are judged, and a resolvable endpoint recovers', async () => {
    const faulty = await oneMemberEndpointFault(
      'unresolvable',
      UNRESOLVABLE,
      /dial: the name etcd-1\.does-not-exist\.invalid (does not resolve|could not be resolved)/,
    );
    // No DNS wait: the whole etcd observation took less than the dial timeout (2s).
    expect(faulty.status?.lastCheck?.etcd.durationMilliseconds).toBeLessThan(2_000);
  });

  it('the client certificate Secret rotated within the CA, then the whole CA rotated: the checks follow each change, with no operator restart', async () => {
    await checks.create(NS, 'rotating', spec(cluster.endpoints));
    await checkWhen(
      'rotating',
      (c) => status(c, 'Available') === 'True' && c.status?.summary?.members === '3/3',
      'healthy, 3/3',
    );

    // A new key pair from the same CA, valid for 20 days: the Certificates check names it.
    const renewed = issueCertificate(cluster.tls!.ca, certDir, 'client-renewed', {
      commonName: 'etcd-health-operator-renewed',
      usage: 'client',
      days: 20,
    });
    await putSecret(cp.kubeConfig, NS, CLIENT_SECRET, tlsSecretData(renewed));
    const rotated = await checkWhen(
      'rotating',
      (c) => conditionOf(c, 'CertificatesDegraded')?.message.includes('renewed') === true,
      'the renewed client certificate judged',
    );
    expect(conditionOf(rotated, 'CertificatesDegraded')?.message).toMatch(
      /^The client certificate the check presents \(CN=etcd-health-operator-renewed\) expires on \S+, in (19|20) days, at most 30 days$/,
    );
    expect(status(rotated, 'Available')).toBe('True');
    expect(rotated.status?.summary?.members).toBe('3/3');
    await expectSameOperator();

    // The cluster moves to a new CA and trusts it alone: the operator, still on the old CA ConfigMap
    // and client certificate, cannot verify any member.
    const newCa = await rotateClusterCa(cluster, 'etcd-ca-2');
    const untrusted = await checkWhen(
      'rotating',
      (c) =>
        status(c, 'Available') === 'False' &&
        c.status?.members?.length === 3 &&
        c.status.members.every((m) => m.error !== undefined),
      'Available=False, every member unverifiable',
    );
    for (const member of untrusted.status!.members!) {
      expectReadable(member.error);
      expect(member.error).toMatch(
        /: dial: the member's certificate is not signed by the CA the check trusts: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
      );
    }
    expect((await eventOf('rotating', 'AvailableFalse')).type).toBe('Warning');
    expect(await conditionMetric('rotating', 'Available', 'False')).toBe(1);
    await expectSameOperator();

    // The CA ConfigMap rotated: the members are verified now, and they refuse the old CA's client
    // certificate, which proves the new ConfigMap is in use and the old client certificate is not
    // accepted any more.
    await putConfigMap(cp.kubeConfig, NS, CA_CONFIG_MAP, { 'ca-bundle.crt': newCa.certPem });
    const refused = await checkWhen(
      'rotating',
      (c) =>
        c.status?.members?.length === 3 &&
        c.status.members.every((m) =>
          /: dial: the member refused the client certificate: \S+ alert (unknown ca|bad certificate) \(ERR_SSL_/.test(
            m.error ?? '',
          ),
        ),
      'every member refusing the old client certificate',
    );
    expect(status(refused, 'Available')).toBe('False');
    for (const member of refused.status!.members!) expectReadable(member.error);

    // The client certificate Secret rotated to the new CA: the members accept it.
    await putSecret(cp.kubeConfig, NS, CLIENT_SECRET, tlsSecretData(cluster.tls!.client));
    const recovered = await checkWhen(
      'rotating',
      (c) => status(c, 'Available') === 'True' && c.status?.summary?.members === '3/3',
      'Available=True, 3/3 on the new CA',
    );
    expect(recovered.status?.members?.map((m) => m.error)).toEqual([undefined, undefined, undefined]);
    expect(conditionOf(recovered, 'CertificatesDegraded')?.message).toMatch(/valid for more than 30 days/);
    expect((await eventOf('rotating', 'AvailableTrue')).type).toBe('Normal');
    expect(await conditionMetric('rotating', 'Available', 'True')).toBe(1);
    await expectSameOperator();
  });
});
