import { describe, expect, it } from '@jest/globals';
import { bucketQuantile, counterIncrease, type Bucket } from '../../src/sources/metrics/deltas.js';

/** Cumulative buckets from [le, count] pairs. */
const buckets = (...pairs: [number, number][]): Bucket[] =>
  pairs.map(([upperBound, count]) => ({ upperBound, count }));

describe('counterIncrease', () => {
  it.each([
    ['growth', 10, 15, 5],
    ['no change', 7, 7, 0],
    ['a reset: counted from zero', 100, 3, 3],
    ['a reset to zero', 100, 0, 0],
  ])('%s', (_, first, second, increase) => expect(counterIncrease(first, second)).toBe(increase));
});

describe('bucketQuantile (PromQL histogram_quantile)', () => {
  // etcd's WAL fsync buckets start at 1ms and double: 0.001, 0.002, 0.004, ...
  it.each([
    // rank 0.99*100 = 99 in the (0.002, 0.004] bucket holding 60..100: 0.002 + 0.002 * 39/40
    [
      'inside a bucket, interpolated linearly',
      buckets([0.001, 10], [0.002, 60], [0.004, 100], [Infinity, 100]),
      0.00395,
    ],
    // rank 0.99 of 1 observation in the first bucket: from 0, 0.001 * 0.99
    ['in the first bucket, from 0', buckets([0.001, 1], [0.002, 1], [Infinity, 1]), 0.00099],
    // rank exactly at a bucket's count: that bucket's upper bound
    ['at a bucket edge', buckets([0.001, 0], [0.002, 99], [0.004, 100], [Infinity, 100]), 0.002],
    // rank beyond the highest finite bucket: its bound, never +Inf
    ['in the +Inf bucket', buckets([0.001, 0], [0.002, 0], [Infinity, 5]), 0.002],
    // order and duplicate bounds do not matter: merged (30 + 30) and sorted as Prometheus does;
    // rank 59.4 of the 60 in (0.001, 0.002]
    [
      'unsorted, with a duplicate bound',
      buckets([Infinity, 60], [0.002, 30], [0.001, 0], [0.002, 30]),
      0.001 + (0.001 * 59.4) / 60,
    ],
    // a lower bucket read after an observation a higher one missed: counts forced monotonic
    // (the 3 becomes 5: rank 9.9 lies 4.9 into the 5 of (2, 4], not 6.9 into 7)
    ['non-monotonic counts', buckets([1, 5], [2, 3], [4, 10], [Infinity, 10]), 2 + (2 * 4.9) / 5],
    // a first bucket at or below 0 answers its bound
    ['a first bucket at 0', buckets([0, 100], [1, 100], [Infinity, 100]), 0],
  ])('%s', (_, input, expected) => expect(bucketQuantile(0.99, input)).toBeCloseTo(expected, 12));

  it('interpolates other quantiles too: the median of a uniform bucket is its middle', () => {
    expect(bucketQuantile(0.5, buckets([1, 0], [3, 10], [Infinity, 10]))).toBe(2);
  });

  it.each([
    ['no observations', buckets([0.001, 0], [0.002, 0], [Infinity, 0])],
    ['no +Inf bucket', buckets([0.001, 1], [0.002, 2])],
    ['a single bucket', buckets([Infinity, 4])],
    ['no buckets', []],
  ])('is NaN with %s', (_, input) => expect(bucketQuantile(0.99, input)).toBeNaN());

  it('answers -Inf below q=0, +Inf above q=1 and NaN for q=NaN, as PromQL', () => {
    const some = buckets([1, 1], [Infinity, 1]);
    expect(bucketQuantile(-0.1, some)).toBe(-Infinity);
    expect(bucketQuantile(1.1, some)).toBe(Infinity);
    expect(bucketQuantile(NaN, some)).toBeNaN();
  });
});
