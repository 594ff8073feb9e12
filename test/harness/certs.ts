// Certificates for a TLS etcd test cluster, made at test time with openssl: a CA, one certificate
// per member (IP SANs; serverAuth and clientAuth, because a member presents its peer certificate
// as a client to the other members), a client certificate for the operator and Prometheus, and an
// unrelated CA for the wrong-CA test. Valid for a year unless a test asks for less: the
// certificates check warns at 30 days.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  generateKeyPair,
  issueCertificate,
  type CertificateFiles,
} from './pki.js';

export interface ClusterTls {
  ca: CertificateFiles;
  /** Client certificate (CN=etcd-health-operator) signed by `ca`. */
  client: CertificateFiles;
  /** A CA that signed nothing in this cluster. */
  otherCa: CertificateFiles;
  member(name: string): CertificateFiles;
}

/** Days until expiry, when a test wants a certificate to expire soon. */
export interface CertificateDays {
  /** By member name. */
  members?: Record<string, number>;
  client?: number;
}

const DEFAULT_DAYS = 365;

export function createClusterTls(
  dir: string,
  members: { name: string; ip: string }[],
  days: CertificateDays = {},
): ClusterTls {
  const ca = createCertificateAuthority(dir, 'etcd-ca', 'etcd-ca-ca', DEFAULT_DAYS);
  const otherCa = createCertificateAuthority(dir, 'other-ca', 'other-ca-ca', DEFAULT_DAYS);
  const client = issueCertificate(ca, dir, 'client', {
    commonName: 'etcd-health-operator',
    usage: 'client',
    days: days.client ?? DEFAULT_DAYS,
  });
  const certs = new Map(
    members.map((m) => [
      m.name,
      issueMemberCertificate(ca, dir, m.name, m.ip, days.members?.[m.name] ?? DEFAULT_DAYS),
    ]),
  );
  return {
    ca,
    client,
    otherCa,
    member: (name) => {
      const cert = certs.get(name);
      if (!cert) throw new Error(`no certificate for ${name}`);
      return cert;
    },
  };
}

function issueMemberCertificate(
  ca: CertificateFiles,
  dir: string,
  name: string,
  ip: string,
  days: number,
): CertificateFiles {
  const { privateKeyPath: keyPath } = generateKeyPair(dir, name);
  const csrPath = join(dir, `${name}.csr`);
  const extPath = join(dir, `${name}.ext`);
  const certPath = join(dir, `${name}.crt`);
  writeFileSync(
    extPath,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      // etcd checks a peer's client certificate SANs against the connection's source address, and
      // Linux sends from 127.0.0.1 to any 127/8 destination.
      `subjectAltName=IP:${ip},IP:127.0.0.1`,
    ].join('\n') + '\n',
  );
  openssl(['req', '-new', '-key', keyPath, '-out', csrPath, '-subj', `/CN=${name}`]);
  // prettier-ignore
  openssl([
    'x509', '-req', '-sha256', '-days', String(days), '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath,
    '-CAcreateserial', '-CAserial', join(dir, 'serial'), '-extfile', extPath, '-out', certPath,
  ]);
  return {
    certPath,
    keyPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPem: readFileSync(keyPath, 'utf8'),
  };
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}
