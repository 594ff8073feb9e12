// The members' own nodes, from node-exporter (field guide steps 6-8): write await, utilisation and
// free space of the disk under the data dir, CPU (iowait included), available memory and swap.
// Nodes that are not a member's are never judged. Without node-exporter the check says so instead
// of claiming health; a member whose node has no series is Unknown, unless the member is down.
import { isDown, type ClusterView, type MemberView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { levelAtOrAbove, levelAtOrBelow, type Band, type Level } from '../limits.js';
import { finite, missingWhy } from '../metrics.js';
import type { NodeMetrics } from '../observation.js';
import { formatBytes, formatSeconds } from '../../api/v1alpha1/units.js';
import { capitalize, formatPercent, hostOf } from '../text.js';

const CHECK = 'ControlPlaneNodes' as const;

export function checkControlPlaneNodes(view: ClusterView): Finding[] {
  if (!view.metricsSource.usable) {
    return [noData(CHECK, CLUSTER_TARGET, `The members' nodes are not checked: ${view.metricsSource.why}`)];
  }
  const nodes = view.observation.metrics.nodes ?? [];
  if (nodes.length === 0) {
    return [
      {
        check: CHECK,
        severity: 'Info',
        target: CLUSTER_TARGET,
        reason: 'NoNodeMetrics',
        message:
          "Prometheus has no node-exporter metrics for the members' nodes, so their disk, CPU, memory and swap are not checked",
      },
    ];
  }
  return view.members.flatMap((member) => {
    if (member.state === 'NotStarted') return [];
    const names = memberNodeNames(member);
    const own = nodes.filter((node) => nodeNames(node).some((name) => names.has(name)));
    // A down member's node may be down too: its missing series are explained by the member.
    if (own.length === 0) {
      return isDown(member)
        ? []
        : [
            noData(
              CHECK,
              member.name,
              `The node of ${member.name} is not checked: no node-exporter series has an instance or node label naming ${[...names].join(', ')}`,
            ),
          ];
    }
    const findings = own.flatMap((node) => judgeNode(view, member, node));
    return isDown(member) ? findings.filter((finding) => finding.reason !== 'NoData') : findings;
  });
}

/** The names a member's node may go by: the member name (OpenShift and kubeadm name members after their node) and the hosts of its URLs. */
export function memberNodeNames(member: MemberView): Set<string> {
  const urls = [member.clientURL, ...member.observation.clientURLs, ...member.observation.peerURLs];
  const hosts = urls.filter((url) => url !== '').map((url) => bare(hostOf(url)));
  return new Set([member.name.toLowerCase(), ...hosts].filter((name) => name !== ''));
}

/** The names node-exporter gives a node: the `node` label, and `instance` without its port. */
export function nodeNames(node: NodeMetrics): string[] {
  return [node.nodeName, instanceHost(node.instance)]
    .filter((name): name is string => name !== undefined && name !== '')
    .map(bare);
}

function instanceHost(instance: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(instance);
  if (bracketed) return bracketed[1]!;
  const hostPort = /^([^:]*):\d+$/.exec(instance);
  return hostPort ? hostPort[1]! : instance;
}

/** Host names compare case-insensitively; IPv6 literals without their brackets. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function displayNode(node: NodeMetrics): string {
  return node.nodeName ?? instanceHost(node.instance);
}

function judgeNode(view: ClusterView, member: MemberView, node: NodeMetrics): Finding[] {
  const limits = view.limits;
  const on = `node ${displayNode(node)} (member ${member.name})`;
  const filesystem =
    node.mountpoint === undefined ? 'the data dir filesystem' : `filesystem ${node.mountpoint}`;
  const device =
    node.device === undefined
      ? 'the disk under the data dir'
      : `disk ${node.device}${node.mountpoint === undefined ? '' : ` (under ${node.mountpoint})`}`;
  const judge = (
    subject: string,
    value: number | undefined,
    verdict: (value: number) => Omit<Finding, 'check' | 'target'>,
  ): Finding => {
    const known = finite(value);
    if (known === undefined) {
      return noData(
        CHECK,
        member.name,
        `${subject} of ${on} is not checked: the value is ${missingWhy(value)}`,
      );
    }
    return { check: CHECK, target: member.name, ...verdict(known) };
  };
  const iowait = finite(node.cpuIowaitPercent);
  return [
    // iostat's await convention (field guide step 6): < 10 ms healthy, > 20 ms a problem, > 50 ms critical.
    judge(`Write await of ${device}`, node.diskWriteAwaitSeconds, (writeAwait) =>
      band(
        `Write await of ${device} on ${on}`,
        writeAwait,
        limits.nodeDiskWriteAwaitSeconds,
        'SlowDiskWrites',
        'high',
        formatSeconds,
      ),
    ),
    judge(`Utilisation of ${device}`, node.diskUtilisationPercent, (busy) =>
      band(
        `Utilisation of ${device} on ${on}`,
        busy,
        { warning: limits.nodeDiskUtilisationPercent, critical: Infinity },
        'DiskSaturated',
        'high',
        formatPercent,
      ),
    ),
    judge(`Free space of ${filesystem}`, node.filesystemAvailablePercent, (free) =>
      band(
        `Free space of ${filesystem} on ${on}`,
        free,
        limits.nodeFilesystemAvailablePercent,
        'LowDiskSpace',
        'low',
        formatPercent,
      ),
    ),
    judge('CPU use', node.cpuPercent, (cpu) =>
      band(
        `CPU use of ${on}${iowait === undefined ? '' : ` (iowait ${formatPercent(iowait)})`}`,
        cpu,
        { warning: limits.nodeCpuPercent, critical: Infinity },
        'HighCPU',
        'high',
        formatPercent,
      ),
    ),
    judge('Available memory', node.memoryAvailablePercent, (available) =>
      band(
        `Available memory of ${on}`,
        available,
        limits.nodeMemoryAvailablePercent,
        'LowMemory',
        'low',
        formatPercent,
      ),
    ),
    ...(limits.warnOnSwap ? [judge('Swap use', node.swapUsedBytes, (swap) => swapVerdict(on, swap))] : []),
  ];
}

/** One value against its band; `low` bands are reached at or below, `high` ones at or above. */
function band(
  subject: string,
  value: number,
  limits: Band,
  reason: string,
  worse: 'high' | 'low',
  format: (value: number) => string,
): Omit<Finding, 'check' | 'target'> {
  const level: Level = worse === 'high' ? levelAtOrAbove(value, limits) : levelAtOrBelow(value, limits);
  const side = worse === 'high' ? 'above' : 'below';
  if (level === 'OK') {
    return {
      severity: 'OK',
      reason: 'AsExpected',
      message: `${subject} is ${format(value)}`,
      value,
      threshold: limits.warning,
    };
  }
  const threshold = level === 'Critical' ? limits.critical : limits.warning;
  return {
    severity: level,
    reason,
    message: `${subject} is ${format(value)}, at or ${side} the ${format(threshold)} ${level.toLowerCase()} threshold`,
    value,
    threshold,
  };
}

function swapVerdict(on: string, swap: number): Omit<Finding, 'check' | 'target'> {
  if (swap > 0) {
    return {
      severity: 'Warning',
      reason: 'SwapInUse',
      message: `${capitalize(on)} uses ${formatBytes(swap)} of swap; swapping stalls etcd's disk and heartbeats`,
      value: swap,
      threshold: 0,
    };
  }
  return {
    severity: 'OK',
    reason: 'AsExpected',
    message: `${capitalize(on)} uses no swap`,
    value: 0,
    threshold: 0,
  };
}
