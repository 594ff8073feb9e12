// The byte budget shared by every Prometheus answer in flight: it grants in order, waits a bounded
// time, and gives up cleanly on a timeout or an abort.
import { describe, expect, it } from '@jest/globals';
import { ByteBudget } from '../../src/sources/prometheus/budget.js';

describe('ByteBudget', () => {
  it('grants while there is room and refuses what can never fit', async () => {
    const budget = new ByteBudget(100);
    await expect(budget.take(60, 0)).resolves.toBe(true);
    await expect(budget.take(40, 0)).resolves.toBe(true);
    expect(budget.inUse).toBe(100);
    await expect(budget.take(1, 0)).resolves.toBe(false);
    await expect(budget.take(101, 1_000)).resolves.toBe(false);
    budget.give(100);
    expect(budget.inUse).toBe(0);
  });

  it('serves a waiter when bytes come back, in arrival order', async () => {
    const budget = new ByteBudget(100);
    await budget.take(100, 0);
    const order: string[] = [];
    const first = budget.take(70, 5_000).then((ok) => order.push(`first ${ok}`));
    const second = budget.take(30, 5_000).then((ok) => order.push(`second ${ok}`));
    budget.give(50);
    // 70 does not fit yet, and 30 may not overtake it.
    await Promise.resolve();
    expect(order).toEqual([]);
    budget.give(50);
    await Promise.all([first, second]);
    expect(order).toEqual(['first true', 'second true']);
    expect(budget.inUse).toBe(100);
  });

  it('gives up after its wait, and the next in line is served', async () => {
    const budget = new ByteBudget(100);
    await budget.take(90, 0);
    const big = budget.take(50, 20);
    const small = budget.take(10, 5_000);
    await expect(big).resolves.toBe(false);
    await expect(small).resolves.toBe(true);
    expect(budget.inUse).toBe(100);
  });

  it('gives up when its signal aborts', async () => {
    const budget = new ByteBudget(10);
    await budget.take(10, 0);
    const controller = new AbortController();
    const waiting = budget.take(5, 60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBe(false);
    await expect(budget.take(5, 0, controller.signal)).resolves.toBe(false);
    expect(budget.inUse).toBe(10);
  });
});
