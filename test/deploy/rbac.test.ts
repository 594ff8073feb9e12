// Least privilege of deploy/base/rbac.yaml: the exact rules, so that any widening is a deliberate
// change of this test. test/deploy/manifests.it.ts asks the real RBAC authorizer the same questions.
import { describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface RbacObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const load = (path: string) =>
  yaml.loadAll(readFileSync(repoFile(path), 'utf8')).filter(Boolean) as RbacObject[];
const objects = load('deploy/base/rbac.yaml');
const OVERLAY_RBAC = [
  'deploy/overlays/kubernetes/credentials-rbac.yaml',
  'deploy/overlays/kubernetes/discovery-rbac.yaml',
  'deploy/overlays/openshift/credentials-rbac.yaml',
  'deploy/overlays/openshift/discovery-rbac.yaml',
  'deploy/overlays/openshift/monitoring-rbac.yaml',
  'deploy/overlays/openshift/backup-rbac.yaml',
];
// The option an admin swaps in for credentials-rbac.yaml: only the named Secrets and ConfigMaps.
const BY_NAME_RBAC = [
  'deploy/overlays/kubernetes/credentials-by-name.yaml',
  'deploy/overlays/openshift/credentials-by-name.yaml',
];
const byName = BY_NAME_RBAC.flatMap(load);
// OpenShift: get on two cluster-scoped objects of the cluster-etcd-operator, by name.
const CLUSTER_ETCD_OPERATOR_RBAC = 'deploy/overlays/openshift/cluster-etcd-operator-rbac.yaml';
const everything = [
  ...objects,
  ...OVERLAY_RBAC.flatMap(load),
  ...byName,
  ...load(CLUSTER_ETCD_OPERATOR_RBAC),
];
const unnamed = [...objects, ...OVERLAY_RBAC.flatMap(load)];
const byKind = (kind: string, from = objects) => from.filter((o) => o.kind === kind);
const named = (kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const SERVICE_ACCOUNT = {
  kind: 'ServiceAccount',
  name: 'etcd-health-operator',
  namespace: 'etcd-health-operator',
};
const WRITE_VERBS = [
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'escalate',
  'bind',
  'impersonate',
];
const bindsOperator = (o: RbacObject) =>
  (o.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === SERVICE_ACCOUNT.name);

/** One line per (group, resource), verbs sorted: order-insensitive and readable in a failure. */
function grants(rules: PolicyRule[]): string[] {
  return rules
    .flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).map(
          (resource) => `${group || 'core'}/${resource}: ${[...rule.verbs].sort().join(',')}`,
        ),
      ),
    )
    .sort();
}

describe('deploy/base/rbac.yaml', () => {
  it('holds the operator ClusterRole, the credentials, discovery and backups ClusterRoles, the leader-election Role and their bindings', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/etcd-health-operator',
      'ClusterRole/etcd-health-operator-backups',
      'ClusterRole/etcd-health-operator-credentials',
      'ClusterRole/etcd-health-operator-discovery',
      'ClusterRoleBinding/etcd-health-operator',
      'Role/etcd-health-operator-leader-election',
      'RoleBinding/etcd-health-operator-leader-election',
    ]);
  });

  it('the operator ClusterRole grants exactly: read EtcdHealthChecks, get/patch their status, create Events', () => {
    expect(grants(named('ClusterRole', 'etcd-health-operator')!.rules!)).toEqual([
      'etcdhealth.io/etcdhealthchecks/status: get,patch',
      'etcdhealth.io/etcdhealthchecks: get,list,watch',
      'events.k8s.io/events: create,patch',
    ]);
  });

  it('the credentials ClusterRole only reads Secrets and ConfigMaps', () => {
    expect(grants(named('ClusterRole', 'etcd-health-operator-credentials')!.rules!)).toEqual([
      'core/configmaps: get,list,watch',
      'core/secrets: get,list,watch',
    ]);
  });

  it('the discovery ClusterRole only lists pods', () => {
    expect(grants(named('ClusterRole', 'etcd-health-operator-discovery')!.rules!)).toEqual([
      'core/pods: list',
    ]);
  });

  it('the backups ClusterRole only gets CronJobs', () => {
    expect(grants(named('ClusterRole', 'etcd-health-operator-backups')!.rules!)).toEqual([
      'batch/cronjobs: get',
    ]);
  });

  it('the OpenShift overlay only lists EtcdBackups, cluster-wide because they are cluster-scoped', () => {
    const openshift = load('deploy/overlays/openshift/backup-rbac.yaml');
    const role = openshift.find(
      (o) => o.kind === 'ClusterRole' && o.metadata.name === 'etcd-health-operator-etcdbackups',
    );
    expect(grants(role!.rules!)).toEqual(['operator.openshift.io/etcdbackups: list']);
    const binding = openshift.find((o) => o.kind === 'ClusterRoleBinding');
    expect(binding!.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'etcd-health-operator-etcdbackups',
    });
    expect(binding!.subjects).toEqual([SERVICE_ACCOUNT]);
  });

  it.each(['etcd-health-operator-credentials', 'etcd-health-operator-discovery'])(
    'Pods, Secrets and ConfigMaps are readable only per namespace: %s is bound by RoleBindings, never cluster-wide',
    (role) => {
      const bindings = everything.filter((o) => o.roleRef?.name === role);
      expect(bindings.length).toBeGreaterThan(0);
      for (const binding of bindings) {
        expect(`${binding.kind} ${binding.metadata.namespace ?? '(no namespace)'}`).toMatch(
          /^RoleBinding [a-z0-9-]+$/,
        );
        expect(binding.subjects).toEqual([SERVICE_ACCOUNT]);
      }
      expect(
        byKind('ClusterRoleBinding', everything)
          .filter(bindsOperator)
          .map((o) => o.roleRef!.name)
          .sort(),
      ).toEqual([
        'cluster-monitoring-view',
        'etcd-health-operator',
        'etcd-health-operator-cluster-etcd-operator',
        'etcd-health-operator-etcdbackups',
      ]);
    },
  );

  it('CronJobs are readable only per namespace: nothing binds the backups ClusterRole cluster-wide', () => {
    // The admin binds it where checks name a CronJob; the manifests bind it nowhere.
    expect(everything.filter((o) => o.roleRef?.name === 'etcd-health-operator-backups')).toEqual([]);
  });

  it('the credentials-by-name option reads only named Secrets and ConfigMaps, in one namespace', () => {
    expect(byName.map((o) => `${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).sort()).toEqual([
      'Role/etcd-health-operator-credentials-by-name in kube-system',
      'Role/etcd-health-operator-credentials-by-name in openshift-etcd',
      'RoleBinding/etcd-health-operator-credentials-by-name in kube-system',
      'RoleBinding/etcd-health-operator-credentials-by-name in openshift-etcd',
    ]);
    for (const rule of byName.flatMap((o) => o.rules ?? [])) {
      expect(rule.resourceNames?.length).toBeGreaterThan(0);
      expect(grants([rule]).map((g) => g.replace(/^core\/(secrets|configmaps): /, ''))).toEqual(
        (rule.resources ?? []).map(() => 'get,list,watch'),
      );
    }
    for (const binding of byName.filter((o) => o.kind === 'RoleBinding')) {
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'etcd-health-operator-credentials-by-name',
      });
      expect(binding.subjects).toEqual([SERVICE_ACCOUNT]);
    }
  });

  it('the leader-election Role grants exactly get, create, update on leases, and is namespaced', () => {
    const [role] = byKind('Role');
    expect(grants(role!.rules!)).toEqual(['coordination.k8s.io/leases: create,get,update']);
    // Its namespace comes from the kustomization (namespace: etcd-health-operator); it must not be
    // pinned elsewhere.
    expect(role!.metadata.namespace ?? 'etcd-health-operator').toBe('etcd-health-operator');
  });

  it('no rule uses a wildcard, resourceNames (outside the by-name options) or nonResourceURLs', () => {
    for (const rule of unnamed.flatMap((o) => o.rules ?? [])) {
      for (const list of [rule.apiGroups ?? [], rule.resources ?? [], rule.verbs]) {
        expect(list.filter((entry) => entry.includes('*'))).toEqual([]);
      }
      expect(rule.nonResourceURLs).toBeUndefined();
      expect(rule.resourceNames).toBeUndefined();
    }
  });

  it('nothing writes Secrets, ConfigMaps, pods, CronJobs, EtcdBackups or the EtcdHealthCheck spec', () => {
    for (const rule of everything.flatMap((o) => o.rules ?? [])) {
      const resources = rule.resources ?? [];
      if (
        resources.some((r) =>
          ['secrets', 'configmaps', 'pods', 'etcdhealthchecks', 'cronjobs', 'etcdbackups'].includes(r),
        )
      ) {
        expect({ resources, writes: rule.verbs.filter((v) => WRITE_VERBS.includes(v)) }).toEqual({
          resources,
          writes: [],
        });
      }
    }
  });

  it('status is only read and patched (never updated, so no full-object writes)', () => {
    const statusRules = everything
      .flatMap((o) => o.rules ?? [])
      .filter((rule) => (rule.resources ?? []).includes('etcdhealthchecks/status'));
    expect(statusRules.flatMap((rule) => rule.verbs).sort()).toEqual(['get', 'patch']);
  });

  it('leases appear only in the namespaced Role', () => {
    for (const clusterRole of byKind('ClusterRole', everything)) {
      expect(clusterRole.rules!.flatMap((rule) => rule.resources ?? [])).not.toContain('leases');
    }
  });

  it('each base binding binds its own role to the operator ServiceAccount only', () => {
    expect(named('ClusterRoleBinding', 'etcd-health-operator')!.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'etcd-health-operator',
    });
    expect(named('ClusterRoleBinding', 'etcd-health-operator')!.subjects).toEqual([SERVICE_ACCOUNT]);
    expect(named('RoleBinding', 'etcd-health-operator-leader-election')!.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'etcd-health-operator-leader-election',
    });
    expect(named('RoleBinding', 'etcd-health-operator-leader-election')!.subjects).toEqual([SERVICE_ACCOUNT]);
  });

  it('the OpenShift cluster-etcd-operator role only gets clusteroperator/etcd and etcd/cluster, by name', () => {
    const role = load(CLUSTER_ETCD_OPERATOR_RBAC).find((o) => o.kind === 'ClusterRole')!;
    expect(grants(role.rules!)).toEqual([
      'config.openshift.io/clusteroperators: get',
      'operator.openshift.io/etcds: get',
    ]);
    expect(role.rules!.map((rule) => rule.resourceNames)).toEqual([['etcd'], ['cluster']]);
  });
});
