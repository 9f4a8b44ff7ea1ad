/**
 * The verdict cache in Redis (real Redis at REDIS_URL, keys under a test prefix): what it keeps, what it
 * answers, how it stays within its bound, and that every operation stays within one shard's hash tag.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connect.js';
import { deleteMatching } from '../../src/redis/scan.js';
import { verdict, type Reason } from '../../src/verdict.js';
import { parseMaxAges, shardOf, VerdictCache, type VerifiedVerdict } from '../../src/verdict-cache/index.js';

const DAY = 86_400_000;
const redis = createRedis({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const base = `lwtest-vc-${randomBytes(5).toString('hex')}:`;
const maxAges = parseMaxAges(['accepted=30d', 'mailbox_not_found=30d', 'catch_all=7d']);
let n = 0;

/** A cache of its own (keys under a fresh prefix). */
function newCache(opts: { shards?: number; maxEntries?: number } = {}): VerdictCache {
  return new VerdictCache(redis, { keyPrefix: `${base}${n++}:`, shards: opts.shards ?? 4, maxEntries: opts.maxEntries ?? 1000, maxAges });
}

function v(address: string, reason: Reason, verifiedAt: number, reply = `250 ${address}`): VerifiedVerdict {
  return { address, verdict: verdict(reason, { mxHost: 'mx.example.test', smtpCode: 250, smtpReply: reply }), verifiedAt };
}

afterAll(async () => {
  await deleteMatching(redis, [`${base}*`]);
  redis.disconnect();
});

describe('VerdictCache', () => {
  it('answers kept verdicts in their stored form, with the time they were verified', async () => {
    const cache = newCache();
    const at = Date.now() - 3600_000;
    expect(await cache.store([v('ann@a.test', 'accepted', at), v('bob@a.test', 'mailbox_not_found', at)])).toEqual({ stored: 2, expired: 0, evicted: 0 });
    const found = await cache.lookup(['ann@a.test', 'bob@a.test', 'cy@a.test'], Date.now());
    expect([...found.keys()].sort()).toEqual(['ann@a.test', 'bob@a.test']);
    expect(found.get('ann@a.test')).toMatch(new RegExp(`^${at} \\["accepted","mx.example.test",250,"","250 ann@a.test",2\\]$`));
  });

  it('never stores unknown verdicts, nor classes without a max age', async () => {
    const cache = newCache();
    const now = Date.now();
    const r = await cache.store([v('a@x.test', 'greylisted', now), v('b@x.test', 'timeout', now), v('c@x.test', 'blocked', now), v('d@x.test', 'mailbox_full', now)]);
    expect(r.stored).toBe(0);
    expect(await cache.size()).toBe(0);
  });

  it('keeps an address’s newest verdict: a late write of an older one changes nothing', async () => {
    const cache = newCache();
    const now = Date.now();
    await cache.store([v('ann@a.test', 'accepted', now - 1000, '250 new')]);
    expect((await cache.store([v('ann@a.test', 'mailbox_not_found', now - 5000, '550 old')])).stored).toBe(0);
    expect((await cache.lookup(['ann@a.test'], now)).get('ann@a.test')).toContain('250 new');
  });

  it('does not answer with a verdict older than its class allows, or than the list asks', async () => {
    const cache = newCache();
    const now = Date.now();
    await cache.store([v('old-catch@a.test', 'catch_all', now - 8 * DAY), v('old-ok@a.test', 'accepted', now - 8 * DAY)], now);
    expect([...(await cache.lookup(['old-catch@a.test', 'old-ok@a.test'], now)).keys()]).toEqual(['old-ok@a.test']);
    expect((await cache.lookup(['old-ok@a.test'], now, 7 * 86_400)).size).toBe(0);
    expect((await cache.lookup(['old-ok@a.test'], now, 0)).size).toBe(0);
  });

  it('drops entries too old for any class when it writes', async () => {
    const cache = newCache({ shards: 1 });
    const now = Date.now();
    await cache.store([v('ancient@a.test', 'accepted', now - 31 * DAY)], now - 2 * DAY);
    expect(await cache.size()).toBe(1);
    expect(await cache.store([v('new@a.test', 'accepted', now)], now)).toEqual({ stored: 1, expired: 1, evicted: 0 });
    expect((await redis.hkeys(cache.keys(0).verdicts)).sort()).toEqual(['new@a.test']);
  });

  it('stays within its bound by evicting the oldest verdicts', async () => {
    const cache = newCache({ shards: 1, maxEntries: 3 });
    const now = Date.now();
    const addresses = ['a@b.test', 'b@b.test', 'c@b.test', 'd@b.test', 'e@b.test'];
    // Verified in the order given, a second apart; written newest first.
    const r = await cache.store(addresses.map((a, i) => v(a, 'accepted', now - (10 - i) * 1000)).reverse(), now);
    expect(r).toEqual({ stored: 5, expired: 0, evicted: 2 });
    expect([...(await cache.lookup(addresses, now)).keys()].sort()).toEqual(['c@b.test', 'd@b.test', 'e@b.test']);
    expect(await redis.hlen(cache.keys(0).verdicts)).toBe(3);
    // A newer one pushes out the oldest left.
    await cache.store([v('f@b.test', 'accepted', now)], now);
    expect([...(await cache.lookup([...addresses, 'f@b.test'], now)).keys()].sort()).toEqual(['d@b.test', 'e@b.test', 'f@b.test']);
  });

  it('bounds each shard to its share of the entries', async () => {
    const cache = newCache({ shards: 2, maxEntries: 4 });
    const now = Date.now();
    await cache.store(Array.from({ length: 40 }, (_, i) => v(`u${i}@s.test`, 'accepted', now - i)), now);
    expect(await cache.size()).toBe(4);
    for (const s of [0, 1]) expect(await redis.zcard(cache.keys(s).times)).toBe(2);
  });

  it('keeps each address in its shard, under one hash tag per shard', async () => {
    const cache = newCache({ shards: 4 });
    const now = Date.now();
    const list = Array.from({ length: 20 }, (_, i) => `p${i}@t.test`);
    await cache.store(list.map((a) => v(a, 'accepted', now)), now);
    for (const a of list) expect(await redis.hexists(cache.keys(shardOf(a, 4)).verdicts, a)).toBe(1);
    for (let s = 0; s < 4; s++) {
      const { verdicts, times } = cache.keys(s);
      expect(/\{(vc-\d+)\}/.exec(verdicts)?.[1]).toBe(`vc-${s}`);
      expect(/\{(vc-\d+)\}/.exec(times)?.[1]).toBe(`vc-${s}`);
      // The keys expire after the longest max age unless written again.
      expect(await redis.ttl(times)).toBeGreaterThan(29 * 86_400);
    }
  });
});
