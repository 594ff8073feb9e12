// Request symptoms, API churn and control-plane node resources.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember } from '../cluster.js';
import { etcdctlCluster, etcdctlOn, etcdLogs, nodeOf, onHost, onHostOf } from '../commands.js';
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

// What to do about each reason of the node check, and what to look at on the node.
const NODE_HINTS: Record<string, { advice: string; commands: (dataDir: string) => string[] }> = {
  SlowDiskWrites: {
    advice:
      "etcd fsyncs every write: find what else writes to this disk, or move etcd's data dir to a dedicated SSD/NVMe.",
    commands: () => ['iostat -xm 5 3'],
  },
  DiskSaturated: {
    advice:
      "The data dir's disk is busy nearly all the time: find the other writers (iotop) or give etcd its own disk.",
    commands: () => ['iostat -xm 5 3', 'iotop -b -o -n 3'],
  },
  LowDiskSpace: {
    advice:
      'etcd stops when its filesystem is full: free space (old snapshots, logs, images) or grow the filesystem before it fills.',
    commands: (dataDir) => [`df -h ${dataDir}`, `du -xh --max-depth=1 ${dataDir}`],
  },
  SwapInUse: {
    advice: 'Disable swap on control-plane nodes or find what exhausts their memory.',
    commands: () => ['swapon --show', 'free -m'],
  },
  LowMemory: {
    advice: 'Find the processes that use the memory and move them off the control plane, or add memory.',
    commands: () => ['free -m', 'top -b -n 1 -o %MEM | head -20'],
  },
  HighCPU: {
    advice:
      'A starved etcd misses heartbeats and applies slowly: find the processes that use the CPU and move them off the control plane or add CPU.',
    commands: () => ['top -b -n 1 -o %CPU | head -20'],
  },
};

export const nodeRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['ControlPlaneNodes']).flatMap((finding): Recommendation[] => {
    const member = findMember(context.view, finding.target);
    const hint = NODE_HINTS[finding.reason];
    if (member === undefined || hint === undefined) return [];
    const dataDir = context.view.spec.prometheus?.nodeExporter.dataDirMountpoint ?? '/var/lib/etcd';
    const node = nodeOf(context.style, member);
    return [
      {
        type: 'InvestigateNodeResources',
        severity: severityOf(finding),
        target: finding.target,
        reason: finding.reason,
        message: `${sentence(finding.message)} ${hint.advice}${onHostOf(node, `member ${member.name}`)}`,
        commands: hint.commands(dataDir).map((command) => onHost(context.style, node, command)),
      },
    ];
  });
