// Parsing of the two unit-bearing forms the API accepts: Go-style durations ("30s", "1m30s",
// "250ms") and byte sizes, integers or Kubernetes quantities ("4Gi", "100Mi", "8G", 1024; see
// quantity.ts). Both are validated by the CRD with the same patterns, so parse failures here mean
// a bug, not input.
export { SIZE_PATTERN, parseSizeBytes } from './quantity.js';

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration string such as "1m30s"; throws on a malformed string. */
export function parseDurationMs(text: string): number {
  if (!new RegExp(DURATION_PATTERN).test(text)) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const match of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (durationUnitsMs[match[2]!] ?? 0);
  }
  return total;
}

/** "1.2 GiB", "512 MiB", "980 B": the binary units etcdctl and humans use for DB sizes. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** "4.1ms", "1.25s", "850µs": a latency in seconds shown the way etcd's logs show it. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds >= 1) return `${trimZeros(seconds.toFixed(2))}s`;
  if (seconds >= 0.001) return `${trimZeros((seconds * 1000).toFixed(1))}ms`;
  return `${Math.round(seconds * 1e6)}µs`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
