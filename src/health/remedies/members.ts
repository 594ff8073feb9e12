// Quorum, members, leader elections and the network between members.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { findMember } from '../cluster.js';
import { etcdctlCluster, etcdctlOn, etcdLogs, listEtcdPods, nodeOf, onHost, onHostOf } from '../commands.js';
import { CLUSTER_TARGET } from '../findings.js';
import { hostOf } from '../text.js';
import { actionable, commandList, sentence, severityOf, type RemedyBuilder } from './context.js';

export const quorumRemedies: RemedyBuilder = (context, findings) => {
  const { view, style } = context;
  return actionable(findings, ['Quorum']).flatMap((finding): Recommendation[] => {
    if (finding.target === CLUSTER_TARGET) {
      if (finding.severity === 'Critical') {
        return [
          {
            type: 'RestoreQuorum',
            severity: 'Critical',
            target: CLUSTER_TARGET,
            reason: finding.reason,
            message:
              sentence(finding.message) +
              ' Writes fail until a majority of voting members is healthy again. Start the stopped members or fix what keeps them from each other (disk, network, certificates); if a majority is lost for good, restore the cluster from a backup.',
            commands: commandList(
              listEtcdPods(style),
              etcdctlCluster(style, 'endpoint health -w table'),
              etcdctlCluster(style, 'endpoint status -w table'),
            ),
          },
        ];
      }
      if (finding.reason === 'LeaderDisagreement') {
        return [
          {
            type: 'InvestigateLeaderElection',
            severity: severityOf(finding),
            target: CLUSTER_TARGET,
            reason: finding.reason,
            message: `${sentence(finding.message)} A member that names another leader is usually cut off from the others: check its network and its raft term and index.`,
            commands: commandList(etcdctlCluster(style, 'endpoint status -w table')),
          },
        ];
      }
      // Cluster-wide warnings about members are covered by the per-member recommendations.
      return [];
    }
    const member = findMember(view, finding.target);
    if (member === undefined) return [];
    if (finding.reason === 'MemberIsolated') {
      const peers = view.members.filter((other) => other !== member && other.clientURL !== '');
      const node = nodeOf(style, member);
      return [
        {
          type: 'InvestigateNetwork',
          severity: severityOf(finding),
          target: finding.target,
          reason: finding.reason,
          message: `${sentence(finding.message)} It runs but cannot exchange raft messages with the others: check routes, firewalls and network policies between it and its peers on the peer port. It catches up by itself once the link is back; restarting it does not help.${peers.length > 0 ? onHostOf(node, `member ${finding.target}`) : ''}`,
          commands: commandList(
            etcdctlCluster(style, 'endpoint status -w table'),
            // The peers' own addresses are what its raft traffic goes to.
            ...peers.map((peer) =>
              onHost(
                style,
                node,
                `ping -c 10 ${hostOf(peer.observation.peerURLs[0] ?? peer.clientURL).replace(/^\[(.*)\]$/, '$1')}`,
              ),
            ),
          ),
        },
      ];
    }
    return [
      {
        type: 'InvestigateMember',
        severity: severityOf(finding),
        target: finding.target,
        reason: finding.reason,
        message: `${sentence(finding.message)} Find out why: its process, its logs, its disk and the network to it. While it is down the cluster tolerates fewer failures.`,
        commands:
          member.clientURL === ''
            ? commandList(listEtcdPods(style), etcdctlCluster(style, 'member list -w table'))
            : commandList(
                etcdctlOn(style, member, 'endpoint health'),
                etcdctlOn(style, member, 'endpoint status -w table'),
                etcdLogs(style, member, 'error|warn'),
              ),
      },
    ];
  });
};

export const leaderChangeRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['LeaderChanges']).map((finding): Recommendation => ({
    type: 'InvestigateLeaderElection',
    severity: severityOf(finding),
    target: CLUSTER_TARGET,
    reason: finding.reason,
    message:
      sentence(finding.message) +
      ' Every election pauses writes. Frequent elections come from slow disks (WAL fsync), latency or loss between members, or CPU starvation of a member: see the disk, network and node checks, and check that the heartbeat interval and election timeout suit the round-trip time.',
    commands: commandList(
      etcdctlCluster(context.style, 'endpoint status -w table'),
      ...context.view.members.map((member) => etcdLogs(context.style, member, 'elected leader|lost leader')),
    ),
  }));

export const networkRemedies: RemedyBuilder = (context, findings) =>
  actionable(findings, ['PeerRoundTrip', 'PeerFailures'])
    // Sends to a member that is down fail: that member's own recommendation covers it.
    .filter((finding) => finding.reason !== 'PeerDown')
    .map((finding): Recommendation => {
      const member = findMember(context.view, finding.target);
      const peers = context.view.members.filter((other) => other !== member && other.clientURL !== '');
      const reachable = member !== undefined && member.clientURL !== '';
      const node = reachable ? nodeOf(context.style, member) : undefined;
      return {
        type: 'InvestigateNetwork',
        severity: severityOf(finding),
        target: finding.target,
        reason: finding.reason,
        message:
          sentence(finding.message) +
          ' Slow or lost messages between members delay heartbeats and commits and cause leader elections: check latency and packet loss between the members, and that the heartbeat interval is close to the round-trip time.' +
          (reachable && peers.length > 0 ? onHostOf(node, `member ${finding.target}`) : ''),
        commands: reachable
          ? commandList(
              // The peers' own addresses are what the member's traffic goes to: right to ping.
              ...peers.map((peer) =>
                onHost(
                  context.style,
                  node,
                  // ping takes an IPv6 address without the URL's brackets.
                  `ping -c 10 ${hostOf(peer.observation.peerURLs[0] ?? peer.clientURL).replace(/^\[(.*)\]$/, '$1')}`,
                ),
              ),
            )
          : undefined,
      };
    });
