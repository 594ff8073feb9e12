// The footprint measurement (bench/footprint.ts) as data and as Markdown: idle memory per variant,
// what each dependency costs alone, and a V8 heap snapshot summarised by constructor.
import { readFileSync } from 'node:fs';

export interface IdleSample {
  /** VmRSS, VmHWM (peak since start), RssAnon and RssFile of /proc/<pid>/status. */
  rssBytes: number;
  peakRssBytes: number;
  anonBytes: number;
  fileBytes: number;
  /** From the operator's own /metrics (prom-client's default metrics). */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** Spawn to /readyz 200. */
  readyMs: number;
  /** CPU seconds (user + system) from spawn to ready, and during the idle window. */
  startCpuSeconds: number;
  idleCpuSeconds: number;
}

export interface VariantSpec {
  label: string;
  /** The entry point, relative to the repository. */
  entry: string;
  nodeArgs: string[];
  /** Environment variables of the process beyond the bench's own (e.g. MALLOC_ARENA_MAX). */
  env: Record<string, string>;
}

export interface VariantResult extends VariantSpec {
  runs: IdleSample[];
  heap?: HeapSummary;
  /** Why there is no heap summary, when taking or reading the snapshot failed. */
  heapError?: string;
}

export interface ModuleCost {
  /** What the fresh node imported: a package name or a file of the build. */
  what: string;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  /** Self size by node type (object, string, code, ...). */
  byType: { name: string; bytes: number; count: number }[];
  /** Self size of objects, closures and native objects by constructor name; the largest first. */
  byConstructor: { name: string; bytes: number; count: number }[];
}

export interface FootprintReport {
  startedAt: string;
  machine: { nproc: number; node: string; loadBefore: string; loadAfter: string; kernel: string };
  idleSeconds: number;
  variants: VariantResult[];
  modules: ModuleCost[];
  /** Bytes in the bundle by package (esbuild's metafile), when a bundle was measured. */
  bundleByPackage: { name: string; bytes: number }[];
}

/** The median of a field over the runs of a variant. */
export function median(runs: readonly IdleSample[], field: keyof IdleSample): number {
  const values = runs.map((run) => run[field]).sort((a, b) => a - b);
  if (values.length === 0) return NaN;
  const mid = Math.floor(values.length / 2);
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/**
 * Summarises a .heapsnapshot (V8's JSON: a flat `nodes` array described by snapshot.meta) the way
 * DevTools' "Summary" view groups it: objects by constructor name, everything else by node type.
 */
export function summariseHeapSnapshot(path: string, top = 25): HeapSummary {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const typeNames = snapshot.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byType = new Map<string, { bytes: number; count: number }>();
  const byConstructor = new Map<string, { bytes: number; count: number }>();
  const add = (map: typeof byType, key: string, bytes: number) => {
    const entry = map.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count += 1;
    map.set(key, entry);
  };
  let totalBytes = 0;
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = typeNames[nodes[i + typeAt]!] ?? 'unknown';
    const bytes = nodes[i + sizeAt]!;
    totalBytes += bytes;
    add(byType, type, bytes);
    if (type === 'object' || type === 'closure' || type === 'native') {
      const name = type === 'closure' ? '(closure)' : (strings[nodes[i + nameAt]!] ?? '?');
      add(byConstructor, name, bytes);
    } else {
      add(byConstructor, `(${type})`, bytes);
    }
  }
  const sorted = (map: typeof byType) =>
    [...map].map(([name, v]) => ({ name, ...v })).sort((a, b) => b.bytes - a.bytes);
  return { totalBytes, byType: sorted(byType), byConstructor: sorted(byConstructor).slice(0, top) };
}

const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : 'n/a');

export function renderFootprint(report: FootprintReport): string {
  const lines: string[] = [];
  lines.push(`# Footprint: ${report.startedAt}`, '');
  lines.push(
    `Machine: ${report.machine.nproc} CPUs, node ${report.machine.node}, kernel ${report.machine.kernel}; ` +
      `load before "${report.machine.loadBefore}", after "${report.machine.loadAfter}". ` +
      `Each variant: the operator against a real kube-apiserver with the CRD and no EtcdHealthCheck, ` +
      `leader election off, sampled ${report.idleSeconds} s after /readyz; the variants of one run side by side; ` +
      `medians of ${report.variants[0]?.runs.length ?? 0} runs.`,
    '',
  );
  lines.push(
    '| variant | node flags, environment | RSS idle | anon / file | peak RSS | V8 heap used / total | external | ready | CPU to ready | CPU idle |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const v of report.variants) {
    const m = (field: keyof IdleSample) => median(v.runs, field);
    lines.push(
      `| ${v.label} (\`${v.entry}\`) | \`${[...v.nodeArgs, ...Object.entries(v.env).map(([k, x]) => `${k}=${x}`)].join(' ') || '(none)'}\` | ${mib(m('rssBytes'))} | ` +
        `${mib(m('anonBytes'))} / ${mib(m('fileBytes'))} | ${mib(m('peakRssBytes'))} | ` +
        `${mib(m('heapUsedBytes'))} / ${mib(m('heapTotalBytes'))} | ${mib(m('externalBytes'))} | ` +
        `${(m('readyMs') / 1000).toFixed(1)} s | ${m('startCpuSeconds').toFixed(2)} s | ${m('idleCpuSeconds').toFixed(2)} s |`,
    );
  }
  lines.push('', 'Every run (RSS idle, MiB): ');
  for (const v of report.variants) {
    lines.push(`- ${v.label}: ${v.runs.map((r) => (r.rssBytes / 2 ** 20).toFixed(1)).join(', ')}`);
  }
  if (report.modules.length > 0) {
    lines.push('', '## Each dependency alone', '');
    lines.push('A fresh `node --expose-gc` that imports one thing, after two GCs; medians of 3.', '');
    lines.push('| imported | RSS | V8 heap used |', '|---|---:|---:|');
    for (const m of report.modules)
      lines.push(`| ${m.what} | ${mib(m.rssBytes)} | ${mib(m.heapUsedBytes)} |`);
  }
  if (report.bundleByPackage.length > 0) {
    lines.push('', '## The bundle by package (bytes of output)', '');
    lines.push('| package | bytes |', '|---|---:|');
    for (const p of report.bundleByPackage) lines.push(`| ${p.name} | ${(p.bytes / 1024).toFixed(0)} KiB |`);
  }
  for (const v of report.variants) {
    if (v.heapError) lines.push('', `Heap snapshot of ${v.label}: failed (${v.heapError}).`);
    if (!v.heap) continue;
    lines.push('', `## Heap snapshot of ${v.label} (self size ${mib(v.heap.totalBytes)})`, '');
    lines.push('| by type | self size | count |', '|---|---:|---:|');
    for (const t of v.heap.byType) lines.push(`| ${t.name} | ${mib(t.bytes)} | ${t.count} |`);
    lines.push('', '| by constructor (top) | self size | count |', '|---|---:|---:|');
    for (const c of v.heap.byConstructor) lines.push(`| ${c.name} | ${mib(c.bytes)} | ${c.count} |`);
  }
  return `${lines.join('\n')}\n`;
}
