// Control-plane nodes: CPU above 80% and any swap in use (field guide steps 7-8). Judged only when
// node-exporter metrics exist; without them the check says so instead of claiming health.
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, noData, type Finding } from '../findings.js';
import { finite, missingWhy } from '../metrics.js';
import type { NodeMetrics } from '../observation.js';
import { formatBytes } from '../../api/v1alpha1/units.js';
import { formatPercent } from '../text.js';

export function checkControlPlaneNodes(view: ClusterView): Finding[] {
  if (!view.metricsSource.usable) {
    return [
      noData(
        'ControlPlaneNodes',
        CLUSTER_TARGET,
        `Control-plane nodes are not checked: ${view.metricsSource.why}`,
      ),
    ];
  }
  const nodes = [...(view.observation.metrics.nodes ?? [])].sort((a, b) =>
    a.node < b.node ? -1 : a.node > b.node ? 1 : 0,
  );
  if (nodes.length === 0) {
    return [
      {
        check: 'ControlPlaneNodes',
        severity: 'Info',
        target: CLUSTER_TARGET,
        reason: 'NoNodeMetrics',
        message:
          'Prometheus has no node-exporter metrics for the control-plane nodes, so their CPU and swap are not checked',
      },
    ];
  }
  return nodes.flatMap((node) => [
    cpuFinding(view, node),
    ...(view.limits.warnOnSwap ? [swapFinding(node)] : []),
  ]);
}

function cpuFinding(view: ClusterView, node: NodeMetrics): Finding {
  const base = { check: 'ControlPlaneNodes' as const, target: node.node };
  const cpu = finite(node.cpuPercent);
  const limit = view.limits.nodeCpuPercent;
  if (cpu === undefined)
    return noData(
      base.check,
      base.target,
      `CPU use of node ${node.node} is not checked: the value is ${missingWhy(node.cpuPercent)}`,
    );
  if (cpu >= limit) {
    return {
      ...base,
      severity: 'Warning',
      reason: 'HighCPU',
      message: `CPU use of node ${node.node} is ${formatPercent(cpu)}, at or above the ${formatPercent(limit)} warning threshold`,
      value: cpu,
      threshold: limit,
    };
  }
  return {
    ...base,
    severity: 'OK',
    reason: 'AsExpected',
    message: `CPU use of node ${node.node} is ${formatPercent(cpu)}`,
    value: cpu,
    threshold: limit,
  };
}

function swapFinding(node: NodeMetrics): Finding {
  const base = { check: 'ControlPlaneNodes' as const, target: node.node };
  const swap = finite(node.swapUsedBytes);
  if (swap === undefined)
    return noData(
      base.check,
      base.target,
      `Swap use of node ${node.node} is not checked: the value is ${missingWhy(node.swapUsedBytes)}`,
    );
  if (swap > 0) {
    return {
      ...base,
      severity: 'Warning',
      reason: 'SwapInUse',
      message: `Node ${node.node} uses ${formatBytes(swap)} of swap; swapping stalls etcd's disk and heartbeats`,
      value: swap,
      threshold: 0,
    };
  }
  return {
    ...base,
    severity: 'OK',
    reason: 'AsExpected',
    message: `Node ${node.node} uses no swap`,
    value: 0,
    threshold: 0,
  };
}
