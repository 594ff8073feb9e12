// Reads the Kubernetes evidence of spec.backup: one CronJob by name in the check's own namespace,
// and OpenShift's cluster-scoped EtcdBackups. Each call has a deadline that the reconcile's signal
// can cut short; failures are readable errors that name the RBAC that would allow the read.
import { BatchV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  DEFAULT_API_TIMEOUT_MS,
  isAbortError,
  statusOf,
  withDeadline,
  withSignal,
} from '../runtime/index.js';
import type { BackupCondition, BackupReader } from '../sources/backup.js';
import { CANCELLED } from '../sources/timeout.js';

const CRONJOB_ROLE = 'etcd-health-operator-backups';
const ETCDBACKUP_ROLE = 'etcd-health-operator-etcdbackups';
const ETCDBACKUP = { group: 'operator.openshift.io', version: 'v1alpha1', plural: 'etcdbackups' } as const;
// Retention keeps at most 1000 EtcdBackups (EtcdBackupPolicy maxQuantity); one page holds them.
const ETCDBACKUP_PAGE = 1000;

// What is read of an EtcdBackup, validated: the objects are written by whoever may create them.
const EtcdBackupListSchema = z.object({
  items: z.array(
    z.object({
      status: z
        .object({
          conditions: z
            .array(
              z.object({
                type: z.string(),
                status: z.string(),
                lastTransitionTime: z.string().optional(),
              }),
            )
            .optional(),
        })
        .optional(),
    }),
  ),
});

export class KubeBackupReader implements BackupReader {
  private readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
  ) {
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async cronJobLastSuccess(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const cronJob = await withDeadline(this.timeoutMs, signal, (deadline) =>
      this.batch.readNamespacedCronJob({ name, namespace }, withSignal(deadline)),
    ).catch((error: unknown) => {
      throw new Error(
        signal?.aborted
          ? CANCELLED
          : readFailure(error, {
              notFound: `CronJob ${name} does not exist in namespace ${namespace}`,
              forbidden: `the operator may not get CronJobs in namespace ${namespace}; its admin grants that by binding the ClusterRole ${CRONJOB_ROLE} there with a RoleBinding`,
            }),
      );
    });
    const last = cronJob.status?.lastSuccessfulTime;
    // client-node turns date-time fields into Dates.
    return last === undefined ? undefined : new Date(last).toISOString();
  }

  async etcdBackupConditions(signal?: AbortSignal): Promise<BackupCondition[][]> {
    const answer: unknown = await withDeadline(this.timeoutMs, signal, (deadline) =>
      this.custom.listClusterCustomObject({ ...ETCDBACKUP, limit: ETCDBACKUP_PAGE }, withSignal(deadline)),
    ).catch((error: unknown) => {
      throw new Error(
        signal?.aborted
          ? CANCELLED
          : readFailure(error, {
              notFound:
                'the API server does not serve etcdbackups.operator.openshift.io (not OpenShift, or its AutomatedEtcdBackup feature is off)',
              forbidden: `the operator may not list etcdbackups.operator.openshift.io; its admin grants that by binding the ClusterRole ${ETCDBACKUP_ROLE} with a ClusterRoleBinding`,
            }),
      );
    });
    const list = EtcdBackupListSchema.safeParse(answer);
    if (!list.success) throw new Error('the EtcdBackup list is not in the expected shape');
    return list.data.items.map((item) => item.status?.conditions ?? []);
  }
}

/** A failed read in words, without the response's headers or body (client-node puts both in its message). */
function readFailure(error: unknown, words: { notFound: string; forbidden: string }): string {
  if (isAbortError(error)) return 'no answer from the API server within the timeout';
  const { code, reason } = statusOf(error);
  if (code === 404) return words.notFound;
  if (code === 403) return words.forbidden;
  if (code !== undefined) return `the API server answered ${code}${reason ? ` (${reason})` : ''}`;
  const cause = (error as { code?: unknown } | null)?.code;
  return `the API server could not be reached${typeof cause === 'string' ? ` (${cause})` : ''}`;
}
