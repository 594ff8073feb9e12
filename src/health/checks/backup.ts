// The age of the last etcd backup, from the evidence spec.backup names (a CronJob, OpenShift's
// EtcdBackups or a PromQL expression). An upgrade without a fresh backup is the risk: a stale or
// missing backup warns and makes Upgradeable=False (conditions.ts). etcd-druid and the
// cluster-etcd-operator take backups; this only reads whether one was taken.
import { parseDurationMs } from '../../api/v1alpha1/units.js';
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { formatDuration } from '../text.js';

// Backup jobs and the operator run on different machines: a timestamp this far ahead of the
// observation is clock skew, beyond it the evidence is wrong.
const CLOCK_SKEW_SECONDS = 300;

export const BACKUP_NOT_CONFIGURED = 'Backups are not checked: spec.backup names no evidence of them';

export function checkBackup(view: ClusterView): Finding[] {
  const base = { check: 'Backup' as const, target: CLUSTER_TARGET };
  const spec = view.spec.backup;
  if (spec === undefined)
    return [{ ...base, severity: 'OK', reason: 'AsExpected', message: BACKUP_NOT_CONFIGURED }];
  const maxAgeSeconds = parseDurationMs(spec.maxAge) / 1000;
  const backup = view.observation.backup;
  if (backup === undefined)
    return [noData(base.check, base.target, 'Backups are not checked: their evidence was not read')];
  switch (backup.state) {
    case 'Unreadable':
      return [
        {
          ...base,
          severity: 'Unknown',
          reason: 'BackupUnreadable',
          message: `The age of the last backup is unknown: ${backup.evidence} could not be read: ${backup.error}`,
        },
      ];
    case 'None':
      return [
        {
          ...base,
          severity: 'Warning',
          reason: 'NoBackup',
          message: `No successful etcd backup is recorded: ${backup.evidence} ${backup.detail}`,
          threshold: maxAgeSeconds,
        },
      ];
    case 'Found': {
      const ageSeconds = (view.observation.time.getTime() - backup.lastSuccess.getTime()) / 1000;
      const when = backup.lastSuccess.toISOString();
      if (ageSeconds < -CLOCK_SKEW_SECONDS) {
        return [
          {
            ...base,
            severity: 'Unknown',
            reason: 'BackupInFuture',
            message: `The age of the last backup is unknown: ${backup.evidence} says ${when}, ${formatDuration(-ageSeconds)} after this check`,
          },
        ];
      }
      const age = Math.max(0, ageSeconds);
      if (age > maxAgeSeconds) {
        return [
          {
            ...base,
            severity: 'Warning',
            reason: 'BackupStale',
            message: `The last etcd backup (${backup.evidence}, ${when}) is ${formatDuration(age)} old, older than the maximum age of ${formatDuration(maxAgeSeconds)}`,
            value: age,
            threshold: maxAgeSeconds,
          },
        ];
      }
      return [
        {
          ...base,
          severity: 'OK',
          reason: 'AsExpected',
          message: `The last etcd backup (${backup.evidence}, ${when}) is ${formatDuration(age)} old, within the maximum age of ${formatDuration(maxAgeSeconds)}`,
          value: age,
          threshold: maxAgeSeconds,
        },
      ];
    }
  }
}
