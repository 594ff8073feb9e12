// Loopback address blocks for test clusters: each cluster gets its own 127.0.N.0/24, so members
// can all use the standard ports 2379/2380 and several test files (and several jest runs on this
// machine) can run clusters at once. A block is held by an atomic mkdir of its slot directory;
// a slot whose owner process is gone is reclaimed, unless something still listens there (a
// crashed run's processes).
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SLOT_DIR = join(tmpdir(), 'etcd-health-operator-harness', 'net-slots');
// 127.0.0.x and 127.0.1.x are left to others (/etc/hosts, the control-plane harness).
const FIRST_BLOCK = 20;
const LAST_BLOCK = 250;
// A slot without an owner file is being claimed right now, unless it is older than this.
const CLAIM_GRACE_MS = 10_000;

export interface AddressBlock {
  /** e.g. "127.0.23" */
  readonly prefix: string;
  /** The address of host `n` in the block, e.g. address(2) = "127.0.23.2". */
  address(host: number): string;
  release(): void;
}

export async function allocateAddressBlock(): Promise<AddressBlock> {
  mkdirSync(SLOT_DIR, { recursive: true });
  // Start at a different block per worker so that concurrent claims rarely collide.
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const span = LAST_BLOCK - FIRST_BLOCK + 1;
  for (let i = 0; i < span; i++) {
    const block = FIRST_BLOCK + ((worker * 37 + i) % span);
    const slot = join(SLOT_DIR, String(block));
    if (!claim(slot)) continue;
    const prefix = `127.0.${block}`;
    const release = () => rmSync(slot, { recursive: true, force: true });
    if (await inUse(prefix)) {
      // Leave the slot to be retried once those processes are gone.
      release();
      continue;
    }
    return { prefix, address: (host) => `${prefix}.${host}`, release };
  }
  throw new Error(`no free loopback block in 127.0.${FIRST_BLOCK}-${LAST_BLOCK}.0/24 (see ${SLOT_DIR})`);
}

function claim(slot: string): boolean {
  try {
    mkdirSync(slot);
    writeFileSync(join(slot, 'owner'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (!abandoned(slot)) return false;
  // rename is atomic: of two processes reclaiming the same slot, one wins, the other retries.
  try {
    const grave = `${slot}.stale-${process.pid}-${Date.now()}`;
    renameSync(slot, grave);
    rmSync(grave, { recursive: true, force: true });
  } catch {
    return false;
  }
  return claim(slot);
}

function abandoned(slot: string): boolean {
  let owner: number;
  try {
    owner = Number(readFileSync(join(slot, 'owner'), 'utf8'));
  } catch {
    try {
      return Date.now() - statSync(slot).mtimeMs > CLAIM_GRACE_MS;
    } catch {
      return false;
    }
  }
  try {
    process.kill(owner, 0);
    return false;
  } catch {
    return true;
  }
}

const PROBED_PORTS: [host: number, port: number][] = [
  [1, 9090],
  [2, 2379],
  [2, 2380],
  [3, 2379],
  [4, 2379],
];

/** Whether anything accepts connections on the block's usual addresses. */
async function inUse(prefix: string): Promise<boolean> {
  const answers = await Promise.all(
    PROBED_PORTS.map(
      ([host, port]) =>
        new Promise<boolean>((resolve) => {
          const socket = connect({ host: `${prefix}.${host}`, port, timeout: 1_000 });
          const done = (listening: boolean) => {
            socket.destroy();
            resolve(listening);
          };
          socket.once('connect', () => done(true));
          socket.once('timeout', () => done(true));
          socket.once('error', () => done(false));
        }),
    ),
  );
  return answers.some(Boolean);
}
