// deploy/krew/etcd-health.yaml against krew's own validation (sigs.k8s.io/krew
// internal/index/validation: apiVersion, kind, a safe name equal to the file's, a one-line short
// description, a semver version, and per platform uri, a sha256, bin, files and an os/arch
// selector), and against the package: the plugin's name is the kubectl-* bin of package.json, its
// bin is that bin's file, and the release named by the uri is the package's version.
import { describe, expect, it } from '@jest/globals';
import * as yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface KrewPlatform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] };
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from?: string; to?: string }[];
}

interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    homepage?: string;
    shortDescription?: string;
    description?: string;
    caveats?: string;
    platforms?: KrewPlatform[];
  };
}

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const MANIFEST = 'deploy/krew/etcd-health.yaml';
const plugin = yaml.load(readFileSync(repoFile(MANIFEST), 'utf8')) as KrewPlugin;
const pkg = JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as {
  version: string;
  homepage: string;
  bin: Record<string, string>;
  engines: { node: string };
};

/** The file name kubectl looks up for `kubectl NAME`, and krew links the plugin's bin as. */
const kubectlBinOf = (pluginName: string) => `kubectl-${pluginName.replaceAll('-', '_')}`;

describe('the krew plugin manifest', () => {
  it('passes the checks of krew validation', () => {
    expect(plugin.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2');
    expect(plugin.kind).toBe('Plugin');
    expect(plugin.metadata.name).toMatch(/^[\w-]+$/);
    expect(`${plugin.metadata.name}.yaml`).toBe(basename(MANIFEST));
    expect(plugin.spec.shortDescription).toMatch(/^[^\r\n]+$/);
    expect(plugin.spec.version).toMatch(/^v\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(plugin.spec.platforms?.length).toBeGreaterThan(0);
    for (const platform of plugin.spec.platforms ?? []) {
      expect(platform.uri).toMatch(/^https:\/\//);
      expect(platform.sha256).toMatch(/^[a-f0-9]{64}$/);
      expect(platform.bin).toBeTruthy();
      expect(platform.files?.length).toBeGreaterThan(0);
      for (const file of platform.files ?? []) expect([file.from, file.to].every(Boolean)).toBe(true);
      const keys = [
        ...Object.keys(platform.selector?.matchLabels ?? {}),
        ...(platform.selector?.matchExpressions ?? []).map((expression) => expression.key),
      ];
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => key !== 'os' && key !== 'arch')).toEqual([]);
    }
  });

  it("names the package's kubectl plugin bin, its file, version and homepage", () => {
    const kubectlBin = kubectlBinOf(plugin.metadata.name);
    expect(kubectlBin).toBe('kubectl-etcd_health');
    expect(Object.keys(pkg.bin)).toContain(kubectlBin);
    // The plugin is `etcd-health check` under kubectl's name.
    expect(pkg.bin[kubectlBin]).toBe(pkg.bin['etcd-health']);
    expect(plugin.spec.version).toBe(`v${pkg.version}`);
    expect(plugin.spec.homepage).toBe(pkg.homepage);
    for (const platform of plugin.spec.platforms ?? []) {
      expect(platform.bin).toBe(pkg.bin[kubectlBin]);
      expect(platform.uri).toBe(
        `${pkg.homepage}/releases/download/v${pkg.version}/${plugin.metadata.name}-${pkg.version}.tar.gz`,
      );
    }
  });

  it('covers Linux and macOS on amd64 and arm64 and tells that Node.js must be on PATH', () => {
    const platforms = (plugin.spec.platforms ?? []).map(
      (p) => `${p.selector?.matchLabels?.os}/${p.selector?.matchLabels?.arch}`,
    );
    expect(platforms.sort()).toEqual(['darwin/amd64', 'darwin/arm64', 'linux/amd64', 'linux/arm64']);
    expect(pkg.engines.node).toBe('>=20.19');
    expect(plugin.spec.caveats).toContain('Node.js >= 20.19');
  });
});
