// What the operator does for one EtcdHealthCheck before the analysis, done with someone else's
// kubeconfig: `etcd-health check ehc/NAME` reads the CR, validates its spec with the operator's
// schema, resolves its Secrets and ConfigMaps with the operator's code (resolveCredentials) and
// observes with the operator's observer (discovery included), all with the user's own permissions.
// Every read has a timeout and honours the signal; every failure is a value.
import type { KubeConfig } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { EtcdHealthCheck } from '../api/v1alpha1/resource.js';
import { EtcdHealthCheckSpecSchema, type EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import { ConditionSchema, type Condition } from '../api/v1alpha1/status.js';
import type { Observation } from '../health/observation.js';
import { readEtcdHealthCheck } from '../kube/check-reader.js';
import { DirectConfigReader } from '../kube/config-reader.js';
import { describeDenial, type Denial } from '../kube/failures.js';
import { KubePodLister } from '../kube/pods.js';
import { resolveCredentials } from '../sources/credentials.js';
import { sourceObserver } from './observe.js';

export interface ClusterCheckSources {
  /** The CR as read: its status is what the operator last wrote (untrusted, like its spec). */
  object: EtcdHealthCheck;
  spec: EtcdHealthCheckSpec;
  /** The conditions the operator last wrote that validate; [] when it has written none. */
  previousConditions: Condition[];
  /** Observes etcd (and Prometheus) as the operator would for this CR. */
  observe(signal?: AbortSignal): Promise<Observation>;
  /** The first read RBAC refused while observing (the discovery's pod list), in words. */
  denied(): string | undefined;
}

export type ClusterCheckRead =
  | { ok: true; sources: ClusterCheckSources }
  /** The CR could not be read, or RBAC refused a read of what it refers to. */
  | { ok: false; error: string }
  /** The spec does not validate: the issues, and the spec as read, to describe them. */
  | { ok: false; invalid: z.core.$ZodIssue[]; spec: unknown };

export async function readClusterCheck(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<ClusterCheckRead> {
  const read = await readEtcdHealthCheck(kubeConfig, namespace, name, { signal });
  if (!read.ok) return { ok: false, error: read.denial ? refused(read.denial) : read.error };
  const object = read.object;

  // The same validation as the operator's: the CR is untrusted input.
  const parsed = EtcdHealthCheckSpecSchema.safeParse(object.spec);
  if (!parsed.success) return { ok: false, invalid: parsed.error.issues, spec: object.spec };
  const spec = parsed.data;

  const denials: Denial[] = [];
  const onDenied = (denial: Denial) => denials.push(denial);
  // No operator token and no admin policy: the user's own permissions are the only limit.
  const credentials = await resolveCredentials(
    namespace,
    spec,
    new DirectConfigReader(kubeConfig, { signal, onDenied }),
  );
  if (denials[0]) return { ok: false, error: refused(denials[0]) };

  // The operator's conditions are history to continue from (lastTransitionTime, the inertia of
  // Degraded), and untrusted: only those that validate count.
  const written: unknown[] = Array.isArray(object.status?.conditions) ? object.status.conditions : [];
  const previousConditions = written
    .map((condition) => ConditionSchema.safeParse(condition))
    .flatMap((result) => (result.success ? [result.data] : []));
  const observer = sourceObserver(new KubePodLister(kubeConfig, undefined, onDenied));
  return {
    ok: true,
    sources: {
      object,
      spec,
      previousConditions,
      observe: (observeSignal) =>
        observer({
          namespace,
          name,
          spec,
          etcdCredentials: credentials.etcd,
          prometheusCredentials: credentials.prometheus,
          ...(observeSignal ? { signal: observeSignal } : {}),
        }),
      denied: () => (denials[0] ? refused(denials[0]) : undefined),
    },
  };
}

/** The denial, and what would let the check through. */
function refused(denial: Denial): string {
  return (
    `${describeDenial(denial)}.\n` +
    `  check reads the CR and what it refers to with your own permissions: ask for ${denial.verb} on ${denial.resource}` +
    ` in namespace ${denial.namespace}${denial.name ? ` (a Role may name just ${denial.name} in resourceNames)` : ''},` +
    ' or run check with -f and the TLS files'
  );
}
