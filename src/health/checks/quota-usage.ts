// Physical DB size / backend quota per member, in OpenShift's tiers (info 65%, warning 75%,
// critical 85%; cluster-etcd-operator etcdDatabaseQuotaLowSpace). etcd admits a write only while
// the physical size stays below the quota, so in-use size would understate the pressure.
import { isDown, type ClusterView, type MemberView } from '../cluster.js';
import { noData, type Finding } from '../findings.js';
import { physicalSize, quotaBytes } from '../sizes.js';
import { formatBytes } from '../../api/v1alpha1/units.js';
import { formatPercent } from '../text.js';
import { startedMembers } from './per-member.js';

export function quotaUsagePercent(member: MemberView): number | undefined {
  const size = physicalSize(member);
  const quota = quotaBytes(member);
  // Multiplying first keeps a usage that sits exactly on a tier exact.
  return size !== undefined && quota !== undefined ? (size.bytes * 100) / quota : undefined;
}

export function checkQuotaUsage(view: ClusterView): Finding[] {
  const tiers = view.limits.quotaPercent;
  return startedMembers(view).flatMap((member): Finding[] => {
    const percent = quotaUsagePercent(member);
    if (percent === undefined) {
      if (isDown(member) && physicalSize(member) === undefined) return [];
      return [noData('QuotaUsage', member.name, quotaUnknownMessage(view, member))];
    }
    const size = formatBytes(physicalSize(member)!.bytes);
    const quota = formatBytes(quotaBytes(member)!);
    const subject = `DB of ${member.name} uses ${formatPercent(percent)} of its quota (${size} of ${quota})`;
    const base = { check: 'QuotaUsage' as const, target: member.name, value: percent };
    const tier =
      percent >= tiers.critical
        ? ({ severity: 'Critical', threshold: tiers.critical, name: 'critical' } as const)
        : percent >= tiers.warning
          ? ({ severity: 'Warning', threshold: tiers.warning, name: 'warning' } as const)
          : percent >= tiers.info
            ? ({ severity: 'Info', threshold: tiers.info, name: 'info' } as const)
            : undefined;
    if (tier === undefined) {
      return [
        {
          ...base,
          severity: 'OK',
          reason: 'AsExpected',
          message: `${subject}, below the ${formatPercent(tiers.info)} info threshold`,
          threshold: tiers.info,
        },
      ];
    }
    return [
      {
        ...base,
        severity: tier.severity,
        reason: 'QuotaPressure',
        message: `${subject}, at or above the ${formatPercent(tier.threshold)} ${tier.name} threshold`,
        threshold: tier.threshold,
      },
    ];
  });
}

function quotaUnknownMessage(view: ClusterView, member: MemberView): string {
  if (physicalSize(member) === undefined)
    return `Quota use of ${member.name} is unknown: its DB size is unknown`;
  const metricsNote = view.metricsSource.usable
    ? 'Prometheus has no fresh etcd_server_quota_backend_bytes for it'
    : view.metricsSource.why;
  return `Quota use of ${member.name} is unknown: Status did not report the quota (etcd before 3.6 has none there), and ${metricsNote}`;
}
