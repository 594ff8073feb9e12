// package.json is publishable and its bins run when installed: each bin is the build of a source
// file under src/ that starts with a node shebang (npm links bins as they are; without it the
// shell runs JavaScript). test/deploy/pack.it.ts packs, installs and runs them for real.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const pkg = JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as {
  private?: boolean;
  files: string[];
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** The TypeScript file a path under dist/ is compiled from (tsconfig.build.json: rootDir "."). */
const sourceOf = (built: string) => built.replace(/^dist\//, '').replace(/\.js$/, '.ts');

describe('package.json', () => {
  it('can be published: not private, a files list of the build and manifests only, a build before packing', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/src/**/*.js', 'crds', 'deploy']));
    expect(pkg.files.filter((entry) => /^(src|test|hack|bench)\b/.test(entry))).toEqual([]);
    // The krew manifest names the sha256 of the archive built from the package: not inside it.
    expect(pkg.files).toContain('!deploy/krew');
    expect(pkg.scripts.prepack).toMatch(/npm run build$/);
    expect(existsSync(repoFile('LICENSE'))).toBe(true);
  });

  it('has the operator, the check and the kubectl plugin as bins, each a source with a node shebang', () => {
    expect(pkg.bin).toEqual({
      'etcd-health-operator': 'dist/src/cli/operator.js',
      'etcd-health': 'dist/src/cli/check.js',
      'kubectl-etcd_health': 'dist/src/cli/check.js',
    });
    for (const built of Object.values(pkg.bin)) {
      expect(pkg.files.some((entry) => built.startsWith(entry.replace(/\*\*\/\*\.js$/, '')))).toBe(true);
      const firstLine = readFileSync(repoFile(sourceOf(built)), 'utf8').split('\n')[0];
      expect([built, firstLine]).toEqual([built, '#!/usr/bin/env node']);
    }
  });
});
