// Faults of a real Prometheus (test/harness/prometheus.ts), by its PID: frozen with SIGSTOP (it
// keeps its socket, the kernel still accepts connections, nothing answers: a Prometheus stuck in
// a long GC or on a dead disk), thawed with SIGCONT, killed with SIGKILL (a crash), and started
// again on the same address with its TSDB or with an empty one (a pod rescheduled without its
// volume).
import type { ServerResponse } from 'node:http';
import type { EtcdCluster } from './etcd-cluster.js';
import type { FakeHandler } from './fake-prometheus.js';
import { registerCleanup, removeTempDir } from './process.js';
import { startPrometheus, type PrometheusOptions, type PrometheusServer } from './prometheus.js';

/** SIGSTOP; returns the thaw (SIGCONT), which the harness cleanup also runs if a test fails first. */
export function freeze(server: PrometheusServer): () => void {
  const { pid } = server.process;
  process.kill(pid, 'SIGSTOP');
  let frozen = true;
  const thaw = () => {
    if (!frozen) return;
    frozen = false;
    unregister();
    if (!server.process.exited()) process.kill(pid, 'SIGCONT');
  };
  // A stopped process leaves SIGTERM pending: the cleanup must wake it before it is stopped.
  const unregister = registerCleanup(() => Promise.resolve(thaw()));
  return thaw;
}

/**
 * Starts Prometheus again on the address of `previous`, which must have exited: with its TSDB
 * (`keepData`) or with an empty one, its old directory removed.
 */
export async function startAgain(
  cluster: EtcdCluster,
  previous: PrometheusServer,
  { keepData, ...options }: PrometheusOptions & { keepData: boolean },
): Promise<PrometheusServer> {
  if (!previous.process.exited()) throw new Error(`Prometheus (PID ${previous.process.pid}) still runs`);
  if (keepData) return startPrometheus(cluster, { ...options, dir: previous.dataDir });
  removeTempDir(previous.dataDir);
  return startPrometheus(cluster, options);
}

/**
 * A fake Prometheus handler that streams a syntactically plausible answer (no Content-Length) of
 * `bytes` bytes, or until the client hangs up; `sent` counts what was written.
 */
export function endlessAnswer(bytes: number): { handler: FakeHandler; sent: () => number } {
  let sent = 0;
  const chunk = Buffer.from(`${'{"metric":{"instance":"x"},"value":[0,"1"]},'.repeat(1500)}`);
  const handler: FakeHandler = (_request, response: ServerResponse) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    let left = bytes;
    const head = '{"status":"success","data":{"resultType":"vector","result":[';
    response.write(head);
    sent += head.length;
    const pump = () => {
      while (left > 0 && !response.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        sent += piece.length;
        if (!response.write(piece)) return void response.once('drain', pump);
      }
      if (!response.destroyed) response.end(']}}');
    };
    response.once('close', () => (left = 0));
    pump();
  };
  return { handler, sent: () => sent };
}
