import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from '@jest/globals';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import {
  CredentialError,
  resolveEtcdCredentials,
  operatorTokenTrust,
  resolvePrometheusCredentials,
  type ConfigReader,
} from '../../src/sources/credentials.js';

const thanos = 'https://thanos-querier.openshift-monitoring.svc:9091';

function readerOf(
  secrets: Record<string, Record<string, string>>,
  configMaps: Record<string, Record<string, string>> = {},
) {
  const asked: string[] = [];
  const reader: ConfigReader = {
    secretData: (ns, name) => {
      asked.push(`secret ${ns}/${name}`);
      return Promise.resolve(secrets[`${ns}/${name}`]);
    },
    configMapData: (ns, name) => {
      asked.push(`configmap ${ns}/${name}`);
      return Promise.resolve(configMaps[`${ns}/${name}`]);
    },
  };
  return { reader, asked };
}

const spec = (prometheus: Record<string, unknown> | undefined, tls = false) =>
  EtcdHealthCheckSpecSchema.parse({
    etcd: {
      endpoints: ['https://127.0.0.2:2379'],
      ...(tls ? { tlsSecretRef: { name: 'etcd-client' } } : {}),
    },
    ...(prometheus ? { prometheus } : {}),
  });

describe('resolveEtcdCredentials', () => {
  it('reads the TLS Secret from the CR namespace only', async () => {
    const { reader, asked } = readerOf({
      'team-a/etcd-client': { 'ca.crt': 'CA', 'tls.crt': 'CERT', 'tls.key': 'KEY' },
    });
    await expect(resolveEtcdCredentials('team-a', spec(undefined, true), reader)).resolves.toEqual({
      caPem: 'CA',
      certPem: 'CERT',
      keyPem: 'KEY',
    });
    expect(asked).toEqual(['secret team-a/etcd-client']);
  });

  it('names the Secret and the missing key, never the data', async () => {
    const { reader } = readerOf({ 'team-a/etcd-client': { 'ca.crt': 'CA', 'tls.crt': 'CERT' } });
    const error = await resolveEtcdCredentials('team-a', spec(undefined, true), reader).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as CredentialError).reason).toBe('MissingKey');
    expect((error as Error).message).toBe('Secret team-a/etcd-client has no key "tls.key"');
  });

  it('reports a missing Secret', async () => {
    const { reader } = readerOf({});
    await expect(resolveEtcdCredentials('team-a', spec(undefined, true), reader)).rejects.toMatchObject({
      reason: 'SecretNotFound',
    });
  });
});

describe('resolvePrometheusCredentials', () => {
  const operatorToken = {
    allowedUrlPrefixes: [thanos],
    read: () => Promise.resolve('operator-token\n'),
    caPem: () => Promise.resolve('ADMIN CA'),
  };

  it('uses the operator token for an allowlisted URL', async () => {
    const { reader } = readerOf({});
    const s = spec({ url: thanos, useOperatorServiceAccount: true });
    await expect(resolvePrometheusCredentials('ns', s, reader, operatorToken)).resolves.toEqual({
      bearerToken: 'operator-token',
      caPem: 'ADMIN CA',
    });
  });

  it.each([
    [{ insecureSkipTLSVerify: true }, /remove insecureSkipTLSVerify/],
    [{ caSecretRef: { name: 'ca' } }, /remove caSecretRef/],
    [{ caConfigMapRef: { name: 'ca' } }, /remove caConfigMapRef/],
  ])('refuses the operator token with trust the CR brings: %j', async (trust, message) => {
    const { reader, asked } = readerOf(
      { 'ns/ca': { 'ca.crt': 'TENANT CA' } },
      { 'ns/ca': { 'ca.crt': 'X' } },
    );
    let read = 0;
    const token = { ...operatorToken, read: () => Promise.resolve(`token-${++read}`) };
    const s = spec({ url: thanos, useOperatorServiceAccount: true, ...trust });
    const refused = resolvePrometheusCredentials('ns', s, reader, token);
    await expect(refused).rejects.toMatchObject({ reason: 'OperatorTokenTrust' });
    await expect(refused).rejects.toThrow(message);
    await expect(refused).rejects.toThrow(/--prometheus-sa-token-ca-file/);
    expect(read).toBe(0);
    expect(asked).toEqual([]);
  });

  it('refuses a URL outside --prometheus-url-allow before reading any credential', async () => {
    const { reader, asked } = readerOf({ 'ns/prom': { token: 't' } });
    const policy = { allowedUrlPrefixes: ['https://prom.example/tenants/ns'] };
    const s = spec({ url: 'https://prom.example/tenants/other', bearerTokenSecretRef: { name: 'prom' } });
    const refused = resolvePrometheusCredentials('ns', s, reader, undefined, policy);
    await expect(refused).rejects.toMatchObject({ reason: 'PrometheusUrlNotAllowed' });
    await expect(refused).rejects.toThrow(/--prometheus-url-allow/);
    expect(asked).toEqual([]);
    const allowed = spec({
      url: 'https://PROM.example:443/tenants/ns/',
      bearerTokenSecretRef: { name: 'prom' },
    });
    await expect(resolvePrometheusCredentials('ns', allowed, reader, undefined, policy)).resolves.toEqual({
      bearerToken: 't',
    });
  });

  it('refuses the operator token for a URL that is not allowlisted', async () => {
    const { reader } = readerOf({});
    const s = spec({ url: 'https://attacker.example', useOperatorServiceAccount: true });
    await expect(resolvePrometheusCredentials('ns', s, reader, operatorToken)).rejects.toMatchObject({
      reason: 'OperatorTokenNotAllowed',
    });
  });

  it('never sends the operator token unless the CR asks for it', async () => {
    const { reader } = readerOf({});
    await expect(
      resolvePrometheusCredentials('ns', spec({ url: thanos }), reader, operatorToken),
    ).resolves.toEqual({});
  });

  it('reads a bearer token and a CA from the CR namespace', async () => {
    const { reader, asked } = readerOf(
      { 'ns/prom': { token: ' t0k3n \n' } },
      { 'ns/ca': { 'service-ca.crt': 'PEM' } },
    );
    const s = spec({
      url: 'https://prom:9090',
      bearerTokenSecretRef: { name: 'prom' },
      caConfigMapRef: { name: 'ca', key: 'service-ca.crt' },
    });
    await expect(resolvePrometheusCredentials('ns', s, reader, undefined)).resolves.toEqual({
      bearerToken: 't0k3n',
      caPem: 'PEM',
    });
    expect(asked).toEqual(['secret ns/prom', 'configmap ns/ca']);
  });
});

describe('resolveEtcdCredentials with a CA ConfigMap', () => {
  const withCa = (tls: boolean) =>
    EtcdHealthCheckSpecSchema.parse({
      etcd: {
        endpoints: ['https://127.0.0.2:2379'],
        caConfigMapRef: { name: 'etcd-ca-bundle' },
        ...(tls ? { tlsSecretRef: { name: 'etcd-client' } } : {}),
      },
    });

  it('takes the CA from the ConfigMap and the client certificate from the Secret', async () => {
    const { reader } = readerOf(
      { 'openshift-etcd/etcd-client': { 'tls.crt': 'CERT', 'tls.key': 'KEY' } },
      { 'openshift-etcd/etcd-ca-bundle': { 'ca-bundle.crt': 'CA' } },
    );
    await expect(resolveEtcdCredentials('openshift-etcd', withCa(true), reader)).resolves.toEqual({
      caPem: 'CA',
      certPem: 'CERT',
      keyPem: 'KEY',
    });
  });

  it('allows server-only TLS with just a CA', async () => {
    const { reader } = readerOf({}, { 'ns/etcd-ca-bundle': { 'ca-bundle.crt': 'CA' } });
    await expect(resolveEtcdCredentials('ns', withCa(false), reader)).resolves.toEqual({ caPem: 'CA' });
  });
});

describe('operatorTokenTrust', () => {
  it('trusts only the admin CA files when given, Node defaults without a service CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-trust-'));
    try {
      writeFileSync(join(dir, 'a.crt'), 'A');
      writeFileSync(join(dir, 'b.crt'), 'B');
      writeFileSync(join(dir, 'service-ca.crt'), 'SERVICE');
      const serviceCa = join(dir, 'service-ca.crt');
      await expect(operatorTokenTrust([join(dir, 'a.crt'), join(dir, 'b.crt')], serviceCa)()).resolves.toBe(
        'A\nB',
      );
      await expect(operatorTokenTrust([], join(dir, 'absent.crt'))()).resolves.toBeUndefined();
      const withService = await operatorTokenTrust([], serviceCa)();
      expect(withService?.endsWith('\nSERVICE')).toBe(true);
      expect(withService).toContain(rootCertificates[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
