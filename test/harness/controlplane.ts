// A real, envtest-like Kubernetes control plane for integration tests: a dedicated etcd 3.6 and a
// kube-apiserver (both built by test/controlplane/build.sh), bound to 127.0.0.1 on free ports, with
// a throwaway PKI, client-certificate admin (system:masters), RBAC, ServiceAccount token signing
// (TokenRequest works) and the project's CRDs installed. There is no controller-manager: nothing
// creates ServiceAccounts, garbage-collects or finalizes namespaces, so use a fresh namespace per
// test. Every process goes through startProcess and every file lives in one makeTempDir, so both
// are stopped by PID and removed by stop() (or cleanupAll()).
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneBinDir, etcdBinary } from './binaries.js';
import { eventually } from './eventually.js';
import { apiErrorStatus, httpGet, isAlreadyExists } from './kube.js';
import {
  createCertificateAuthority,
  generateKeyPair,
  issueCertificate,
  type CertificateFiles,
} from './pki.js';
import { makeTempDir, removeTempDir, startProcess, type ManagedProcess } from './process.js';

const HOST = '127.0.0.1';
/** The `kubernetes` Service's ClusterIP: the first address of --service-cluster-ip-range. */
export const KUBERNETES_SERVICE_IP = '10.0.0.1';
const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

export interface ControlPlaneOptions {
  /** CRD manifests to install and wait for; default every *.yaml in crds/. Pass [] for none. */
  crdFiles?: string[];
  /** Deadline for each step (etcd ready, kube-apiserver ready, CRDs served); default 120 s. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags, appended after the defaults (a repeated flag wins). */
  apiServerArgs?: string[];
  /**
   * Client URLs (comma-separated, plain http) of an etcd the test started: the kube-apiserver
   * stores into it instead of an etcd of its own, so that faults of that etcd reach the API.
   */
  etcdServers?: string;
  /**
   * Keep the ServiceAccount admission plugin (default false: it is disabled): pods then get the
   * projected ServiceAccount token volume, as on a real cluster. Only for suites with a node.
   */
  serviceAccountAdmission?: boolean;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. with `apply -f -`). */
  input?: string;
  /** SIGKILL after this long; default 60 s. */
  timeoutMs?: number;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  /** Exit code; -1 when killed by a signal (timeout). */
  code: number;
}

export interface ControlPlaneTimings {
  /** etcd spawn to /health = true. */
  etcdReadyMs: number;
  /** kube-apiserver spawn to /readyz = 200, for the latest (re)start. */
  apiServerReadyMs: number;
  /** CRDs created until Established and served (0 when none). */
  crdsReadyMs: number;
  /** startControlPlane() call to return, PKI included. */
  totalMs: number;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig on disk (client certificate in system:masters, namespace default). */
  readonly kubeconfigPath: string;
  /** client-node KubeConfig loaded from kubeconfigPath. */
  readonly kubeConfig: KubeConfig;
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string;
  /** etcd client URL (http, loopback) the kube-apiserver stores into. */
  readonly etcdUrl: string;
  /** The temp dir holding PKI, etcd data, kubeconfigs and logs; removed by stop(). */
  readonly dir: string;
  readonly logs: { readonly etcd: string; readonly apiServer: string };
  readonly timings: ControlPlaneTimings;
  /** Creates the namespace if missing; returns its name. */
  createNamespace(name: string): Promise<string>;
  /**
   * A token for system:serviceaccount:<namespace>:<serviceAccount> from the TokenRequest API
   * (audience = the API server). Creates the ServiceAccount if missing (no controller-manager
   * here); it has no permissions until the test binds some. expirationSeconds >= 600.
   */
  mintServiceAccountToken(
    namespace: string,
    serviceAccount: string,
    expirationSeconds?: number,
  ): Promise<string>;
  /** A KubeConfig that authenticates with a bearer token and trusts the serving CA. */
  kubeConfigForToken(token: string, namespace?: string): KubeConfig;
  /** The same as a kubeconfig file in the temp dir (for kubectl or an operator process); returns its path. */
  writeKubeconfigForToken(token: string, namespace?: string): string;
  /** Runs the built kubectl against this control plane as admin. Never throws for a non-zero exit. */
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /**
   * Stops kube-apiserver (SIGTERM) and starts it again on the same port with the same keys and
   * etcd; resolves when /readyz is 200. `whileDown` runs while it is stopped.
   */
  restartApiServer(options?: { whileDown?: () => Promise<void> | void }): Promise<void>;
  /** PIDs of the running etcd (none with options.etcdServers) and kube-apiserver (changes on restart). */
  pids(): { etcd?: number; apiServer: number };
  /** Last `lines` lines of a component's log, for failure messages. */
  logTail(component: 'etcd' | 'apiServer', lines?: number): string;
  /** Stops kube-apiserver, then etcd, and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** A port the kernel just handed out on 127.0.0.1 (free now; the caller retries on a rare race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function tail(path: string, lines = 40): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

const portInUse = (proc: ManagedProcess) => /address already in use/i.test(tail(proc.logPath, 200));

/**
 * Polls `probe` until it returns true, failing fast (with the log tail) if the process exits and
 * after `timeoutMs` otherwise. Returns the milliseconds it took.
 */
async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  description: string,
): Promise<number> {
  const started = Date.now();
  let outcome: 'ready' | 'exited';
  try {
    outcome = await eventually(async () => (proc.exited() ? 'exited' : (await probe()) && 'ready'), {
      timeoutMs,
      intervalMs: 100,
      description,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- ${proc.logPath} ---\n${tail(proc.logPath)}`, {
      cause: error,
    });
  }
  if (outcome === 'exited') {
    throw new Error(
      `${proc.name} exited (code ${proc.child.exitCode ?? proc.child.signalCode}) before ${description}\n--- ${proc.logPath} ---\n${tail(proc.logPath)}`,
    );
  }
  return Date.now() - started;
}

interface Pki {
  servingCa: CertificateFiles;
  serving: CertificateFiles;
  clientCa: CertificateFiles;
  admin: CertificateFiles;
  saPrivateKeyPath: string;
  saPublicKeyPath: string;
}

function createPki(dir: string): Pki {
  const servingCa = createCertificateAuthority(dir, 'serving-ca', 'ehc-test-serving-ca');
  const serving = issueCertificate(servingCa, dir, 'apiserver', {
    commonName: 'kube-apiserver',
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ],
    ipAddresses: [HOST, KUBERNETES_SERVICE_IP],
    usage: 'server',
  });
  const clientCa = createCertificateAuthority(dir, 'client-ca', 'ehc-test-client-ca');
  const admin = issueCertificate(clientCa, dir, 'admin', {
    commonName: 'admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const sa = generateKeyPair(dir, 'sa-signer');
  return {
    servingCa,
    serving,
    clientCa,
    admin,
    saPrivateKeyPath: sa.privateKeyPath,
    saPublicKeyPath: sa.publicKeyPath,
  };
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** A kubeconfig as JSON (valid YAML; kubectl and client-node read it). */
function kubeconfigText(
  server: string,
  caPem: string,
  user: Record<string, string>,
  namespace: string,
): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'ehc-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
      users: [{ name: 'ehc-test-user', user }],
      contexts: [{ name: 'ehc-test', context: { cluster: 'ehc-test', user: 'ehc-test-user', namespace } }],
      'current-context': 'ehc-test',
    },
    null,
    2,
  );
}

function crdFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const bin = controlPlaneBinDir();
  const dir = makeTempDir('controlplane');
  const pkiDir = join(dir, 'pki');
  const logDir = join(dir, 'logs');
  const kubectlCacheDir = join(dir, 'kubectl-cache');
  for (const d of [pkiDir, logDir, kubectlCacheDir]) mkdirSync(d, { recursive: true, mode: 0o700 });

  let etcd: ManagedProcess | undefined;
  let apiServer: ManagedProcess | undefined;
  const kubectlChildren = new Set<ChildProcess>();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of kubectlChildren) child.kill('SIGKILL');
    await apiServer?.stop(10_000);
    await etcd?.stop(10_000);
    removeTempDir(dir);
  };

  try {
    const pki = createPki(pkiDir);
    const timings: ControlPlaneTimings = { etcdReadyMs: 0, apiServerReadyMs: 0, crdsReadyMs: 0, totalMs: 0 };

    // etcd: a single member on loopback, fsync off (test data only), unless the test brings one.
    let etcdUrl = options.etcdServers ?? '';
    for (let attempt = 1; !options.etcdServers; attempt++) {
      const clientPort = await freePort();
      let peerPort = await freePort();
      while (peerPort === clientPort) peerPort = await freePort();
      etcdUrl = `http://${HOST}:${clientPort}`;
      const peerUrl = `http://${HOST}:${peerPort}`;
      const proc = startProcess({
        name: 'etcd',
        command: etcdBinary('3.6'),
        args: [
          '--name=controlplane',
          `--data-dir=${join(dir, `etcd-data-${attempt}`)}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=controlplane=${peerUrl}`,
          '--unsafe-no-fsync=true',
          '--log-level=warn',
        ],
        logDir,
      });
      etcd = proc;
      try {
        timings.etcdReadyMs = await waitUntilReady(
          proc,
          async () =>
            (await httpGet(`${etcdUrl}/health`).catch(() => undefined))?.body.includes('"true"') ?? false,
          timeoutMs,
          'etcd /health',
        );
        break;
      } catch (error) {
        await proc.stop(5_000);
        if (attempt >= 3 || !portInUse(proc)) throw error;
      }
    }

    // kube-apiserver: envtest-like flags; the port is chosen once and kept across restarts.
    let port = 0;
    let server = '';
    const apiServerArgs = () => [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${port}`,
      `--cert-dir=${pkiDir}`,
      `--tls-cert-file=${pki.serving.certPath}`,
      `--tls-private-key-file=${pki.serving.keyPath}`,
      `--client-ca-file=${pki.clientCa.certPath}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.saPublicKeyPath}`,
      `--service-account-signing-key-file=${pki.saPrivateKeyPath}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      ...(options.apiServerArgs ?? []),
    ];
    const readyz = async () =>
      (
        await httpGet(`${server}/readyz`, {
          caPem: pki.servingCa.certPem,
          certPem: pki.admin.certPem,
          keyPem: pki.admin.keyPem,
        }).catch(() => undefined)
      )?.status === 200;
    const launchApiServer = async (keepPort: boolean) => {
      for (let attempt = 1; ; attempt++) {
        if (!keepPort) {
          port = await freePort();
          server = `https://${HOST}:${port}`;
        }
        const proc = startProcess({
          name: 'kube-apiserver',
          command: join(bin, 'kube-apiserver'),
          args: apiServerArgs(),
          logDir,
        });
        apiServer = proc;
        try {
          timings.apiServerReadyMs = await waitUntilReady(proc, readyz, timeoutMs, 'kube-apiserver /readyz');
          return;
        } catch (error) {
          await proc.stop(5_000);
          if (attempt >= 3 || !portInUse(proc)) throw error;
        }
      }
    };
    await launchApiServer(false);

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(
      kubeconfigPath,
      kubeconfigText(
        server,
        pki.servingCa.certPem,
        { 'client-certificate-data': b64(pki.admin.certPem), 'client-key-data': b64(pki.admin.keyPem) },
        'default',
      ),
      { mode: 0o600 },
    );
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const core = kubeConfig.makeApiClient(CoreV1Api);

    const createNamespace = async (name: string) => {
      try {
        await core.createNamespace({ body: { metadata: { name } } });
      } catch (error) {
        if (!isAlreadyExists(error))
          throw new Error(`create namespace ${name}: ${apiErrorStatus(error).message}`, { cause: error });
      }
      return name;
    };
    // `default` comes from the apiserver's bootstrap controller; make sure it is there.
    await eventually(async () => (await createNamespace('default')) && true, {
      timeoutMs,
      description: 'namespace default',
    });

    const crdsStarted = Date.now();
    await installCrds(kubeConfig, options.crdFiles ?? crdFilesIn(CRD_DIR), timeoutMs);
    timings.crdsReadyMs = Date.now() - crdsStarted;

    const kubeConfigForToken = (token: string, namespace = 'default') => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'ehc-test', server, caData: b64(pki.servingCa.certPem), skipTLSVerify: false }],
        users: [{ name: 'ehc-test-token', token }],
        contexts: [{ name: 'ehc-test', cluster: 'ehc-test', user: 'ehc-test-token', namespace }],
        currentContext: 'ehc-test',
      });
      return kc;
    };
    let tokenFiles = 0;
    const writeKubeconfigForToken = (token: string, namespace = 'default') => {
      const path = join(dir, `token-${++tokenFiles}.kubeconfig`);
      writeFileSync(path, kubeconfigText(server, pki.servingCa.certPem, { token }, namespace), {
        mode: 0o600,
      });
      return path;
    };

    const mintServiceAccountToken = async (
      namespace: string,
      serviceAccount: string,
      expirationSeconds = 3600,
    ) => {
      try {
        await core.createNamespacedServiceAccount({
          namespace,
          body: { metadata: { name: serviceAccount } },
        });
      } catch (error) {
        if (!isAlreadyExists(error))
          throw new Error(
            `create serviceaccount ${namespace}/${serviceAccount}: ${apiErrorStatus(error).message}`,
            {
              cause: error,
            },
          );
      }
      try {
        const response = await core.createNamespacedServiceAccountToken({
          namespace,
          name: serviceAccount,
          body: { spec: { audiences: [], expirationSeconds } },
        });
        if (!response.status?.token) throw new Error('TokenRequest returned no token');
        return response.status.token;
      } catch (error) {
        throw new Error(`TokenRequest for ${namespace}/${serviceAccount}: ${apiErrorStatus(error).message}`, {
          cause: error,
        });
      }
    };

    const kubectl = (args: string[], kubectlOptions: KubectlOptions = {}) =>
      new Promise<KubectlResult>((resolve, reject) => {
        const child = spawn(
          join(bin, 'kubectl'),
          [`--kubeconfig=${kubeconfigPath}`, `--cache-dir=${kubectlCacheDir}`, ...args],
          {
            stdio: ['pipe', 'pipe', 'pipe'],
            env: { ...process.env, KUBECONFIG: kubeconfigPath },
          },
        );
        kubectlChildren.add(child);
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), kubectlOptions.timeoutMs ?? 60_000);
        child.once('error', (error) => {
          clearTimeout(timer);
          kubectlChildren.delete(child);
          reject(error);
        });
        child.once('close', (code) => {
          clearTimeout(timer);
          kubectlChildren.delete(child);
          resolve({
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
            code: code ?? -1,
          });
        });
        child.stdin.on('error', () => undefined); // kubectl may exit before reading stdin
        child.stdin.end(kubectlOptions.input ?? '');
      });

    const restartApiServer = async (restartOptions: { whileDown?: () => Promise<void> | void } = {}) => {
      await apiServer?.stop(15_000);
      await restartOptions.whileDown?.();
      await launchApiServer(true);
    };

    const logs = { etcd: join(logDir, 'etcd.log'), apiServer: join(logDir, 'kube-apiserver.log') };
    timings.totalMs = Date.now() - t0;
    return {
      server,
      kubeconfigPath,
      kubeConfig,
      caPem: pki.servingCa.certPem,
      etcdUrl,
      dir,
      logs,
      timings,
      createNamespace,
      mintServiceAccountToken,
      kubeConfigForToken,
      writeKubeconfigForToken,
      kubectl,
      restartApiServer,
      pids: () => ({ ...(etcd ? { etcd: etcd.pid } : {}), apiServer: apiServer!.pid }),
      logTail: (component, lines = 40) => tail(logs[component], lines),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Creates (or keeps) each CRD in the files, then waits until it is Established and its versions are served. */
export async function installCrds(
  kubeConfig: KubeConfig,
  files: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const crds = files
    .flatMap((file) => loadAllYaml(readFileSync(file, 'utf8')) as Array<V1CustomResourceDefinition | null>)
    .filter((doc): doc is V1CustomResourceDefinition => doc?.kind === 'CustomResourceDefinition');
  for (const crd of crds) {
    try {
      await extensions.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      if (!isAlreadyExists(error))
        throw new Error(`install CRD ${crd.metadata?.name}: ${apiErrorStatus(error).message}`, {
          cause: error,
        });
    }
  }
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    await eventually(
      async () => {
        const current = await extensions.readCustomResourceDefinition({ name });
        const conditions = current.status?.conditions ?? [];
        const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
        return isTrue('NamesAccepted') && isTrue('Established');
      },
      { timeoutMs, description: `CRD ${name} Established` },
    );
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      await eventually(
        async () => {
          await custom.listClusterCustomObject({
            group: crd.spec.group,
            version: version.name,
            plural: crd.spec.names.plural,
          });
          return true;
        },
        { timeoutMs, description: `${crd.spec.names.plural}.${crd.spec.group}/${version.name} served` },
      );
    }
  }
}
