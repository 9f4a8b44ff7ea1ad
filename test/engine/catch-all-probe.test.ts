/** The catch-all probe as its own object: cache, claim, wait for the fleet, publish, release. No I/O but a memory cache. */
import { describe, expect, it } from 'vitest';
import { MemoryTtlCache, type TtlCache } from '../../src/dns/cache.js';
import { CatchAllProbe, catchAllAnswer } from '../../src/engine/catch-all.js';
import { parseReply } from '../../src/smtp/reply.js';
import type { RcptOutcome } from '../../src/smtp/probe-session.js';
import { verdict } from '../../src/verdict.js';

/** A memory cache with claims, as the Redis cache has them. */
class ClaimingCache extends MemoryTtlCache implements TtlCache {
  readonly claims = new Set<string>();
  async claim(key: string): Promise<boolean> {
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }
  async release(key: string): Promise<void> {
    this.claims.delete(key);
  }
}

const opts = (cache?: TtlCache) => ({ enabled: true, ttlSec: 60, ...(cache ? { cache } : {}) });
const rcpt = (address: string, raw: string): RcptOutcome => ({ address, stage: 'rcpt', classification: { status: 'unknown', reason: 'temporary_failure' }, reply: parseReply(raw), error: null });

describe('catchAllAnswer', () => {
  it('reads only mailbox answers: accepted → catch-all, a mailbox refusal → not, anything else → unknown', () => {
    expect(catchAllAnswer(parseReply('250 2.1.5 OK'))).toBe(true);
    expect(catchAllAnswer(parseReply('550 5.1.1 User unknown'))).toBe(false);
    expect(catchAllAnswer(parseReply('450 4.7.1 Greylisted, try again later'))).toBeNull();
    expect(catchAllAnswer(parseReply('554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'))).toBeNull();
    expect(catchAllAnswer(parseReply('421 4.7.0 Too many connections, try again later'))).toBeNull();
  });
});

describe('CatchAllProbe', () => {
  it('claims the domain, publishes a definite answer, and then needs no further probe', async () => {
    const cache = new ClaimingCache();
    const probe = await CatchAllProbe.start('a.test', opts(cache));
    expect(probe.request()).toEqual({ address: probe.address });
    await probe.settle(rcpt(probe.address, '250 2.1.5 OK'));
    expect(probe.catchAll).toBe(true);
    expect(probe.request()).toBeNull();
    expect(await cache.get('catchall:a.test')).toBe('1');
    await probe.finish();
    expect(cache.claims.has('catchall:a.test')).toBe(true); // answered: the claim simply expires
    const accepted = { address: 'x@a.test', kind: 'final' as const, verdict: verdict('accepted') };
    expect(probe.apply(accepted)).toMatchObject({ verdict: { status: 'risky', reason: 'catch_all', catchAll: true } });
  });

  it('gives the claim back when the probe got no definite answer, so the next attempt probes', async () => {
    const cache = new ClaimingCache();
    const probe = await CatchAllProbe.start('b.test', opts(cache));
    await probe.settle(rcpt(probe.address, '450 4.7.1 Greylisted, try again later'));
    expect(probe.catchAll).toBeNull();
    expect(probe.request()).toBeNull(); // no second RCPT for it in this call
    await probe.finish();
    expect(cache.claims.has('catchall:b.test')).toBe(false);
    expect(await cache.get('catchall:b.test')).toBeNull();
  });

  it('leaves the probe to the next session when the prober was refused, and names the identity a greylisting came from', async () => {
    const probe = await CatchAllProbe.start('f.test', opts());
    await probe.settle(rcpt(probe.address, '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'), 'a');
    expect(probe.request()).toEqual({ address: probe.address });
    expect(probe.undecidedOn).toBeNull();
    await probe.settle(rcpt(probe.address, '450 4.7.1 Greylisted, try again later'), 'b');
    expect(probe.request()).toBeNull();
    expect(probe.undecidedOn).toBe('b');
  });

  it('takes the answer another worker publishes while it waits on that worker\'s claim', async () => {
    const cache = new ClaimingCache();
    await cache.claim('catchall:c.test');
    const waiting = CatchAllProbe.start('c.test', opts(cache));
    await cache.set('catchall:c.test', '0', 60);
    const probe = await waiting;
    expect(probe.catchAll).toBe(false);
    expect(probe.request()).toBeNull();
  });

  it('uses a cached answer without probing, and probes nothing when probing is off', async () => {
    const cache = new ClaimingCache();
    await cache.set('catchall:d.test', '1', 60);
    expect((await CatchAllProbe.start('d.test', opts(cache))).catchAll).toBe(true);
    const off = await CatchAllProbe.start('e.test', { enabled: false, ttlSec: 60, cache });
    expect([off.catchAll, off.request()]).toEqual([null, null]);
  });
});
