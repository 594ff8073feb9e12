// `npx tsx bench/api-calls.ts`: what one Kubernetes API call costs the operator's process and the
// kube-apiserver, with client-node's own connection handling (a new connection and TLS handshake
// per call) and with the operator's pooled keep-alive connections (src/runtime/connections.ts).
// A real kube-apiserver; the client authenticates with a ServiceAccount token, as in a pod. Rounds
// alternate between the two, so that a change in the machine's load hits both alike.
import { parseArgs } from 'node:util';
import { CustomObjectsApi, KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../src/api/v1alpha1/resource.js';
import { withPooledConnections } from '../src/runtime/connections.js';
import { describeError } from '../src/runtime/k8s-errors.js';
import { callOptions } from '../src/runtime/request-options.js';
import { startControlPlane } from '../test/harness/controlplane.js';
import { Teardown } from '../test/harness/teardown.js';
import { clusterAdminServiceAccount } from '../test/runtime/api-requests.js';
import { cpuSeconds } from './measure.js';
import { shellOutput } from './processes.js';

const NAMESPACE = 'api-calls';
const NAME = 'target';

interface Round {
  mode: 'per-call connection' | 'pooled';
  calls: number;
  wallMs: number;
  clientCpuMs: number;
  apiServerCpuMs: number;
  /** Calls that failed (a timeout on a machine this loaded); the round goes on. */
  failed: string[];
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const calls = Number(values.calls);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  const teardown = new Teardown(say);
  teardown.onSignals((code) => process.exit(code));
  try {
    say(`machine: ${shellOutput('nproc')} CPUs; ${shellOutput('uptime')}`);
    const cp = await startControlPlane();
    teardown.add('control plane', () => cp.stop());
    await cp.createNamespace(NAMESPACE);
    const identity = await clusterAdminServiceAccount(cp, NAMESPACE, 'client');
    const given = new KubeConfig();
    given.loadFromFile(identity.kubeconfigPath);
    await given.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'EtcdHealthCheck',
        metadata: { name: NAME },
        spec: { etcd: { endpoints: ['http://127.0.0.1:2379'] } },
      },
    });

    let generation = 0;
    const round = async (mode: Round['mode']): Promise<Round> => {
      const api = (mode === 'pooled' ? withPooledConnections(given) : given).makeApiClient(CustomObjectsApi);
      let next = 0;
      const failed: string[] = [];
      const apiServerBefore = cpuSeconds(cp.pids().apiServer);
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < calls) {
            next++;
            // A status write whose content changes each time, as a reconcile's write does.
            await api
              .patchNamespacedCustomObjectStatus(
                {
                  group: GROUP,
                  version: VERSION,
                  namespace: NAMESPACE,
                  plural: PLURAL,
                  name: NAME,
                  body: { status: { observedGeneration: ++generation } },
                },
                callOptions(15_000, PatchStrategy.MergePatch),
              )
              .catch((error: unknown) => failed.push(describeError(error)));
          }
        }),
      );
      const wallMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      return {
        mode,
        calls,
        wallMs,
        clientCpuMs: (cpu.user + cpu.system) / 1000,
        apiServerCpuMs: (cpuSeconds(cp.pids().apiServer) - apiServerBefore) * 1000,
        failed,
      };
    };

    const results: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const mode of ['per-call connection', 'pooled'] as const) {
        const result = await round(mode);
        results.push(result);
        say(
          `${mode}: ${calls} status PATCHes, ${concurrency} at a time, in ${(result.wallMs / 1000).toFixed(1)} s; ` +
            `per call: client CPU ${(result.clientCpuMs / calls).toFixed(2)} ms, kube-apiserver CPU ` +
            `${(result.apiServerCpuMs / calls).toFixed(2)} ms, wall ${(result.wallMs / calls).toFixed(1)} ms; ` +
            `${result.failed.length} failed ${JSON.stringify([...new Set(result.failed)])}`,
        );
      }
    }
    say(`machine after: ${shellOutput('uptime')}`);
    say('');
    say('| per status PATCH (median of the rounds) | per-call connection | pooled |');
    say('|---|---:|---:|');
    const median = (mode: Round['mode'], field: 'clientCpuMs' | 'apiServerCpuMs' | 'wallMs') => {
      const values = results
        .filter((r) => r.mode === mode)
        .map((r) => r[field] / r.calls)
        .sort((a, b) => a - b);
      const middle = values.length / 2;
      const median = Number.isInteger(middle)
        ? (values[middle - 1]! + values[middle]!) / 2
        : values[Math.floor(middle)]!;
      return median.toFixed(2);
    };
    for (const [label, field] of [
      ['client CPU (ms)', 'clientCpuMs'],
      ['kube-apiserver CPU (ms)', 'apiServerCpuMs'],
      ['wall time / calls (ms)', 'wallMs'],
    ] as const)
      say(`| ${label} | ${median('per-call connection', field)} | ${median('pooled', field)} |`);
    return 0;
  } catch (error) {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await teardown.run();
  }
}

void main().then((code) => process.exit(code));
