// Peer round-trip p99 per member. Defaults 50ms/150ms: the etcd mixin's etcdMemberCommunicationSlow fires above 150ms.
import type { ClusterView } from '../cluster.js';
import { CLUSTER_TARGET, type Finding } from '../findings.js';
import { runLatencyCheck } from './latency.js';

export function checkPeerRoundTrip(view: ClusterView): Finding[] {
  if (view.members.length === 1) {
    return [
      {
        check: 'PeerRoundTrip',
        severity: 'OK',
        target: CLUSTER_TARGET,
        reason: 'NoPeers',
        message: 'A single-member cluster has no peers, so peer round trip is not measured',
      },
    ];
  }
  return runLatencyCheck(view, {
    check: 'PeerRoundTrip',
    label: 'peer round trip p99',
    metric: 'peerRoundTripP99',
    slowReason: 'SlowPeerRoundTrip',
    band: (v) => v.limits.peerRoundTripSeconds,
  });
}
