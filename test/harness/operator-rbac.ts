// The operator's identity and RBAC on a test control plane: the manifests of deploy/base (its
// ServiceAccount, roles and bindings), and the RoleBindings an admin adds per namespace.
import type { ControlPlane, KubectlResult } from './controlplane.js';

export const OPERATOR_NAMESPACE = 'etcd-health-operator';
export const OPERATOR_SERVICE_ACCOUNT = 'etcd-health-operator';
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;

function ok(result: KubectlResult, what: string): KubectlResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stderr}`);
  return result;
}

/** Server-side applies deploy/base (CRD, Namespace, ServiceAccount, roles, Deployment). */
export async function applyBaseManifests(cp: ControlPlane): Promise<void> {
  const rendered = ok(await cp.kubectl(['kustomize', 'deploy/base']), 'kubectl kustomize deploy/base');
  const applied = ok(
    await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: rendered.stdout }),
    'kubectl apply deploy/base',
  );
  if (applied.stderr !== '') throw new Error(`kubectl apply deploy/base warned:\n${applied.stderr}`);
}

/** A RoleBinding named like the role, binding it to the operator's ServiceAccount in `namespace`. */
export async function bindToOperator(
  cp: ControlPlane,
  namespace: string,
  role: { clusterRole: string } | { role: string },
): Promise<void> {
  const [flag, name] = 'clusterRole' in role ? ['--clusterrole', role.clusterRole] : ['--role', role.role];
  const serviceAccount = `--serviceaccount=${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;
  ok(
    await cp.kubectl(['create', 'rolebinding', name, '-n', namespace, `${flag}=${name}`, serviceAccount]),
    `kubectl create rolebinding ${name} -n ${namespace}`,
  );
}
