// Answers shared by every check that asks the same question at about the same time: one request in
// flight per key, and a successful answer reused while it is younger than the TTL. Failures are
// shared only with those who asked while they were in flight, never reused after.
export interface RecentAnswersOptions<T> {
  ttlMs: number;
  /** Bound on the answers kept; the oldest are dropped first. */
  maxEntries: number;
  /** Answers that must not outlive their own flight. */
  isFailure(answer: T): boolean;
  /** Told whether each request was served from a shared answer. */
  onLookup?(shared: boolean): void;
}

interface Entry<T> {
  /** The time the answer is about (ms): when it was asked for. */
  at: number;
  answer: Promise<T>;
}

export class RecentAnswers<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly options: RecentAnswersOptions<T>) {}

  /** The answer for `key` about time `at` (ms): a shared one within the TTL, else `fetch()`. */
  get(key: string, at: number, fetch: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && Math.abs(at - entry.at) <= this.options.ttlMs) {
      this.options.onLookup?.(true);
      return entry.answer;
    }
    this.options.onLookup?.(false);
    const fresh: Entry<T> = { at, answer: fetch() };
    // Re-inserted at the end: the map's order is the age order the bound relies on.
    this.entries.delete(key);
    this.entries.set(key, fresh);
    void fresh.answer.then(
      (answer) => {
        if (this.options.isFailure(answer)) this.forget(key, fresh);
      },
      () => this.forget(key, fresh),
    );
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) break;
      this.entries.delete(oldest);
    }
    return fresh.answer;
  }

  /** Drops answers older than the TTL at `now` (ms). */
  prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.at > this.options.ttlMs) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private forget(key: string, entry: Entry<T>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
