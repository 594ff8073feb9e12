// The serving certificate of /metrics: tls.crt and tls.key from a directory (OpenShift's service
// CA writes them into the Secret named by the Service annotation
// service.beta.openshift.io/serving-cert-secret-name; cert-manager uses the same keys), re-read
// periodically because both rotate the Secret in place; or, without a directory, a self-signed
// certificate made at start-up and held only in memory (the root filesystem is read-only).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate, type CertificateAndKey } from './self-signed.js';

export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
const RELOAD_INTERVAL_MS = 30_000;

export interface ServingCertificate {
  readonly current: CertificateAndKey;
  /** Where the certificate comes from, for the log. */
  readonly origin: string;
  /** Calls `changed` with each new pair read from the directory; returns a stop function. */
  watch(changed: (pair: CertificateAndKey) => void, failed: (reason: string) => void): () => void;
}

/** Reads the pair once; a missing or unreadable file is an Error naming it. */
async function readPair(dir: string): Promise<CertificateAndKey> {
  const read = (file: string) =>
    readFile(join(dir, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${join(dir, file)}: ${error.code ?? error.message}`, { cause: error });
    });
  const [certPem, keyPem] = await Promise.all([read(CERT_FILE), read(KEY_FILE)]);
  if (!certPem.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`${join(dir, CERT_FILE)} holds no PEM certificate`);
  if (!keyPem.includes('PRIVATE KEY-----'))
    throw new Error(`${join(dir, KEY_FILE)} holds no PEM private key`);
  return { certPem, keyPem };
}

export async function servingCertificate(
  certDir: string | undefined,
  reloadIntervalMs = RELOAD_INTERVAL_MS,
): Promise<ServingCertificate> {
  if (certDir === undefined) {
    const hosts = [...new Set(['localhost', '127.0.0.1', '::1', hostname()])];
    return {
      current: selfSignedCertificate('etcd-health-operator-metrics', hosts),
      origin: 'self-signed at start-up',
      watch: () => () => undefined,
    };
  }
  let current = await readPair(certDir);
  return {
    get current() {
      return current;
    },
    origin: certDir,
    watch(changed, failed) {
      let reading = false;
      const timer = setInterval(() => {
        if (reading) return;
        reading = true;
        readPair(certDir)
          .then((pair) => {
            if (pair.certPem === current.certPem && pair.keyPem === current.keyPem) return;
            current = pair;
            changed(pair);
          })
          .catch((error: Error) => failed(error.message))
          .finally(() => (reading = false));
      }, reloadIntervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
