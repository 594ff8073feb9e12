// What the Dockerfile does, without Docker (no engine on these machines): each stage gets a
// directory for its root filesystem, and its WORKDIR, COPY and RUN instructions are carried out as
// written, in order (RUN through sh). npm works offline: packages come from the npm cache, never
// from the network, so a lock file `npm ci` refuses fails here as it fails in a real build. The
// last stage's ENTRYPOINT then starts from the tree the stages built. A runtime import of a
// devDependency, a file the build leaves out, or a step that fails, fails this test.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

afterAll(cleanupAll);

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions in order: comments and the parser directive dropped, continued lines joined. */
function parseDockerfile(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

interface Stage {
  name: string;
  /** The stage's root filesystem on this machine. */
  root: string;
  /** WORKDIR, an absolute path inside the stage. */
  workdir: string;
  user?: string;
  entrypoint?: string[];
}

/** A path inside a stage, as a path on this machine. */
function inside(stage: Stage, path: string): string {
  return join(stage.root, posix.resolve(stage.workdir, path));
}

/** Docker's COPY: a directory's contents, or files, into the destination. */
function copy(stage: Stage, args: string, stages: Map<string, Stage>): void {
  const words = args.split(/\s+/);
  const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
  const dest = words.pop()!;
  const source = (path: string) => {
    if (from === undefined) return join(REPO, path);
    const other = stages.get(from);
    if (!other) throw new Error(`COPY --from=${from}: no such stage`);
    return inside(other, path);
  };
  const target = inside(stage, dest);
  for (const path of words.map(source)) {
    if (!existsSync(path)) throw new Error(`COPY ${args}: ${path} does not exist`);
    if (statSync(path).isDirectory()) {
      mkdirSync(target, { recursive: true });
      cpSync(path, target, { recursive: true, verbatimSymlinks: true });
    } else if (dest.endsWith('/') || words.length > 1) {
      mkdirSync(target, { recursive: true });
      cpSync(path, join(target, basename(path)));
    } else {
      cpSync(path, target);
    }
  }
}

/** Carries out the Dockerfile's stages; returns them by name, the last one also as "final". */
async function build(dockerfile: string): Promise<Map<string, Stage>> {
  const stages = new Map<string, Stage>();
  let stage: Stage | undefined;
  for (const { keyword, args } of parseDockerfile(dockerfile)) {
    if (keyword === 'FROM') {
      const name = /\sAS\s+(\S+)$/i.exec(args)?.[1] ?? `stage-${stages.size}`;
      stage = { name, root: makeTempDir(`image-${name}`), workdir: '/' };
      stages.set(name, stage);
      stages.set('final', stage);
      continue;
    }
    if (!stage) throw new Error(`${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        mkdirSync(inside(stage, '.'), { recursive: true });
        break;
      case 'COPY':
        copy(stage, args, stages);
        break;
      case 'RUN':
        await run('sh', ['-c', args], {
          cwd: inside(stage, '.'),
          // Offline: what the build needs must be in the lock file and the npm cache.
          env: { ...process.env, NODE_OPTIONS: '', npm_config_offline: 'true' },
          timeout: 300_000,
          maxBuffer: 64 * 2 ** 20,
        });
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = JSON.parse(args) as string[];
        break;
      case 'EXPOSE':
        break;
      default:
        throw new Error(`the image test does not know the Dockerfile instruction ${keyword}: teach it`);
    }
  }
  return stages;
}

describe('the production image tree', () => {
  it('starts the operator from the tree the Dockerfile builds, with production dependencies only', async () => {
    const stages = await build(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    const image = stages.get('final')!;
    const app = inside(image, '.');

    // Exactly what the runtime stage copies, pruned of devDependencies by the build stage.
    expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'jest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', '@kubernetes', 'client-node'))).toBe(true);
    expect(existsSync(join(app, 'dist', 'src', 'cli', 'operator.js'))).toBe(true);
    expect(image.user).toBe('65532:65532');

    // The ENTRYPOINT with this machine's node in place of the distroless image's /nodejs/bin/node.
    const [node, ...entrypoint] = image.entrypoint ?? [];
    expect(node).toBe('/nodejs/bin/node');
    expect(entrypoint).toEqual(['dist/src/cli/operator.js']);
    const help = await run(process.execPath, [...entrypoint, '--help'], { cwd: app });
    expect(help.stdout).toMatch(/^Usage: etcd-health-operator \[flags\]/);

    const invalid = await run(process.execPath, [...entrypoint, '--concurrency=0'], { cwd: app }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(invalid).toMatchObject({ code: 2, stderr: expect.stringMatching(/--concurrency: /) as unknown });
  }, 900_000);

  it('keeps the Dockerfile to the rules the restricted Pod Security level and reviewers expect', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(bases).toHaveLength(2);
    expect(bases.every((image) => /:[\w.-]+$/.test(image) && !image.endsWith(':latest'))).toBe(true);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });
});
