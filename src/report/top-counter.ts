/**
 * The most frequent keys of a stream, counted in bounded memory (the Space-Saving algorithm, pruned in
 * batches): at most `2 × capacity` keys are held whatever the stream holds. While no more than that many
 * distinct keys were seen, every count is exact. After that, the keys of smallest count are dropped, and
 * a key seen again later starts from the largest count dropped so far (`maxOvercount`): every held count
 * is then an upper bound that exceeds the true count by at most `maxOvercount`, and any key whose true
 * count exceeds `maxOvercount` is held. Used for the report's "top 20" lists of a 1,000,000-row list.
 */

/** One key of {@link TopCounter.top} with its count. */
export interface TopEntry {
  key: string;
  count: number;
}

/** Keys held (by default); pruned back to this many once twice as many are held. */
export const TOP_COUNTER_CAPACITY = 10_000;

export class TopCounter {
  private readonly counts = new Map<string, number>();
  private floor = 0;

  /** @param capacity keys kept after a prune; between prunes up to twice as many are held */
  constructor(private readonly capacity = TOP_COUNTER_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Count `n` more occurrences of `key`. */
  add(key: string, n = 1): void {
    const held = this.counts.get(key);
    this.counts.set(key, (held ?? this.floor) + n);
    if (held === undefined && this.counts.size > 2 * this.capacity) this.prune();
  }

  /** True while every count is exact (no key was ever dropped). */
  get exact(): boolean {
    return this.floor === 0;
  }

  /** The most a held count can exceed the key's true count (0 while {@link exact}). */
  get maxOvercount(): number {
    return this.floor;
  }

  /** Keys held now. */
  get size(): number {
    return this.counts.size;
  }

  /** The `n` keys of largest count, largest first; equal counts in key order (so the result is stable). */
  top(n: number): TopEntry[] {
    return this.sorted().slice(0, Math.max(0, n));
  }

  private sorted(): TopEntry[] {
    const all: TopEntry[] = [];
    for (const [key, count] of this.counts) all.push({ key, count });
    return all.sort(byCountThenKey);
  }

  /** Keep the `capacity` keys of largest count; the largest count dropped becomes the floor. */
  private prune(): void {
    const all = this.sorted();
    for (let i = this.capacity; i < all.length; i++) {
      const e = all[i] as TopEntry;
      this.counts.delete(e.key);
      if (e.count > this.floor) this.floor = e.count;
    }
  }
}

function byCountThenKey(a: TopEntry, b: TopEntry): number {
  return b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
