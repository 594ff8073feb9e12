// What is left on an API server after an uninstall: every resource kind it lists, looked up with
// one `kubectl get`, so that a kind nobody thought of still counts.
import type { ControlPlane } from './controlplane.js';

async function kubectlOut(cp: ControlPlane, args: string[]): Promise<string> {
  const result = await cp.kubectl(args, { timeoutMs: 180_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

const names = (out: string) => out.split('\n').filter(Boolean).sort();

/** Every resource kind the API server lists, namespaced or cluster-scoped, as `kubectl get` names them. */
export async function listableKinds(cp: ControlPlane, namespaced: boolean): Promise<string[]> {
  return names(
    await kubectlOut(cp, ['api-resources', '--verbs=list', `--namespaced=${namespaced}`, '-o', 'name']),
  );
}

/** Whatever exists with the label `selector`, of any kind, in every namespace and cluster-wide. */
export async function everythingLabelled(cp: ControlPlane, selector: string): Promise<string[]> {
  const kinds = [...(await listableKinds(cp, true)), ...(await listableKinds(cp, false))];
  return names(
    await kubectlOut(cp, ['get', kinds.join(','), '-A', '-l', selector, '-o', 'name', '--ignore-not-found']),
  );
}

/** Every object in `namespace`, of every namespaced kind but Events (the record of what happened). */
export async function everythingIn(cp: ControlPlane, namespace: string): Promise<string[]> {
  const kinds = (await listableKinds(cp, true)).filter((kind) => !/^events(\.events\.k8s\.io)?$/.test(kind));
  return names(
    await kubectlOut(cp, ['get', kinds.join(','), '-n', namespace, '-o', 'name', '--ignore-not-found']),
  );
}
