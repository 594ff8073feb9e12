// Fragmentation: (dbSize - inUse) / dbSize >= 45% on a DB of at least 100 MiB recommends a defrag
// (cluster-etcd-operator defragcontroller: maxFragmentedPercentage 45, minDefragBytes 100MB).
// Learners are skipped: they reject the Defragment call.
import { isDown, type ClusterView } from '../cluster.js';
import { noData, type Finding } from '../findings.js';
import { fragmentationPercent, physicalSize, sizePair } from '../sizes.js';
import { formatBytes } from '../../api/v1alpha1/units.js';
import { formatPercent } from '../text.js';
import { startedMembers } from './per-member.js';

export function checkFragmentation(view: ClusterView): Finding[] {
  const { percent: threshold, minDatabaseBytes } = view.limits.fragmentation;
  return startedMembers(view)
    .filter((member) => !member.learner)
    .flatMap((member): Finding[] => {
      const base = { check: 'Fragmentation' as const, target: member.name };
      const size = physicalSize(member);
      if (size !== undefined && size.bytes < minDatabaseBytes) {
        return [
          {
            ...base,
            severity: 'OK',
            reason: 'BelowMinimumSize',
            message: `DB of ${member.name} is ${formatBytes(size.bytes)}, below the ${formatBytes(minDatabaseBytes)} at which fragmentation matters`,
            value: size.bytes,
            threshold: minDatabaseBytes,
          },
        ];
      }
      const pair = sizePair(member);
      if (pair === undefined) {
        if (size === undefined && isDown(member)) return [];
        return [
          noData(
            base.check,
            member.name,
            `Fragmentation of ${member.name} is not checked: its in-use DB size is unknown (etcd < 3.4 and no fresh metrics)`,
          ),
        ];
      }
      const fragmented = fragmentationPercent(pair);
      if (fragmented === undefined) {
        return [
          {
            ...base,
            severity: 'Unknown',
            reason: 'InconsistentSizes',
            message: `Fragmentation of ${member.name} is not judged: it reports ${formatBytes(pair.inUse)} in use of a ${formatBytes(pair.dbSize)} DB, which cannot be`,
          },
        ];
      }
      const evidence = `DB of ${member.name} is ${formatBytes(pair.dbSize)} with ${formatBytes(pair.inUse)} in use: ${formatPercent(fragmented)} fragmented`;
      if (fragmented >= threshold && pair.dbSize >= minDatabaseBytes) {
        return [
          {
            ...base,
            severity: 'Info',
            reason: 'HighFragmentation',
            message: `${evidence}, at or above ${formatPercent(threshold)} on a DB of at least ${formatBytes(minDatabaseBytes)}`,
            value: fragmented,
            threshold,
          },
        ];
      }
      return [
        {
          ...base,
          severity: 'OK',
          reason: 'AsExpected',
          message: `${evidence}, below ${formatPercent(threshold)}`,
          value: fragmented,
          threshold,
        },
      ];
    });
}
