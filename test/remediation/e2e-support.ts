// Helpers of the remediation end-to-end tests: the evidence etcd itself leaves of each defragmentation (its log lines "starting
// defragment" / "finished defragment", server/etcdserver/api/v3rpc/maintenance.go).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { EtcdHealthCheck } from '../../src/api/v1alpha1/index.js';
import type { RemediationRecord } from '../../src/api/v1alpha1/status.js';
import type { EtcdCluster, EtcdMember } from '../harness/etcd-cluster.js';

export function historyOf(check: EtcdHealthCheck): RemediationRecord[] {
  return check.status?.remediation?.history ?? [];
}

/** "Defragment member-2 Succeeded": a history in one line per record, for readable failures. */
export function story(records: readonly RemediationRecord[]): string[] {
  return records.map(
    (r) => `${r.action}${r.member ? ` ${r.member}` : ''} ${r.phase}${r.reason ? ` (${r.reason})` : ''}`,
  );
}

export interface MemberSizes {
  dbSize: number;
  dbSizeInUse: number;
  leader: boolean;
  id: string;
}

/** Maintenance.Status of each running member, straight from etcd. */
export async function memberSizes(cluster: EtcdCluster): Promise<Record<string, MemberSizes>> {
  const result: Record<string, MemberSizes> = {};
  await Promise.all(
    cluster.members
      .filter((m) => m.running())
      .map(async (m) => {
        const client = new Etcd3({ hosts: m.clientURL });
        try {
          const status = await client.maintenance.status({ deadline: new Date(Date.now() + 10_000) });
          result[m.name] = {
            dbSize: Number(status.dbSize),
            dbSizeInUse: Number(status.dbSizeInUse),
            leader: status.leader === status.header.member_id,
            id: status.header.member_id,
          };
        } finally {
          client.close();
        }
      }),
  );
  return result;
}

export interface DefragInterval {
  member: string;
  start: number;
  /** Infinity while the member has not logged the end. */
  end: number;
}

/** Every defragmentation a member ran, from its own log (etcd logs with millisecond-or-better timestamps). */
export function defragIntervals(cluster: EtcdCluster): DefragInterval[] {
  return cluster.members.flatMap((member) => memberIntervals(cluster.dir, member));
}

function memberIntervals(dir: string, member: EtcdMember): DefragInterval[] {
  const files = readdirSync(dir).filter(
    (f) => f === `${member.name}.log` || f === `${member.name}-strace.log`,
  );
  const intervals: DefragInterval[] = [];
  let open: number | undefined;
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.includes('defragment"')) continue;
      let entry: { msg?: string; ts?: string };
      try {
        entry = JSON.parse(line) as { msg?: string; ts?: string };
      } catch {
        continue;
      }
      const ts = Date.parse(entry.ts ?? '');
      if (entry.msg === 'starting defragment') open = ts;
      if (entry.msg === 'finished defragment' && open !== undefined) {
        intervals.push({ member: member.name, start: open, end: ts });
        open = undefined;
      }
    }
  }
  if (open !== undefined) intervals.push({ member: member.name, start: open, end: Infinity });
  return intervals;
}

/** Pairs of defragmentations that ran at the same time. */
export function overlapping(intervals: readonly DefragInterval[]): [DefragInterval, DefragInterval][] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const pairs: [DefragInterval, DefragInterval][] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.start < sorted[i]!.end; j++) {
      pairs.push([sorted[i]!, sorted[j]!]);
    }
  }
  return pairs;
}

/** Records of the same action whose [startedAt, finishedAt] intersect. */
export function overlappingRecords(
  records: readonly RemediationRecord[],
): [RemediationRecord, RemediationRecord][] {
  const spans = records
    .filter((r) => r.finishedAt)
    .map((r) => ({ r, start: Date.parse(r.startedAt), end: Date.parse(r.finishedAt!) }))
    .sort((a, b) => a.start - b.start);
  const pairs: [RemediationRecord, RemediationRecord][] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length && spans[j]!.start < spans[i]!.end; j++)
      pairs.push([spans[i]!.r, spans[j]!.r]);
  }
  return pairs;
}
