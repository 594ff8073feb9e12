import { describe, expect, it } from '@jest/globals';
import { describeGrpcError } from '../../src/sources/etcd/client.js';
import { oneLine } from '../../src/sources/text.js';

describe('oneLine: what a peer says reaches the status as one short line', () => {
  it('keeps the first line, without control characters', () => {
    expect(oneLine('refused\u0007 here\r\nServer: nginx\nbody')).toBe('refused here');
  });

  it('cuts at 160 characters', () => {
    const line = oneLine(`12 UNIMPLEMENTED: ${'x'.repeat(500)}`);
    expect(line).toHaveLength(160);
    expect(line.endsWith('…')).toBe(true);
  });

  it('bounds a gRPC status message, which the peer writes', () => {
    const banner = `13 INTERNAL: ${'A'.repeat(300)}\nSSH-2.0-OpenSSH_9.2\n<html>secret page</html>`;
    const described = describeGrpcError(new Error(banner), 1_000);
    expect(described.length).toBeLessThanOrEqual(160);
    expect(described).not.toMatch(/OpenSSH|html/);
  });
});
