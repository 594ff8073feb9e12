// Secrets and ConfigMaps read directly, each by name, with the permissions of whoever's kubeconfig
// this is: `etcd-health check ehc/NAME` resolves a CR's references through it, with the same
// resolution code as the operator (src/sources/credentials.ts). Every read has a timeout and
// honours the caller's signal; a refusal by RBAC is reported to `onDenied` as well as failing.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_API_TIMEOUT_MS, isNotFound, withDeadline, withSignal } from '../runtime/index.js';
import { CredentialError, type ConfigReader } from '../sources/credentials.js';
import { denialOf, describeDenial, describeFailure, type Denial } from './failures.js';

export interface DirectConfigReaderOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told of every read RBAC refused. */
  onDenied?: (denial: Denial) => void;
}

export class DirectConfigReader implements ConfigReader {
  private readonly core: CoreV1Api;
  private readonly timeoutMs: number;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: DirectConfigReaderOptions = {},
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS;
  }

  async secretData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const secret = await this.read('secrets', namespace, name, (signal) =>
      this.core.readNamespacedSecret({ namespace, name }, withSignal(signal)),
    );
    if (!secret) return undefined;
    const decoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      decoded[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    return decoded;
  }

  async configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const configMap = await this.read('configmaps', namespace, name, (signal) =>
      this.core.readNamespacedConfigMap({ namespace, name }, withSignal(signal)),
    );
    return configMap ? { ...(configMap.data ?? {}) } : undefined;
  }

  /** The object, undefined when it does not exist; any other failure is a CredentialError. */
  private async read<T>(
    resource: 'secrets' | 'configmaps',
    namespace: string,
    name: string,
    get: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await withDeadline(this.timeoutMs, this.options.signal, get);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      const denial = denialOf(error, { verb: 'get', resource, namespace, name });
      if (denial) {
        this.options.onDenied?.(denial);
        throw new CredentialError('Forbidden', describeDenial(denial));
      }
      throw new CredentialError(
        'CredentialsNotReadable',
        `get ${resource} ${namespace}/${name}: ${describeFailure(error)}`,
      );
    }
  }
}
