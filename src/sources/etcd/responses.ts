// zod schemas of the etcd3 answers we read. etcd3 decodes every uint64 as a decimal string; IDs
// exceed 2^53 and stay strings, sizes become numbers on purpose.
import { z } from 'zod';
import type { AlarmType, EndpointStatus } from '../../health/observation.js';

const uint64 = z.union([z.string().regex(/^[0-9]+$/), z.number().int().min(0)]).transform(String);

export const MemberListSchema = z.object({
  members: z.array(
    z.object({
      ID: uint64,
      name: z.string().default(''),
      peerURLs: z.array(z.string()).default([]),
      clientURLs: z.array(z.string()).default([]),
      isLearner: z.boolean().default(false),
    }),
  ),
  header: z.object({ cluster_id: uint64 }).nullish(),
});

// Fields of etcd-io/etcd api/etcdserverpb/rpc.proto StatusResponse. dbSizeQuota (3.6) is listed for
// the day etcd3's bundled protos learn it; 1.1.2 does not decode it.
const StatusSchema = z.object({
  header: z.object({ cluster_id: uint64, member_id: uint64, revision: uint64.optional() }),
  version: z.string(),
  dbSize: uint64,
  leader: uint64,
  raftIndex: uint64,
  raftTerm: uint64,
  raftAppliedIndex: uint64.optional(),
  errors: z.array(z.string()).default([]),
  dbSizeInUse: uint64.optional(),
  isLearner: z.boolean().default(false),
  dbSizeQuota: uint64.optional(),
});

const AlarmListSchema = z.object({
  alarms: z.array(z.object({ memberID: uint64, alarm: z.union([z.string(), z.number()]) })).default([]),
});

export type MemberList = z.output<typeof MemberListSchema>;

export function parseMemberList(
  value: unknown,
): { ok: true; list: MemberList } | { ok: false; error: string } {
  const parsed = MemberListSchema.safeParse(value);
  return parsed.success
    ? { ok: true, list: parsed.data }
    : { ok: false, error: `unexpected member list: ${parsed.error.message}` };
}

export function parseStatus(
  value: unknown,
): { ok: true; status: EndpointStatus; clusterId: string } | { ok: false; error: string } {
  const parsed = StatusSchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: `unexpected status answer: ${parsed.error.message}` };
  const s = parsed.data;
  const size = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  return {
    ok: true,
    clusterId: s.header.cluster_id,
    status: {
      clusterId: s.header.cluster_id,
      memberId: s.header.member_id,
      leaderId: s.leader,
      version: s.version,
      dbSize: Number(s.dbSize),
      dbSizeInUse: size(s.dbSizeInUse),
      // 0 means "not reported" (proto3 default), never a zero quota.
      dbSizeQuota: s.dbSizeQuota === undefined || s.dbSizeQuota === '0' ? undefined : Number(s.dbSizeQuota),
      raftTerm: s.raftTerm,
      raftIndex: s.raftIndex,
      raftAppliedIndex: s.raftAppliedIndex,
      revision: s.header.revision,
      isLearner: s.isLearner,
      errors: s.errors,
    },
  };
}

export interface Alarm {
  memberId: string;
  alarm: AlarmType;
}

// AlarmType in rpc.proto: NONE=0, NOSPACE=1, CORRUPT=2.
function alarmType(value: string | number): AlarmType | undefined {
  const name = typeof value === 'number' ? ['NONE', 'NOSPACE', 'CORRUPT'][value] : value.toUpperCase();
  return name === 'NOSPACE' || name === 'CORRUPT' ? name : undefined;
}

export function parseAlarms(value: unknown): { ok: true; alarms: Alarm[] } | { ok: false; error: string } {
  const parsed = AlarmListSchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: `unexpected alarm list: ${parsed.error.message}` };
  return {
    ok: true,
    alarms: parsed.data.alarms.flatMap((a) => {
      const alarm = alarmType(a.alarm);
      return alarm ? [{ memberId: a.memberID, alarm }] : [];
    }),
  };
}

/**
 * A member's Status lists active alarms among its errors ("memberID:123 alarm:NOSPACE "), answered
 * locally: without quorum, when the alarm list (which goes through raft) times out, this still
 * tells which alarms the member knows.
 */
export function alarmsFromStatusErrors(errors: readonly string[]): Alarm[] {
  return errors.flatMap((text) => {
    const match = /memberID:\s*([0-9]+)\s+alarm:\s*(NOSPACE|CORRUPT)/.exec(text);
    return match ? [{ memberId: match[1]!, alarm: match[2] as AlarmType }] : [];
  });
}
