/**
 * Which objects of a watched prefix have been made lists, in Redis: one hash per watched prefix,
 * `<prefix>:watch:{<hash of the prefix URL>}`, field = object name, value = `<version>\t<list id>`.
 * A watcher submits an object's list (idempotent: its id is deterministic), then records it here; any
 * watcher, after any restart, skips an object recorded with the same version. A new version of a name
 * replaces its field, so the hash holds one field per name ever seen under the prefix.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/connect.js';
import type { WatchedObject } from './source.js';

export function watchClaimsKey(keyPrefix: string, sourceUrl: string): string {
  const tag = createHash('sha256').update(sourceUrl).digest('hex').slice(0, 16);
  return `${keyPrefix.replace(/[{}]/g, '')}:watch:{${tag}}`;
}

export class WatchClaims {
  readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    sourceUrl: string,
  ) {
    this.key = watchClaimsKey(keyPrefix, sourceUrl);
  }

  /** The objects not recorded yet in this version. */
  async unclaimed(objects: readonly WatchedObject[]): Promise<WatchedObject[]> {
    if (objects.length === 0) return [];
    const recorded = await this.redis.hmget(this.key, ...objects.map((o) => o.name));
    return objects.filter((o, i) => recorded[i]?.split('\t')[0] !== o.version);
  }

  /** Record that `o` is list `listId`. */
  async record(o: WatchedObject, listId: string): Promise<void> {
    await this.redis.hset(this.key, o.name, `${o.version}\t${listId}`);
  }

  /** The list id recorded for a name, or null. */
  async listOf(name: string): Promise<string | null> {
    const v = await this.redis.hget(this.key, name);
    return v === null ? null : (v.split('\t')[1] ?? null);
  }
}
