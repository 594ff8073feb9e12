// What the benchmark reads from the processes it runs: CPU time and memory from /proc, samples from
// Prometheus text exposition (the operator's /metrics, Prometheus' own, etcd members'), and the
// statistics it reports (percentiles, histogram quantiles from bucket deltas).
import { readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64 and arm64

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of the whole machine since boot, all CPUs, from /proc/stat: busy (user, nice, system,
 * irq, softirq) and stolen (a VM's CPU time the hypervisor gave to someone else).
 */
export function machineCpuSeconds(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busy: (user + nice + system + irq + softirq) / CLOCK_TICKS_PER_SECOND,
    steal: steal / CLOCK_TICKS_PER_SECOND,
  };
}

/** CPU seconds of a process, or undefined once it is gone. */
export function cpuSecondsIfAlive(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return cpuSeconds(pid);
  } catch {
    return undefined;
  }
}

export interface Memory {
  rssBytes: number;
  /** Peak RSS since start or since the last resetPeakRss(). */
  hwmBytes: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssBytes: kib('VmRSS') * 1024, hwmBytes: kib('VmHWM') * 1024 };
}

/** Resets VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs). False if not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the samples of a text exposition whose metric name starts with one of `prefixes`. */
export function parseSamples(text: string, prefixes: readonly string[]): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !prefixes.some((p) => line.startsWith(p))) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include every given label. */
export function sumOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Sums by one label's value. */
export function sumBy(samples: readonly Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** Cumulative bucket counts of a histogram (summed over its other labels), by upper bound. */
export function buckets(samples: readonly Sample[], histogram: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${histogram}_bucket`) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/** The difference of two cumulative bucket snapshots. */
export function bucketDelta(after: Map<number, number>, before: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, count] of after) out.set(le, count - (before.get(le) ?? 0));
  return out;
}

/**
 * Prometheus' histogram_quantile over cumulative buckets: linear interpolation inside the bucket
 * that holds the rank; the highest finite bound when the rank falls into +Inf. NaN when empty.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const bound of bounds) {
    const count = cumulative.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return previousBound;
      const inBucket = count - previousCount;
      return inBucket <= 0
        ? bound
        : previousBound + (bound - previousBound) * ((rank - previousCount) / inBucket);
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

/** Nearest-rank percentile of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** GET a text body with a deadline (plain http on loopback). */
export async function fetchText(url: string, timeoutMs = 20_000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.text();
}
