// The kube-apiserver's audit log, to prove what a client did or did not ask for: every request on
// pods, Secrets and ConfigMaps at Metadata level (who, verb, namespace, name, URI; never bodies).
// A watch is logged when its response starts (and again when it ends), a short request when it ends.
// Pass `apiServerArgs` to startControlPlane and read the requests back with `requests()`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AuditedRequest {
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  auditID?: string;
  stage?: string;
  requestReceivedTimestamp?: string;
}

export interface AuditLog {
  /** kube-apiserver flags that turn the log on. */
  readonly apiServerArgs: string[];
  /** The requests logged so far. */
  requests(filter?: { username?: string; resource?: string }): AuditedRequest[];
}

/** `allResources`: every request at Metadata level, not only pods, Secrets and ConfigMaps. */
export function auditLog(dir: string, { allResources = false } = {}): AuditLog {
  const policyPath = join(dir, 'audit-policy.yaml');
  const logPath = join(dir, 'audit.log');
  writeFileSync(
    policyPath,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: [RequestReceived]',
      'rules:',
      '  - level: Metadata',
      ...(allResources ? [] : ['    resources: [{ group: "", resources: [pods, secrets, configmaps] }]']),
      '  - level: None',
      '',
    ].join('\n'),
  );
  return {
    apiServerArgs: [
      `--audit-policy-file=${policyPath}`,
      `--audit-log-path=${logPath}`,
      '--audit-log-mode=blocking',
    ],
    requests: ({ username, resource } = {}) => {
      if (!existsSync(logPath)) return [];
      return readFileSync(logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditedRequest)
        .filter(
          (r) =>
            (username === undefined || r.user.username === username) &&
            (resource === undefined || r.objectRef?.resource === resource),
        );
    },
  };
}
