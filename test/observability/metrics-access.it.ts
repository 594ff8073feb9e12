// Secure /metrics on the operator process against a real kube-apiserver: the operator runs as its
// ServiceAccount with the RBAC of deploy/base (so metrics-auth-rbac.yaml must grant the reviews),
// serves HTTPS with a certificate from --metrics-cert-dir signed by a test CA, and asks the API
// server's TokenReview and SubjectAccessReview about each scraper's token. The audit log counts
// those reviews, to show that repeated scrapes are answered from the cache. A real Prometheus
// scrapes it as the OpenShift ServiceMonitor says: https, a bearer token, the CA and server name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  X509Certificate,
  createPrivateKey,
  createSign,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditLog, type AuditLog } from '../harness/audit.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  OPERATOR_USER,
  applyBaseManifests,
} from '../harness/operator-rbac.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { startEtcdCluster } from '../harness/etcd-cluster.js';
import { eventually } from '../harness/eventually.js';
import { createCertificateAuthority, issueCertificate, type CertificateFiles } from '../harness/pki.js';
import { cleanupAll, makeTempDir } from '../harness/process.js';
import { startPrometheus } from '../harness/prometheus.js';
import { httpsGet } from './https-get.js';

const SCRAPERS = 'metrics-scrapers';
/** The name Prometheus verifies, as the OpenShift ServiceMonitor's tlsConfig.serverName. */
const SERVICE_NAME = 'etcd-health-operator-metrics.etcd-health-operator.svc';
const READER = 'prometheus';
/** Bound like READER; used once, so that nothing about it is cached when counting reviews. */
const FRESH_READER = 'fresh-reader';
const STRANGER = 'stranger';

let audit: AuditLog;
let cp: ControlPlane;
let operator: OperatorProcess;
let ca: CertificateFiles;
let serving: CertificateFiles;
let metricsUrl: string;
let readerToken: string;

beforeAll(async () => {
  audit = auditLog(makeTempDir('metrics-access-audit'), { allResources: true });
  cp = await startControlPlane({ apiServerArgs: audit.apiServerArgs });
  await applyBaseManifests(cp);
  await cp.createNamespace(SCRAPERS);
  readerToken = await cp.mintServiceAccountToken(SCRAPERS, READER);
  const bound = await cp.kubectl([
    'create',
    'clusterrolebinding',
    'metrics-reader-prometheus',
    '--clusterrole=etcd-health-operator-metrics-reader',
    `--serviceaccount=${SCRAPERS}:${READER}`,
    `--serviceaccount=${SCRAPERS}:${FRESH_READER}`,
  ]);
  if (bound.code !== 0) throw new Error(`kubectl create clusterrolebinding: ${bound.stderr}`);

  // The serving certificate, as OpenShift's service CA or cert-manager would write it.
  ca = createCertificateAuthority(makeTempDir('metrics-ca'), 'metrics-ca');
  const certDir = makeTempDir('metrics-tls');
  serving = issueCertificate(ca, certDir, 'tls', {
    commonName: 'etcd-health-operator-metrics',
    dnsNames: [SERVICE_NAME],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const operatorToken = await cp.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  operator = await startOperator({
    kubeconfigPath: cp.writeKubeconfigForToken(operatorToken, OPERATOR_NAMESPACE),
    logDir: makeTempDir('metrics-access-operator-logs'),
    identity: 'metrics-access',
    // After the harness's --metrics-secure=false: the later flag wins.
    extraArgs: ['--metrics-secure=true', `--metrics-cert-dir=${certDir}`],
  });
  metricsUrl = operator.metricsUrl.replace(/^http:/, 'https:');
});

afterAll(async () => {
  await cleanupAll();
});

const scrape = (token?: string) => httpsGet(metricsUrl, ca.certPem, token);

/** The operator's TokenReviews and SubjectAccessReviews so far, from the audit log. */
function reviews(): { tokenReviews: number; accessReviews: number } {
  const created = (resource: string) =>
    audit.requests({ username: OPERATOR_USER, resource }).filter((r) => r.verb === 'create').length;
  return { tokenReviews: created('tokenreviews'), accessReviews: created('subjectaccessreviews') };
}

describe('secure /metrics of the operator process', () => {
  it('serves HTTPS with the certificate of --metrics-cert-dir, verified by its CA', async () => {
    const answer = await scrape();
    expect(answer.certificate).toBe(new X509Certificate(serving.certPem).toString());
    expect(metricsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it('no token: 401, and no review is asked for', async () => {
    const before = reviews();
    const answer = await scrape();
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^Unauthorized: \/metrics needs a bearer token/);
    expect(reviews()).toEqual(before);
  });

  it('a ServiceAccount bound to etcd-health-operator-metrics-reader: 200 with the metrics', async () => {
    const answer = await scrape(readerToken);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^# HELP etcd_health_operator_/m);
    expect(answer.body).toMatch(/^etcd_health_operator_workqueue_depth \d+$/m);
  });

  it('a token whose user lacks the role: 403 naming the user and the role', async () => {
    const token = await cp.mintServiceAccountToken(SCRAPERS, STRANGER);
    const answer = await scrape(token);
    expect(answer.status).toBe(403);
    expect(answer.body).toBe(
      `Forbidden: user system:serviceaccount:${SCRAPERS}:${STRANGER} may not get /metrics; bind it to the ClusterRole etcd-health-operator-metrics-reader\n`,
    );
  });

  it('a wrong token: 401, whether garbage or signed by a key the API server does not trust', async () => {
    expect((await scrape('not-a-token')).status).toBe(401);
    const strangeKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const answer = await scrape(signJwt(decodeJwt(readerToken), strangeKey));
    expect(answer).toMatchObject({
      status: 401,
      body: 'Unauthorized: the API server does not accept this bearer token\n',
    });
  });

  it('an expired token: 401, where the same token re-signed unexpired is 200', async () => {
    // The API server's ServiceAccount signing key (test/harness/controlplane.ts writes it there):
    // the only way to hold a token that expired, TokenRequest gives at least 10 minutes.
    const keyPath = join(cp.dir, 'pki', 'sa-signer.key');
    expect(existsSync(keyPath)).toBe(true);
    const signer = createPrivateKey(readFileSync(keyPath));
    const token = await cp.mintServiceAccountToken(SCRAPERS, READER);
    const { header, claims } = decodeJwt(token);
    expect((await scrape(signJwt({ header, claims }, signer))).status).toBe(200);
    const hourAgo = Math.floor(Date.now() / 1000) - 3_600;
    const expired = { ...claims, iat: hourAgo - 600, nbf: hourAgo - 600, exp: hourAgo };
    const answer = await scrape(signJwt({ header, claims: expired }, signer));
    expect(answer.status).toBe(401);
  });

  it('repeated scrapes with one token cost one TokenReview and one SubjectAccessReview', async () => {
    // A user never seen before: neither its token nor its access is cached yet.
    const token = await cp.mintServiceAccountToken(SCRAPERS, FRESH_READER);
    const before = reviews();
    for (let scrapeNumber = 0; scrapeNumber < 5; scrapeNumber++)
      expect((await scrape(token)).status).toBe(200);
    const after = reviews();
    expect({
      tokenReviews: after.tokenReviews - before.tokenReviews,
      accessReviews: after.accessReviews - before.accessReviews,
    }).toEqual({ tokenReviews: 1, accessReviews: 1 });
  });

  it('the health endpoints stay plain HTTP on their own port', async () => {
    expect((await fetch(`${operator.healthUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${operator.healthUrl}/metrics`)).status).toBe(404);
  });
});

describe('a real Prometheus, configured as the OpenShift ServiceMonitor', () => {
  it('scrapes it with its bearer token, verifying the certificate for the Service name; without the token it is refused', async () => {
    // Prometheus is started for a 1-member etcd cluster (the harness scrapes one); the operator's
    // jobs are added as the ServiceMonitor renders them, and the configuration reloaded.
    const prometheus = await startPrometheus(await startEtcdCluster({ members: 1 }));
    const file = (name: string, content: string) => {
      const path = join(prometheus.dataDir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const target = new URL(metricsUrl);
    const job = (name: string, authorization: object) => ({
      job_name: name,
      scheme: 'https',
      metrics_path: target.pathname,
      ...authorization,
      tls_config: { ca_file: file('metrics-ca.crt', ca.certPem), server_name: SERVICE_NAME },
      static_configs: [{ targets: [target.host] }],
    });
    const token = await cp.mintServiceAccountToken(SCRAPERS, READER);
    const configPath = join(prometheus.dataDir, 'prometheus.yml');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { scrape_configs: unknown[] };
    config.scrape_configs.push(
      job('ehc-operator', { authorization: { credentials_file: file('scraper.token', token) } }),
      job('ehc-operator-anonymous', {}),
    );
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    process.kill(prometheus.process.pid, 'SIGHUP');
    const up = await eventually<Record<string, string>>(
      async () => {
        const samples = await prometheus.query('up{job=~"ehc-operator.*"}');
        return samples.length === 2
          ? Object.fromEntries(samples.map((s): [string, string] => [s.metric.job ?? '', s.value[1]]))
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'both operator jobs scraped' },
    );
    expect(up).toEqual({ 'ehc-operator': '1', 'ehc-operator-anonymous': '0' });
    const series = await prometheus.query('etcd_health_operator_workqueue_depth{job="ehc-operator"}');
    expect(series).toHaveLength(1);
    await prometheus.stop();
  });
});

describe('without the review permissions', () => {
  it('answers 500 with the reason, and keeps serving', async () => {
    // The operator's own ServiceAccount loses the reviews: its ClusterRoleBinding goes.
    const removed = await cp.kubectl(['delete', 'clusterrolebinding', 'etcd-health-operator-metrics-auth']);
    expect(removed.code).toBe(0);
    const token = await cp.mintServiceAccountToken(SCRAPERS, READER);
    const answer = await scrape(token);
    expect(answer.status).toBe(500);
    expect(answer.body).toMatch(
      /^Authentication failed: TokenReview: create tokenreviews\.authentication\.k8s\.io: 403 Forbidden/,
    );
    expect(operator.process.exited()).toBe(false);
    expect((await fetch(`${operator.healthUrl}/healthz`)).status).toBe(200);
  });
});

interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

function decodeJwt(token: string): Jwt {
  const [header, claims] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
  return { header: header ?? {}, claims: claims ?? {} };
}

/** An ES256 JWT with the header of a real ServiceAccount token (its kid), as the API server signs them. */
function signJwt({ header, claims }: Jwt, key: KeyObject): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('sha256').update(signingInput).sign({ key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}
