import { afterAll, describe, expect, it } from 'vitest';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

/** Most grants in any CLOSED window [t, t + 1000 ms] (stricter than half-open). */
function maxInOneSecond(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while ((s[i] ?? 0) - (s[j] ?? 0) > 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('RCPT rate (GCRA, burst tolerance 0)', () => {
  it('parallel workers on separate connections never exceed the rate in any sliding second, even at start', async () => {
    const g = fx.group(10, 10);
    const workers = Array.from({ length: 5 }, () => fx.throttle());
    const grants: number[] = [];
    await Promise.all(
      workers.map(async (w) => {
        for (let i = 0; i < 6; i++) grants.push(await w.waitRcpt(g));
      }),
    );
    expect(grants).toHaveLength(30);
    expect(maxInOneSecond(grants)).toBeLessThanOrEqual(10);
    // evenly spaced: 30 grants at 10/s span at least 29 emission intervals of Redis time
    const sorted = [...grants].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(100);
    const stats = await workers[0]!.stats(g);
    expect(stats.rcptTaken).toBe(30);
    expect(stats.rcptWaits).toBeGreaterThan(0);
  });

  it('a refused takeRcpt consumes nothing and says how long to wait', async () => {
    const t = fx.throttle();
    const g = fx.group(2, 2); // one RCPT per 500 ms
    expect(await t.takeRcpt(g)).toBe(0);
    const w1 = await t.takeRcpt(g);
    const w2 = await t.takeRcpt(g);
    expect(w1).toBeGreaterThan(0);
    expect(w1).toBeLessThanOrEqual(501);
    // asking again did not push the next slot further out
    expect(w2).toBeLessThanOrEqual(w1);
    expect(await t.stats(g)).toMatchObject({ rcptTaken: 1, rcptWaits: 2 });
  });

  it('fractional rates after halving; the rate never drops below minRcptPerSecond', async () => {
    const t = fx.throttle({ cooldownMs: 0, minRcptPerSecond: 0.2 });
    const g = fx.group(4, 5); // 200 ms
    const halved = await t.reportRateLimited(g);
    expect(halved.halved).toBe(true);
    expect(halved.rcptPerSecond).toBeCloseTo(2.5, 3); // 400 ms
    const grants: number[] = [];
    for (let i = 0; i < 3; i++) grants.push(await t.waitRcpt(g));
    expect((grants[1] ?? 0) - (grants[0] ?? 0)).toBeGreaterThanOrEqual(400);
    expect((grants[2] ?? 0) - (grants[1] ?? 0)).toBeGreaterThanOrEqual(400);
    for (let i = 0; i < 6; i++) await t.reportRateLimited(g);
    const s = await t.state(g);
    expect(s.rcptPerSecond).toBeCloseTo(0.2, 3);
    expect(s.emissionIntervalMs).toBeGreaterThan(5000);
    expect(s.maxConnections).toBe(1);
  });

  it('waitRcpt is abortable and rejects with the signal reason', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 0.25); // 4 s between RCPTs
    await t.waitRcpt(g);
    const ctl = new AbortController();
    const reason = new Error('session over');
    const waiting = t.waitRcpt(g, ctl.signal);
    setTimeout(() => ctl.abort(reason), 50);
    await expect(waiting).rejects.toBe(reason);
    await expect(t.waitRcpt(g, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('counts RCPTs sent under a lease that was already lost', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 100);
    const l = await t.acquire(g);
    if (!l.granted) throw new Error('must be granted');
    expect(await t.takeRcpt(g, l.leaseId)).toBe(0);
    await t.release(g, l.leaseId);
    await t.waitRcpt(g, undefined, l.leaseId);
    expect(await t.stats(g)).toMatchObject({ rcptTaken: 2, rcptLeaseLost: 1 });
  });
});
