// Bytes of Prometheus answers held in memory at once, across every check of the process. Each
// answer is capped on its own; this caps their sum, so that a Prometheus that answers slowly and
// large behind many queries cannot take the heap that every other check needs. Waiters are served
// in arrival order; one that cannot be served within its wait gives up with a clear error.

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class ByteBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {}

  /** Bytes taken and not yet given back. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Takes `bytes`, waiting at most `waitMs` (or until `signal` aborts) for others to give some
   * back. False when they could not be taken; the caller then holds nothing more.
   */
  async take(bytes: number, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (bytes > this.limit) return false;
    if (this.waiters.length === 0 && this.used + bytes <= this.limit) {
      this.used += bytes;
      return true;
    }
    if (waitMs <= 0 || signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          done();
          resolve(true);
        },
      };
      const giveUp = () => {
        done();
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        // The head of the line left: the next waiters may fit now.
        this.serve();
        resolve(false);
      };
      const timer = setTimeout(giveUp, waitMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
      };
      this.waiters.push(waiter);
    });
  }

  /** Gives back bytes taken before. */
  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.serve();
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.used + this.waiters[0]!.bytes <= this.limit) {
      const waiter = this.waiters.shift()!;
      this.used += waiter.bytes;
      waiter.grant();
    }
  }
}
