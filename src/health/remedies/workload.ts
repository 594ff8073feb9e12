// Request symptoms, API churn and control-plane node resources.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember } from '../cluster.js';
import { etcdctlOn, etcdLogs, onHost } from '../commands.js';
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

export const nodeRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['ControlPlaneNodes'])
    .filter((finding) => finding.target !== CLUSTER_TARGET)
    .map((finding): Recommendation => {
      const { style } = context;
      const swap = finding.reason === 'SwapInUse';
      return {
        type: 'InvestigateNodeResources',
        severity: severityOf(finding),
        target: finding.target,
        reason: finding.reason,
        message:
          sentence(finding.message) +
          (swap
            ? ' Disable swap on control-plane nodes or find what exhausts their memory.'
            : ' A starved etcd misses heartbeats and applies slowly: find the processes that use the CPU and move them off the control plane or add CPU.'),
        commands: swap
          ? commandList(
              onHost(style, finding.target, 'swapon --show'),
              onHost(style, finding.target, 'free -m'),
            )
          : commandList(
              `${style.kubectl} top node ${finding.target}`,
              `${onHost(style, finding.target, 'top -b -n 1 -o %CPU')} | head -20`,
            ),
      };
    });
