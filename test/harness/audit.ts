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
  /** When this stage was logged: for ResponseComplete, when the server had sent the whole answer. */
  stageTimestamp?: string;
}

export interface AuditLog {
  /** kube-apiserver flags that turn the log on. */
  readonly apiServerArgs: string[];
  /** The requests logged so far. */
  requests(filter?: { username?: string; resource?: string }): AuditedRequest[];
}

/**
 * An audit policy of `name` in `dir` with these `rules` (YAML lines under `rules:`): the
 * kube-apiserver flags that turn it on, and the events logged so far, oldest first.
 */
export function auditFiles<Event>(
  dir: string,
  name: string,
  { omitStages, rules }: { omitStages: string[]; rules: string[] },
): { apiServerArgs: string[]; events(): Event[] } {
  const policyPath = join(dir, `${name}-policy.yaml`);
  const logPath = join(dir, `${name}.log`);
  writeFileSync(
    policyPath,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      `omitStages: [${omitStages.join(', ')}]`,
      'rules:',
      ...rules,
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
    events: () =>
      existsSync(logPath)
        ? readFileSync(logPath, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Event)
        : [],
  };
}

/** `allResources`: every request at Metadata level, not only pods, Secrets and ConfigMaps. */
export function auditLog(dir: string, { allResources = false } = {}): AuditLog {
  const { apiServerArgs, events } = auditFiles<AuditedRequest>(dir, 'audit', {
    omitStages: ['RequestReceived'],
    rules: [
      '  - level: Metadata',
      ...(allResources ? [] : ['    resources: [{ group: "", resources: [pods, secrets, configmaps] }]']),
    ],
  });
  return {
    apiServerArgs,
    requests: ({ username, resource } = {}) =>
      events().filter(
        (r) =>
          (username === undefined || r.user.username === username) &&
          (resource === undefined || r.objectRef?.resource === resource),
      ),
  };
}
