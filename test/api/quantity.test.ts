// Byte sizes: integers and Kubernetes quantities in their full grammar, rounded up to bytes as
// Quantity.Value() does, with a readable reason for everything else; the pattern the CRD enforces
// accepts exactly what the parser accepts.
import { describe, expect, it } from '@jest/globals';
import { MAX_SIZE_BYTES, SIZE_PATTERN, parseSizeBytes, sizeBytes } from '../../src/api/v1alpha1/quantity.js';
import { EtcdHealthCheckSpecSchema } from '../../src/api/v1alpha1/spec.js';
import { limitsFrom } from '../../src/health/limits.js';

const Ki = 2 ** 10;
const Mi = 2 ** 20;
const Gi = 2 ** 30;

describe('sizeBytes: valid sizes', () => {
  it.each<[string | number, number]>([
    // integers, as numbers and as text
    [0, 0],
    [1024, 1024],
    [8 * Gi, 8 * Gi],
    ['0', 0],
    ['1024', 1024],
    ['007', 7],
    // binary SI
    ['1Ki', Ki],
    ['100Mi', 100 * Mi],
    ['4Gi', 4 * Gi],
    ['2Ti', 2 * 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1.5Gi', 1.5 * Gi],
    ['0.5Ki', 512],
    // decimal SI
    ['1k', 1000],
    ['8G', 8e9],
    ['1M', 1e6],
    ['3T', 3e12],
    ['1P', 1e15],
    ['2.5k', 2500],
    // sub-byte suffixes, rounded up to whole bytes as Quantity.Value() does
    ['1500m', 2],
    ['1000m', 1],
    ['1m', 1],
    ['999u', 1],
    ['5n', 1],
    ['0m', 0],
    // decimal exponents
    ['1e3', 1000],
    ['1E3', 1000],
    ['1e+3', 1000],
    ['1.5e3', 1500],
    ['25e-1', 3],
    ['1e-100', 1],
    ['0e100', 0],
    ['1e0', 1],
    // signs and the number forms <digits>. and .<digits>
    ['+4Gi', 4 * Gi],
    ['-0', 0],
    ['5.', 5],
    ['.5', 1],
    ['.5Ki', 512],
    ['1.', 1],
    // fractions round up, never down
    ['1.0001', 2],
    ['1.1Ki', 1127],
    // the largest size handled
    [String(MAX_SIZE_BYTES), MAX_SIZE_BYTES],
    [MAX_SIZE_BYTES, MAX_SIZE_BYTES],
  ])('%j is %d bytes', (size, bytes) => {
    expect(sizeBytes(size)).toEqual({ ok: true, bytes });
    expect(parseSizeBytes(size)).toBe(bytes);
    if (typeof size === 'string') expect(size).toMatch(new RegExp(SIZE_PATTERN));
  });

  it('"1E" is 10^18 (exa), too large; "1e" is no size at all', () => {
    expect(sizeBytes('1E')).toEqual({ ok: false, reason: expect.stringContaining('more than') });
    expect('1E').toMatch(new RegExp(SIZE_PATTERN));
    expect(sizeBytes('1e')).toEqual({ ok: false, reason: expect.stringContaining('unknown suffix "e"') });
    expect('1e').not.toMatch(new RegExp(SIZE_PATTERN));
  });
});

describe('sizeBytes: refused, with a readable reason', () => {
  it.each<[string | number, string]>([
    ['', '"" is empty'],
    ['Gi', '"Gi" has no number'],
    ['.', '"." has no number'],
    ['+', '"+" has no number'],
    ['-', '"-" has no number'],
    ['big', '"big" has no number'],
    ['4GB', '"4GB" has an unknown suffix "GB": use Ki, Mi, Gi, Ti, Pi or Ei (powers of 1024)'],
    ['4gi', '"4gi" has an unknown suffix "gi"'],
    ['4K', '"4K" has an unknown suffix "K"'],
    ['4 Gi', '"4 Gi" has an unknown suffix " Gi"'],
    [' 4Gi', '" 4Gi" has no number'],
    ['1e1.5', '"1e1.5" has an unknown suffix "e1.5"'],
    ['1Ki3', '"1Ki3" has an unknown suffix "Ki3"'],
    ['1.2.3', '"1.2.3" has an unknown suffix ".3"'],
    ['0x10', '"0x10" has an unknown suffix "x10"'],
    ['-1', '"-1" is negative'],
    ['-1Gi', '"-1Gi" is negative'],
    ['-1e-9', '"-1e-9" is negative'],
    ['8Ei', '"8Ei" is more than 9007199254740991 bytes (8 PiB)'],
    ['1e17', '"1e17" is more than'],
    ['1e9999999999999999999', 'is more than'],
    ['9007199254740992', 'is more than'],
    ['1'.repeat(65), 'is longer than 64 characters'],
    [-5, '-5 is negative'],
    [1.5, '1.5 is not a whole number of bytes'],
    [MAX_SIZE_BYTES + 1, 'is more than'],
  ])('%j: %s', (size, reason) => {
    const parsed = sizeBytes(size);
    expect(parsed).toEqual({ ok: false, reason: expect.stringContaining(reason) });
    expect(() => parseSizeBytes(size)).toThrow(/^invalid size /);
  });

  it('the pattern refuses what the parser cannot read, and accepts the rest', () => {
    const pattern = new RegExp(SIZE_PATTERN);
    for (const text of [
      '',
      'Gi',
      '.',
      '+',
      'big',
      '4GB',
      '4gi',
      '4 Gi',
      '1e1.5',
      '1Ki3',
      '1.2.3',
      '1e',
      '0x10',
    ])
      expect([text, pattern.test(text)]).toEqual([text, false]);
    // Only the bounds are the parser's alone: the sign and the size.
    for (const text of ['-1', '-1Gi', '8Ei', '1e17'])
      expect([text, pattern.test(text)]).toEqual([text, true]);
  });
});

describe('size fields of the spec', () => {
  const spec = (databaseSize: Record<string, unknown>) =>
    EtcdHealthCheckSpecSchema.safeParse({
      etcd: { endpoints: ['http://127.0.0.1:2379'] },
      thresholds: { databaseSize },
    });

  it('take an integer or a quantity, and keep the text as written', () => {
    const parsed = spec({ warning: 3 * Gi, critical: '7.5Gi' });
    expect(parsed.success && parsed.data.thresholds.databaseSize).toEqual({
      warning: String(3 * Gi),
      critical: '7.5Gi',
    });
    const limits = limitsFrom(parsed.success ? parsed.data.thresholds : ({} as never));
    expect(limits.databaseSizeBytes).toEqual({ warning: 3 * Gi, critical: 7.5 * Gi });
  });

  it('keep the values CRs already have working: quantities and integers written as text', () => {
    const parsed = spec({ warning: '4Gi', critical: '8000000000' });
    expect(parsed.success && limitsFrom(parsed.data.thresholds).databaseSizeBytes).toEqual({
      warning: 4 * Gi,
      critical: 8e9,
    });
    const defaults = EtcdHealthCheckSpecSchema.parse({ etcd: { endpoints: ['http://127.0.0.1:2379'] } });
    expect(limitsFrom(defaults.thresholds).databaseSizeBytes).toEqual({ warning: 4 * Gi, critical: 8 * Gi });
    expect(limitsFrom(defaults.thresholds).fragmentation.minDatabaseBytes).toBe(100 * Mi);
  });

  it('refuse a bad size with one readable issue per field', () => {
    const parsed = spec({ warning: '-1Gi', critical: '4GB' });
    expect(parsed.success).toBe(false);
    const issues = parsed.success ? [] : parsed.error.issues;
    expect(issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['thresholds.databaseSize.warning', '"-1Gi" is negative'],
      ['thresholds.databaseSize.critical', expect.stringMatching(/^"4GB" has an unknown suffix "GB"/)],
    ]);
    for (const bad of [-1, 1.5, true, null]) expect(spec({ warning: bad }).success).toBe(false);
  });
});
