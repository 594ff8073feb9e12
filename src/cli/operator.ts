#!/usr/bin/env node
// The operator's entry point: flags -> KubeConfig -> manager; exits 0 after a graceful SIGTERM,
// 1 when leadership is lost (a fresh process competes again), 2 on a configuration error.
// `etcd-health-operator check ...` is `etcd-health check ...`: `npx etcd-health-operator check`
// runs the bin named as the package, and the image's entrypoint is this file.
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { OperatorManager } from '../controller/manager.js';
import { onTerminationSignal } from '../runtime/index.js';
import { USAGE, parseOperatorOptions } from './options.js';

async function main(): Promise<number> {
  const parsed = parseOperatorOptions(process.argv.slice(2), process.env);
  if (parsed.ok === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!parsed.ok) {
    process.stderr.write(`etcd-health-operator: invalid configuration:\n${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const options = parsed.options;
  const log = pino({ level: options.logLevel, base: { identity: options.identity } });

  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    log.error({ err: error }, 'cannot load a kubeconfig');
    return 2;
  }
  log.info(
    {
      server: kubeConfig.getCurrentCluster()?.server,
      namespaces: options.namespaces.length > 0 ? options.namespaces : 'all',
      concurrency: options.concurrency,
      leaderElect: options.leaderElect,
    },
    'starting',
  );

  const manager = new OperatorManager(kubeConfig, options, log);
  const removeSignalHandlers = onTerminationSignal((signal) => {
    log.info({ signal }, 'shutting down');
    void manager.shutdown();
  });
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
  await manager.start();
  const reason = await manager.done;
  removeSignalHandlers();
  if (reason === 'lost-leadership') {
    await manager.shutdown();
    return 1;
  }
  return 0;
}

if (process.argv[2] === 'check') {
  // check.ts runs itself on import and reads `check` as its optional subcommand.
  await import('./check.js');
} else {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `etcd-health-operator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
