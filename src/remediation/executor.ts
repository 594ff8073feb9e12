// Every call automated remediation makes to etcd goes through this interface: the mutating ones
// (defragment, move leader, compact, disarm, the verification write) and the few reads that only a
// step needs. Mode Recommend never obtains an executor, which the tests prove with a spy.

export type ExecResult =
  | { ok: true; tookMs: number; detail?: string }
  | {
      ok: false;
      tookMs: number;
      error: string;
      /**
       * The call may have reached etcd and may still be running there (deadline exceeded, connection
       * lost mid-call): a server-side defragmentation does not stop when the client gives up.
       */
      ambiguous: boolean;
    };

export type ReadResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface RemediationExecutor {
  /** Maintenance.Defragment on exactly this member, with a generous deadline. */
  defragment(endpoint: string): Promise<ExecResult>;
  /** Maintenance.MoveLeader, sent to the current leader (only it accepts the call). */
  moveLeader(leaderEndpoint: string, targetMemberId: string): Promise<ExecResult>;
  /** KV.Compact to `revision`, physical (waits until the member applied it). Already compacted counts as done. */
  compact(endpoint: string, revision: string): Promise<ExecResult>;
  /** Maintenance.Alarm DEACTIVATE NOSPACE for each member ID, as `etcdctl alarm disarm` does. */
  disarmNoSpace(endpoint: string, memberIds: readonly string[]): Promise<ExecResult>;
  /** Puts and deletes a test key: proves the cluster accepts writes again. */
  verifyWrite(endpoint: string): Promise<ExecResult>;
  // The reads below answer "cancelled" as soon as `signal` aborts; the actions above take no
  // signal: etcd finishes an action its client gave up on, so it is verified later instead.
  /** The member's physical DB size now (after a step). */
  dbSize(endpoint: string, signal?: AbortSignal): Promise<ReadResult<number>>;
  /** Whether `revision` is still in the history (a Range at it is not refused as compacted). */
  revisionAvailable(endpoint: string, revision: string, signal?: AbortSignal): Promise<ReadResult<boolean>>;
  /** etcd_server_quota_backend_bytes from the member's own /metrics. */
  quotaBytes(endpoint: string, signal?: AbortSignal): Promise<ReadResult<number>>;
  close(): void;
}

/** The key the verification write puts and deletes (the RecoverFromNoSpace commands use it too). */
export const VERIFY_WRITE_KEY = 'etcd-health-operator/verify-write';
