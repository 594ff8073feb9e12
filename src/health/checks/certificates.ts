// Certificates: days until the expiry of each member's serving certificate, as the member presented
// it at this check's TLS handshake, and of the client certificate the check presents.
// - Warning at 30 days or less: cert-manager renews its certificates a third of their lifetime before
//   expiry, 30 days for its default 90-day certificates; one closer to expiry than that has missed
//   its renewal (a kubeadm cluster renews only on `kubeadm certs renew` or an upgrade).
// - Critical at 7 days or less, or expired: the kubernetes-mixin's KubeClientCertificateExpiration
//   starts to fire at 7 days (warning; critical at 1 day): a week is the least a renewal needs, and
//   an expired serving certificate fails every client and peer handshake.
// A member whose handshake did not happen for another reason is down, which the quorum check
// reports; its certificate is no separate news.
import type { ClusterView, MemberView } from '../cluster.js';
import type { CertificateValidity } from '../observation.js';
import { CLUSTER_TARGET, noData, type Finding, type FindingSeverity } from '../findings.js';
import { plural } from '../text.js';

export const CERTIFICATE_WARNING_DAYS = 30;
export const CERTIFICATE_CRITICAL_DAYS = 7;

const CHECK = 'Certificates' as const;
const DAY_MS = 86_400_000;

export function checkCertificates(view: ClusterView): Finding[] {
  return [...view.members.flatMap((member) => servingFinding(view, member)), ...clientFinding(view)];
}

function servingFinding(view: ClusterView, member: MemberView): Finding[] {
  const { observation } = member;
  if (observation.endpoint === '') return [];
  if (!observation.endpoint.startsWith('https://')) {
    return [
      {
        check: CHECK,
        severity: 'OK',
        target: member.name,
        reason: 'NoTLS',
        message: `${member.name} serves plain HTTP at ${observation.endpoint}: no certificate to expire`,
      },
    ];
  }
  const certificate = observation.certificate;
  if (certificate === undefined) {
    return observation.status === undefined
      ? []
      : [
          noData(
            CHECK,
            member.name,
            `The serving certificate of ${member.name} is not checked: the handshake did not show it`,
          ),
        ];
  }
  if ('expired' in certificate) {
    return [
      {
        check: CHECK,
        severity: 'Critical',
        target: member.name,
        reason: 'ServingCertificateExpired',
        message: `${member.name} at ${observation.endpoint} presented an expired certificate: the TLS handshake refused it, so clients and peers cannot reach this member`,
        value: 0,
        threshold: CERTIFICATE_CRITICAL_DAYS,
      },
    ];
  }
  return [
    expiryFinding(view, member.name, certificate, {
      what: `The serving certificate of ${member.name}`,
      reason: 'ServingCertificate',
    }),
  ];
}

function clientFinding(view: ClusterView): Finding[] {
  const certificate = view.observation.etcd.clientCertificate;
  if (certificate === undefined) return [];
  if ('error' in certificate) {
    return [noData(CHECK, CLUSTER_TARGET, `The client certificate is not checked: ${certificate.error}`)];
  }
  return [
    expiryFinding(view, CLUSTER_TARGET, certificate, {
      what: 'The client certificate the check presents',
      reason: 'ClientCertificate',
    }),
  ];
}

/** The verdict on one certificate; `reason` is the prefix of the finding's reason. */
function expiryFinding(
  view: ClusterView,
  target: string,
  certificate: CertificateValidity,
  about: { what: string; reason: 'ServingCertificate' | 'ClientCertificate' },
): Finding {
  const notAfter = Date.parse(certificate.notAfter);
  const named = `${about.what} (${certificate.subject})`;
  if (Number.isNaN(notAfter)) {
    return noData(
      CHECK,
      target,
      `${named} is not judged: its end of validity "${certificate.notAfter}" is no date`,
    );
  }
  const days = (notAfter - view.observation.time.getTime()) / DAY_MS;
  const base = { check: CHECK, target, value: Math.round(days * 100) / 100 };
  if (days <= 0) {
    return {
      ...base,
      severity: 'Critical',
      reason: `${about.reason}Expired`,
      message: `${named} expired on ${certificate.notAfter}`,
      threshold: CERTIFICATE_CRITICAL_DAYS,
    };
  }
  const expires = `${named} expires on ${certificate.notAfter}, in ${describeDays(days)}`;
  const severity: FindingSeverity =
    days <= CERTIFICATE_CRITICAL_DAYS ? 'Critical' : days <= CERTIFICATE_WARNING_DAYS ? 'Warning' : 'OK';
  if (severity === 'OK') {
    return {
      ...base,
      severity,
      reason: `${about.reason}Valid`,
      message: `${expires}, more than ${CERTIFICATE_WARNING_DAYS} days`,
      threshold: CERTIFICATE_WARNING_DAYS,
    };
  }
  const threshold = severity === 'Critical' ? CERTIFICATE_CRITICAL_DAYS : CERTIFICATE_WARNING_DAYS;
  return {
    ...base,
    severity,
    reason: `${about.reason}Expiring`,
    message: `${expires}, at most ${threshold} days`,
    threshold,
  };
}

/** "3 days", "1 day", and hours below a day. */
function describeDays(days: number): string {
  return days < 1 ? plural(Math.max(1, Math.floor(days * 24)), 'hour') : plural(Math.floor(days), 'day');
}
