import { describe, expect, it } from '@jest/globals';
import { formatBytes, formatSeconds, parseDurationMs, parseSizeBytes } from '../../src/api/v1alpha1/units.js';

describe('units', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
  ])('parses duration %s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '10', '5d', 's', '-1s'])('rejects duration %j', (text) =>
    expect(() => parseDurationMs(text)).toThrow(/invalid duration/),
  );

  it.each([
    ['4Gi', 4 * 2 ** 30],
    ['100Mi', 100 * 2 ** 20],
    ['8G', 8e9],
    ['1024', 1024],
  ])('parses size %s', (text, bytes) => expect(parseSizeBytes(text)).toBe(bytes));

  it.each(['4GB', '', 'Gi', '-1'])('rejects size %j', (text) =>
    expect(() => parseSizeBytes(text)).toThrow(/invalid size/),
  );

  it.each([
    [1.2 * 2 ** 30, '1.2 GiB'],
    [512 * 2 ** 20, '512 MiB'],
    [980, '980 B'],
    [NaN, '-'],
  ])('formats %d bytes as %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [0.0041, '4.1ms'],
    [1.25, '1.25s'],
    [0.00085, '850µs'],
    [0.05, '50ms'],
    [Infinity, '-'],
  ])('formats %d seconds as %s', (seconds, text) => expect(formatSeconds(seconds)).toBe(text));
});
