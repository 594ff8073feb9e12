// The release workflow cannot run here, so it is linted: actionlint (test/tools/build.sh, from the
// Go module proxy, cached) checks its syntax, expressions, job outputs and the inputs of the
// actions it uses. The scripts it calls run here for real: hack/release/version.sh on this
// repository and on copies whose version or image disagree with the tag.
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOW = join(REPO, '.github/workflows/release.yml');
const VERSION_SCRIPT = join(REPO, 'hack/release/version.sh');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const TOOL_BUILD_TIMEOUT_MS = 30 * 60_000;

const makeTempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `ehc-${prefix}-`));
const removeTempDir = (dir: string) => rmSync(dir, { recursive: true, force: true });

let actionlintBinary = '';
// Cached by hack/setup.sh; a cold build takes minutes, longer than a unit test's 30 s.
beforeAll(() => {
  const output = execFileSync('bash', [join(REPO, 'test/tools/build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: TOOL_BUILD_TIMEOUT_MS,
  });
  actionlintBinary = join(output.trim().split('\n').pop() ?? '', 'actionlint');
}, TOOL_BUILD_TIMEOUT_MS);

/** actionlint on a file; -shellcheck= and -pyflakes= so the result does not depend on the host's tools. */
function actionlint(file: string): { code: number | null; output: string } {
  const result = spawnSync(actionlintBinary, ['-no-color', '-shellcheck=', '-pyflakes=', file], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

function versionScript(tag: string, root = REPO): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', [VERSION_SCRIPT, tag], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, EHC_REPO_ROOT: root },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A repository with only what version.sh reads: package.json and the Deployment. */
function fakeRepo(version: string, image: string): string {
  const dir = makeTempDir('release');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', version }));
  mkdirSync(join(dir, 'deploy/base'), { recursive: true });
  writeFileSync(
    join(dir, 'deploy/base/deployment.yaml'),
    `spec:\n  template:\n    spec:\n      containers:\n        - name: operator\n          image: ${image}\n`,
  );
  return dir;
}

describe('.github/workflows/release.yml', () => {
  it('passes actionlint', () => {
    expect(actionlint(WORKFLOW)).toEqual({ code: 0, output: '' });
  });

  it('actionlint does reject a broken workflow (an undefined job output)', () => {
    const dir = makeTempDir('workflow');
    try {
      const broken = readFileSync(WORKFLOW, 'utf8').replace(
        'needs.verify.outputs.bundle_image',
        'needs.verify.outputs.bundle_imag',
      );
      const file = join(dir, 'release.yml');
      writeFileSync(file, broken);
      const result = actionlint(file);
      expect(result.code).toBe(1);
      expect(result.output).toContain('bundle_imag');
    } finally {
      removeTempDir(dir);
    }
  });

  it('runs only on v* tags, publishes with the least permissions per job, and calls only the release scripts tested here', () => {
    const workflow = yaml.load(readFileSync(WORKFLOW, 'utf8')) as {
      on: { push: { tags: string[] } };
      permissions: Record<string, string>;
      jobs: Record<string, { permissions?: Record<string, string>; steps: Array<{ run?: string }> }>;
    };
    expect(workflow.on).toEqual({ push: { tags: ['v*'] } });
    expect(workflow.permissions).toEqual({ contents: 'read' });
    const writers = Object.entries(workflow.jobs)
      .filter(([, job]) => Object.values(job.permissions ?? {}).includes('write'))
      .map(([name, job]) => `${name}: ${JSON.stringify(job.permissions)}`);
    expect(writers).toEqual([
      'image: {"contents":"read","packages":"write"}',
      'bundle: {"contents":"read","packages":"write"}',
      'github-release: {"contents":"write","packages":"read"}',
    ]);
    const scripts = Object.values(workflow.jobs)
      .flatMap((job) => job.steps.map((step) => step.run ?? ''))
      .flatMap((run) => [...run.matchAll(/hack\/release\/[\w.-]+/g)].map((m) => m[0]));
    // Each has a test: bundle.ts in test/deploy/bundle.test.ts, version.sh below.
    expect([...new Set(scripts)].sort()).toEqual(['hack/release/bundle.ts', 'hack/release/version.sh']);
    for (const script of scripts) expect(existsSync(join(REPO, script))).toBe(true);
  });
});

describe('hack/release/version.sh', () => {
  it('accepts the tag v<package.json version> and prints the version and both images for $GITHUB_OUTPUT', () => {
    const result = versionScript(`v${pkg.version}`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `version=${pkg.version}`,
        `image=ghcr.io/etcd-health-operator/etcd-health-operator:${pkg.version}`,
        `bundle_image=ghcr.io/etcd-health-operator/etcd-health-operator-bundle:${pkg.version}`,
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['another version', 'v99.0.0'],
    ['no leading v', pkg.version],
    ['a suffix', `v${pkg.version}-rc.1`],
  ])('refuses a tag with %s', (_case, tag) => {
    const result = versionScript(tag);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`tag ${tag} is not v${pkg.version}`);
  });

  it('refuses a release whose Deployment image is not tagged with the version', () => {
    const stale = fakeRepo('1.2.3', 'ghcr.io/example/operator:1.2.2');
    const current = fakeRepo('1.2.3', 'ghcr.io/example/operator:1.2.3');
    try {
      const result = versionScript('v1.2.3', stale);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('runs ghcr.io/example/operator:1.2.2, not tag 1.2.3');
      expect(versionScript('v1.2.3', current).stdout).toContain(
        'bundle_image=ghcr.io/example/operator-bundle:1.2.3\n',
      );
    } finally {
      removeTempDir(stale);
      removeTempDir(current);
    }
  });

  it('without a tag, prints its usage', () => {
    const result = spawnSync('bash', [VERSION_SCRIPT], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage:');
  });
});
