// Request symptoms, API churn and control-plane node resources.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember } from '../cluster.js';
import { etcdctlCluster, etcdctlOn, etcdLogs, onHost, onHostOf } from '../commands.js';
import { CLUSTER_TARGET } from '../findings.js';
import { actionable, commandList, mostSevere, sentence, severityOf, type RemedyBuilder } from './context.js';

const REQUEST_HINTS: Record<string, { advice: string; logPattern: string }> = {
  ProposalsFailing: {
    advice: 'Look at leader changes and member health first.',
    logPattern: 'lost leader|elected leader|request timed out',
  },
  SlowApplies: {
    advice: 'Look at the disk latency and CPU of this member first.',
    logPattern: 'apply request took too long',
  },
  SlowReadIndexes: {
    advice: "Look at the leader's load and the network to it.",
    logPattern: 'waiting for ReadIndex response took too long',
  },
  SlowGRPCRequests: {
    advice:
      'Look at which methods are slow: large range requests (lists without a limit), a slow disk or an overloaded member.',
    logPattern: 'apply request took too long|slow',
  },
  FailedGRPCRequests: {
    advice:
      'Look at which methods fail and with which codes; Unavailable and DeadlineExceeded usually mean an overloaded or leaderless member.',
    logPattern: 'error|failed',
  },
};

export const requestRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, [
    'ProposalsFailed',
    'SlowApplies',
    'SlowReadIndexes',
    'GrpcFailures',
    'GrpcLatency',
  ]).map((finding): Recommendation => {
    const member = findMember(context.view, finding.target);
    const hint = REQUEST_HINTS[finding.reason];
    return {
      type: 'InvestigateRequests',
      severity: severityOf(finding),
      target: finding.target,
      reason: finding.reason,
      message: `${sentence(finding.message)}${hint ? ` ${hint.advice}` : ''}`,
      commands:
        member === undefined || member.clientURL === ''
          ? undefined
          : commandList(
              etcdctlOn(context.style, member, 'endpoint status -w table'),
              hint ? etcdLogs(context.style, member, hint.logPattern) : undefined,
            ),
    };
  });

export const churnRemedies: RemedyBuilder = (context, findings) => {
  // Without kube-apiserver metrics the check does not apply: nothing to investigate.
  const churn = actionable(findings, ['APIChurn']).filter(
    (finding) => finding.reason !== 'NoAPIServerMetrics',
  );
  if (churn.length === 0) return [];
  const { style, view } = context;
  const prometheus = view.spec.prometheus?.url.replace(/\/+$/, '');
  const topQuery =
    'topk(10, sum by (resource, verb) (rate(apiserver_request_total{verb=~"POST|PUT|PATCH|DELETE|APPLY"}[5m])))';
  return [
    {
      type: 'InvestigateAPIChurn',
      severity: mostSevere(churn.map(severityOf)),
      target: CLUSTER_TARGET,
      reason: churn[0]!.reason,
      message:
        churn.map((finding) => sentence(finding.message)).join(' ') +
        ' Every mutating request is an etcd write: find the client (controller, operator, CI job) that floods the API server with the resource and verb above, and slow it down or fix its loop.',
      commands: commandList(
        prometheus === undefined
          ? undefined
          : `curl -sG -H "Authorization: Bearer $TOKEN" '${prometheus}/api/v1/query' --data-urlencode 'query=${topQuery}'`,
        `${style.kubectl} get --raw /metrics | grep -E '^apiserver_current_inflight_requests'`,
      ),
    },
  ];
};

const LATENCY_ADVICE: Readonly<Record<string, string>> = {
  EtcdIsTheBottleneck:
    ' Fix etcd first: the members named above need faster disks (or less I/O beside them); API latency follows.',
  SlowAPIRequestsNotEtcd:
    ' Look at the stages before etcd: slow admission webhooks, requests queued by API Priority and Fairness, or an API server short of CPU.',
  SlowAPIRequests:
    ' Scrape the kube-apiserver (etcd_request_duration_seconds) and the etcd members with the same Prometheus to tell whether etcd is the cause.',
};

export const apiLatencyRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['APILatency'])
    .filter((finding) => finding.reason !== 'NoAPIServerMetrics')
    .map((finding): Recommendation => {
      const { kubectl } = context.style;
      const etcd = finding.reason === 'EtcdIsTheBottleneck';
      return {
        type: 'InvestigateAPILatency',
        severity: severityOf(finding),
        target: CLUSTER_TARGET,
        reason: finding.reason,
        message: sentence(finding.message) + (LATENCY_ADVICE[finding.reason] ?? ''),
        commands: etcd
          ? commandList(
              `${kubectl} get --raw /metrics | grep -E '^etcd_request_duration_seconds_(sum|count)'`,
              etcdctlCluster(context.style, 'endpoint status -w table'),
            )
          : [
              `${kubectl} get --raw /metrics | grep -E '^apiserver_admission_webhook_admission_duration_seconds_(sum|count)'`,
              `${kubectl} get --raw /debug/api_priority_and_fairness/dump_priority_levels`,
              `${kubectl} get --raw /metrics | grep -E '^etcd_request_duration_seconds_(sum|count)'`,
            ],
      };
    });

export const nodeRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['ControlPlaneNodes'])
    .filter((finding) => finding.target !== CLUSTER_TARGET)
    .map((finding): Recommendation => {
      const { style } = context;
      const swap = finding.reason === 'SwapInUse';
      const { host, name } = scrapedNode(finding.target);
      // ssh reaches the address Prometheus scrapes node-exporter at: that is the node itself. oc
      // debug and kubectl top need the node's name, which an address is not.
      const node = style.openshift ? name : host;
      return {
        type: 'InvestigateNodeResources',
        severity: severityOf(finding),
        target: finding.target,
        reason: finding.reason,
        message:
          sentence(finding.message) +
          (swap
            ? ' Disable swap on control-plane nodes or find what exhausts their memory.'
            : ' A starved etcd misses heartbeats and applies slowly: find the processes that use the CPU and move them off the control plane or add CPU.') +
          onHostOf(node, `node ${finding.target}`),
        commands: swap
          ? commandList(onHost(style, node, 'swapon --show'), onHost(style, node, 'free -m'))
          : commandList(
              name === undefined ? undefined : `${style.kubectl} top node ${name}`,
              `${onHost(style, node, 'top -b -n 1 -o %CPU')} | head -20`,
            ),
      };
    });

/**
 * The node behind node-exporter's instance label ("10.0.0.5:9100", "[fd00::5]:9100", "master-0"):
 * its host without the port, and that host as a node name unless it is an IP address.
 */
function scrapedNode(instance: string): { host: string; name?: string } {
  const host = /^\[(.+)\](:\d+)?$/.exec(instance)?.[1] ?? instance.replace(/:\d+$/, '');
  const address = host.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(host);
  return address ? { host } : { host, name: host };
}
