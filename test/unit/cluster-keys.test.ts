import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { cacheKeyPrefix, listKeys } from '../../src/pipeline/names.js';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import type { Redis } from 'ioredis';

/** The Redis Cluster hash tag of a key: the first `{…}` with something inside, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('Redis Cluster key layout', () => {
  it('queues share the {listwash} tag (BullMQ needs one slot per queue)', () => {
    expect(hashTag(`${loadConfig({}).queuePrefix}:lw-probe:wait`)).toBe('listwash');
  });

  it('every key of one list carries that list\'s tag, so its Lua scripts touch one slot', () => {
    const keys = Object.values(listKeys(loadConfig({}).queuePrefix, 'march-2026'));
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const k of keys) expect(hashTag(k)).toBe('march-2026');
    expect(cacheKeyPrefix('{listwash}')).not.toContain('{');
  });

  it('every key of one throttle group carries the group\'s tag', () => {
    const fakeRedis = { defineCommand: () => undefined } as unknown as Redis;
    const t = new MxThrottle(fakeRedis, mxThrottleOptionsFromConfig(loadConfig({})));
    const google = t.groupFor('alt1.aspmx.l.google.com');
    const small = t.groupFor('mx.small.example');
    for (const k of Object.values(t.keys(google))) expect(hashTag(k)).toBe(hashTag(t.keys(google).leases));
    expect(hashTag(t.keys(google).leases)).not.toBe(hashTag(t.keys(small).leases));
    expect(hashTag(t.keys(small).state)).toContain('mx.small.example');
  });
});
