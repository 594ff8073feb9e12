// Packet loss between members (field guide step 9), beside the round trip: sends to peers that
// failed (etcd_network_peer_sent_failures_total) and heartbeats the leader failed to send
// (etcd_server_heartbeat_send_failures_total). Any failure over the rate window warns: etcd
// retries nothing it failed to send to a peer, and a missed heartbeat is how elections start (the
// etcd docs' "failed to send out heartbeat on time" is this counter). A member that is down makes
// the others' sends to it fail: that is explained by it, an Info, not a network fault.
import { isDown, type ClusterView } from '../cluster.js';
import { noData, type Finding } from '../findings.js';
import { finite, missingWhy } from '../metrics.js';
import { formatRate, listing } from '../text.js';
import { perMemberMetricCheck } from './per-member.js';

export function checkPeerFailures(view: ClusterView): Finding[] {
  // A single member has no peers: the round-trip check says so once, for the whole condition.
  if (view.members.length === 1) return [];
  const down = view.members.filter(isDown).map((member) => member.name);
  return perMemberMetricCheck(view, 'PeerFailures', 'failed sends to peers', (member, metrics): Finding => {
    const base = { check: 'PeerFailures' as const, target: member.name };
    const sent = finite(metrics.peerSentFailuresRate);
    const heartbeats = finite(metrics.heartbeatSendFailuresRate);
    const failures = [
      ...(sent !== undefined && sent > 0 ? [`${formatRate(sent)} failed sends to peers`] : []),
      ...(heartbeats !== undefined && heartbeats > 0 ? [`${formatRate(heartbeats)} failed heartbeats`] : []),
    ];
    if (failures.length === 0) {
      if (sent === undefined || heartbeats === undefined) {
        const [which, raw] =
          sent === undefined
            ? ['failed sends to peers', metrics.peerSentFailuresRate]
            : ['failed heartbeats', metrics.heartbeatSendFailuresRate];
        return noData(
          base.check,
          base.target,
          `Failed sends to peers on ${member.name} are not checked: the rate of ${which} is ${missingWhy(raw)}`,
        );
      }
      return {
        ...base,
        severity: 'OK',
        reason: 'AsExpected',
        message: `No failed sends to peers and no failed heartbeats on ${member.name}`,
        value: 0,
        threshold: 0,
      };
    }
    const value = (sent ?? 0) + (heartbeats ?? 0);
    const others = down.filter((name) => name !== member.name);
    if (others.length > 0) {
      return {
        ...base,
        severity: 'Info',
        reason: 'PeerDown',
        message: `${member.name} has ${listing(failures)}, explained by ${listing(others)} being down`,
        value,
        threshold: 0,
      };
    }
    return {
      ...base,
      severity: 'Warning',
      reason: sent !== undefined && sent > 0 ? 'PeerSendFailures' : 'HeartbeatSendFailures',
      message: `${member.name} has ${listing(failures)}, above 0: packets between members are lost or a peer is too slow to take them`,
      value,
      threshold: 0,
    };
  });
}
