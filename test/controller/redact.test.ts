import { describe, expect, it } from '@jest/globals';
import { redactSecrets } from '../../src/controller/redact.js';

describe('redactSecrets', () => {
  const token = 'tok-0123456789';

  it('replaces every occurrence, as sent and base64, in every string of a nested value', () => {
    const base64 = Buffer.from(token).toString('base64');
    const value = { a: [`x ${token} y ${token}`, { b: `z ${base64}` }], n: 3, none: null, at: new Date(0) };
    expect(redactSecrets(value, [token])).toEqual({
      a: ['x [redacted] y [redacted]', { b: 'z [redacted]' }],
      n: 3,
      none: null,
      at: new Date(0),
    });
  });

  it('leaves values alone without secrets, and ignores values too short to tell from words', () => {
    const value = { message: 'the token is abc' };
    expect(redactSecrets(value, [undefined, 'abc'])).toBe(value);
  });
});
