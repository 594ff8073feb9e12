// Certificate expiry from real handshakes: a TLS cluster whose member-2 serves a certificate that
// expires in 3 days, and whose client certificate expires in 20 days. The check names member-2
// Critical and the client certificate Warning; the other members' certificates are valid for a year.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { etcdVersionUnderTest } from '../harness/binaries.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd-cluster.js';
import { analyzeObservation, condition, memberNamed, observeCluster } from './support.js';

const DAY_MS = 86_400_000;

function notAfterOf(pem: string): string {
  return new Date(new X509Certificate(pem).validTo).toISOString();
}

describe(`certificate expiry on a TLS etcd ${etcdVersionUnderTest()} cluster`, () => {
  let cluster: EtcdCluster;

  beforeAll(async () => {
    cluster = await startEtcdCluster({
      members: 3,
      tls: true,
      certificateDays: { members: { 'member-2': 3 }, client: 20 },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('sees each member serving certificate at the handshake, and the client certificate', async () => {
    const observation = await observeCluster(cluster);
    expect(observation.etcd.source.state).toBe('OK');
    for (const member of cluster.members) {
      // The certificate the member served is the one the harness issued it.
      expect(memberNamed(observation, member.name).certificate).toEqual({
        subject: `CN=${member.name}`,
        notAfter: notAfterOf(cluster.tls!.member(member.name).certPem),
      });
    }
    expect(observation.etcd.clientCertificate).toEqual({
      subject: 'CN=etcd-health-operator',
      notAfter: notAfterOf(cluster.tls!.client.certPem),
    });
    const daysLeft = (notAfter: string) => (Date.parse(notAfter) - observation.time.getTime()) / DAY_MS;
    const served = memberNamed(observation, 'member-2').certificate;
    expect(served && 'notAfter' in served && daysLeft(served.notAfter)).toBeCloseTo(3, 1);

    const analysis = analyzeObservation(observation);
    const certificates = analysis.findings.filter((finding) => finding.check === 'Certificates');
    expect(certificates.find((finding) => finding.target === 'member-2')).toMatchObject({
      severity: 'Critical',
      reason: 'ServingCertificateExpiring',
      threshold: 7,
    });
    for (const name of ['member-1', 'member-3']) {
      expect(certificates.find((finding) => finding.target === name)).toMatchObject({
        severity: 'OK',
        reason: 'ServingCertificateValid',
      });
    }
    expect(certificates.find((finding) => finding.target === 'cluster')).toMatchObject({
      severity: 'Warning',
      reason: 'ClientCertificateExpiring',
      threshold: 30,
    });
    expect(condition(analysis, 'CertificatesDegraded')).toMatchObject({
      status: 'True',
      reason: 'ServingCertificateExpiring',
    });
    expect(analysis.recommendations.find((r) => r.type === 'RenewCertificates')).toMatchObject({
      severity: 'Critical',
      target: 'member-2',
    });
    expect(analysis.recommendations.find((r) => r.type === 'RenewClientCertificate')).toMatchObject({
      severity: 'Warning',
      target: 'cluster',
    });
  });
});
