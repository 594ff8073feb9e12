// clusteroperator/etcd beside this operator's own conditions. On OpenShift the
// cluster-etcd-operator owns its etcd (it scales and replaces members, rotates certificates,
// defragments), and its conditions are the first thing to read when etcd is in trouble (the field
// guide's step 1: `oc get clusteroperator etcd`). Their reasons and messages are its own.
import type { ClusterView } from '../cluster.js';
import { noData, type Finding, type FindingSeverity } from '../findings.js';
import type { ClusterEtcdOperatorObservation, OperatorCondition } from '../observation.js';

export const CLUSTER_OPERATOR_TARGET = 'clusteroperator/etcd';

/** A condition in the state that means trouble, and what that weighs here. */
const TROUBLE: readonly { type: string; status: string; severity: FindingSeverity; reason: string }[] = [
  { type: 'Available', status: 'False', severity: 'Critical', reason: 'ClusterOperatorUnavailable' },
  { type: 'Degraded', status: 'True', severity: 'Critical', reason: 'ClusterOperatorDegraded' },
  { type: 'Upgradeable', status: 'False', severity: 'Warning', reason: 'ClusterOperatorNotUpgradeable' },
  { type: 'Progressing', status: 'True', severity: 'Info', reason: 'ClusterOperatorProgressing' },
];

export function checkClusterOperator(view: ClusterView): Finding[] {
  const operator = view.observation.clusterEtcdOperator;
  if (operator === undefined) return [];
  const { conditions } = operator;
  if (conditions === undefined)
    return [
      noData(
        'ClusterOperator',
        CLUSTER_OPERATOR_TARGET,
        `${CLUSTER_OPERATOR_TARGET} could not be read: ${operator.error ?? 'no reason given'}`,
      ),
    ];
  const missing = ['Available', 'Degraded'].filter((type) => !conditions.some((c) => c.type === type));
  if (missing.length > 0) {
    return [
      noData(
        'ClusterOperator',
        CLUSTER_OPERATOR_TARGET,
        `${CLUSTER_OPERATOR_TARGET} reports no ${missing.join(' or ')} condition`,
      ),
    ];
  }
  const troubles = TROUBLE.flatMap((trouble): Finding[] => {
    const condition = conditions.find((c) => c.type === trouble.type && c.status === trouble.status);
    return condition === undefined
      ? []
      : [
          {
            check: 'ClusterOperator',
            severity: trouble.severity,
            target: CLUSTER_OPERATOR_TARGET,
            reason: trouble.reason,
            message: describe(condition),
          },
        ];
  });
  if (troubles.length > 0) return troubles;
  return [
    {
      check: 'ClusterOperator',
      severity: 'OK',
      target: CLUSTER_OPERATOR_TARGET,
      reason: 'AsExpected',
      message: `${CLUSTER_OPERATOR_TARGET} is Available and not Degraded`,
    },
  ];
}

/** "clusteroperator/etcd Degraded=True (EtcdMembers_UnhealthyMembers): 2 of 3 members are available" */
function describe(condition: OperatorCondition): string {
  const reason = condition.reason ? ` (${condition.reason})` : '';
  const message = condition.message ? `: ${condition.message}` : '';
  return `${CLUSTER_OPERATOR_TARGET} ${condition.type}=${condition.status}${reason}${message}`;
}

/**
 * Whether the cluster-etcd-operator's defragmentation controller may run on these members; not
 * knowing counts as running, because two defragmenting controllers could block two members at once.
 */
export function defragmentsItself(operator: ClusterEtcdOperatorObservation | undefined): boolean {
  return operator !== undefined && operator.defragController !== 'Disabled';
}
