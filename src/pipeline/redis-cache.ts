/** The fleet-wide TTL cache (DNS answers, catch-all results) in Redis. */
import type { TtlCache } from '../dns/cache.js';
import type { RedisClient } from '../redis/connect.js';

export class RedisTtlCache implements TtlCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async claim(key: string, ttlSec: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}claim:${key}`, '1', 'EX', Math.max(1, Math.round(ttlSec)), 'NX')) === 'OK';
  }

  async release(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}claim:${key}`);
  }

  async set(key: string, value: string, ttlSec: number): Promise<void> {
    if (ttlSec <= 0) return;
    await this.redis.set(this.prefix + key, value, 'EX', Math.max(1, Math.round(ttlSec)));
  }
}
