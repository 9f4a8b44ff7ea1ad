import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopCounter } from '../../src/report/top-counter.js';

/** True counts of a stream. */
function truth(stream: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of stream) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

describe('TopCounter', () => {
  it('counts exactly, largest first and ties in key order, while the stream has at most twice its capacity of distinct keys', () => {
    const c = new TopCounter(2);
    for (const k of ['b', 'a', 'c', 'a', 'd', 'b', 'a']) c.add(k);
    expect(c.exact).toBe(true);
    expect(c.maxOvercount).toBe(0);
    expect(c.top(10)).toEqual([
      { key: 'a', count: 3 },
      { key: 'b', count: 2 },
      { key: 'c', count: 1 },
      { key: 'd', count: 1 },
    ]);
    expect(c.top(2).map((e) => e.key)).toEqual(['a', 'b']);
  });

  it('holds at most twice its capacity of keys however many distinct keys the stream has', () => {
    const c = new TopCounter(100);
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      c.add(`rare-${i}`);
      if (i % 10 === 0) c.add('frequent');
      most = Math.max(most, c.size);
    }
    expect(most).toBe(200);
    expect(c.exact).toBe(false);
    expect(c.top(1)[0]?.key).toBe('frequent');
  });

  it('never under-counts, over-counts by at most maxOvercount, and holds every key whose true count exceeds it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }).map((n) => `k${n}`), { maxLength: 600 }), fc.integer({ min: 1, max: 12 }), (stream, capacity) => {
        const c = new TopCounter(capacity);
        for (const k of stream) c.add(k);
        const want = truth(stream);
        const held = new Map(c.top(Infinity).map((e) => [e.key, e.count]));
        for (const [k, n] of held) {
          expect(n).toBeGreaterThanOrEqual(want.get(k) ?? 0);
          expect(n).toBeLessThanOrEqual((want.get(k) ?? 0) + c.maxOvercount);
        }
        for (const [k, n] of want) if (n > c.maxOvercount) expect(held.has(k)).toBe(true);
        if (want.size <= 2 * capacity) expect(held).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new TopCounter(0)).toThrow(RangeError);
    expect(() => new TopCounter(1.5)).toThrow(RangeError);
  });
});
