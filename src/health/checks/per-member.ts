// The frame shared by per-member metric checks: no usable Prometheus means one cluster-wide NoData
// finding; a member without fresh metrics, or without a value, is NoData, unless it is down (the
// quorum check already reports it, and a dead member has no metrics to give).
import { isDown, type ClusterView, type MemberView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type CheckName, type Finding } from '../findings.js';
import type { MemberMetrics } from '../observation.js';
import { capitalize } from '../text.js';

export function perMemberMetricCheck(
  view: ClusterView,
  check: CheckName,
  label: string,
  evaluate: (member: MemberView, metrics: MemberMetrics) => Finding,
): Finding[] {
  if (!view.metricsSource.usable) {
    return [noData(check, CLUSTER_TARGET, `${capitalize(label)} is not checked: ${view.metricsSource.why}`)];
  }
  return view.members.flatMap((member) => {
    if (member.state === 'NotStarted') return [];
    if (member.metrics.kind === 'fresh') {
      const finding = evaluate(member, member.metrics.metrics);
      // Series a down member stopped feeding are explained by it being down (its last scrape can
      // still be fresh): no data is no news there.
      return isDown(member) && finding.reason === 'NoData' ? [] : [finding];
    }
    if (isDown(member)) return [];
    return [
      noData(
        check,
        member.name,
        `${capitalize(label)} of ${member.name} is not checked: ${member.metrics.why}`,
      ),
    ];
  });
}

/** Members whose etcd-side data (Status) a check may judge: started ones; down ones without data are skipped. */
export function startedMembers(view: ClusterView): MemberView[] {
  return view.members.filter((member) => member.state !== 'NotStarted');
}
