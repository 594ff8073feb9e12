// --compare: the status the operator wrote beside a fresh verdict. Which conditions and
// recommendations differ, how it reads, and what of an untrusted live status is shown.
import { describe, expect, it } from '@jest/globals';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/resource.js';
import type { Condition, Recommendation } from '../../src/api/v1alpha1/status.js';
import { compareStatus, renderComparison } from '../../src/cli/compare.js';

const PLAIN = { color: false, width: 100 };
const SINCE = '2026-12-06T22:00:00Z';
const NOW = '2026-12-06T22:05:00Z';

function condition(type: string, status: Condition['status'], reason: string, time = SINCE): Condition {
  return { type, status, reason, message: `${type} says ${reason}`, lastTransitionTime: time };
}

function recommendation(type: string, severity: Recommendation['severity'], target: string): Recommendation {
  return { type, severity, target, reason: 'Fragmented', message: `${type} ${target}` };
}

const HEALTHY = [
  condition('Available', 'True', 'AsExpected'),
  condition('Progressing', 'False', 'AsExpected'),
  condition('Degraded', 'False', 'AsExpected'),
  condition('Upgradeable', 'True', 'AsExpected'),
  condition('DiskLatencyDegraded', 'False', 'AsExpected'),
];

function cr(status: unknown, generation = 2): EtcdHealthCheck {
  return {
    apiVersion: 'etcdhealth.io/v1alpha1',
    kind: 'EtcdHealthCheck',
    metadata: { name: 'etcd', namespace: 'etcd', generation },
    spec: { etcd: {} },
    status: status as EtcdHealthCheck['status'],
  };
}

const live = (conditions: unknown[], recommendations: unknown[] = [], observedGeneration = 2) =>
  cr({ observedGeneration, conditions, recommendations, lastCheck: { time: SINCE } });

const fresh = (conditions: Condition[], recommendations: Recommendation[] = []) => ({
  conditions: conditions.map((c) => ({ ...c, lastTransitionTime: NOW })),
  recommendations,
});

describe('compareStatus', () => {
  it('finds no difference when statuses and reasons agree, whatever the times and messages', () => {
    const comparison = compareStatus(
      live(HEALTHY, [recommendation('Defragment', 'Warning', 'member-1')]),
      fresh(
        HEALTHY.map((c) => ({ ...c, message: 'other words' })),
        [{ ...recommendation('Defragment', 'Warning', 'member-1'), message: 'other words' }],
      ),
    );
    expect(comparison.differences).toBe(0);
    expect(comparison.conditions.map((c) => c.type)).toEqual([
      'Available',
      'Progressing',
      'Degraded',
      'Upgradeable',
      'DiskLatencyDegraded',
    ]);
    expect(comparison.conditions[0]).toEqual({
      type: 'Available',
      live: { status: 'True', reason: 'AsExpected', lastTransitionTime: SINCE },
      fresh: { status: 'True', reason: 'AsExpected', lastTransitionTime: NOW },
      differs: false,
    });
    expect(comparison.recommendations).toEqual([
      { identity: 'Defragment Warning member-1 Fragmented', live: true, fresh: true },
    ]);
    expect(comparison).toMatchObject({ generation: 2, observedGeneration: 2, lastCheck: SINCE, invalid: 0 });
  });

  it('counts a changed status or reason, a condition on one side, a recommendation on one side, and a stale generation', () => {
    const now = HEALTHY.filter((c) => c.type !== 'DiskLatencyDegraded').map((c) =>
      c.type === 'Degraded' ? condition('Degraded', 'True', 'DiskLatency_SlowWALFsync') : c,
    );
    now.push(condition('QuorumDegraded', 'False', 'AsExpected'));
    const comparison = compareStatus(
      live(HEALTHY, [recommendation('Defragment', 'Warning', 'member-1')], 1),
      fresh(now, [recommendation('InvestigateStorage', 'Critical', 'member-3')]),
    );
    const differing = comparison.conditions.filter((c) => c.differs).map((c) => c.type);
    expect(differing).toEqual(['Degraded', 'QuorumDegraded', 'DiskLatencyDegraded']);
    expect(comparison.conditions.find((c) => c.type === 'DiskLatencyDegraded')?.fresh).toBeUndefined();
    expect(comparison.recommendations).toEqual([
      { identity: 'Defragment Warning member-1 Fragmented', live: true, fresh: false },
      { identity: 'InvestigateStorage Critical member-3 Fragmented', live: false, fresh: true },
    ]);
    expect(comparison.differences).toBe(3 + 2 + 1);
  });

  it('leaves out live entries that do not validate and counts them', () => {
    const comparison = compareStatus(
      live([...HEALTHY, { type: 'Bogus', status: 'Maybe' }, 'not an object'], [{ type: 1 }]),
      fresh(HEALTHY),
    );
    expect(comparison.invalid).toBe(3);
    expect(comparison.conditions.map((c) => c.type)).not.toContain('Bogus');
    expect(comparison.differences).toBe(0);
  });

  it('reads a CR the operator has not written to: every fresh condition differs', () => {
    const comparison = compareStatus(cr(undefined), fresh(HEALTHY));
    expect(comparison.observedGeneration).toBeUndefined();
    expect(comparison.differences).toBe(HEALTHY.length);
  });
});

describe('renderComparison', () => {
  it('shows both sides with the operator’s lastTransitionTime and marks each difference', () => {
    const now = HEALTHY.map((c) =>
      c.type === 'Degraded' ? condition('Degraded', 'True', 'DiskLatency_SlowWALFsync') : c,
    );
    const text = renderComparison(
      compareStatus(
        live(HEALTHY, [recommendation('Defragment', 'Warning', 'member-1')], 1),
        fresh(now, [recommendation('Defragment', 'Warning', 'member-1')]),
      ),
      PLAIN,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('COMPARED WITH THE STATUS THE OPERATOR WROTE');
    expect(lines[1]).toBe(`! observedGeneration 1 (the CR is at generation 2), last check ${SINCE}`);
    expect(lines).toContain(`  Available            True             ${SINCE}  AsExpected`);
    expect(lines).toContain(
      `! Degraded             False -> True    ${SINCE}  AsExpected -> DiskLatency_SlowWALFsync`,
    );
    expect(lines).toContain('    Defragment Warning member-1 Fragmented (both)');
    expect(lines).toContain('  2 differences (marked !)');
  });

  it('says so when nothing differs, and when the operator wrote no status', () => {
    expect(renderComparison(compareStatus(live(HEALTHY), fresh(HEALTHY)), PLAIN)).toContain(
      '\n  no differences\n',
    );
    const unwritten = renderComparison(compareStatus(cr(undefined), fresh(HEALTHY)), PLAIN);
    expect(unwritten).toContain('  the operator has written no status to this CR yet');
    expect(unwritten).toContain('! Available            - -> True        -               - -> AsExpected');
  });

  it('prints no control character from the live status (no escape sequence reaches the terminal)', () => {
    const text = renderComparison(
      compareStatus(
        live(
          HEALTHY.map((c) =>
            c.type === 'Available' ? { ...c, lastTransitionTime: '\u001b]0;pwned\u0007' } : c,
          ),
          [recommendation('Defragment', 'Warning', 'member-1\u001b[2J')],
        ),
        fresh(HEALTHY),
      ),
      PLAIN,
    );
    expect([...text].filter((char) => char !== '\n' && /\p{Cc}/u.test(char))).toEqual([]);
    expect(text).toContain(' ]0;pwned ');
  });
});
