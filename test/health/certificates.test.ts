// The certificates check: days until expiry of each member's serving certificate and of the check's
// client certificate, at, just below and just above 30 and 7 days, expired, and missing.
import { describe, expect, it } from '@jest/globals';
import type { FindingSeverity } from '../../src/health/findings.js';
import type { Observation } from '../../src/health/observation.js';
import {
  T0,
  conditionOf,
  daysAfter,
  findingOf,
  findingsOf,
  healthyCluster,
  killed,
  run,
  secondsAfter,
  specWith,
  withMember,
  type Change,
} from './fixtures.js';

const MINUTE_IN_DAYS = 1 / 1440;

const servingExpiresIn =
  (index: number, days: number): Change =>
  (observation) => {
    withMember(index, {
      certificate: { subject: `CN=etcd-${index}`, notAfter: daysAfter(T0, days).toISOString() },
    })(observation);
  };

const clientExpiresIn =
  (days: number): Change =>
  (observation) => {
    observation.etcd.clientCertificate = {
      subject: 'CN=etcd-health-operator',
      notAfter: daysAfter(T0, days).toISOString(),
    };
  };

function conditionStatus(severity: FindingSeverity): string {
  return severity === 'Critical' ? 'True' : severity === 'Unknown' ? 'Unknown' : 'False';
}

// [days left, severity, reason suffix, threshold]
const TABLE: [number, FindingSeverity, string, number][] = [
  [365, 'OK', 'Valid', 30],
  [30 + MINUTE_IN_DAYS, 'OK', 'Valid', 30],
  [30, 'Warning', 'Expiring', 30],
  [30 - MINUTE_IN_DAYS, 'Warning', 'Expiring', 30],
  [7 + MINUTE_IN_DAYS, 'Warning', 'Expiring', 30],
  [7, 'Critical', 'Expiring', 7],
  [7 - MINUTE_IN_DAYS, 'Critical', 'Expiring', 7],
  [0.5, 'Critical', 'Expiring', 7],
  [0, 'Critical', 'Expired', 7],
  [-3, 'Critical', 'Expired', 7],
];

describe('a healthy cluster', () => {
  const analysis = run(healthyCluster(3));

  it('finds every serving certificate valid, and CertificatesDegraded False', () => {
    for (const name of ['etcd-0', 'etcd-1', 'etcd-2']) {
      expect(findingOf(analysis, 'Certificates', name)).toMatchObject({
        severity: 'OK',
        reason: 'ServingCertificateValid',
        value: 365,
      });
    }
    expect(findingOf(analysis, 'Certificates', 'etcd-1').message).toBe(
      `The serving certificate of etcd-1 (CN=etcd-1) expires on ${daysAfter(T0, 365).toISOString()}, in 365 days, more than 30 days`,
    );
    // No client certificate is presented: nothing to say about one.
    expect(findingsOf(analysis, 'Certificates', 'cluster')).toEqual([]);
    expect(conditionOf(analysis, 'CertificatesDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
    expect(analysis.recommendations.filter((r) => r.type.startsWith('Renew'))).toEqual([]);
  });
});

describe('serving certificate: Warning at <= 30 days, Critical at <= 7 days or expired', () => {
  it.each(TABLE)('%d days left is %s (%s)', (days, severity, suffix, threshold) => {
    const analysis = run(healthyCluster(3, servingExpiresIn(1, days)));
    expect(findingOf(analysis, 'Certificates', 'etcd-1')).toMatchObject({
      severity,
      reason: `ServingCertificate${suffix}`,
      value: Math.round(days * 100) / 100,
      threshold,
    });
    expect(findingOf(analysis, 'Certificates', 'etcd-0').severity).toBe('OK');
    const condition = conditionOf(analysis, 'CertificatesDegraded');
    expect(condition.status).toBe(conditionStatus(severity));
    if (severity !== 'OK') expect(condition.reason).toBe(`ServingCertificate${suffix}`);
  });

  it('says hours below a day', () => {
    const analysis = run(healthyCluster(3, servingExpiresIn(1, 0.5)));
    expect(findingOf(analysis, 'Certificates', 'etcd-1').message).toContain('in 12 hours, at most 7 days');
  });

  it('is Critical when the handshake refused the certificate as expired', () => {
    const analysis = run(
      healthyCluster(
        3,
        killed(2),
        withMember(2, {
          certificate: { expired: true },
          error: 'https://127.0.0.3:2379: dial: certificate has expired',
        }),
      ),
    );
    expect(findingOf(analysis, 'Certificates', 'etcd-2')).toMatchObject({
      severity: 'Critical',
      reason: 'ServingCertificateExpired',
    });
    expect(findingOf(analysis, 'Certificates', 'etcd-2').message).toContain(
      'presented an expired certificate',
    );
    expect(conditionOf(analysis, 'CertificatesDegraded')).toMatchObject({
      status: 'True',
      reason: 'ServingCertificateExpired',
    });
  });

  it('one recommendation lists every member close to expiry, with the commands that show and renew each certificate', () => {
    const analysis = run(healthyCluster(3, servingExpiresIn(1, 20), servingExpiresIn(2, 25)));
    const renew = analysis.recommendations.filter((r) => r.type === 'RenewCertificates');
    expect(renew).toHaveLength(1);
    expect(renew[0]).toMatchObject({
      severity: 'Warning',
      target: 'cluster',
      members: ['etcd-1', 'etcd-2'],
      reason: 'ServingCertificateExpiring',
    });
    expect(renew[0]!.message).toContain('kubeadm certs renew etcd-server');
    // No node is known (no discovery): the host commands run bare, and the message says where.
    expect(renew[0]!.message).toContain('Run the host commands below on the host of member etcd-1');
    expect(renew[0]!.commands).toEqual([
      'openssl s_client -connect 127.0.0.2:2379 </dev/null 2>/dev/null | openssl x509 -noout -subject -enddate',
      'kubeadm certs check-expiration',
      'kubeadm certs renew etcd-server',
      'openssl s_client -connect 127.0.0.3:2379 </dev/null 2>/dev/null | openssl x509 -noout -subject -enddate',
      'kubeadm certs check-expiration',
      'kubeadm certs renew etcd-server',
    ]);
  });

  it('passes the client certificate to openssl when the check uses a TLS Secret', () => {
    const spec = specWith({
      etcd: { endpoints: ['https://127.0.0.1:2379'], tlsSecretRef: { name: 'etcd-client' } },
    });
    const analysis = run(healthyCluster(3, servingExpiresIn(0, 3)), { spec });
    const renew = analysis.recommendations.find((r) => r.type === 'RenewCertificates');
    expect(renew).toMatchObject({ severity: 'Critical', target: 'etcd-0' });
    // The first command writes the Secret's files that the others name.
    expect(renew?.commands?.[0]).toMatch(
      /^\(umask 077 && mkdir -p etcd-client && kubectl get secret etcd-client /,
    );
    expect(renew?.commands?.[1]).toBe(
      'openssl s_client -connect 127.0.0.1:2379 -CAfile etcd-client/ca.crt -cert etcd-client/tls.crt -key etcd-client/tls.key </dev/null 2>/dev/null | openssl x509 -noout -subject -enddate',
    );
  });

  it('on OpenShift, points at the Secrets the cluster-etcd-operator rotates', () => {
    const analysis = run(healthyCluster(3, servingExpiresIn(1, 5)), {
      spec: specWith({ etcd: { discovery: {} } }),
    });
    const renew = analysis.recommendations.find((r) => r.type === 'RenewCertificates');
    expect(renew?.message).toContain('cluster-etcd-operator rotates');
    expect(renew?.commands).toEqual([
      "oc get secret -n openshift-etcd etcd-serving-etcd-1 -o jsonpath='{.data.tls\\.crt}' | base64 -d | openssl x509 -noout -subject -enddate",
      'oc get clusteroperator etcd',
    ]);
  });
});

describe('serving certificate missing or unreadable', () => {
  it('is Unknown, not valid, when a member answered but its certificate was not seen', () => {
    const analysis = run(healthyCluster(3, withMember(1, { certificate: undefined })));
    expect(findingOf(analysis, 'Certificates', 'etcd-1')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
    expect(conditionOf(analysis, 'CertificatesDegraded')).toMatchObject({
      status: 'Unknown',
      reason: 'NoData',
    });
  });

  it('says nothing of a member that is down for another reason: the quorum check reports it', () => {
    const observation: Observation = healthyCluster(3, killed(2), withMember(2, { certificate: undefined }));
    const analysis = run(observation);
    expect(findingsOf(analysis, 'Certificates', 'etcd-2')).toEqual([]);
    expect(conditionOf(analysis, 'CertificatesDegraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
  });

  it('is Unknown when the end of validity is no date', () => {
    const analysis = run(
      healthyCluster(3, withMember(1, { certificate: { subject: 'CN=etcd-1', notAfter: 'NaN' } })),
    );
    expect(findingOf(analysis, 'Certificates', 'etcd-1')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
    });
  });

  it('is OK with nothing to expire for a plain-HTTP member', () => {
    const analysis = run(
      healthyCluster(
        3,
        withMember(1, {
          endpoint: 'http://127.0.0.2:2379',
          clientURLs: ['http://127.0.0.2:2379'],
          certificate: undefined,
        }),
      ),
    );
    expect(findingOf(analysis, 'Certificates', 'etcd-1')).toMatchObject({ severity: 'OK', reason: 'NoTLS' });
  });
});

describe('client certificate: the same thresholds', () => {
  it.each(TABLE)('%d days left is %s (%s)', (days, severity, suffix, threshold) => {
    const analysis = run(healthyCluster(3, clientExpiresIn(days)));
    expect(findingOf(analysis, 'Certificates', 'cluster')).toMatchObject({
      severity,
      reason: `ClientCertificate${suffix}`,
      value: Math.round(days * 100) / 100,
      threshold,
    });
    expect(conditionOf(analysis, 'CertificatesDegraded').status).toBe(conditionStatus(severity));
  });

  it('is Unknown when the client certificate cannot be read', () => {
    const analysis = run(
      healthyCluster(3, (observation) => {
        observation.etcd.clientCertificate = { error: 'the client certificate cannot be read: bad PEM' };
      }),
    );
    expect(findingOf(analysis, 'Certificates', 'cluster')).toMatchObject({
      severity: 'Unknown',
      reason: 'NoData',
      message: 'The client certificate is not checked: the client certificate cannot be read: bad PEM',
    });
  });

  it('recommends a new client certificate in the Secret the check reads, with the command that shows it', () => {
    const spec = specWith({
      etcd: { endpoints: ['https://127.0.0.1:2379'], tlsSecretRef: { name: 'etcd-client' } },
    });
    const analysis = run(healthyCluster(3, clientExpiresIn(20)), { spec });
    const renew = analysis.recommendations.filter((r) => r.type === 'RenewClientCertificate');
    expect(renew).toHaveLength(1);
    expect(renew[0]).toMatchObject({
      severity: 'Warning',
      target: 'cluster',
      reason: 'ClientCertificateExpiring',
    });
    expect(renew[0]!.message).toContain('the Secret etcd-client');
    expect(renew[0]!.commands).toEqual([
      `kubectl get secret -n "$NAMESPACE" etcd-client -o jsonpath='{.data.tls\\.crt}' | base64 -d | openssl x509 -noout -subject -enddate`,
    ]);
  });

  it('judges by the observation time, not the wall clock', () => {
    const later = run(
      healthyCluster(3, clientExpiresIn(40), (o) => (o.time = secondsAfter(T0, 11 * 86_400))),
    );
    expect(findingOf(later, 'Certificates', 'cluster')).toMatchObject({ severity: 'Warning', value: 29 });
  });
});
