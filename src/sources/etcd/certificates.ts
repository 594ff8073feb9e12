// Expiry of the certificates an etcd check meets: the one each member serves (seen at the dial's
// handshake) and the client certificate the check presents (from its PEM).
import { X509Certificate } from 'node:crypto';
import type { CertificateValidity } from '../../health/observation.js';
import { errorText, oneLine } from '../text.js';

export function describeCertificate(certificate: X509Certificate): CertificateValidity {
  const notAfter = new Date(certificate.validTo);
  return {
    // Node separates the subject's attributes with newlines.
    subject: oneLine(certificate.subject.split('\n').join(', ')),
    // OpenSSL's own text when it is no date: the check then says it cannot judge it.
    notAfter: Number.isNaN(notAfter.getTime()) ? oneLine(certificate.validTo) : notAfter.toISOString(),
  };
}

/** The first certificate of a PEM (a chain starts with the leaf), or why it cannot be read. */
export function clientCertificate(pem: string): CertificateValidity | { error: string } {
  try {
    return describeCertificate(new X509Certificate(pem));
  } catch (error) {
    return { error: `the client certificate cannot be read: ${oneLine(errorText(error))}` };
  }
}
