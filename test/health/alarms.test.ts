// NOSPACE and CORRUPT: the documented NOSPACE recovery, and "stop everything" for CORRUPT.
import { describe, expect, it } from '@jest/globals';
import {
  GiB,
  MiB,
  clientURL,
  conditionOf,
  findingOf,
  healthyCluster,
  run,
  specWith,
  withAlarm,
  withMetric,
  withStatus,
} from './fixtures.js';

describe('NOSPACE', () => {
  const analysis = run(healthyCluster(3, withAlarm('NOSPACE', 1)));
  const recovery = analysis.recommendations[0]!;

  it('is critical and blocks upgrades', () => {
    expect(findingOf(analysis, 'Alarms', 'etcd-1')).toMatchObject({
      severity: 'Critical',
      reason: 'NoSpaceAlarm',
    });
    expect(conditionOf(analysis, 'AlarmsDegraded')).toMatchObject({ status: 'True', reason: 'NoSpaceAlarm' });
    expect(conditionOf(analysis, 'Upgradeable')).toMatchObject({
      status: 'False',
      reason: 'Alarms_NoSpaceAlarm',
    });
  });

  it('recommends RecoverFromNoSpace first, with the documented sequence', () => {
    expect(recovery).toMatchObject({
      type: 'RecoverFromNoSpace',
      severity: 'Critical',
      target: 'cluster',
      reason: 'NoSpaceAlarm',
    });
    const all = [clientURL(0), clientURL(1), clientURL(2)].join(',');
    expect(recovery.commands).toEqual([
      `rev=$(etcdctl --endpoints=${clientURL(1)} endpoint status -w json | grep -Eo '"revision":[0-9]+' | grep -Eo '[0-9]+' | head -1)`,
      `etcdctl --endpoints=${clientURL(1)} compact $rev`,
      // One member at a time, the leader (etcd-0) last.
      `etcdctl --endpoints=${clientURL(1)} --command-timeout=60s defrag`,
      `etcdctl --endpoints=${clientURL(2)} --command-timeout=60s defrag`,
      `etcdctl --endpoints=${clientURL(0)} --command-timeout=60s defrag`,
      `etcdctl --endpoints=${all} endpoint status -w table`,
      `etcdctl --endpoints=${all} alarm disarm`,
      `etcdctl --endpoints=${all} put etcd-health-operator/verify-write ok`,
      `etcdctl --endpoints=${all} del etcd-health-operator/verify-write`,
      `etcdctl --endpoints=${all} alarm list`,
    ]);
    expect(recovery.message).toMatch(
      /compact.*defragment every member one at a time.*disarm.*verify that a write succeeds/,
    );
  });

  it('names the raiser, and an alarm for member 0 targets the cluster; duplicates collapse', () => {
    const twice = run(
      healthyCluster(3, withAlarm('NOSPACE', 1), withAlarm('NOSPACE', 1), (o) =>
        o.etcd.alarms.push({ memberId: '0', alarm: 'NOSPACE' }),
      ),
    );
    expect(
      twice.findings.filter((finding) => finding.check === 'Alarms').map((finding) => finding.target),
    ).toEqual(['cluster', 'etcd-1']);
    expect(
      twice.recommendations.filter((recommendation) => recommendation.type === 'RecoverFromNoSpace'),
    ).toHaveLength(1);
  });
});

describe('CORRUPT', () => {
  const messy = healthyCluster(
    3,
    withAlarm('CORRUPT', 2),
    withAlarm('NOSPACE', 0),
    withStatus(1, { dbSize: 6 * GiB, dbSizeInUse: 500 * MiB }),
    withMetric(1, { walFsyncP99: 0.08, backendCommitP99: 0.2 }),
  );

  it.each(['Recommend', 'Automatic'] as const)(
    'in %s mode: RestoreFromBackup, no maintenance, no automation',
    (mode) => {
      const analysis = run(messy, { spec: specWith({ remediation: { mode } }) });
      expect(analysis.recommendations[0]).toMatchObject({
        type: 'RestoreFromBackup',
        severity: 'Critical',
        reason: 'CorruptAlarm',
      });
      expect(analysis.recommendations[0]!.message).toMatch(/stop/i);
      expect(analysis.recommendations[0]!.message).toMatch(/restore the cluster from a known good backup/);
      const types = analysis.recommendations.map((recommendation) => recommendation.type);
      for (const forbidden of [
        'RecoverFromNoSpace',
        'Defragment',
        'RelieveQuotaPressure',
        'ReduceDatabaseSize',
      ]) {
        expect(types).not.toContain(forbidden);
      }
      for (const recommendation of analysis.recommendations) {
        expect(recommendation.message).not.toMatch(/mode: Automatic|the operator .* itself/);
        for (const command of recommendation.commands ?? [])
          expect(command).not.toMatch(/ (defrag|compact|disarm|put|del|move-leader)\b/);
      }
      // Read-only diagnosis still helps: storage of etcd-1 is slow.
      expect(types).toContain('InvestigateStorage');
    },
  );

  it('makes Upgradeable False and AlarmsDegraded True', () => {
    const analysis = run(healthyCluster(3, withAlarm('CORRUPT', 2)));
    expect(conditionOf(analysis, 'Upgradeable')).toMatchObject({
      status: 'False',
      reason: 'Alarms_CorruptAlarm',
    });
    expect(conditionOf(analysis, 'AlarmsDegraded')).toMatchObject({ status: 'True', reason: 'CorruptAlarm' });
    expect(findingOf(analysis, 'Alarms', 'etcd-2').severity).toBe('Critical');
  });

  it('has read-only commands', () => {
    const analysis = run(healthyCluster(3, withAlarm('CORRUPT', 2)));
    const all = [clientURL(0), clientURL(1), clientURL(2)].join(',');
    expect(analysis.recommendations[0]!.commands).toEqual([
      `etcdctl --endpoints=${all} alarm list`,
      `etcdctl --endpoints=${all} endpoint status -w table`,
      `etcdctl --endpoints=${all} endpoint hashkv -w table`,
    ]);
  });
});
