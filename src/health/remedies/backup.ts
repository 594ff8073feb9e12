// A stale or missing etcd backup: take one now, the documented way for the platform, and look at
// what keeps the scheduled backups from succeeding.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { etcdctlOn } from '../commands.js';
import { CLUSTER_TARGET } from '../findings.js';
import { actionable, commandList, evidence, mostSevere, severityOf, type RemedyBuilder } from './context.js';

// OpenShift's documented backup ("Backing up etcd data"): cluster-backup.sh on one control-plane
// node saves the snapshot and the static pod resources together. There is no `oc adm` command.
const OPENSHIFT_BACKUP = 'chroot /host /usr/local/bin/cluster-backup.sh /home/core/assets/backup';
const SNAPSHOT_FILE = 'etcd-snapshot.db';

export const backupRemedies: RemedyBuilder = (context, findings) => {
  const stale = actionable(findings, ['Backup']);
  // Under CORRUPT the backups already taken are the way back; a new one may hold the corruption
  // and rotate a good one out.
  if (stale.length === 0 || context.corrupt) return [];
  const { view, style } = context;
  const source = view.spec.backup;
  const node = style.healthyPod;
  const takeNow = style.openshift
    ? node && `oc debug --as-root node/${node.name} -- ${OPENSHIFT_BACKUP}`
    : node && etcdctlOn(style, node, `snapshot save ${SNAPSHOT_FILE}`);
  const verify =
    style.openshift || !node ? undefined : `etcdutl --write-out=table snapshot status ${SNAPSHOT_FILE}`;
  const scheduled = source?.cronJob
    ? [
        `${style.kubectl} describe cronjob ${source.cronJob.name}`,
        `${style.kubectl} create job --from=cronjob/${source.cronJob.name} etcd-backup-manual-$(date +%s)`,
      ]
    : source?.openshift
      ? ['oc get etcdbackups.operator.openshift.io -o wide']
      : [];
  const where = source?.cronJob ? ` The CronJob commands run in this EtcdHealthCheck's namespace.` : '';
  return [
    {
      type: 'TakeBackup',
      severity: mostSevere(stale.map(severityOf)),
      target: CLUSTER_TARGET,
      reason: stale[0]!.reason,
      message:
        `${evidence(stale)} Take an etcd backup now and keep it off the cluster: without a recent one, a failed upgrade or a lost quorum loses everything written since.` +
        ` Then find out why the scheduled backups stopped (a snapshot is taken from one healthy member).${where}`,
      commands: commandList(takeNow, verify, ...scheduled),
    } satisfies Recommendation,
  ];
};
