// What the operator is configured with, validated with zod so a typo is a readable error at
// start-up rather than a surprise later. The command line (src/cli/options.ts) fills it in.
import { z } from 'zod';
import { prometheusUrlProblem } from '../api/v1alpha1/prometheus-url.js';
import { DURATION_PATTERN, parseDurationMs } from '../api/v1alpha1/units.js';
import { parseCidr } from '../sources/etcd/endpoint-policy.js';

const durationMs = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 15s, 2m or 1h30m')
  .transform(parseDurationMs);

const bindAddress = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:]+\]|[0-9.]*|[a-zA-Z0-9.-]+):[0-9]{1,5}$/,
    'must be host:port, e.g. :8080 or 127.0.0.1:8080',
  )
  .or(z.literal('0'));

const prometheusUrlPrefix = z.string().superRefine((url, ctx) => {
  const problem = prometheusUrlProblem(url);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${url} ${problem}` });
});
const namespaceName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name');

export const OperatorOptionsSchema = z
  .object({
    kubeconfig: z.string().optional(),
    namespaces: z.array(namespaceName),
    concurrency: z.coerce.number().int().min(1).max(256),
    leaderElect: z.boolean(),
    leaderElectionNamespace: z
      .string()
      .min(1, 'is required when leader election is on (or set POD_NAMESPACE)')
      .optional(),
    leaderElectionId: z.string().min(1),
    leaseDurationMs: durationMs,
    renewDeadlineMs: durationMs,
    retryPeriodMs: durationMs,
    identity: z.string().min(1),
    metricsBindAddress: bindAddress,
    // /metrics over HTTPS for users the API server authenticates and authorises (TokenReview,
    // SubjectAccessReview); the certificate from metricsCertDir, else self-signed.
    metricsSecure: z.boolean(),
    metricsCertDir: z.string().min(1).optional(),
    healthBindAddress: bindAddress,
    // Prometheus policy: which URLs checks may use, which get the operator's token, and the TLS
    // trust for the token.
    prometheusUrlAllow: z.array(prometheusUrlPrefix),
    prometheusTokenUrls: z.array(prometheusUrlPrefix),
    prometheusTokenCaFiles: z.array(z.string().min(1)),
    statusHeartbeatMs: durationMs,
    statusTolerance: z.coerce.number().min(0).max(1),
    sourceCacheTtlMs: durationMs.refine(
      (ms) => ms <= 60_000,
      'must be at most 1m: answers older than that are stale',
    ),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    // What a check may make the operator reach (docs/security.md).
    discoveryNamespaces: z.array(namespaceName),
    etcdEndpointCidrs: z.array(
      z
        .string()
        .refine((text) => parseCidr(text) !== undefined, 'must be a network such as 10.0.0.0/8 or fd00::/8'),
    ),
  })
  .refine((o) => !o.leaderElect || o.leaderElectionNamespace, {
    message: 'leader election needs --leader-election-namespace or POD_NAMESPACE',
    path: ['leaderElectionNamespace'],
  })
  .refine((o) => o.metricsSecure || o.metricsCertDir === undefined, {
    message: 'a serving certificate is only used with --metrics-secure=true',
    path: ['metricsCertDir'],
  })
  .refine((o) => o.renewDeadlineMs < o.leaseDurationMs && o.retryPeriodMs < o.renewDeadlineMs, {
    message: 'need retry-period < renew-deadline < lease-duration',
    path: ['renewDeadlineMs'],
  });

export type OperatorOptions = z.output<typeof OperatorOptionsSchema>;
