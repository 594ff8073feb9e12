// Alarms: the documented NOSPACE recovery, and "stop everything, restore from backup" for CORRUPT.
import { raisedFor } from '../checks/alarms.js';
import type { ClusterView, MemberView } from '../cluster.js';
import { etcdctlCluster, etcdctlOn } from '../commands.js';
import { CLUSTER_TARGET } from '../findings.js';
import { automationHint, commandList, type RemedyBuilder, type RemedyContext } from './context.js';

/**
 * The documented NOSPACE recovery (etcd maintenance guide): get the revision, compact to it,
 * defragment every member one at a time (leader last), check every member is well below the
 * quota, disarm the alarm, verify a write.
 */
export const noSpaceRemedies: RemedyBuilder = (context, findings) => {
  const alarms = findings.filter(
    (finding) => finding.check === 'Alarms' && finding.reason === 'NoSpaceAlarm',
  );
  if (alarms.length === 0) return [];
  const raisers = alarms.map((finding) => raisedFor(finding.target)).join(', ');
  return [
    {
      type: 'RecoverFromNoSpace',
      severity: 'Critical',
      target: CLUSTER_TARGET,
      reason: 'NoSpaceAlarm',
      message:
        `A NOSPACE alarm is active (raised for ${raisers}): the cluster accepts only reads and deletes. Recover in this order: get the current revision, compact to it, defragment every member one at a time with the leader last, check that every member is well below the quota, disarm the alarm, and verify that a write succeeds. Compaction alone frees no space: etcd compares the physical DB size with the quota, and the alarm never clears by itself.` +
        automationHint(context, 'runs this recovery'),
      commands: noSpaceCommands(context),
    },
  ];
};

function noSpaceCommands(context: RemedyContext): string[] | undefined {
  const { view, style } = context;
  const defragOrder = defragmentationOrder(view);
  const first = defragOrder[0];
  if (first === undefined) return undefined;
  const verifyKey = 'etcd-health-operator/verify-write';
  return commandList(
    `rev=$(${etcdctlOn(style, first, 'endpoint status -w json')} | grep -Eo '"revision":[0-9]+' | grep -Eo '[0-9]+' | head -1)`,
    etcdctlOn(style, first, 'compact $rev'),
    ...defragOrder.map((member) => etcdctlOn(style, member, '--command-timeout=60s defrag')),
    etcdctlCluster(style, 'endpoint status -w table'),
    etcdctlCluster(style, 'alarm disarm'),
    etcdctlCluster(style, `put ${verifyKey} ok`),
    etcdctlCluster(style, `del ${verifyKey}`),
    etcdctlCluster(style, 'alarm list'),
  );
}

/** Started voting members (learners reject Defragment), the leader last. */
function defragmentationOrder(view: ClusterView): MemberView[] {
  const candidates = view.voting.filter((member) => member.clientURL !== '');
  const isLeader = (member: MemberView) => member.id !== '' && member.id === view.leader.id;
  return [...candidates.filter((member) => !isLeader(member)), ...candidates.filter(isLeader)];
}

export const corruptRemedies: RemedyBuilder = (context, findings) => {
  const alarms = findings.filter(
    (finding) => finding.check === 'Alarms' && finding.reason === 'CorruptAlarm',
  );
  if (alarms.length === 0) return [];
  const { style } = context;
  return [
    {
      type: 'RestoreFromBackup',
      severity: 'Critical',
      target: CLUSTER_TARGET,
      reason: 'CorruptAlarm',
      message: `A CORRUPT alarm is active (raised for ${alarms.map((finding) => raisedFor(finding.target)).join(', ')}): etcd found inconsistent data between members. Stop now: pause every automation that writes to or maintains etcd (spec.remediation.paused: true on this resource, backup and defrag jobs), do not compact, defragment or disarm, and restore the cluster from a known good backup with your platform's disaster-recovery procedure (OpenShift: "Restoring to a previous cluster state"). The commands below only read, to identify the diverging member.`,
      commands: commandList(
        etcdctlCluster(style, 'alarm list'),
        etcdctlCluster(style, 'endpoint status -w table'),
        etcdctlCluster(style, 'endpoint hashkv -w table'),
      ),
    },
  ];
};
