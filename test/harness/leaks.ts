import { existsSync, readFileSync } from 'node:fs';
import { HARNESS_LEDGER } from './process.js';

/** Whether a process runs; an exited but unreaped process (zombie) does not. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Processes still running and temp dirs still present among those the ledger recorded. */
export function findLeaks(): string[] {
  if (!existsSync(HARNESS_LEDGER)) return [];
  const leaks: string[] = [];
  for (const line of readFileSync(HARNESS_LEDGER, 'utf8').split('\n')) {
    const [kind, value, name] = line.split(' ');
    if (kind === 'pid' && pidAlive(Number(value))) leaks.push(`process ${value} (${name}) still running`);
    if (kind === 'dir' && value && existsSync(value)) leaks.push(`temp dir ${value} still exists`);
  }
  return leaks;
}
