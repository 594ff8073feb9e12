// The EtcdHealthCheck status, written only by the operator through the /status subresource. The zod
// schema gives the types and the CRD's status schema; the operator validates what it writes too.
import { z } from 'zod';

export const CONDITION_TYPE_PATTERN = '^[A-Z][A-Za-z0-9]*$';
export const REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';

export const ConditionSchema = z
  .object({
    type: z.string().max(316).regex(new RegExp(CONDITION_TYPE_PATTERN)),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(new RegExp(REASON_PATTERN))
      .meta({ description: 'CamelCase reason.' }),
    message: z.string().max(32768).meta({ description: 'Human-readable details; may contain newlines.' }),
    lastTransitionTime: z.string().meta({ format: 'date-time', description: 'When status last flipped.' }),
    observedGeneration: z.number().int().min(0).optional(),
  })
  .strict();

export const SeveritySchema = z.enum(['Info', 'Warning', 'Critical']);

export const MemberStatusSchema = z
  .object({
    name: z.string(),
    id: z
      .string()
      .regex(/^[0-9]+$/)
      .meta({ description: 'Member ID, a uint64 in decimal (may exceed 2^53).' }),
    endpoint: z.string(),
    reachable: z.boolean(),
    healthy: z.boolean().meta({ description: 'Answered a linearizable (serializable for learners) read.' }),
    leader: z.boolean(),
    learner: z.boolean(),
    version: z.string().optional(),
    dbSize: z.number().int().min(0).optional().meta({ description: 'Physically allocated bytes.' }),
    dbSizeInUse: z.number().int().min(0).optional().meta({ description: 'Logically used bytes.' }),
    fragmentationPercent: z.number().int().min(0).max(100).optional(),
    raftTerm: z
      .string()
      .regex(/^[0-9]+$/)
      .optional(),
    raftIndex: z
      .string()
      .regex(/^[0-9]+$/)
      .optional(),
    raftAppliedIndex: z
      .string()
      .regex(/^[0-9]+$/)
      .optional(),
    alarms: z.array(z.enum(['NOSPACE', 'CORRUPT'])).optional(),
    walFsyncP99: z.string().optional().meta({ description: 'WAL fsync p99, e.g. 4.1ms.' }),
    backendCommitP99: z.string().optional().meta({ description: 'Backend commit p99.' }),
    peerRoundTripP99: z.string().optional().meta({ description: 'Peer round-trip p99.' }),
    error: z.string().max(1024).optional().meta({ description: 'Why the member could not be observed.' }),
  })
  .strict();

export const RecommendationSchema = z
  .object({
    type: z
      .string()
      .meta({ description: 'What to do, e.g. Defragment, InvestigateStorage, RecoverFromNoSpace.' }),
    severity: SeveritySchema,
    target: z.string().meta({ description: 'A member name, or "cluster".' }),
    members: z.array(z.string()).max(32).optional().meta({
      description:
        'The members it covers when the same action applies to several of them (target is then "cluster").',
    }),
    reason: z.string().regex(new RegExp(REASON_PATTERN)),
    message: z
      .string()
      .max(4096)
      .meta({ description: 'Plain words with the evidence: value and threshold.' }),
    commands: z.array(z.string().max(1024)).max(16).optional().meta({
      description: 'Exact commands a human would run, in order.',
    }),
  })
  .strict();

export const SourceStateSchema = z
  .object({
    state: z.enum(['OK', 'Partial', 'Error', 'NotConfigured']),
    message: z.string().max(4096).optional(),
    durationMilliseconds: z.number().int().min(0).optional(),
  })
  .strict();

export const SummarySchema = z
  .object({
    members: z.string().meta({ description: 'Healthy/total voting members, e.g. 3/3.' }),
    leader: z.string().meta({ description: 'Name of the leader, or "none".' }),
    dbSize: z.string().meta({ description: 'Largest physical DB size among members.' }),
    walFsyncP99: z.string().meta({ description: 'Highest WAL fsync p99 among members.' }),
    backendCommitP99: z.string(),
    quotaUsage: z.string().meta({ description: 'Largest DB size / quota, e.g. 12%.' }),
    recommendations: z.string().meta({ description: 'Count by severity, e.g. 1 Critical, 2 Warning.' }),
    lastTransitionTime: z.string().optional().meta({
      format: 'date-time',
      description: 'Latest status flip of Available, Progressing, Degraded or Upgradeable.',
    }),
  })
  .strict();

export const RemediationRecordSchema = z
  .object({
    action: z.enum(['Defragment', 'Compact', 'DisarmNoSpace', 'MoveLeader', 'VerifyWrite']),
    member: z.string().optional(),
    phase: z.enum(['Running', 'Succeeded', 'Failed', 'Deferred']),
    reason: z.string().optional(),
    message: z.string().max(4096).optional(),
    startedAt: z.string().meta({ format: 'date-time' }),
    finishedAt: z.string().optional().meta({ format: 'date-time' }),
    dbSizeBefore: z.number().int().min(0).optional(),
    dbSizeAfter: z.number().int().min(0).optional(),
  })
  .strict();

export const RemediationStatusSchema = z
  .object({
    current: RemediationRecordSchema.optional().meta({
      description: 'The step under way; its presence is the cross-replica lock.',
    }),
    history: z.array(RemediationRecordSchema).max(20).optional(),
    lastDefragByMember: z.record(z.string(), z.string()).optional().meta({
      description: 'Member name to the time of its last defrag, for the cooldown.',
    }),
    consecutiveFailures: z.number().int().min(0).optional(),
  })
  .strict();

export const EtcdHealthCheckStatusSchema = z
  .object({
    observedGeneration: z.number().int().min(0).optional(),
    conditions: z
      .array(ConditionSchema)
      .optional()
      .meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    members: z.array(MemberStatusSchema).max(32).optional(),
    summary: SummarySchema.optional(),
    recommendations: z.array(RecommendationSchema).max(20).optional(),
    lastCheck: z
      .object({
        time: z.string().meta({ format: 'date-time' }),
        durationMilliseconds: z.number().int().min(0),
        etcd: SourceStateSchema,
        prometheus: SourceStateSchema,
      })
      .strict()
      .optional(),
    remediation: RemediationStatusSchema.optional(),
  })
  .strict();

export type Condition = z.infer<typeof ConditionSchema>;
export type ConditionStatus = Condition['status'];
export type Severity = z.infer<typeof SeveritySchema>;
export type MemberStatus = z.infer<typeof MemberStatusSchema>;
export type Recommendation = z.infer<typeof RecommendationSchema>;
export type SourceState = z.infer<typeof SourceStateSchema>;
export type Summary = z.infer<typeof SummarySchema>;
export type RemediationRecord = z.infer<typeof RemediationRecordSchema>;
export type RemediationStatus = z.infer<typeof RemediationStatusSchema>;
export type EtcdHealthCheckStatus = z.infer<typeof EtcdHealthCheckStatusSchema>;
