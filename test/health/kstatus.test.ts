// kstatus' Reconciling and Stalled: what each state of a check writes, and that the analysis ends a
// finished check with both False.
import { describe, expect, it } from '@jest/globals';
import { ConditionSchema, REASON_PATTERN, type Condition } from '../../src/api/v1alpha1/status.js';
import { foreignConditions } from '../../src/health/conditions.js';
import {
  isMarkedChecking,
  progressConditions,
  withProgress,
  type Progress,
} from '../../src/health/kstatus.js';
import { T0, conditionOf, healthyCluster, killed, run, secondsAfter } from './fixtures.js';

const verdict = (progress: Progress) =>
  progressConditions(progress, 7).map((draft) => `${draft.type}=${draft.status} ${draft.reason}`);

describe('progressConditions', () => {
  it.each<[string, Progress, string[]]>([
    [
      'a new generation',
      { state: 'Checking' },
      ['Reconciling=True NewGeneration', 'Stalled=False AsExpected'],
    ],
    [
      'a checked generation',
      { state: 'Checked' },
      ['Reconciling=False AsExpected', 'Stalled=False AsExpected'],
    ],
    [
      'a suspended check',
      { state: 'Suspended' },
      ['Reconciling=False Suspended', 'Stalled=False AsExpected'],
    ],
    [
      'a stalled check',
      { state: 'Stalled', reason: 'InvalidSpec', message: 'The spec is invalid: interval: too short' },
      ['Reconciling=False Stalled', 'Stalled=True InvalidSpec'],
    ],
  ])('%s: %j', (_name, progress, expected) => {
    expect(verdict(progress)).toEqual(expected);
  });

  it('never says Reconciling and Stalled at once, and Stalled carries the reason and message given', () => {
    const stalled = progressConditions(
      { state: 'Stalled', reason: 'SecretNotFound', message: 'Secret a/b not found' },
      2,
    );
    expect(stalled.filter((draft) => draft.status === 'True')).toEqual([
      { type: 'Stalled', status: 'True', reason: 'SecretNotFound', message: 'Secret a/b not found' },
    ]);
    for (const progress of [{ state: 'Checking' }, { state: 'Checked' }, { state: 'Suspended' }] as const)
      expect(
        progressConditions(progress, 2).filter((draft) => draft.status === 'True').length,
      ).toBeLessThanOrEqual(1);
  });
});

describe('withProgress and isMarkedChecking', () => {
  const later = secondsAfter(T0, 60);
  it('replaces only Reconciling and Stalled, and moves lastTransitionTime only on a flip', () => {
    const other: Condition = {
      type: 'Available',
      status: 'True',
      reason: 'AsExpected',
      message: 'ok',
      lastTransitionTime: T0.toISOString(),
      observedGeneration: 1,
    };
    const checking = withProgress([other], { state: 'Checking' }, T0, 2);
    expect(checking.map((c) => c.type)).toEqual(['Available', 'Reconciling', 'Stalled']);
    expect(isMarkedChecking(checking, 2)).toBe(true);
    expect(isMarkedChecking(checking, 3)).toBe(false);

    const checked = withProgress(checking, { state: 'Checked' }, later, 2);
    expect(checked.map((c) => c.type)).toEqual(['Available', 'Reconciling', 'Stalled']);
    expect(checked.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'False',
      lastTransitionTime: later.toISOString(),
    });
    // Stalled stayed False: its transition time is the first one.
    expect(checked.find((c) => c.type === 'Stalled')?.lastTransitionTime).toBe(T0.toISOString());
    expect(isMarkedChecking(checked, 2)).toBe(false);
  });
});

describe('the analysis of a finished check', () => {
  it.each([
    ['healthy', healthyCluster(3)],
    ['quorum lost', healthyCluster(3, killed(1), killed(2))],
  ])('%s: Reconciling=False and Stalled=False, valid, the operator’s own', (_name, observation) => {
    const analysis = run(observation);
    expect(conditionOf(analysis, 'Reconciling')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(conditionOf(analysis, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    // Neither feeds a union: they end with no union's suffix.
    expect(analysis.conditions.slice(-2).map((c) => c.type)).toEqual(['Reconciling', 'Stalled']);
    expect(foreignConditions(analysis.conditions)).toEqual([]);
    for (const condition of analysis.conditions.slice(-2)) {
      expect(ConditionSchema.safeParse(condition).success).toBe(true);
      expect(condition.reason).toMatch(new RegExp(REASON_PATTERN));
    }
  });
});
