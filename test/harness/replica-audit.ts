// Operator replicas the kube-apiserver can tell apart, and its audit log of what each one wrote.
// Each replica authenticates as its own ServiceAccount (bound to cluster-admin: RBAC is not what
// these tests are about), so the audit log's username says which replica sent a write. The log
// holds every write (create, update, patch, delete) on Leases and EtcdHealthChecks (with their
// /status), at Metadata level (no bodies), once complete, with the time the apiserver received it
// and its response code: which replica wrote what, when, and whether the apiserver accepted it.
import { GROUP } from '../../src/api/v1alpha1/resource.js';
import { auditFiles } from './audit.js';
import type { ControlPlane } from './controlplane.js';

export interface AuditedWrite {
  username: string;
  verb: string;
  resource: string;
  subresource?: string;
  name?: string;
  /** HTTP status of the response (409 for a stale resourceVersion). */
  code: number;
  /** When the apiserver received the request (ms since the epoch). */
  receivedAt: number;
}

export interface WriteAudit {
  /** kube-apiserver flags that turn the log on. */
  readonly apiServerArgs: string[];
  /** The writes logged so far, oldest first. */
  writes(filter?: { username?: string; resource?: string }): AuditedWrite[];
}

interface AuditEvent {
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

export function writeAudit(dir: string): WriteAudit {
  const { apiServerArgs, events } = auditFiles<AuditEvent>(dir, 'write-audit', {
    omitStages: ['RequestReceived', 'ResponseStarted'],
    rules: [
      '  - level: Metadata',
      '    verbs: [create, update, patch, delete]',
      '    resources:',
      '      - { group: coordination.k8s.io, resources: [leases] }',
      `      - { group: ${GROUP}, resources: [etcdhealthchecks, etcdhealthchecks/status] }`,
    ],
  });
  return {
    apiServerArgs,
    writes: ({ username, resource } = {}) =>
      events()
        .filter((event) => event.stage === 'ResponseComplete')
        .map((event) => ({
          username: event.user.username,
          verb: event.verb,
          resource: event.objectRef?.resource ?? '',
          ...(event.objectRef?.subresource ? { subresource: event.objectRef.subresource } : {}),
          ...(event.objectRef?.name ? { name: event.objectRef.name } : {}),
          code: event.responseStatus?.code ?? 0,
          receivedAt: Date.parse(event.requestReceivedTimestamp),
        }))
        .filter(
          (write) =>
            (username === undefined || write.username === username) &&
            (resource === undefined || write.resource === resource),
        ),
  };
}

export interface ReplicaCredentials {
  /** A kubeconfig file for the replica's own ServiceAccount. */
  kubeconfigPath: string;
  /** The username the audit log shows for it. */
  username: string;
}

/** ServiceAccount `namespace/name` bound to cluster-admin, and a kubeconfig with a token for it. */
export async function replicaCredentials(
  cp: ControlPlane,
  namespace: string,
  name: string,
): Promise<ReplicaCredentials> {
  const token = await cp.mintServiceAccountToken(namespace, name, 3600);
  const bound = await cp.kubectl([
    'create',
    'clusterrolebinding',
    `${namespace}-${name}`,
    '--clusterrole=cluster-admin',
    `--serviceaccount=${namespace}:${name}`,
  ]);
  if (bound.code !== 0) throw new Error(`kubectl create clusterrolebinding: ${bound.stderr}`);
  return {
    kubeconfigPath: cp.writeKubeconfigForToken(token, namespace),
    username: `system:serviceaccount:${namespace}:${name}`,
  };
}
