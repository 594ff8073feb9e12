// Physical DB size per member (field guide: < 4 GB good, 4-8 GB watch, > 8 GB investigate). Read
// from Maintenance.Status, so it is judged even without Prometheus.
import { isDown, type ClusterView } from '../cluster.js';
import { noData, type Finding } from '../findings.js';
import { levelAtOrAbove } from '../limits.js';
import { physicalSize } from '../sizes.js';
import { formatBytes } from '../../api/v1alpha1/units.js';
import { startedMembers } from './per-member.js';

export function checkDatabaseSize(view: ClusterView): Finding[] {
  const band = view.limits.databaseSizeBytes;
  return startedMembers(view).flatMap((member): Finding[] => {
    const size = physicalSize(member);
    if (size === undefined) {
      return isDown(member)
        ? []
        : [
            noData(
              'DatabaseSize',
              member.name,
              `DB size of ${member.name} is unknown: it answered no Status and has no fresh metrics`,
            ),
          ];
    }
    const level = levelAtOrAbove(size.bytes, band);
    const base = { check: 'DatabaseSize' as const, target: member.name, value: size.bytes };
    if (level === 'OK') {
      return [
        {
          ...base,
          severity: 'OK',
          reason: 'AsExpected',
          message: `DB size of ${member.name} is ${formatBytes(size.bytes)}, below the ${formatBytes(band.warning)} warning threshold`,
          threshold: band.warning,
        },
      ];
    }
    const threshold = level === 'Critical' ? band.critical : band.warning;
    return [
      {
        ...base,
        severity: level,
        reason: 'LargeDatabase',
        message: `DB size of ${member.name} is ${formatBytes(size.bytes)}, at or above the ${formatBytes(threshold)} ${level.toLowerCase()} threshold`,
        threshold,
      },
    ];
  });
}
