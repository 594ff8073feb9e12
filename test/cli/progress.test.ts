import { describe, expect, it, jest } from '@jest/globals';
import { startProgress } from '../../src/cli/progress.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) > 0 };
}

describe('startProgress', () => {
  it('writes one plain line when stderr is not a terminal', () => {
    const out = stream(false);
    startProgress(out, 'querying etcd (3 endpoints)').stop();
    expect(out.writes).toEqual(['etcd-health: querying etcd (3 endpoints) ...\n']);
  });

  it('redraws a spinner with the elapsed time on a terminal and clears it when done', () => {
    jest.useFakeTimers();
    try {
      const out = stream(true);
      let now = 0;
      const progress = startProgress(out, 'querying etcd', () => now);
      now = 1_500;
      jest.advanceTimersByTime(100);
      progress.stop();
      jest.advanceTimersByTime(1_000);
      expect(out.writes[0]).toBe('\r\u001b[K⠋ querying etcd 0.0s');
      expect(out.writes[1]).toBe('\r\u001b[K⠙ querying etcd 1.5s');
      expect(out.writes.at(-1)).toBe('\r\u001b[K');
      expect(out.writes).toHaveLength(3);
    } finally {
      jest.useRealTimers();
    }
  });
});
