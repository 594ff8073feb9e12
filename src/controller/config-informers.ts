// Watch caches of Secrets and ConfigMaps, one per namespace that holds EtcdHealthChecks, started
// when the first check appears there and stopped when the last one goes. The operator so needs
// read access to Secrets only where the cluster admin granted it (a RoleBinding to the ClusterRole
// etcd-health-operator-credentials), not cluster-wide.
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer, collectionPath, type ListFunction, type ReflectorListener } from '../runtime/index.js';
import { CredentialError, type ConfigReader } from './credentials.js';

export type ConfigKind = 'Secret' | 'ConfigMap';
type ConfigObject = V1Secret | V1ConfigMap;

interface NamespaceCaches {
  secrets: Informer<V1Secret>;
  configMaps: Informer<V1ConfigMap>;
}

export class NamespacedConfigInformers implements ConfigReader {
  private readonly caches = new Map<string, NamespaceCaches>();
  private readonly core: CoreV1Api;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly log: Logger,
    private readonly onChange: (kind: ConfigKind, object: ConfigObject) => void,
    private readonly listener: (resource: string) => ReflectorListener,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Makes the set of watched namespaces exactly `namespaces`. */
  async retain(namespaces: Set<string>): Promise<void> {
    for (const namespace of namespaces) {
      if (this.caches.has(namespace)) continue;
      const caches = {
        secrets: this.informer<V1Secret>(namespace, 'secrets', 'Secret'),
        configMaps: this.informer<V1ConfigMap>(namespace, 'configmaps', 'ConfigMap'),
      };
      this.caches.set(namespace, caches);
      caches.secrets.start();
      caches.configMaps.start();
    }
    const gone = [...this.caches.keys()].filter((ns) => !namespaces.has(ns));
    await Promise.all(gone.map((ns) => this.drop(ns)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.caches.keys()].map((ns) => this.drop(ns)));
  }

  /** Waits (bounded) for the caches of a namespace, so the first reconcile sees its Secrets. */
  async waitForNamespace(namespace: string, timeoutMs: number): Promise<boolean> {
    const caches = this.caches.get(namespace);
    if (!caches) return false;
    const synced = await Promise.all([
      caches.secrets.waitForSync(timeoutMs),
      caches.configMaps.waitForSync(timeoutMs),
    ]);
    return synced.every(Boolean);
  }

  secretData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const secret = this.synced(namespace, 'Secret', (c) => c.secrets).get(`${namespace}/${name}`);
    if (!secret) return Promise.resolve(undefined);
    const decoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      decoded[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    return Promise.resolve(decoded);
  }

  configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const configMap = this.synced(namespace, 'ConfigMap', (c) => c.configMaps).get(`${namespace}/${name}`);
    return Promise.resolve(configMap ? { ...(configMap.data ?? {}) } : undefined);
  }

  private synced<T extends ConfigObject>(
    namespace: string,
    kind: ConfigKind,
    pick: (caches: NamespaceCaches) => Informer<T>,
  ): Informer<T> {
    const caches = this.caches.get(namespace);
    const informer = caches && pick(caches);
    if (!informer?.hasSynced()) {
      throw new CredentialError(
        'CredentialsNotReadable',
        `${kind}s in namespace ${namespace} cannot be read yet; the operator needs get/list/watch there (bind the ClusterRole etcd-health-operator-credentials in ${namespace})`,
      );
    }
    return informer;
  }

  private async drop(namespace: string): Promise<void> {
    const caches = this.caches.get(namespace);
    this.caches.delete(namespace);
    await Promise.all([caches?.secrets.stop(), caches?.configMaps.stop()]);
  }

  private informer<T extends ConfigObject>(
    namespace: string,
    plural: 'secrets' | 'configmaps',
    kind: ConfigKind,
  ) {
    const list: ListFunction<T> = async ({ labelSelector, fieldSelector, options }) => {
      const request = { namespace, labelSelector, fieldSelector };
      const result =
        plural === 'secrets'
          ? await this.core.listNamespacedSecret(request, options)
          : await this.core.listNamespacedConfigMap(request, options);
      return result as unknown as { items: T[]; metadata?: { resourceVersion?: string } };
    };
    const informer = new Informer<T>({
      kubeConfig: this.kubeConfig,
      path: collectionPath({ group: '', version: 'v1', plural, namespace }),
      list,
      log: this.log.child({ informer: plural, namespace }),
      listener: this.listener(plural),
    });
    const changed = (object: T) => this.onChange(kind, object);
    informer.addHandlers({ add: changed, update: (_old, object) => changed(object), delete: changed });
    return informer;
  }
}
