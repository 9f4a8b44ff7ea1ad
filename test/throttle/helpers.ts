/** Shared setup of the throttle tests: real Redis, a random key prefix, cleanup. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MxThrottle, type MxThrottleOptions } from '../../src/throttle/mx-throttle.js';
import type { ThrottleGroup } from '../../src/throttle/providers.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export class ThrottleFixture {
  readonly prefix = `lwtest:${randomBytes(6).toString('hex')}:`;
  private readonly clients: Redis[] = [];

  /** A new connection (a separate "machine") and a throttle on it. */
  throttle(options: MxThrottleOptions = {}): MxThrottle {
    const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
    this.clients.push(redis);
    return new MxThrottle(redis, { prefix: this.prefix, ...options });
  }

  /** A plain connection (for poking at keys). */
  rawClient(): Redis {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    this.clients.push(redis);
    return redis;
  }

  /** A group of its own per test. */
  group(maxConnections: number, rcptPerSecond: number): ThrottleGroup {
    return { key: `g-${randomBytes(4).toString('hex')}.example.test`, maxConnections, rcptPerSecond };
  }

  async cleanup(): Promise<void> {
    const redis = this.clients[0] ?? new Redis(REDIS_URL);
    if (this.clients.length === 0) this.clients.push(redis);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await Promise.all(this.clients.map((c) => c.quit()));
  }

  /** Keys left under the prefix (to check TTLs). */
  async keysWithTtl(): Promise<{ key: string; pttl: number }[]> {
    const redis = this.clients[0];
    if (!redis) return [];
    const keys = await redis.keys(`${this.prefix}*`);
    return Promise.all(keys.map(async (key) => ({ key, pttl: await redis.pttl(key) })));
  }
}
