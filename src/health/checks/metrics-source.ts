// Whether Prometheus (or, in the CLI, the members' own /metrics) answered, and whether its series
// match the member list. Feeds the MetricsSourceReachable condition only: never a union.
import { isDown, type ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, type Finding } from '../findings.js';
import { listing } from '../text.js';

export function checkMetricsSource(view: ClusterView): Finding[] {
  const source = view.observation.metrics.source;
  const detail = source.message ? `: ${source.message}` : '';
  const base = { check: 'MetricsSource' as const, target: CLUSTER_TARGET };
  const explained = source.state === 'Partial' ? downMembersOnly(view) : undefined;
  // Two samples of the members' own /metrics stand in for Prometheus in the CLI: say which.
  const sampled = view.observation.metrics.sampledOverSeconds !== undefined;
  const who = sampled ? "The members' /metrics" : 'Prometheus';
  const state: Finding =
    source.state === 'OK'
      ? {
          ...base,
          severity: 'OK',
          reason: 'MetricsAvailable',
          message: sampled
            ? "Every member's /metrics answered both samples"
            : 'Prometheus answered every query',
        }
      : explained !== undefined
        ? {
            ...base,
            severity: 'OK',
            reason: 'MetricsAvailable',
            message: `${who} answered for every running member; ${listing(explained)} ${explained.length === 1 ? 'is down, which explains its' : 'are down, which explains their'} missing series`,
          }
        : source.state === 'Partial'
          ? {
              ...base,
              severity: 'Warning',
              reason: 'PartialResults',
              message: sampled
                ? `The members' /metrics answered in part only${detail}`
                : `Prometheus answered some queries only${detail}`,
            }
          : source.state === 'Error' && view.observation.metrics.etcdSeriesAbsent
            ? {
                ...base,
                severity: 'Warning',
                reason: 'NoEtcdSeries',
                message: `${who} answered but has no etcd series${detail}`,
              }
            : source.state === 'Error'
              ? {
                  ...base,
                  severity: 'Warning',
                  reason: 'QueryFailed',
                  message: `${who} did not answer${detail}`,
                }
              : {
                  ...base,
                  severity: 'Info',
                  reason: 'NotConfigured',
                  message:
                    'Prometheus is not configured (spec.prometheus is not set); metric-based checks report Unknown',
                };
  return [state, ...unknownMemberSeries(view)];
}

/** The down members the source is Partial for, when they alone make it Partial: no fault of the source. */
function downMembersOnly(view: ClusterView): string[] | undefined {
  const partial = view.observation.metrics.partialMembers ?? [];
  const down = view.members.filter((member) => partial.includes(member.id) && isDown(member));
  return partial.length > 0 && down.length === partial.length ? down.map((member) => member.name) : undefined;
}

/**
 * Series for member IDs that are not in the member list come from removed members or from label
 * matchers that also select another cluster; they are ignored. Only judged when the member list
 * came from etcd: otherwise an unreachable member's ID is simply unknown.
 */
function unknownMemberSeries(view: ClusterView): Finding[] {
  if (!view.metricsSource.usable || !view.observation.etcd.memberListKnown) return [];
  const known = new Set(view.members.map((member) => member.id));
  const unknown = Object.keys(view.observation.metrics.members)
    .filter((id) => !known.has(id))
    .sort();
  if (unknown.length === 0) return [];
  return [
    {
      check: 'MetricsSource',
      severity: 'Info',
      target: CLUSTER_TARGET,
      reason: 'UnknownMemberSeries',
      message: `Prometheus has series for member ID ${listing(unknown)}, not in the member list: ignored (a removed member, or spec.prometheus.labelMatchers also select another cluster)`,
    },
  ];
}
