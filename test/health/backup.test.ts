// The backup check: the age of the last backup against spec.backup.maxAge (24h by default), at,
// just below and just above it; never backed up; evidence missing, unreadable or from the future.
// Stale or missing makes Upgradeable=False; unknown makes it Unknown; not configured changes nothing.
import { describe, expect, it } from '@jest/globals';
import type { BackupObservation } from '../../src/health/observation.js';
import {
  T0,
  clientURL,
  conditionOf,
  findingOf,
  healthyCluster,
  run,
  secondsAfter,
  specWith,
  withAlarm,
  type Change,
} from './fixtures.js';

const DAY = 86_400;
const cronJobSpec = specWith({ backup: { cronJob: { name: 'etcd-backup' } } });
const openshiftSpec = specWith({
  etcd: { discovery: { namespace: 'openshift-etcd' } },
  backup: { openshift: {}, maxAge: '6h' },
});

const withBackup =
  (backup: BackupObservation): Change =>
  (observation) => {
    observation.backup = backup;
  };
/** The last backup `seconds` before the observation (negative: after it). */
const backedUpAgo = (seconds: number): Change =>
  withBackup({ state: 'Found', evidence: 'CronJob etcd-backup', lastSuccess: secondsAfter(T0, -seconds) });

describe('backup age against maxAge (24h by default; older than maxAge is stale)', () => {
  it.each([
    ['1h old', 3_600, 'OK', 'True', 'AsExpected'],
    ['just below maxAge', DAY - 1, 'OK', 'True', 'AsExpected'],
    ['at maxAge', DAY, 'OK', 'True', 'AsExpected'],
    ['just above maxAge', DAY + 1, 'Warning', 'False', 'BackupStale'],
    ['a week old', 7 * DAY, 'Warning', 'False', 'BackupStale'],
    ['a few seconds in the future (clock skew)', -60, 'OK', 'True', 'AsExpected'],
  ] as const)('%s: %s', (_title, ageSeconds, severity, upgradeable, reason) => {
    const analysis = run(healthyCluster(3, backedUpAgo(ageSeconds)), { spec: cronJobSpec });
    const finding = findingOf(analysis, 'Backup', 'cluster');
    expect(finding).toMatchObject({ severity, reason, threshold: DAY });
    expect(conditionOf(analysis, 'BackupUpgradeable')).toMatchObject({ status: upgradeable, reason });
    expect(conditionOf(analysis, 'Upgradeable').status).toBe(upgradeable);
    // A warning, never Degraded: the cluster serves; only an upgrade is at risk.
    expect(conditionOf(analysis, 'BackupDegraded').status).toBe('False');
    expect(conditionOf(analysis, 'Degraded').status).toBe('False');
  });

  it('names the evidence, the time and the ages in the stale message and the Upgradeable union', () => {
    const analysis = run(healthyCluster(3, backedUpAgo(DAY + 3_600)), { spec: cronJobSpec });
    expect(findingOf(analysis, 'Backup', 'cluster').message).toBe(
      'The last etcd backup (CronJob etcd-backup, 2026-02-28T11:00:00.000Z) is 25h old, older than the maximum age of 24h',
    );
    expect(conditionOf(analysis, 'Upgradeable').reason).toBe('Backup_BackupStale');
  });

  it.each([
    ['just below 6h', 6 * 3_600 - 1, 'OK'],
    ['at 6h', 6 * 3_600, 'OK'],
    ['just above 6h', 6 * 3_600 + 1, 'Warning'],
  ] as const)('honours a configured maxAge: %s', (_title, ageSeconds, severity) => {
    const analysis = run(healthyCluster(3, backedUpAgo(ageSeconds)), { spec: openshiftSpec });
    expect(findingOf(analysis, 'Backup', 'cluster')).toMatchObject({ severity, threshold: 6 * 3_600 });
  });

  it('never backed up: a warning and Upgradeable=False', () => {
    const analysis = run(
      healthyCluster(
        3,
        withBackup({ state: 'None', evidence: 'CronJob etcd-backup', detail: 'has never succeeded' }),
      ),
      { spec: cronJobSpec },
    );
    expect(findingOf(analysis, 'Backup', 'cluster')).toMatchObject({
      severity: 'Warning',
      reason: 'NoBackup',
      message: 'No successful etcd backup is recorded: CronJob etcd-backup has never succeeded',
    });
    expect(conditionOf(analysis, 'BackupUpgradeable')).toMatchObject({ status: 'False', reason: 'NoBackup' });
    expect(conditionOf(analysis, 'Upgradeable').status).toBe('False');
  });

  it('evidence that cannot be read: Unknown with the reason, never fresh', () => {
    const analysis = run(
      healthyCluster(
        3,
        withBackup({
          state: 'Unreadable',
          evidence: 'CronJob etcd-backup',
          error: 'the operator may not get cronjobs here',
        }),
      ),
      { spec: cronJobSpec },
    );
    expect(findingOf(analysis, 'Backup', 'cluster')).toMatchObject({
      severity: 'Unknown',
      reason: 'BackupUnreadable',
    });
    expect(conditionOf(analysis, 'BackupUpgradeable')).toMatchObject({
      status: 'Unknown',
      reason: 'BackupUnreadable',
      message: expect.stringContaining('the operator may not get cronjobs here') as unknown as string,
    });
    expect(conditionOf(analysis, 'BackupDegraded').status).toBe('Unknown');
    expect(conditionOf(analysis, 'Upgradeable').status).toBe('Unknown');
  });

  it('evidence that was not read at all (spec.backup set, no observation of it): Unknown/NoData', () => {
    const analysis = run(healthyCluster(3), { spec: cronJobSpec });
    expect(findingOf(analysis, 'Backup', 'cluster')).toMatchObject({ severity: 'Unknown', reason: 'NoData' });
    expect(conditionOf(analysis, 'BackupUpgradeable').status).toBe('Unknown');
  });

  it.each([
    ['just beyond the 5m skew', 301, 'Unknown'],
    ['at the 5m skew', 300, 'OK'],
  ] as const)('a backup time in the future %s', (_title, aheadSeconds, severity) => {
    const analysis = run(healthyCluster(3, backedUpAgo(-aheadSeconds)), { spec: cronJobSpec });
    expect(findingOf(analysis, 'Backup', 'cluster').severity).toBe(severity);
  });

  it('without spec.backup: nothing is judged, Upgradeable stays True', () => {
    const analysis = run(healthyCluster(3, backedUpAgo(30 * DAY)));
    expect(findingOf(analysis, 'Backup', 'cluster')).toMatchObject({ severity: 'OK', reason: 'AsExpected' });
    expect(conditionOf(analysis, 'BackupUpgradeable')).toMatchObject({
      status: 'True',
      reason: 'NotConfigured',
    });
    expect(conditionOf(analysis, 'Upgradeable').status).toBe('True');
    expect(analysis.recommendations.map((r) => r.type)).not.toContain('TakeBackup');
  });
});

describe('the TakeBackup recommendation', () => {
  const stale = backedUpAgo(2 * DAY);

  it('gives etcdctl snapshot save with the TLS flags, then the CronJob commands', () => {
    const spec = specWith({
      etcd: { endpoints: ['https://10.0.0.1:2379'], tlsSecretRef: { name: 'etcd-client' } },
      backup: { cronJob: { name: 'etcd-backup' } },
    });
    const [recommendation] = run(healthyCluster(3, stale), { spec }).recommendations.filter(
      (r) => r.type === 'TakeBackup',
    );
    expect(recommendation).toMatchObject({ severity: 'Warning', target: 'cluster', reason: 'BackupStale' });
    expect(recommendation!.commands).toEqual([
      // The Secret's files first, then the commands that name them.
      expect.stringMatching(/^\(umask 077 && mkdir -p etcd-client && kubectl get secret etcd-client /),
      `etcdctl --endpoints=${clientURL(0)} --cacert=etcd-client/ca.crt --cert=etcd-client/tls.crt --key=etcd-client/tls.key snapshot save etcd-snapshot.db`,
      'etcdutl --write-out=table snapshot status etcd-snapshot.db',
      'kubectl describe cronjob etcd-backup',
      'kubectl create job --from=cronjob/etcd-backup etcd-backup-manual-$(date +%s)',
    ]);
  });

  it("on OpenShift gives the documented cluster-backup.sh on a healthy member's node", () => {
    const [recommendation] = run(healthyCluster(3, stale), { spec: openshiftSpec }).recommendations.filter(
      (r) => r.type === 'TakeBackup',
    );
    expect(recommendation!.commands).toEqual([
      'oc debug --as-root node/etcd-0 -- chroot /host /usr/local/bin/cluster-backup.sh /home/core/assets/backup',
      'oc get etcdbackups.operator.openshift.io -o wide',
    ]);
  });

  it('is not made for an unreadable evidence, nor under a CORRUPT alarm', () => {
    const unreadable = withBackup({
      state: 'Unreadable',
      evidence: 'EtcdBackup objects',
      error: 'forbidden',
    });
    const types = (changes: Change[]) =>
      run(healthyCluster(3, ...changes), { spec: cronJobSpec }).recommendations.map((r) => r.type);
    expect(types([stale])).toContain('TakeBackup');
    expect(types([unreadable])).not.toContain('TakeBackup');
    expect(types([stale, withAlarm('CORRUPT', 0)])).not.toContain('TakeBackup');
  });
});
