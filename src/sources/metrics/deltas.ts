// The arithmetic PromQL does on two samples of a counter or a histogram: the increase of a counter
// across a reset, and histogram_quantile over bucket increases. Pure.

/**
 * How much a counter grew from `first` to `second`. A smaller second value means the counter was
 * reset (the process restarted) in between: as PromQL's rate(), the growth is then the second
 * value, counted from zero.
 */
export function counterIncrease(first: number, second: number): number {
  return second < first ? second : second - first;
}

export interface Bucket {
  /** The bucket's `le`: +Infinity for the last one. */
  upperBound: number;
  /** Cumulative: observations at or below `upperBound`. */
  count: number;
}

/**
 * histogram_quantile as Prometheus computes it (promql/quantile.go, bucketQuantile): buckets
 * sorted by bound and merged when they share one, counts forced monotonic, the rank q·total found
 * in the first bucket that reaches it and interpolated linearly inside it (the first bucket starts
 * at 0); a rank in the +Inf bucket answers the highest finite bound. NaN without a +Inf bucket,
 * with fewer than two buckets, or without observations.
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = merged(buckets);
  if (sorted.length < 2 || sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  // Buckets are scraped one by one: a count may be read before an observation a lower bucket
  // already shows. Prometheus evens that out to the highest count so far.
  let highest = -Infinity;
  for (const bucket of sorted) {
    highest = Math.max(highest, bucket.count);
    bucket.count = highest;
  }
  const total = sorted[sorted.length - 1]!.count;
  if (!(total > 0)) return NaN;
  let rank = q * total;
  const index = sorted.findIndex((bucket) => bucket.count >= rank);
  const last = sorted.length - 1;
  if (index === last) return sorted[last - 1]!.upperBound;
  if (index === 0 && sorted[0]!.upperBound <= 0) return sorted[0]!.upperBound;
  let start = 0;
  let count = sorted[index]!.count;
  if (index > 0) {
    start = sorted[index - 1]!.upperBound;
    count -= sorted[index - 1]!.count;
    rank -= sorted[index - 1]!.count;
  }
  const end = sorted[index]!.upperBound;
  return start + (end - start) * (rank / count);
}

/** Copies sorted by bound, counts of equal bounds added up. */
function merged(buckets: readonly Bucket[]): Bucket[] {
  const sorted = buckets
    .filter((bucket) => !Number.isNaN(bucket.upperBound))
    .map((bucket) => ({ ...bucket }))
    .sort((a, b) => a.upperBound - b.upperBound);
  const out: Bucket[] = [];
  for (const bucket of sorted) {
    const previous = out[out.length - 1];
    if (previous && previous.upperBound === bucket.upperBound) previous.count += bucket.count;
    else out.push(bucket);
  }
  return out;
}
