// What the recommended commands of the CLI need to work when pasted into the shell it ran in: the
// TLS files this check read, by absolute paths (the user may paste from another directory), and the
// names of the shell's ETCDCTL_* variables (etcdctl refuses a flag that one of them also sets).
import { resolve } from 'node:path';
import type { CommandInput } from '../health/commands.js';
import type { CheckArgs } from './check-args.js';

export function pastedCommandInput(
  args: Pick<CheckArgs, 'cacert' | 'cert' | 'key'>,
  environment: Readonly<Record<string, string | undefined>>,
  directory: string,
): CommandInput {
  const path = (file: string | undefined) => (file === undefined ? undefined : resolve(directory, file));
  return {
    tlsFiles: { cacert: path(args.cacert), cert: path(args.cert), key: path(args.key) },
    etcdctlVariables: Object.keys(environment)
      .filter((name) => name.startsWith('ETCDCTL_') && environment[name] !== undefined)
      .sort(),
  };
}
