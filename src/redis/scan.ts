/**
 * Walking keys by pattern. `SCAN` sees the keys of one server only: on a Redis Cluster every master is
 * scanned, and keys are deleted one command per key (keys of different slots never share a command).
 */
import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './connect.js';

/** The servers that hold the keys: the one server, or every master of a cluster (once it knows them). */
export async function keyServers(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  // The cluster client learns its nodes when it connects; a command waits for that.
  if (redis.status !== 'ready') await redis.ping();
  return redis.nodes('master');
}

/** Every key matching `pattern` (a `SCAN MATCH` glob), server by server, `count` at a time. */
export async function* scanKeys(redis: RedisClient, pattern: string, count = 500): AsyncGenerator<{ server: Redis; keys: string[] }> {
  for (const server of await keyServers(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield { server, keys };
    } while (cursor !== '0');
  }
}

/** Delete every key matching one of `patterns`; returns how many were deleted. */
export async function deleteMatching(redis: RedisClient, patterns: readonly string[]): Promise<number> {
  let n = 0;
  for (const pattern of patterns) {
    for await (const { server, keys } of scanKeys(redis, pattern)) {
      // Each key on its own (UNLINK), sent to the server that returned it, in one round trip.
      const p = server.pipeline();
      for (const k of keys) p.unlink(k);
      for (const [err, deleted] of (await p.exec()) ?? []) {
        if (err) throw err;
        n += Number(deleted);
      }
    }
  }
  return n;
}
