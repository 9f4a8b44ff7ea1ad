/**
 * `npm test` on a machine with Node and nothing running: when REDIS_URL is not set and nothing answers at
 * redis://127.0.0.1:6379, the run gets a private redis-server (as `listwash demo` does, see
 * src/redis/availability.ts), which every test file and every process they start sees as REDIS_URL, and
 * which is stopped at the end. A Redis that answers is used as it is; no Redis and no redis-server binary
 * stops the run at once with the message naming the fixes.
 */
import { DEFAULT_REDIS_URL, resolveRedis } from '../src/redis/availability.js';

export default async function setup(): Promise<() => Promise<void>> {
  const redis = await resolveRedis({ redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL }, process.env, {
    allowEmbedded: true,
    say: (line) => process.stderr.write(`npm test: ${line}\n`),
  });
  if (redis.embedded) process.env.REDIS_URL = redis.cfg.redisUrl;
  return () => redis.stop();
}
