// Puts /metrics behind TLS and the API server's reviews (--metrics-secure): the serving
// certificate of --metrics-cert-dir or a self-signed one, and the bearer-token access check.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { MetricsProtection } from './http-server.js';
import { KubeAccessReviewer, type KubeCallHelpers } from './kube-access-reviewer.js';
import { MetricsAccess } from './metrics-access.js';
import { servingCertificate } from './metrics-tls.js';

export async function metricsProtection(
  kubeConfig: KubeConfig,
  certDir: string | undefined,
  calls: KubeCallHelpers,
  log: Logger,
): Promise<MetricsProtection> {
  const certificate = await servingCertificate(certDir);
  log.info({ certificate: certificate.origin }, 'metrics: HTTPS, bearer tokens reviewed by the API server');
  return { certificate, access: new MetricsAccess(new KubeAccessReviewer(kubeConfig, calls)), log };
}
