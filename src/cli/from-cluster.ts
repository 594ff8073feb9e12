// `etcd-health check ehc/NAME`: an EtcdHealthCheck read from the cluster through the user's
// kubeconfig (--kubeconfig, --context), then read and resolved as the operator does
// (src/controller/cluster-check.ts), with the user's own permissions. A read RBAC refuses stops
// the check with a message that names it: a report built without the CR's credentials would
// describe the wrong thing.
import { KubeConfig } from '@kubernetes/client-node';
import type { EtcdHealthCheckSpec } from '../api/v1alpha1/spec.js';
import { KIND } from '../api/v1alpha1/resource.js';
import { plural } from '../health/text.js';
import { readClusterCheck, type ClusterCheckSources } from '../controller/cluster-check.js';
import { describeIssue } from './check-input.js';
import type { ClusterTarget } from './cluster-args.js';

export interface ClusterCheck extends ClusterCheckSources {
  /**
   * The spec the analysis runs with: the CR's own when the operator has written conditions (the
   * analysis continues from them, as the operator's next reconcile would), else the one-shot
   * check's, without the inertia of Degraded.
   */
  analysisSpec: EtcdHealthCheckSpec;
  origin: string;
  notes: string[];
  /** The CR's namespace: recommended commands read its Secret there, as the operator's do. */
  namespace: string;
}

export type ClusterCheckResult = { ok: true; input: ClusterCheck } | { ok: false; error: string };

/** Loads the kubeconfig, reads the CR and resolves what it refers to; every failure is a message. */
export async function loadClusterCheck(
  target: ClusterTarget,
  signal?: AbortSignal,
): Promise<ClusterCheckResult> {
  const loaded = loadKubeConfig(target);
  if (!loaded.ok) return loaded;
  const { kubeConfig, context } = loaded;
  const namespace = target.namespace ?? kubeConfig.getContextObject(context)?.namespace ?? 'default';

  const read = await readClusterCheck(kubeConfig, namespace, target.name, signal);
  if (!read.ok && 'invalid' in read) {
    const lines = read.invalid.map((issue) => `  ${describeIssue(issue, read.spec)}`);
    return {
      ok: false,
      error: `${KIND} ${namespace}/${target.name} has an invalid spec (${plural(lines.length, 'problem')}), as the operator reports in its SpecDegraded condition:\n${lines.join('\n')}`,
    };
  }
  if (!read.ok) return read;
  const { spec, previousConditions } = read.sources;

  const notes: string[] = [];
  if (spec.suspend)
    notes.push('spec.suspend is true: the operator skips this EtcdHealthCheck; check runs it anyway');
  if (spec.remediation.mode === 'Automatic')
    notes.push(
      'spec.remediation.mode is Automatic: check only recommends, it never changes anything in etcd',
    );
  if (spec.prometheus?.useOperatorServiceAccount)
    notes.push(
      "spec.prometheus.useOperatorServiceAccount: check does not have the operator's token, so Prometheus is not queried",
    );
  return {
    ok: true,
    input: {
      ...read.sources,
      analysisSpec:
        previousConditions.length > 0
          ? spec
          : { ...spec, thresholds: { ...spec.thresholds, degradedInertia: '0s' } },
      origin: `${KIND} ${namespace}/${target.name} from the cluster (context ${context})`,
      notes,
      namespace,
    },
  };
}

function loadKubeConfig(
  target: ClusterTarget,
): { ok: true; kubeConfig: KubeConfig; context: string } | { ok: false; error: string } {
  const kubeConfig = new KubeConfig();
  const where = target.kubeconfig ?? 'the default kubeconfig ($KUBECONFIG, ~/.kube/config)';
  try {
    if (target.kubeconfig !== undefined) kubeConfig.loadFromFile(target.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    return { ok: false, error: `cannot load ${where}: ${(error as Error).message.split('\n')[0]}` };
  }
  if (target.context !== undefined) {
    if (!kubeConfig.getContextObject(target.context)) {
      const known = kubeConfig.getContexts().map((context) => context.name);
      return {
        ok: false,
        error: `--context ${target.context}: no such context in ${where}${known.length > 0 ? ` (it has ${known.join(', ')})` : ''}`,
      };
    }
    kubeConfig.setCurrentContext(target.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    return {
      ok: false,
      error: `${where} names no cluster for its current context: pass --kubeconfig or --context`,
    };
  }
  return { ok: true, kubeConfig, context: kubeConfig.getCurrentContext() };
}
