// Seed triage: storage is the usual root cause. Slow WAL fsync and slow backend commit on the same
// member make ONE InvestigateStorage recommendation for that member, ranked before its symptoms.
import type { Recommendation } from '../../api/v1alpha1/status.js';
import { formatSeconds } from '../../api/v1alpha1/units.js';
import { findMember } from '../cluster.js';
import { nodeOf, onHost, onHostOf } from '../commands.js';
import { actionable, commandList, mostSevere, sentence, severityOf, type RemedyBuilder } from './context.js';

export const storageRemedies: RemedyBuilder = (context, findings) => {
  const slow = actionable(findings, ['WalFsync', 'BackendCommit']);
  const targets = [...new Set(slow.map((finding) => finding.target))];
  return targets.map((target): Recommendation => {
    const own = slow.filter((finding) => finding.target === target);
    const fsync = own.some((finding) => finding.check === 'WalFsync');
    const commit = own.some((finding) => finding.check === 'BackendCommit');
    const member = findMember(context.view, target);
    const limits = context.view.limits;
    const evidence = own.map((finding) => sentence(finding.message)).join(' ');
    const node = member && nodeOf(context.style, member);
    const opening = fsync && commit ? `Both WAL fsync and backend commit are slow on ${target}. ` : '';
    return {
      type: 'InvestigateStorage',
      severity: mostSevere(own.map(severityOf)),
      target,
      reason: fsync && commit ? 'SlowDisk' : fsync ? 'SlowWALFsync' : 'SlowBackendCommit',
      message:
        `${opening}${evidence}` +
        ` Slow storage is the usual root cause of etcd trouble: check the latency and IOPS of the disk holding the etcd data directory` +
        ` (etcd wants WAL fsync p99 below ${formatSeconds(limits.walFsyncSeconds.warning)} and backend commit p99 below ${formatSeconds(limits.backendCommitSeconds.warning)}),` +
        ` whether other workloads, VM snapshots or backups compete for it, and move etcd to a dedicated SSD/NVMe or provisioned-IOPS volume if needed.` +
        (member === undefined ? '' : onHostOf(node, `member ${target}`)),
      commands:
        member === undefined
          ? undefined
          : commandList(
              onHost(context.style, node, 'iostat -xm 5'),
              context.style.openshift
                ? onHost(
                    context.style,
                    node,
                    'podman run --rm --volume /var/lib/etcd:/var/lib/etcd:Z quay.io/cloud-bulldozer/etcd-perf',
                  )
                : onHost(
                    context.style,
                    node,
                    'fio --rw=write --ioengine=sync --fdatasync=1 --directory=/var/lib/etcd --size=22m --bs=2300 --name=etcd-fsync-test --unlink=1',
                  ),
            ),
    };
  });
};
