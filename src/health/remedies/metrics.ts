// The metrics source itself.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { CLUSTER_TARGET } from '../findings.js';
import { actionable, commandList, sentence, severityOf, type RemedyBuilder } from './context.js';

export const metricsSourceRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['MetricsSource']).map((finding): Recommendation => {
    const prometheus = context.view.spec.prometheus;
    const base = (type: string) => ({
      type,
      severity: severityOf(finding),
      target: CLUSTER_TARGET,
      reason: finding.reason,
    });
    switch (finding.reason) {
      case 'NotConfigured':
        return {
          ...base('ConfigureMetrics'),
          message:
            'Disk latency, leader changes, network, request, growth, API churn and node checks need metrics: set spec.prometheus.url to a Prometheus or Thanos querier that scrapes etcd.',
        };
      case 'UnknownMemberSeries':
        return {
          ...base('CheckMetricsLabels'),
          message: `${sentence(finding.message)} Narrow spec.prometheus.labelMatchers to this cluster's etcd job if the IDs belong to another cluster.`,
        };
      default: {
        const matchers = prometheus?.labelMatchers.join(',') ?? '';
        const url = prometheus?.url.replace(/\/+$/, '');
        return {
          ...base('FixMetricsSource'),
          message:
            finding.reason === 'NoEtcdSeries'
              ? // A Prometheus restarted without its data has them again a scrape or two later.
                `${sentence(finding.message)} Until it holds etcd series, the checks that need them report Unknown. If this lasts beyond a few scrape intervals, check that Prometheus scrapes etcd and that spec.prometheus.labelMatchers select its series.`
              : `${sentence(finding.message)} Until every query answers, the checks that need them report Unknown. Check the URL, the token and CA references, and that Prometheus scrapes etcd.`,
          commands: commandList(
            url === undefined
              ? undefined
              : `curl -sG -H "Authorization: Bearer $TOKEN" '${url}/api/v1/query' --data-urlencode 'query=up{${matchers}}'`,
          ),
        };
      }
    }
  });
