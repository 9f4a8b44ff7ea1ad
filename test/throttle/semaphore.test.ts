import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

describe('session semaphore', () => {
  it('refuses a third session at max 2 and a release frees a slot', async () => {
    const a = fx.throttle();
    const b = fx.throttle(); // another "machine"
    const g = fx.group(2, 2);
    const l1 = await a.acquire(g, 'w1');
    const l2 = await b.acquire(g, 'w2');
    expect(l1.granted && l2.granted).toBe(true);
    const third = await a.acquire(g, 'w3');
    expect(third).toMatchObject({ granted: false, why: 'busy' });
    if (third.granted) throw new Error('unreachable');
    expect(third.retryInMs).toBeGreaterThan(0);
    expect(third.retryInMs).toBeLessThanOrEqual(a.options.busyRetryMs);
    if (!l1.granted) throw new Error('unreachable');
    expect(await b.release(g, l1.leaseId)).toBe(true); // released by another process than the one that acquired
    expect(await b.release(g, l1.leaseId)).toBe(false);
    expect((await a.acquire(g, 'w3')).granted).toBe(true);
    expect((await a.acquire(g, 'w4')).granted).toBe(false);
    expect(await a.stats(g)).toMatchObject({ acquired: 3, busyRefusals: 2, released: 1 });
    expect((await a.state(g)).activeLeases).toBe(2);
  });

  it('reclaims a lease that was never renewed (SIGKILLed worker); renewing it then returns false', async () => {
    const t = fx.throttle({ leaseMs: 200 });
    const g = fx.group(1, 2);
    const dead = await t.acquire(g, 'killed');
    if (!dead.granted) throw new Error('first acquire must be granted');
    expect((await t.acquire(g, 'other')).granted).toBe(false);
    await sleep(350);
    const next = await t.acquire(g, 'other');
    expect(next.granted).toBe(true);
    expect(await t.renew(g, dead.leaseId)).toBe(false);
    expect(await t.stats(g)).toMatchObject({ leasesReclaimed: 1, leasesLost: 1 });
  });

  it('a renewed lease outlives its original expiry', async () => {
    const t = fx.throttle({ leaseMs: 400 });
    const g = fx.group(1, 2);
    const held = await t.acquire(g);
    if (!held.granted) throw new Error('first acquire must be granted');
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      expect(await t.renew(g, held.leaseId)).toBe(true);
    }
    // ≥ 600 ms after the grant, 1.5 × the lease time: still held thanks to the renewals
    expect(await t.acquire(g)).toMatchObject({ granted: false, why: 'busy' });
    expect(await t.release(g, held.leaseId)).toBe(true);
    expect((await t.acquire(g)).granted).toBe(true);
  });

  it('respects a lowered limit with more live leases than allowed', async () => {
    const t = fx.throttle();
    const g = fx.group(3, 2);
    for (let i = 0; i < 3; i++) expect((await t.acquire(g)).granted).toBe(true);
    const lowered = { ...g, maxConnections: 2 };
    expect(await t.acquire(lowered)).toMatchObject({ granted: false, why: 'busy' });
  });

  it('every key it writes has a TTL', async () => {
    const t = fx.throttle({ leaseMs: 1000, idleTtlMs: 5000 });
    const g = fx.group(2, 2);
    const l = await t.acquire(g);
    await t.takeRcpt(g);
    await t.reportRateLimited(g);
    await t.reportBlocked(g);
    expect(l.granted).toBe(true);
    const keys = await fx.keysWithTtl();
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const k of keys) expect(k.pttl, k.key).toBeGreaterThan(0);
    const mine = keys.filter((k) => k.key.includes(`{${g.key}}`));
    expect(mine.map((k) => k.key.split(':').at(-1)).sort()).toEqual(['leases', 'state', 'stats']);
  });

  it('keys of one group share the group hash tag; odd characters are encoded', () => {
    const t = fx.throttle();
    const k = t.keys({ key: 'provider:google', maxConnections: 1, rcptPerSecond: 1 });
    expect(k.leases).toBe(`${fx.prefix}thr:{provider:google}:leases`);
    expect(t.keys({ key: 'a}b{c', maxConnections: 1, rcptPerSecond: 1 }).state).toBe(`${fx.prefix}thr:{a%7Db%7Bc}:state`);
  });
});
