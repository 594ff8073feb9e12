// OpenShift's cluster-etcd-operator beside this operator: clusteroperator/etcd's conditions as a
// check with its own condition, its recommendation, and the planner's refusal to defragment
// while that operator's defragmentation controller may run.
import { describe, expect, it } from '@jest/globals';
import { CLUSTER_OPERATOR_TARGET } from '../../src/health/checks/cluster-operator.js';
import type { OperatorCondition } from '../../src/health/observation.js';
import { operatorConditions } from '../../src/kube/cluster-etcd-operator.js';
import { automatic, decide, fragmented } from '../remediation/support.js';
import {
  T0,
  at,
  conditionOf,
  findingsOf,
  healthyCluster,
  onOpenShift,
  run,
  runSeries,
  secondsAfter,
} from './fixtures.js';

const healthy: OperatorCondition[] = [
  { type: 'Available', status: 'True' },
  { type: 'Degraded', status: 'False' },
  { type: 'Progressing', status: 'False' },
  { type: 'Upgradeable', status: 'True' },
];
const with_ = (type: string, status: string, reason = 'SomeReason', message = 'it says so') =>
  healthy.map((c) => (c.type === type ? { type, status, reason, message } : c));

describe('clusteroperator/etcd as a check', () => {
  it('says nothing, and has no condition, where there is no cluster-etcd-operator', () => {
    const analysis = run(healthyCluster(3));
    expect(findingsOf(analysis, 'ClusterOperator')).toEqual([]);
    expect(analysis.conditions.map((c) => c.type)).not.toContain('ClusterEtcdOperatorDegraded');
  });

  it('is OK and its condition False when the operator is Available and not Degraded', () => {
    const analysis = run(healthyCluster(3, onOpenShift()));
    expect(findingsOf(analysis, 'ClusterOperator')).toMatchObject([{ severity: 'OK', reason: 'AsExpected' }]);
    expect(conditionOf(analysis, 'ClusterEtcdOperatorDegraded')).toMatchObject({ status: 'False' });
    expect(analysis.recommendations.map((r) => r.type)).not.toContain('InvestigateClusterEtcdOperator');
  });

  it.each<[string, OperatorCondition[], string, string, string]>([
    [
      'Degraded=True',
      with_('Degraded', 'True', 'EtcdMembers_UnhealthyMembers', '2 of 3 members are available'),
      'Critical',
      'ClusterOperatorDegraded',
      'True',
    ],
    ['Available=False', with_('Available', 'False'), 'Critical', 'ClusterOperatorUnavailable', 'True'],
    ['Upgradeable=False', with_('Upgradeable', 'False'), 'Warning', 'ClusterOperatorNotUpgradeable', 'False'],
    ['Progressing=True', with_('Progressing', 'True'), 'Info', 'ClusterOperatorProgressing', 'False'],
  ])('reports %s in its own words', (_name, conditions, severity, reason, degraded) => {
    const analysis = run(healthyCluster(3, onOpenShift({ conditions })));
    const [finding] = findingsOf(analysis, 'ClusterOperator');
    expect(finding).toMatchObject({ severity, reason, target: CLUSTER_OPERATOR_TARGET });
    expect(finding!.message).toMatch(/^clusteroperator\/etcd \w+=\w+ \(\w+\): /);
    expect(conditionOf(analysis, 'ClusterEtcdOperatorDegraded')).toMatchObject({ status: degraded, reason });
    const recommendation = analysis.recommendations.find((r) => r.type === 'InvestigateClusterEtcdOperator');
    expect(recommendation).toMatchObject({ reason, target: CLUSTER_OPERATOR_TARGET });
    expect(recommendation!.commands).toContain('oc get clusteroperator etcd -o yaml');
  });

  it('makes the Degraded union True, after its inertia, when the cluster-etcd-operator is Degraded', () => {
    const degraded = onOpenShift({ conditions: with_('Degraded', 'True') });
    const [, , held] = runSeries([
      healthyCluster(3, onOpenShift()),
      healthyCluster(3, at(secondsAfter(T0, 30)), degraded),
      healthyCluster(3, at(secondsAfter(T0, 200)), degraded),
    ]);
    expect(conditionOf(held!, 'Degraded')).toMatchObject({ status: 'True' });
  });

  it.each<[string, Parameters<typeof onOpenShift>[0], RegExp]>([
    [
      'unreadable',
      {
        conditions: undefined,
        error: 'clusteroperators.config.openshift.io/etcd: the operator may not read it',
      },
      /could not be read: .*may not read it/,
    ],
    [
      'without Available or Degraded',
      { conditions: [{ type: 'Progressing', status: 'False' }] },
      /reports no Available or Degraded condition/,
    ],
  ])('is Unknown, never healthy, when clusteroperator/etcd is %s', (_name, patch, message) => {
    const analysis = run(healthyCluster(3, onOpenShift(patch)));
    expect(findingsOf(analysis, 'ClusterOperator')).toMatchObject([
      { severity: 'Unknown', message: expect.stringMatching(message) },
    ]);
    expect(conditionOf(analysis, 'ClusterEtcdOperatorDegraded')).toMatchObject({ status: 'Unknown' });
  });
});

describe('defragmentation beside the cluster-etcd-operator', () => {
  const allFragmented = [fragmented(0), fragmented(1), fragmented(2)];

  it('is refused, without Degraded, while its defragmentation controller runs', () => {
    const decision = decide(healthyCluster(3, ...allFragmented, onOpenShift()));
    expect(decision).toMatchObject({
      kind: 'Defer',
      reason: 'ClusterEtcdOperatorDefragments',
      inProgress: false,
      step: { action: 'Defragment' },
    });
    expect(decision).toMatchObject({
      message: expect.stringContaining('oc create configmap etcd-disable-defrag -n openshift-etcd-operator'),
    });
  });

  it('is refused when nobody can tell whether it runs', () => {
    const decision = decide(
      healthyCluster(
        3,
        ...allFragmented,
        onOpenShift({
          defragController: 'Unknown',
          error: 'etcds.operator.openshift.io/cluster does not exist',
        }),
      ),
    );
    expect(decision).toMatchObject({ kind: 'Defer', reason: 'ClusterEtcdOperatorDefragments' });
    expect(decision).toMatchObject({ message: expect.stringContaining('cluster does not exist') });
  });

  it('goes ahead once an admin disabled that controller', () => {
    const decision = decide(
      healthyCluster(3, ...allFragmented, onOpenShift({ defragController: 'Disabled' })),
    );
    expect(decision).toMatchObject({ kind: 'Act', step: { action: 'Defragment' } });
  });

  it('does not offer automation in the recommendation while that controller defragments', () => {
    const spec = automatic({ mode: 'Recommend' });
    const offered = (changes: Parameters<typeof healthyCluster>[1][]) =>
      run(healthyCluster(3, ...changes), { spec }).recommendations.find((r) => r.type === 'Defragment')
        ?.message;
    expect(offered([...allFragmented])).toContain('spec.remediation.mode: Automatic');
    expect(offered([...allFragmented, onOpenShift()])).not.toContain('spec.remediation.mode: Automatic');
  });
});

describe('the conditions read from the cluster-etcd-operator', () => {
  it('keeps well-formed conditions, bounds their text and drops the rest', () => {
    const long = 'x'.repeat(2000);
    expect(
      operatorConditions([
        { type: 'Degraded', status: 'True', reason: 'R', message: long, lastTransitionTime: 'ignored' },
        { type: 'Available' },
        { status: 'True' },
        'not an object',
        null,
        { type: 7, status: 'True' },
      ]),
    ).toEqual([{ type: 'Degraded', status: 'True', reason: 'R', message: 'x'.repeat(512) }]);
    expect(operatorConditions(undefined)).toEqual([]);
    expect(operatorConditions({ type: 'Degraded' })).toEqual([]);
  });
});
