// Watch caches of exactly the Secrets and ConfigMaps that EtcdHealthChecks refer to: one watch per
// referenced object (LIST and WATCH with fieldSelector metadata.name=<name>), started when the
// first check names it and stopped when the last one no longer does. The operator so never reads
// or caches a Secret no check names, and needs read access only to the named ones: Kubernetes
// authorises a list or watch with that field selector against RBAC resourceNames, so a Role that
// names them suffices (credentials-by-name.yaml in the overlays), as does a RoleBinding to the
// ClusterRole etcd-health-operator-credentials.
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer, collectionPath, type ListFunction, type ReflectorListener } from '../runtime/index.js';
import { CredentialError, type ConfigReader } from '../sources/credentials.js';

export type ConfigKind = 'Secret' | 'ConfigMap';
type ConfigObject = V1Secret | V1ConfigMap;

/** One Secret or ConfigMap a check refers to. */
export interface ConfigRef {
  kind: ConfigKind;
  namespace: string;
  name: string;
}

const refKey = (ref: ConfigRef) => `${ref.kind}/${ref.namespace}/${ref.name}`;

export class ReferencedConfigInformers implements ConfigReader {
  private readonly watches = new Map<string, Informer<ConfigObject>>();
  private readonly core: CoreV1Api;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly log: Logger,
    private readonly onChange: (kind: ConfigKind, object: ConfigObject) => void,
    private readonly listener: (resource: string) => ReflectorListener,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Makes the set of watched objects exactly `refs`. */
  async retain(refs: Iterable<ConfigRef>): Promise<void> {
    const wanted = new Set<string>();
    for (const ref of refs) {
      const key = refKey(ref);
      wanted.add(key);
      if (this.watches.has(key)) continue;
      const informer = this.informer(ref);
      this.watches.set(key, informer);
      informer.start();
    }
    const gone = [...this.watches.keys()].filter((key) => !wanted.has(key));
    await Promise.all(gone.map((key) => this.drop(key)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.watches.keys()].map((key) => this.drop(key)));
  }

  /** Waits (bounded) for the watches of `refs`, so that a check's first reconcile sees its Secrets. */
  async waitFor(refs: ConfigRef[], timeoutMs: number): Promise<boolean> {
    const synced = await Promise.all(
      refs.map((ref) => this.watches.get(refKey(ref))?.waitForSync(timeoutMs) ?? Promise.resolve(false)),
    );
    return synced.every(Boolean);
  }

  secretData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const secret = this.synced({ kind: 'Secret', namespace, name });
    if (!secret) return Promise.resolve(undefined);
    const decoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      decoded[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    return Promise.resolve(decoded);
  }

  configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const configMap = this.synced({ kind: 'ConfigMap', namespace, name });
    return Promise.resolve(configMap ? { ...(configMap.data ?? {}) } : undefined);
  }

  /** The cached object (undefined when it does not exist), or why it cannot be known. */
  private synced(ref: ConfigRef): ConfigObject | undefined {
    const informer = this.watches.get(refKey(ref));
    if (!informer?.hasSynced()) {
      const { kind, namespace, name } = ref;
      throw new CredentialError(
        'CredentialsNotReadable',
        `${kind}s in namespace ${namespace} cannot be read yet (${kind} ${name}); the operator needs get/list/watch on it ` +
          `(bind the ClusterRole etcd-health-operator-credentials in ${namespace}, or a Role with resourceNames [${name}])`,
      );
    }
    return informer.get(`${ref.namespace}/${ref.name}`);
  }

  private async drop(key: string): Promise<void> {
    const informer = this.watches.get(key);
    this.watches.delete(key);
    await informer?.stop();
  }

  private informer({ kind, namespace, name }: ConfigRef): Informer<ConfigObject> {
    const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
    const list: ListFunction<ConfigObject> = ({
      labelSelector,
      fieldSelector,
      limit,
      continue: _continue,
      options,
    }) => {
      const request = { namespace, labelSelector, fieldSelector, limit, _continue };
      return kind === 'Secret'
        ? this.core.listNamespacedSecret(request, options)
        : this.core.listNamespacedConfigMap(request, options);
    };
    const informer = new Informer<ConfigObject>({
      kubeConfig: this.kubeConfig,
      path: collectionPath({ group: '', version: 'v1', plural, namespace }),
      fieldSelector: `metadata.name=${name}`,
      list,
      log: this.log.child({ informer: plural, namespace, name }),
      listener: this.listener(plural),
    });
    const changed = (object: ConfigObject) => this.onChange(kind, object);
    informer.addHandlers({ add: changed, update: (_old, object) => changed(object), delete: changed });
    return informer;
  }
}
