/** The fleet-wide verdict cache: final verdicts by address, reused by every list while they are fresh. */
import type { Config } from '../config.js';
import type { RedisClient } from '../redis/connect.js';
import { parseMaxAges } from './policy.js';
import { VerdictCache } from './verdict-cache.js';

export { CACHEABLE_REASONS, formatDuration, isFresh, isKept, parseDuration, parseMaxAges, PolicyError, shardOf, type MaxAges } from './policy.js';
export { VerdictCache, type StoreResult, type VerdictCacheOptions, type VerifiedVerdict } from './verdict-cache.js';

/** The cache the settings ask for, with keys under `keyPrefix`; null when it is off (no entries allowed, or no class kept). */
export function verdictCacheFromConfig(cfg: Pick<Config, 'verdictCacheMaxAge' | 'verdictCacheMaxEntries' | 'verdictCacheShards'>, redis: RedisClient, keyPrefix: string): VerdictCache | null {
  const maxAges = parseMaxAges(cfg.verdictCacheMaxAge);
  if (cfg.verdictCacheMaxEntries === 0 || maxAges.size === 0) return null;
  return new VerdictCache(redis, { keyPrefix, shards: cfg.verdictCacheShards, maxEntries: cfg.verdictCacheMaxEntries, maxAges });
}
