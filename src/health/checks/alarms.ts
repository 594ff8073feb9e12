// etcd alarms. NOSPACE: a member reached the quota and the whole cluster accepts only reads and
// deletes until an operator disarms it (the alarm never clears itself). CORRUPT: etcd found its data
// corrupt; nothing should touch the cluster but a restore from backup.
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import type { AlarmType } from '../observation.js';

export function checkAlarms(view: ClusterView): Finding[] {
  const { alarms, alarmsKnown } = view.observation.etcd;
  if (!alarmsKnown)
    return [noData('Alarms', CLUSTER_TARGET, 'Alarms are not checked: the alarm list could not be read')];
  const seen = new Set<string>();
  const findings = [...alarms]
    .sort(
      (a, b) =>
        alarmRank(a.alarm) - alarmRank(b.alarm) ||
        (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0),
    )
    .filter((alarm) => {
      const key = `${alarm.alarm}/${alarm.memberId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((alarm): Finding => {
      const who = raiserName(view, alarm.memberId);
      return alarm.alarm === 'CORRUPT'
        ? {
            check: 'Alarms',
            severity: 'Critical',
            target: who,
            reason: 'CorruptAlarm',
            message: `CORRUPT alarm raised for ${raisedFor(who)}: etcd detected data corruption; stop all automation and restore from a backup`,
          }
        : {
            check: 'Alarms',
            severity: 'Critical',
            target: who,
            reason: 'NoSpaceAlarm',
            message: `NOSPACE alarm raised for ${raisedFor(who)}: the DB reached its quota and the cluster accepts only reads and deletes until the alarm is disarmed`,
          };
    });
  if (findings.length > 0) return findings;
  return [
    {
      check: 'Alarms',
      severity: 'OK',
      target: CLUSTER_TARGET,
      reason: 'AsExpected',
      message: 'No alarms are active',
    },
  ];
}

export function activeAlarms(view: ClusterView): Set<AlarmType> {
  return new Set(
    view.observation.etcd.alarmsKnown ? view.observation.etcd.alarms.map((alarm) => alarm.alarm) : [],
  );
}

function alarmRank(alarm: AlarmType): number {
  return alarm === 'CORRUPT' ? 0 : 1;
}

/** Member ID 0 in an alarm means "all members". */
function raiserName(view: ClusterView, memberId: string): string {
  if (memberId === '0' || memberId === '') return CLUSTER_TARGET;
  return view.members.find((member) => member.id === memberId)?.name ?? `member-${memberId}`;
}

/** "all members" for an alarm that names no member. */
export function raisedFor(target: string): string {
  return target === CLUSTER_TARGET ? 'all members' : target;
}
