// The client certificate of a check, read from its PEM: its expiry, or why it cannot be read.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCertificate } from '../../src/sources/etcd/certificates.js';
import { createCertificateAuthority, issueCertificate } from '../harness/pki.js';

describe('clientCertificate', () => {
  it('reads the subject and the end of validity of the first certificate of a chain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ehc-client-cert-'));
    try {
      const ca = createCertificateAuthority(dir, 'ca');
      const client = issueCertificate(ca, dir, 'client', {
        commonName: 'etcd-health-operator',
        usage: 'client',
        days: 20,
      });
      const read = clientCertificate(`${client.certPem}${ca.certPem}`);
      expect(read).toEqual({ subject: 'CN=etcd-health-operator', notAfter: expect.any(String) });
      const days = (Date.parse((read as { notAfter: string }).notAfter) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(19.9);
      expect(days).toBeLessThanOrEqual(20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says why a PEM that holds no certificate cannot be read', () => {
    expect(clientCertificate('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n')).toEqual(
      {
        error: expect.stringMatching(/^the client certificate cannot be read: /),
      },
    );
  });
});
