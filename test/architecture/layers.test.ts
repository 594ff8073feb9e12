// The folders of src/ form layers: each imports only from the layers below it, so there is no
// import cycle between folders and the pure analysis never reaches Kubernetes, the network or the
// command line. A new import that breaks this fails here with the file and the import.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** What each folder may import, besides itself. Everything else is a layering error. */
const ALLOWED: Record<string, readonly string[]> = {
  api: [],
  runtime: [],
  health: ['api'],
  sources: ['api', 'health', 'runtime'],
  remediation: ['api', 'health', 'runtime', 'sources'],
  observability: ['api', 'health', 'remediation'],
  // Kubernetes adapters: they implement the ports of the layers above (e.g. remediation's StatusStore)
  // and read what the observation holds of other operators (health's ClusterEtcdOperatorObservation).
  kube: ['api', 'health', 'remediation', 'runtime', 'sources'],
  controller: ['api', 'health', 'kube', 'observability', 'remediation', 'runtime', 'sources'],
  cli: ['api', 'controller', 'health', 'runtime', 'sources'],
};

interface Edge {
  file: string;
  from: string;
  to: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(path: string): string {
  return relative(SRC, path).split('/')[0]!;
}

/** Static and dynamic relative imports and re-exports of one file, as folder-to-folder edges. */
function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'/g),
    ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({
      file: relative(SRC, file),
      from: folderOf(file),
      to: folderOf(resolve(dirname(file), specifier)),
      specifier,
    }))
    .filter((edge) => edge.from !== edge.to);
}

const edges = sourceFiles(SRC).flatMap(edgesOf);

describe('the layers of src/', () => {
  it('finds the imports it judges', () => {
    // Guards the parser: a regex that matched nothing would pass every rule below.
    expect(edges.some((edge) => edge.from === 'controller' && edge.to === 'health')).toBe(true);
    expect(edges.length).toBeGreaterThan(50);
  });

  it('knows every folder', () => {
    const folders = new Set(sourceFiles(SRC).map(folderOf));
    expect([...folders].sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it('has each folder import only from the layers below it', () => {
    const wrong = edges
      .filter((edge) => !(ALLOWED[edge.from] ?? []).includes(edge.to))
      .map((edge) => `${edge.file} imports ${edge.specifier} (${edge.from} -> ${edge.to})`);
    expect(wrong).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const next = new Map<string, Set<string>>();
    for (const edge of edges) next.set(edge.from, (next.get(edge.from) ?? new Set()).add(edge.to));
    const cycles: string[] = [];
    const visit = (folder: string, path: string[]) => {
      for (const to of next.get(folder) ?? []) {
        if (to === path[0]) cycles.push([...path, to].join(' -> '));
        else if (!path.includes(to)) visit(to, [...path, to]);
      }
    };
    for (const folder of next.keys()) visit(folder, [folder]);
    expect(cycles).toEqual([]);
  });
});
