// Throwaway PKI for a test control plane: keys come from node:crypto (ECDSA P-256, PKCS#8/SPKI PEM),
// certificates are signed by Debian's openssl CLI (node:crypto cannot create X.509 certificates).
// Everything is written into a directory the caller owns (a harness temp dir), valid for two days
// unless the caller says otherwise.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface CertificateFiles {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  /** Subject O= entries; Kubernetes reads them as the user's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** peer: both, as an etcd member's peer certificate (it serves and dials with one). */
  usage: 'server' | 'client' | 'peer';
  /** Days from now until it expires; two unless given. */
  days?: number;
  /** An end of validity in the past instead, for an expired certificate (valid the day before). */
  expiredOn?: Date;
}

const VALIDITY_DAYS = 2;
const EXTENDED_KEY_USAGE = { server: 'serverAuth', client: 'clientAuth', peer: 'serverAuth,clientAuth' };

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    const cause =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'openssl missing: apt-get install openssl'
        : stderr;
    throw new Error(`openssl ${args[0]} failed: ${cause || (error as Error).message}`, { cause: error });
  }
}

/** An ECDSA P-256 key pair as PKCS#8 private and SPKI public PEM files (SA token signing keys). */
export function generateKeyPair(dir: string, name: string): KeyPairFiles {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKeyPath = join(dir, `${name}.key`);
  const publicKeyPath = join(dir, `${name}.pub`);
  writeFileSync(privateKeyPath, privateKey, { mode: 0o600 });
  writeFileSync(publicKeyPath, publicKey);
  return { privateKeyPath, publicKeyPath, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

function subject(commonName: string, organizations: string[] = []): string {
  const escape = (value: string) => value.replace(/[/\\]/g, (c) => `\\${c}`);
  return [...organizations.map((o) => `/O=${escape(o)}`), `/CN=${escape(commonName)}`].join('');
}

/** A self-signed CA certificate and its key. */
export function createCertificateAuthority(
  dir: string,
  name: string,
  commonName = `${name}-ca`,
  days = VALIDITY_DAYS,
): CertificateFiles {
  const { privateKeyPath: keyPath } = generateKeyPair(dir, name);
  const certPath = join(dir, `${name}.crt`);
  // prettier-ignore
  openssl([
    'req', '-x509', '-new', '-sha256', '-days', String(days),
    '-key', keyPath, '-out', certPath, '-subj', subject(commonName),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return {
    certPath,
    keyPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPem: readFileSync(keyPath, 'utf8'),
  };
}

/** A leaf certificate for a server (with SANs) or a client (CN = user, O = groups), signed by `ca`. */
export function issueCertificate(
  ca: CertificateFiles,
  dir: string,
  name: string,
  request: CertificateRequest,
): CertificateFiles {
  const { privateKeyPath: keyPath } = generateKeyPair(dir, name);
  const csrPath = join(dir, `${name}.csr`);
  const extPath = join(dir, `${name}.ext`);
  const certPath = join(dir, `${name}.crt`);
  const sans = [
    ...(request.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(request.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const extensions = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${EXTENDED_KEY_USAGE[request.usage]}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
  ];
  writeFileSync(extPath, `${extensions.join('\n')}\n`);
  openssl([
    'req',
    '-new',
    '-key',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    subject(request.commonName, request.organizations),
  ]);
  if (request.expiredOn) {
    signWithDates(ca, dir, name, { csrPath, extPath, certPath }, request.expiredOn);
    return {
      certPath,
      keyPath,
      certPem: readFileSync(certPath, 'utf8'),
      keyPem: readFileSync(keyPath, 'utf8'),
    };
  }
  // prettier-ignore
  openssl([
    'x509', '-req', '-sha256', '-days', String(request.days ?? VALIDITY_DAYS), '-in', csrPath,
    '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
    '-extfile', extPath, '-out', certPath,
  ]);
  return {
    certPath,
    keyPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPem: readFileSync(keyPath, 'utf8'),
  };
}

/**
 * `openssl x509 -req` counts validity only forward from now; `openssl ca` takes both dates, with a
 * throwaway database of its own.
 */
function signWithDates(
  ca: CertificateFiles,
  dir: string,
  name: string,
  files: { csrPath: string; extPath: string; certPath: string },
  notAfter: Date,
): void {
  const database = join(dir, `${name}.index`);
  const config = join(dir, `${name}.ca.cnf`);
  writeFileSync(database, '');
  writeFileSync(join(dir, `${name}.serial`), `${randomBytes(16).toString('hex')}\n`);
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = signer',
      '[signer]',
      `database = ${database}`,
      `new_certs_dir = ${dir}`,
      `serial = ${join(dir, `${name}.serial`)}`,
      'policy = any',
      'default_md = sha256',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      'organizationName = optional',
    ].join('\n') + '\n',
  );
  const asn1 = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  const notBefore = new Date(notAfter.getTime() - 86_400_000);
  // prettier-ignore
  openssl([
    'ca', '-batch', '-notext', '-config', config, '-cert', ca.certPath, '-keyfile', ca.keyPath,
    '-in', files.csrPath, '-out', files.certPath, '-extfile', files.extPath,
    '-startdate', asn1(notBefore), '-enddate', asn1(notAfter),
  ]);
}
