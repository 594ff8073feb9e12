import { describe, expect, it } from '@jest/globals';
import type { Condition } from '../../src/api/v1alpha1/status.js';
import { conditionTransitions } from '../../src/controller/transitions.js';

const c = (type: string, status: Condition['status'], reason = 'AsExpected'): Condition => ({
  type,
  status,
  reason,
  message: `${type} is ${status}`,
  lastTransitionTime: '2026-11-21T10:00:00Z',
});

describe('conditionTransitions', () => {
  it('reports nothing when no status changed (steady state gives no Events)', () => {
    const conditions = [c('Degraded', 'False'), c('Available', 'True')];
    expect(conditionTransitions(conditions, conditions)).toEqual([]);
  });

  it.each([
    ['Degraded', 'False', 'True', 'Warning'],
    ['Degraded', 'True', 'False', 'Normal'],
    ['Available', 'True', 'False', 'Warning'],
    ['Available', 'False', 'True', 'Normal'],
    ['Progressing', 'False', 'True', 'Warning'],
    ['Upgradeable', 'True', 'False', 'Warning'],
    ['DiskLatencyDegraded', 'False', 'Unknown', 'Normal'],
    ['Stalled', 'False', 'True', 'Warning'],
    ['Stalled', 'True', 'False', 'Normal'],
  ] as const)('%s %s -> %s is a %s event', (type, from, to, eventType) => {
    expect(conditionTransitions([c(type, from)], [c(type, to, 'Changed')])).toEqual([
      expect.objectContaining({ type, from, to, eventType, reason: 'Changed' }),
    ]);
  });

  it('reports a condition that first appears bad, but not one that first appears good', () => {
    expect(conditionTransitions([], [c('Degraded', 'True'), c('Available', 'True')])).toEqual([
      expect.objectContaining({ type: 'Degraded', from: 'Absent', to: 'True' }),
    ]);
  });

  it('kstatus: Stalled appearing False is not news, and Reconciling never makes an Event', () => {
    expect(conditionTransitions([], [c('Stalled', 'False'), c('Reconciling', 'True')])).toEqual([]);
    expect(conditionTransitions([c('Reconciling', 'True')], [c('Reconciling', 'False')])).toEqual([]);
  });
});
