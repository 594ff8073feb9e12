// What the Dockerfile does, without Docker (no engine on these machines): build dist/, install only
// the production dependencies into a clean tree, and run the image's start command from it. A
// runtime import of a devDependency, or a file the build leaves out, fails here.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cleanupAll, makeTempDir } from '../harness/process.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

afterAll(cleanupAll);

describe('the production image tree', () => {
  it('starts the operator from a pruned tree with production dependencies only', async () => {
    const tree = makeTempDir('image');
    const dist = join(tree, 'dist');
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: REPO });
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(REPO, file), join(tree, file));
    // As hack/setup.sh: `npm install --no-save` where a registry mirror makes `npm ci` refuse the lock.
    const flags = ['--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'];
    await run('npm', ['ci', ...flags], { cwd: tree, timeout: 170_000 }).catch(() =>
      run('npm', ['install', '--no-save', ...flags], { cwd: tree, timeout: 170_000 }),
    );
    expect(existsSync(join(tree, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(tree, 'node_modules', '@kubernetes', 'client-node'))).toBe(true);

    // The Dockerfile's ENTRYPOINT, from the tree it builds.
    const entrypoint = /ENTRYPOINT \["\/nodejs\/bin\/node", "([^"]+)"\]/.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    expect(entrypoint?.[1]).toBe('dist/src/cli/operator.js');
    const help = await run(process.execPath, [entrypoint![1]!, '--help'], { cwd: tree });
    expect(help.stdout).toMatch(/^Usage: etcd-health-operator \[flags\]/);

    const invalid = await run(process.execPath, [entrypoint![1]!, '--concurrency=0'], { cwd: tree }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(invalid).toMatchObject({ code: 2, stderr: expect.stringMatching(/--concurrency: /) as unknown });
  });

  it('keeps the Dockerfile to the rules the restricted Pod Security level and reviewers expect', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(bases).toHaveLength(2);
    expect(bases.every((image) => /:[\w.-]+$/.test(image) && !image.endsWith(':latest'))).toBe(true);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });
});
