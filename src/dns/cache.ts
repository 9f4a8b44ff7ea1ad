/**
 * TTL caches for DNS answers and other per-domain facts. The in-memory cache serves one process;
 * the pipeline plugs in a Redis-backed cache with the same interface to share answers across the fleet.
 */
export interface TtlCache {
  get(key: string): Promise<string | null>;
  /** Store `value` for `ttlSec` seconds (0 = do not store). */
  set(key: string, value: string, ttlSec: number): Promise<void>;
  /**
   * Claim `key` for `ttlSec` seconds: true for exactly one caller until it expires. Used so that one
   * worker of the fleet does a lookup or a catch-all probe while the others wait for its answer.
   */
  claim?(key: string, ttlSec: number): Promise<boolean>;
  /** Give a claim back before it expires (the claimant has no answer to publish). */
  release?(key: string): Promise<void>;
}

/**
 * Poll `cache` for `key` until it has a value or `timeoutMs` passed. The losers of a `claim` wait here
 * for the winner's answer.
 */
export async function waitForValue(cache: TtlCache, key: string, timeoutMs: number, pollMs = 50): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cache.get(key);
    if (v !== null || Date.now() >= deadline) return v;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface MemoryCacheOptions {
  /** Most entries kept; the oldest inserted is evicted first. Default 100,000. */
  maxEntries?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

export class MemoryTtlCache implements TtlCache {
  private readonly map = new Map<string, { value: string; expires: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: MemoryCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  async get(key: string): Promise<string | null> {
    const e = this.map.get(key);
    if (!e) return null;
    if (e.expires <= this.now()) {
      this.map.delete(key);
      return null;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlSec: number): Promise<void> {
    if (ttlSec <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expires: this.now() + ttlSec * 1000 });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
  }
}

/** Two-level cache: a process-local memory cache in front of a shared one. */
export class LayeredTtlCache implements TtlCache {
  constructor(
    private readonly local: TtlCache,
    private readonly shared: TtlCache,
    /** Local copies live at most this long (so fleet-wide changes show up). Default 60 s. */
    private readonly localMaxTtlSec = 60,
  ) {}

  async get(key: string): Promise<string | null> {
    const l = await this.local.get(key);
    if (l !== null) return l;
    const s = await this.shared.get(key);
    if (s !== null) await this.local.set(key, s, this.localMaxTtlSec);
    return s;
  }

  async set(key: string, value: string, ttlSec: number): Promise<void> {
    await this.local.set(key, value, Math.min(ttlSec, this.localMaxTtlSec));
    await this.shared.set(key, value, ttlSec);
  }

  async claim(key: string, ttlSec: number): Promise<boolean> {
    return this.shared.claim ? this.shared.claim(key, ttlSec) : true;
  }

  async release(key: string): Promise<void> {
    await this.shared.release?.(key);
  }
}
