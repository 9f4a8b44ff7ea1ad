import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createVerifier } from '../../src/engine/index.js';
import { RedisTtlCache } from '../../src/pipeline/redis-cache.js';
import { SimWorld } from '../../src/world/index.js';

const prefix = `lwtest:${randomBytes(4).toString('hex')}:`;
let redis: Redis;
let world: SimWorld;

beforeAll(async () => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  world = await SimWorld.start({
    domains: { 'wild.test': { mx: [{ host: 'mx.wild.test', preference: 10 }] } },
    hosts: { 'mx.wild.test': { catchAll: true, replyDelayMs: 30 } },
  });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await world.stop();
});

describe('fleet-wide caches', () => {
  it('several workers verifying one domain at once cost one MX lookup and one catch-all probe', async () => {
    const cfg = loadConfig({ ...world.env(), LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test' });
    // Four "worker processes": each its own verifier and resolver, sharing only Redis.
    const workers = Array.from({ length: 4 }, () => createVerifier(cfg, { cache: new RedisTtlCache(redis, prefix) }).verifier);
    world.resetStats();
    const results = await Promise.all(workers.map((v, w) => v.verify('wild.test', [0, 1, 2].map((i) => ({ address: `user${w}-${i}@wild.test` })))));
    for (const r of results) {
      expect(r.catchAll).toBe(true);
      expect(r.outcomes.every((o) => o.kind === 'final' && o.verdict.reason === 'catch_all')).toBe(true);
    }
    expect(world.dns.queryCount('wild.test', 'MX')).toBe(1);
    expect(world.host('mx.wild.test').stats.rcptCount).toBe(4 * 3 + 1);
  });
});
