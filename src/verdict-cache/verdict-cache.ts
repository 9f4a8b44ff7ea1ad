/**
 * The fleet-wide verdict cache in Redis: final verdicts by normalised address, with the time they were
 * verified, shared by every list and every worker. Addresses are spread over `shards` shards, each under
 * its own Redis Cluster hash tag (`<prefix>{vc-<n>}:verdicts` hash, `…:times` sorted set), so a cluster
 * spreads the cache; every operation touches the keys of one shard. Each shard keeps at most
 * `maxEntries / shards` addresses: the oldest verdicts go first.
 *
 * What is kept and for how long is `policy.ts`: the probe stage asks before any SMTP (`lookup`) and
 * tells it the final verdicts it found (`store`).
 */
import type { RedisClient } from '../redis/connect.js';
import { defineCommands, loadCommands } from '../redis/commands.js';
import { decodeVerdict, encodeVerdict, splitStored } from '../pipeline/result-codec.js';
import type { Reason, Verdict } from '../verdict.js';
import { isFresh, isKept, longestMaxAge, shardOf, type MaxAges } from './policy.js';

/** The cache's Lua commands (`src/verdict-cache/commands/*.lua`). */
const COMMANDS = loadCommands(new URL('./commands/', import.meta.url));

export interface VerdictCacheOptions {
  /** Prefix of every key, e.g. `listwash:vcache:`. */
  keyPrefix: string;
  /** Shards (hash tags) the addresses are spread over. */
  shards: number;
  /** Most addresses kept in all (each shard keeps its share, at least 1). */
  maxEntries: number;
  /** Max age per verdict class (seconds). */
  maxAges: MaxAges;
}

/** A final verdict to remember. */
export interface VerifiedVerdict {
  address: string;
  verdict: Verdict;
  /** When it was verified (ms since the epoch). */
  verifiedAt: number;
}

/** What `store` did, summed over the shards. */
export interface StoreResult {
  stored: number;
  expired: number;
  evicted: number;
}

type CacheCommands = { lwVcStore(verdicts: string, times: string, ...args: (string | number)[]): Promise<[number, number, number]> };

/** Group items by the shard of their address, keeping their order. */
function byShard<T>(items: readonly T[], addressOf: (t: T) => string, shards: number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const n = shardOf(addressOf(item), shards);
    let list = out.get(n);
    if (!list) out.set(n, (list = []));
    list.push(item);
  }
  return out;
}

export class VerdictCache {
  private readonly redis: RedisClient & CacheCommands;
  private readonly perShard: number;

  constructor(
    redis: RedisClient,
    readonly options: VerdictCacheOptions,
  ) {
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new RangeError(`VerdictCache: shards must be a positive integer, got ${options.shards}`);
    defineCommands(redis, 'lwVc', COMMANDS);
    this.redis = redis as RedisClient & CacheCommands;
    this.perShard = Math.max(1, Math.floor(options.maxEntries / options.shards));
  }

  /** The keys of one shard (one hash tag). */
  keys(shard: number): { verdicts: string; times: string } {
    const base = `${this.options.keyPrefix}{vc-${shard}}:`;
    return { verdicts: `${base}verdicts`, times: `${base}times` };
  }

  /**
   * The kept verdicts fresh enough to answer now, by address, in their stored form (as the list's results
   * hash keeps them, with their verification time). `maxAgeSec` is the list's own limit, if any.
   */
  async lookup(addresses: readonly string[], now: number, maxAgeSec?: number): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (maxAgeSec === 0 || this.options.maxAges.size === 0) return found;
    const shards = byShard(addresses, (a) => a, this.options.shards);
    await Promise.all(
      [...shards].map(async ([n, list]) => {
        const stored = await this.redis.hmget(this.keys(n).verdicts, ...list);
        list.forEach((address, i) => {
          const s = stored[i];
          if (s && this.usable(s, now, maxAgeSec)) found.set(address, s);
        });
      }),
    );
    return found;
  }

  private usable(stored: string, now: number, maxAgeSec: number | undefined): boolean {
    const { verifiedAt } = splitStored(stored);
    return verifiedAt !== null && isFresh(decodeVerdict(stored).reason, verifiedAt, now, this.options.maxAges, maxAgeSec);
  }

  /** Whether verdicts of `reason` are kept at all (`store` drops the others). */
  keeps(reason: Reason): boolean {
    return isKept(reason, this.options.maxAges);
  }

  /** Remember final verdicts: those of a kept class (never `unknown` ones), one script call per shard. */
  async store(verdicts: readonly VerifiedVerdict[], now = Date.now()): Promise<StoreResult> {
    const total: StoreResult = { stored: 0, expired: 0, evicted: 0 };
    const kept = verdicts.filter((v) => isKept(v.verdict.reason, this.options.maxAges));
    if (kept.length === 0) return total;
    const longestSec = longestMaxAge(this.options.maxAges);
    const tooOld = now - longestSec * 1000;
    const results = await Promise.all(
      [...byShard(kept, (v) => v.address, this.options.shards)].map(([n, list]) => {
        const k = this.keys(n);
        const args = list.flatMap((v) => [v.address, Math.round(v.verifiedAt), encodeVerdict(v.verdict, v.verifiedAt)]);
        return this.redis.lwVcStore(k.verdicts, k.times, this.perShard, longestSec, Math.round(tooOld), ...args);
      }),
    );
    for (const [stored, expired, evicted] of results) {
      total.stored += stored;
      total.expired += expired;
      total.evicted += evicted;
    }
    return total;
  }

  /** Addresses kept now, in all shards. */
  async size(): Promise<number> {
    const counts = await Promise.all(Array.from({ length: this.options.shards }, (_, n) => this.redis.zcard(this.keys(n).times)));
    return counts.reduce((a, b) => a + b, 0);
  }
}
