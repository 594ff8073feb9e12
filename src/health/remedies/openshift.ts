// What clusteroperator/etcd says, with the commands an OpenShift admin reads it with.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import {
  actionable,
  byReason,
  coverage,
  evidence,
  mostSevere,
  severityOf,
  type RemedyBuilder,
} from './context.js';

const ADVICE: Readonly<Record<string, string>> = {
  ClusterOperatorUnavailable:
    'The cluster-etcd-operator reports etcd unavailable: follow its message first; the conditions of etcd/cluster name the controller that failed.',
  ClusterOperatorDegraded:
    'The cluster-etcd-operator reports a persistent problem: the *Degraded conditions of etcd/cluster name the controller, and its logs the cause.',
  ClusterOperatorNotUpgradeable:
    'The cluster-etcd-operator blocks minor upgrades until its reason is resolved.',
  ClusterOperatorProgressing:
    'The cluster-etcd-operator is rolling out a new revision of the etcd pods: members restart one at a time, which can look like member churn until it finishes.',
};

export const clusterOperatorRemedies: RemedyBuilder = (_context, findings) =>
  byReason(actionable(findings, ['ClusterOperator'])).map((group): Recommendation => {
    const reason = group[0]!.reason;
    return {
      type: 'InvestigateClusterEtcdOperator',
      severity: mostSevere(group.map(severityOf)),
      ...coverage(group),
      reason,
      message: `${evidence(group)} ${ADVICE[reason] ?? ''}`.trim(),
      commands: [
        'oc get clusteroperator etcd -o yaml',
        `oc get etcd cluster -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}'`,
        'oc logs -n openshift-etcd-operator deployment/etcd-operator --since=1h',
      ],
    };
  });
