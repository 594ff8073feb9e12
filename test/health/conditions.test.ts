// library-go condition semantics: per-check conditions, unions, lastTransitionTime and inertia.
import { describe, expect, it } from '@jest/globals';
import type { Condition } from '../../src/api/v1alpha1/status.js';
import { ConditionSchema, REASON_PATTERN } from '../../src/api/v1alpha1/status.js';
import {
  foreignConditions,
  setCondition,
  stamp,
  unionCondition,
  unionConditions,
} from '../../src/health/conditions.js';
import {
  T0,
  at,
  conditionOf,
  healthyCluster,
  killed,
  notStarted,
  onOpenShift,
  run,
  runSeries,
  secondsAfter,
  specWith,
  unreachable,
  withAlarm,
  withMetric,
  withMetricsSource,
  withStatus,
  GiB,
  MiB,
} from './fixtures.js';

const NOW = new Date('2026-03-01T12:10:00.000Z');
const cond = (
  type: string,
  status: Condition['status'],
  reason = 'AsExpected',
  message = '',
  ageSeconds = 3600,
): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: secondsAfter(NOW, -ageSeconds).toISOString(),
});

describe('unionCondition', () => {
  it('without inputs is Unknown/NoData', () => {
    expect(unionCondition('Degraded', [cond('FooAvailable', 'True')], NOW)).toMatchObject({
      status: 'Unknown',
      reason: 'NoData',
    });
  });

  it('matches by suffix only, never the union itself, and never MetricsSourceReachable', () => {
    const inputs = [
      cond('Degraded', 'True'),
      cond('MetricsSourceReachable', 'False', 'QueryFailed'),
      cond('DiskDegraded', 'False'),
    ];
    expect(unionCondition('Degraded', inputs, NOW)).toMatchObject({ status: 'False', reason: 'AsExpected' });
    for (const type of ['Available', 'Progressing', 'Degraded', 'Upgradeable'] as const) {
      expect(
        unionCondition(type, [cond('MetricsSourceReachable', 'False', 'QueryFailed', 'Down')], NOW).reason,
      ).toBe('NoData');
    }
  });

  it('when good: default status, AsExpected, the union of the messages', () => {
    const inputs = [
      cond('BDegraded', 'False', 'AsExpected', 'B is fine'),
      cond('ADegraded', 'False', 'Slow', 'A is slow\nA is slow'),
    ];
    expect(unionCondition('Degraded', inputs, NOW)).toEqual({
      type: 'Degraded',
      status: 'False',
      reason: 'AsExpected',
      message: 'BDegraded: B is fine\nADegraded: A is slow',
    });
  });

  it('when good without messages: "All is well"', () => {
    expect(unionCondition('Available', [cond('XAvailable', 'True')], NOW).message).toBe('All is well');
  });

  it('when bad: sorted Prefix_Reason joined by ::, and Type: line messages, de-duplicated', () => {
    const inputs = [
      cond('ZetaDegraded', 'True', 'Second', 'Zeta broke\nZeta broke\nand more'),
      cond('AlphaDegraded', 'True', 'First', 'Alpha broke'),
      cond('FineDegraded', 'False', 'AsExpected', 'Fine'),
    ];
    expect(unionCondition('Degraded', inputs, NOW)).toEqual({
      type: 'Degraded',
      status: 'True',
      reason: 'Alpha_First::Zeta_Second',
      message: 'ZetaDegraded: Zeta broke\nZetaDegraded: and more\nAlphaDegraded: Alpha broke',
    });
  });

  it('with a single bad input: Prefix_Reason', () => {
    expect(
      unionCondition('Available', [cond('EtcdMembersAvailable', 'False', 'NoQuorum', 'x')], NOW).reason,
    ).toBe('EtcdMembers_NoQuorum');
  });

  it.each([
    ['Degraded', ['Unknown', 'False'], 'Unknown'],
    ['Degraded', ['Unknown', 'True'], 'True'],
    ['Available', ['Unknown', 'True'], 'Unknown'],
    ['Available', ['Unknown', 'False'], 'False'],
    ['Upgradeable', ['Unknown', 'True'], 'Unknown'],
    ['Progressing', ['Unknown', 'True'], 'True'],
  ] as const)(
    '%s of %j is %s: Unknown stays Unknown unless one input is the opposite',
    (type, statuses, expected) => {
      const inputs = statuses.map((status, index) =>
        cond(`Check${index}${type}`, status, status === 'Unknown' ? 'NoData' : 'Why'),
      );
      expect(unionCondition(type, inputs, NOW).status).toBe(expected);
    },
  );

  it.each([
    [119, 'False'],
    [120, 'False'],
    [121, 'True'],
  ] as const)('with a 2m inertia, a Degraded input %ds old gives %s', (age, status) => {
    const inputs = [cond('DiskDegraded', 'True', 'Slow', 'Disk is slow', age)];
    const union = unionCondition('Degraded', inputs, NOW, 120_000);
    expect(union.status).toBe(status);
    // Until it counts, the bad input shows in the good union's message.
    expect(union.message).toBe('DiskDegraded: Disk is slow');
  });

  it('with inertia, counts only elder bad inputs for status and reason', () => {
    const inputs = [
      cond('OldDegraded', 'Unknown', 'NoData', 'Old', 600),
      cond('NewDegraded', 'True', 'Slow', 'New', 10),
    ];
    expect(unionCondition('Degraded', inputs, NOW, 120_000)).toEqual({
      type: 'Degraded',
      status: 'Unknown',
      reason: 'Old_NoData',
      message: 'OldDegraded: Old',
    });
  });
});

describe('setCondition', () => {
  const previous = [{ ...cond('DiskDegraded', 'False', 'AsExpected', 'Fine'), observedGeneration: 1 }];
  it('keeps lastTransitionTime when the status does not flip, taking the new reason and message', () => {
    const next = setCondition(
      previous,
      stamp({ type: 'DiskDegraded', status: 'False', reason: 'Slow', message: 'Slower' }, NOW, 2),
    );
    expect(next).toEqual({ ...previous[0], reason: 'Slow', message: 'Slower', observedGeneration: 2 });
  });
  it('moves lastTransitionTime to now on a flip', () => {
    const next = setCondition(
      previous,
      stamp({ type: 'DiskDegraded', status: 'True', reason: 'Slow', message: 'Slow' }, NOW, 2),
    );
    expect(next.lastTransitionTime).toBe(NOW.toISOString());
  });
  it('sets now on first appearance', () => {
    expect(setCondition([], stamp({ type: 'X', status: 'True', reason: 'Y', message: 'Z' }, NOW, 3))).toEqual(
      {
        type: 'X',
        status: 'True',
        reason: 'Y',
        message: 'Z',
        lastTransitionTime: NOW.toISOString(),
        observedGeneration: 3,
      },
    );
  });
  it('unionConditions stamps and sets a union for callers outside the analysis', () => {
    const previousUnion = {
      ...cond('Degraded', 'True', 'Spec_InvalidSpec', 'old', 600),
      observedGeneration: 1,
    };
    const union = unionConditions(
      'Degraded',
      [cond('SpecDegraded', 'True', 'InvalidSpec', 'Bad spec', 0)],
      [previousUnion],
      NOW,
      4,
    );
    expect(union).toEqual({
      type: 'Degraded',
      status: 'True',
      reason: 'Spec_InvalidSpec',
      message: 'SpecDegraded: Bad spec',
      lastTransitionTime: previousUnion.lastTransitionTime,
      observedGeneration: 4,
    });
  });
});

describe('transitions over several observations', () => {
  const t = (seconds: number) => secondsAfter(T0, seconds);
  const slow = withMetric(1, { walFsyncP99: 0.2 });

  it('a critical check flips its condition at once and Degraded only after the 2m inertia', () => {
    const [first, bad, stillHeld, atInertia, released, recovered] = runSeries([
      healthyCluster(3),
      healthyCluster(3, at(t(30)), slow),
      healthyCluster(3, at(t(90)), slow),
      healthyCluster(3, at(t(150)), slow),
      healthyCluster(3, at(t(151)), slow),
      healthyCluster(3, at(t(181))),
    ]);
    const disk = (analysis: typeof first) => conditionOf(analysis!, 'DiskLatencyDegraded');
    const degraded = (analysis: typeof first) => conditionOf(analysis!, 'Degraded');

    expect(disk(first)).toMatchObject({ status: 'False', lastTransitionTime: T0.toISOString() });
    expect(disk(bad)).toMatchObject({
      status: 'True',
      reason: 'SlowWALFsync',
      lastTransitionTime: t(30).toISOString(),
    });
    expect(degraded(bad)).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
      lastTransitionTime: T0.toISOString(),
    });
    expect(degraded(bad).message).toContain(
      'DiskLatencyDegraded: WAL fsync p99 on etcd-1 is 200ms, at or above the 50ms critical threshold',
    );
    expect(disk(stillHeld).lastTransitionTime).toBe(t(30).toISOString());
    expect(degraded(stillHeld).status).toBe('False');
    expect(degraded(atInertia).status).toBe('False');
    expect(degraded(released)).toMatchObject({
      status: 'True',
      reason: 'DiskLatency_SlowWALFsync',
      message:
        'DiskLatencyDegraded: WAL fsync p99 on etcd-1 is 200ms, at or above the 50ms critical threshold',
      lastTransitionTime: t(151).toISOString(),
    });
    expect(disk(recovered)).toMatchObject({ status: 'False', lastTransitionTime: t(181).toISOString() });
    expect(degraded(recovered)).toMatchObject({ status: 'False', lastTransitionTime: t(181).toISOString() });
    expect(released!.summary.lastTransitionTime).toBe(t(151).toISOString());
    // Available never flipped.
    for (const analysis of [first, bad, released, recovered]) {
      expect(conditionOf(analysis!, 'Available').lastTransitionTime).toBe(T0.toISOString());
    }
  });

  it('one bad scrape within the inertia never flips Degraded', () => {
    const series = runSeries([
      healthyCluster(3),
      healthyCluster(3, at(t(30)), slow),
      healthyCluster(3, at(t(60))),
    ]);
    expect(series.map((analysis) => conditionOf(analysis, 'Degraded').status)).toEqual([
      'False',
      'False',
      'False',
    ]);
    expect(conditionOf(series[2]!, 'Degraded').lastTransitionTime).toBe(T0.toISOString());
  });

  it('takes the inertia from the spec', () => {
    const spec = specWith({ thresholds: { degradedInertia: '0s' } });
    const [, bad] = runSeries([healthyCluster(3), healthyCluster(3, at(t(30)), slow)], { spec });
    expect(conditionOf(bad!, 'Degraded').status).toBe('True');
  });

  it('Available flips without inertia', () => {
    const [, lost] = runSeries([healthyCluster(3), healthyCluster(3, at(t(30)), killed(1), killed(2))]);
    expect(conditionOf(lost!, 'Available')).toMatchObject({
      status: 'False',
      lastTransitionTime: t(30).toISOString(),
    });
  });

  it('a warning keeps lastTransitionTime but updates reason and message', () => {
    const [ok, warned] = runSeries([
      healthyCluster(3),
      healthyCluster(3, at(t(30)), withMetric(1, { walFsyncP99: 0.02 })),
    ]);
    expect(conditionOf(ok!, 'DiskLatencyDegraded').reason).toBe('AsExpected');
    expect(conditionOf(warned!, 'DiskLatencyDegraded')).toMatchObject({
      status: 'False',
      reason: 'SlowWALFsync',
      message: 'WAL fsync p99 on etcd-1 is 20ms, at or above the 10ms warning threshold',
      lastTransitionTime: T0.toISOString(),
    });
  });

  it('a critical member inhibits the warnings of its group: the True condition and Degraded name only it', () => {
    const spec = specWith({ thresholds: { degradedInertia: '0s' } });
    const peersWarn = [withMetric(0, { walFsyncP99: 0.015 }), withMetric(2, { walFsyncP99: 0.014 })];
    const [critical, warningsOnly] = runSeries(
      [healthyCluster(3, at(t(30)), slow, ...peersWarn), healthyCluster(3, at(t(60)), ...peersWarn)],
      { spec },
    );
    const onlyEtcd1 = 'WAL fsync p99 on etcd-1 is 200ms, at or above the 50ms critical threshold';
    expect(conditionOf(critical!, 'DiskLatencyDegraded')).toMatchObject({
      status: 'True',
      reason: 'SlowWALFsync',
      message: onlyEtcd1,
    });
    expect(conditionOf(critical!, 'Degraded').message).toBe(`DiskLatencyDegraded: ${onlyEtcd1}`);
    // Once the critical one is gone, the warnings it held back are told.
    expect(conditionOf(warningsOnly!, 'DiskLatencyDegraded')).toMatchObject({
      status: 'False',
      reason: 'SlowWALFsync',
      message:
        'WAL fsync p99 on etcd-0 is 15ms, at or above the 10ms warning threshold\nWAL fsync p99 on etcd-2 is 14ms, at or above the 10ms warning threshold',
    });
  });

  it('writes the generation to every condition', () => {
    const analysis = run(healthyCluster(3), { generation: 7 });
    expect(analysis.conditions.every((condition) => condition.observedGeneration === 7)).toBe(true);
  });
});

describe('condition shape in many situations', () => {
  it.each([
    ['healthy', healthyCluster(3)],
    ['member down', healthyCluster(3, killed(2))],
    ['quorum lost', healthyCluster(3, killed(1), killed(2))],
    ['not started', healthyCluster(3, notStarted(2))],
    ['unreachable', healthyCluster(3, unreachable(1))],
    ['no metrics', healthyCluster(3, withMetricsSource('NotConfigured'))],
    ['metrics error', healthyCluster(3, withMetricsSource('Error', 'timeout'))],
    ['alarms', healthyCluster(3, withAlarm('NOSPACE', 0), withAlarm('CORRUPT', 1))],
    ['big fragmented DB', healthyCluster(3, withStatus(0, { dbSize: 9 * GiB, dbSizeInUse: 100 * MiB }))],
    ['single member', healthyCluster(1)],
    ['on OpenShift', healthyCluster(3, onOpenShift())],
  ])(
    "%s: valid conditions, all known as the operator's own, and recommendations with CamelCase reasons and capitalised messages",
    (_name, observation) => {
      const analysis = run(observation, {
        remediation: {
          inProgress: true,
          message: 'defragmenting etcd-1',
          degradedMessage: 'defrag of etcd-2 failed',
        },
      });
      const types = analysis.conditions.map((condition) => condition.type);
      expect(types.slice(0, 4)).toEqual(['Available', 'Progressing', 'Degraded', 'Upgradeable']);
      expect(new Set(types).size).toBe(types.length);
      // A type missing from the operator's list would be kept from the stored status as another
      // writer's, and the fresh one dropped: the status would freeze.
      expect(foreignConditions(analysis.conditions)).toEqual([]);
      for (const condition of analysis.conditions) {
        expect(ConditionSchema.safeParse(condition).success).toBe(true);
        expect(condition.reason).toMatch(new RegExp(REASON_PATTERN));
        // Capitalised, or naming an object first (clusteroperator/etcd).
        expect(condition.message).toMatch(/^([A-Z0-9]|[a-z]+\/)/);
      }
      for (const recommendation of analysis.recommendations) {
        expect(recommendation.reason).toMatch(new RegExp(REASON_PATTERN));
        expect(recommendation.message).toMatch(/^[A-Z0-9]/);
      }
    },
  );
});

describe('remediation conditions', () => {
  it('an automated remediation under way makes Progressing True and Upgradeable False', () => {
    const analysis = run(healthyCluster(3), {
      remediation: { inProgress: true, message: 'Defragmenting etcd-1' },
    });
    expect(conditionOf(analysis, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'Remediation_RemediationInProgress',
      message: 'RemediationProgressing: Defragmenting etcd-1',
    });
    expect(conditionOf(analysis, 'Upgradeable')).toMatchObject({
      status: 'False',
      reason: 'Remediation_RemediationInProgress',
    });
  });

  it('a failed remediation makes RemediationDegraded True, subject to the inertia', () => {
    const remediation = { inProgress: false, degradedMessage: 'Defragmentation failed 3 times' };
    const [first, later] = runSeries([healthyCluster(3), healthyCluster(3, at(secondsAfter(T0, 121)))], {
      remediation,
    });
    expect(conditionOf(first!, 'RemediationDegraded')).toMatchObject({
      status: 'True',
      reason: 'RemediationFailed',
    });
    expect(conditionOf(first!, 'Degraded').status).toBe('False');
    expect(conditionOf(later!, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'Remediation_RemediationFailed',
    });
  });

  it('a blocked remediation says why', () => {
    const analysis = run(healthyCluster(3), {
      remediation: { inProgress: false, blockedReason: 'member etcd-2 is unhealthy' },
    });
    expect(conditionOf(analysis, 'RemediationProgressing')).toMatchObject({
      status: 'False',
      reason: 'RemediationBlocked',
      message: 'Automated remediation is blocked: member etcd-2 is unhealthy',
    });
  });
});
