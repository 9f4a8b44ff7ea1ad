import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isListwashError } from '../../src/errors.js';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

describe('withLease', () => {
  it('runs fn holding a slot and releases it afterwards', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 2);
    const value = await t.withLease(g, async (lease) => {
      expect(lease.signal.aborted).toBe(false);
      expect((await t.state(g)).activeLeases).toBe(1);
      return 'done';
    });
    expect(value).toBe('done');
    expect((await t.state(g)).activeLeases).toBe(0);
    expect(await t.stats(g)).toMatchObject({ acquired: 1, released: 1 });
  });

  it('returns null at once, without calling fn, when no slot is free; tryWithLease says why', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 2);
    const held = await t.acquire(g);
    expect(held.granted).toBe(true);
    let called = false;
    const run = async (): Promise<string> => {
      called = true;
      return 'ran';
    };
    expect(await t.withLease(g, run)).toBeNull();
    const refused = await t.tryWithLease(g, run);
    expect(refused).toMatchObject({ granted: false, why: 'busy' });
    expect(called).toBe(false);
  });

  it('releases the slot when fn throws and rethrows its error', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 2);
    const boom = new Error('smtp exploded');
    await expect(t.withLease(g, async () => Promise.reject(boom))).rejects.toBe(boom);
    expect((await t.state(g)).activeLeases).toBe(0);
    expect((await t.acquire(g)).granted).toBe(true);
  });

  it('renews the lease while fn runs longer than leaseMs', async () => {
    const t = fx.throttle({ leaseMs: 300 });
    const other = fx.throttle({ leaseMs: 300 });
    const g = fx.group(1, 2);
    const result = await t.withLease(g, async (lease) => {
      await sleep(900); // three lease times
      const competing = await other.acquire(g);
      return { competing, aborted: lease.signal.aborted };
    });
    expect(result).toEqual({ competing: expect.objectContaining({ granted: false, why: 'busy' }), aborted: false });
    expect((await t.stats(g)).renewed).toBeGreaterThanOrEqual(2);
    expect((await other.acquire(g)).granted).toBe(true);
  });

  it('aborts the lease signal with THROTTLE_LEASE_LOST when the lease is gone', async () => {
    const t = fx.throttle({ leaseMs: 300 });
    const g = fx.group(1, 2);
    const reason = await t.withLease(g, async (lease) => {
      await fx.throttle().release(g, lease.leaseId); // e.g. reclaimed after a long stall
      await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
      return lease.signal.reason as unknown;
    });
    expect(isListwashError(reason, 'THROTTLE_LEASE_LOST')).toBe(true);
  });
});

describe('withLease when Redis fails at release', () => {
  it('returns the value and reports the release error to onError', async () => {
    const errors: string[] = [];
    const t = fx.throttle({ onError: (err, context) => errors.push(`${context}: ${(err as Error).message}`) });
    const g = fx.group(1, 2);
    const value = await t.withLease(g, async () => {
      // make the release script fail: the leases key holds the wrong type
      await fx.throttle().reset(g);
      await fx.rawClient().set(t.keys(g).leases, 'not a zset');
      return 42;
    });
    expect(value).toBe(42);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^release of .*WRONGTYPE/);
  });
});
