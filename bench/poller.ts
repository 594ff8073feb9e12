// Reads the operator's /metrics every few seconds, for what a window snapshot cannot give:
// - the per-CR gauge etcd_health_check_last_check_timestamp_seconds{namespace,name}, whose value is
//   the exact time a check completed; two consecutive values are the actual time between two checks
//   of that CR. Polling faster than the shortest gap (30s interval - 10% jitter) sees every value.
// - the event loop delay (prom-client's nodejs_eventloop_lag_p99_seconds, over the last poll period);
// - the operator's RSS (/proc), and what one scrape of /metrics costs (time, bytes).
import { fetchText, memory, parseSamples } from './measure.js';

const LAST_CHECK = 'etcd_health_check_last_check_timestamp_seconds';

export interface Gap {
  key: string;
  /** Completion time of the later check, Unix seconds. */
  end: number;
  /** Seconds between the two checks. */
  seconds: number;
}

export interface LoopSample {
  /** Unix ms. */
  at: number;
  p99: number;
  max: number;
  rssBytes: number;
  scrapeMs: number;
  scrapeBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export class MetricsPoller {
  readonly gaps: Gap[] = [];
  readonly loop: LoopSample[] = [];
  /** Last completed check per CR key, Unix seconds. */
  readonly lastCheck = new Map<string, number>();
  private running = false;
  private done: Promise<void> = Promise.resolve();
  failures = 0;

  constructor(
    private readonly metricsUrl: string,
    private readonly pid: number,
    private readonly periodMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.done = (async () => {
      while (this.running) {
        const started = Date.now();
        await this.pollOnce().catch(() => this.failures++);
        const wait = Math.max(0, this.periodMs - (Date.now() - started));
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  async pollOnce(): Promise<void> {
    const t0 = performance.now();
    const text = await fetchText(this.metricsUrl);
    const scrapeMs = performance.now() - t0;
    const samples = parseSamples(text, [
      LAST_CHECK,
      'nodejs_eventloop_lag_',
      'nodejs_heap_size_',
      'nodejs_external_memory',
    ]);
    let p99 = NaN;
    let max = NaN;
    let heapUsedBytes = NaN;
    let heapTotalBytes = NaN;
    let externalBytes = NaN;
    for (const s of samples) {
      if (s.name === 'nodejs_heap_size_used_bytes') heapUsedBytes = s.value;
      else if (s.name === 'nodejs_heap_size_total_bytes') heapTotalBytes = s.value;
      else if (s.name === 'nodejs_external_memory_bytes') externalBytes = s.value;
      else if (s.name === 'nodejs_eventloop_lag_p99_seconds') p99 = s.value;
      else if (s.name === 'nodejs_eventloop_lag_max_seconds') max = s.value;
      else if (s.name === LAST_CHECK) {
        const key = `${s.labels.namespace}/${s.labels.name}`;
        const previous = this.lastCheck.get(key);
        if (previous !== undefined && s.value > previous)
          this.gaps.push({ key, end: s.value, seconds: s.value - previous });
        if (previous === undefined || s.value > previous) this.lastCheck.set(key, s.value);
      }
    }
    let rssBytes = NaN;
    try {
      rssBytes = memory(this.pid).rssBytes;
    } catch {
      // the process is gone
    }
    this.loop.push({
      at: Date.now(),
      p99,
      max,
      rssBytes,
      scrapeMs,
      scrapeBytes: text.length,
      heapUsedBytes,
      heapTotalBytes,
      externalBytes,
    });
  }

  gapsBetween(fromUnixS: number, toUnixS: number, keys: ReadonlySet<string>): Gap[] {
    return this.gaps.filter((g) => g.end >= fromUnixS && g.end < toUnixS && keys.has(g.key));
  }

  loopBetween(fromMs: number, toMs: number): LoopSample[] {
    return this.loop.filter((l) => l.at >= fromMs && l.at <= toMs);
  }
}
