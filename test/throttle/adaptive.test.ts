import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

describe('adaptive back-off and recovery', () => {
  it('a rate-limit signal halves connections and rate and starts a cooldown that refuses acquire fleet-wide', async () => {
    const a = fx.throttle({ cooldownMs: 400 });
    const b = fx.throttle({ cooldownMs: 400 });
    const g = fx.group(4, 4);
    const out = await a.reportRateLimited(g);
    expect(out).toMatchObject({ halved: true, maxConnections: 2 });
    expect(out.rcptPerSecond).toBeCloseTo(2, 3);
    const s = await b.state(g);
    expect(s.maxConnections).toBe(2);
    expect(s.rcptPerSecond).toBeCloseTo(2, 3);
    expect(s.cooldownUntil).not.toBeNull();
    const refused = await b.acquire(g);
    expect(refused).toMatchObject({ granted: false, why: 'cooldown' });
    if (refused.granted) throw new Error('unreachable');
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(400);

    await sleep(refused.retryInMs + 20);
    // cooldown over: the halved limit applies
    expect((await b.acquire(g)).granted).toBe(true);
    expect((await a.acquire(g)).granted).toBe(true);
    expect(await b.acquire(g)).toMatchObject({ granted: false, why: 'busy' });
    expect(await a.stats(g)).toMatchObject({ rateLimitedSignals: 1, rateLimitHalvings: 1, cooldownRefusals: 1, busyRefusals: 1 });
  });

  it('signals within the cooldown of a halving do not halve again', async () => {
    const t = fx.throttle({ cooldownMs: 5_000 });
    const g = fx.group(8, 8);
    expect((await t.reportRateLimited(g)).halved).toBe(true);
    const again = await t.reportRateLimited(g);
    expect(again).toMatchObject({ halved: false, maxConnections: 4 });
    expect(again.rcptPerSecond).toBeCloseTo(4, 3);
    expect(await t.stats(g)).toMatchObject({ rateLimitedSignals: 2, rateLimitHalvings: 1 });
  });

  it('recovers one step (+1 connection, rate ×1.25) per full recovery period without a signal, up to the configured limits', async () => {
    const step = 300;
    const t = fx.throttle({ cooldownMs: 0, recoveryStepMs: step });
    const g = fx.group(4, 4);
    await t.reportRateLimited(g); // 2 connections, 2/s
    expect(await t.reportSuccess(g)).toMatchObject({ steps: 0, maxConnections: 2 });

    await sleep(step + 50);
    const first = await t.reportSuccess(g);
    expect(first.steps).toBeGreaterThanOrEqual(1);
    expect(first.maxConnections).toBe(Math.min(4, 2 + first.steps));
    expect(first.rcptPerSecond).toBeGreaterThan(2);
    expect(first.rcptPerSecond).toBeLessThan(4);

    // a new signal restarts the recovery clock and halves again
    const hit = await t.reportRateLimited(g);
    expect(hit.maxConnections).toBe(Math.max(1, Math.floor(first.maxConnections / 2)));
    expect((await t.reportSuccess(g)).steps).toBe(0);

    // enough periods to climb back fully (rate 1.25 → 4 /s needs 6 steps of ×1.25)
    await sleep(step * 8 + 50);
    const full = await t.reportSuccess(g);
    expect(full.maxConnections).toBe(4);
    expect(full.rcptPerSecond).toBeCloseTo(4, 3);
    const s = await t.state(g);
    expect(s.maxConnections).toBe(4);
    expect(s.rcptPerSecond).toBeCloseTo(4, 3);
    expect(full.steps).toBeGreaterThanOrEqual(3); // 1 → 4 connections takes 3 steps
    expect((await t.stats(g)).recoverySteps).toBe(first.steps + full.steps);
    // nothing left to recover
    expect((await t.reportSuccess(g)).steps).toBe(0);
  });

  it('reportSuccess without any signal changes nothing', async () => {
    const t = fx.throttle({ recoveryStepMs: 1 });
    const g = fx.group(3, 3);
    expect(await t.reportSuccess(g)).toMatchObject({ steps: 0, maxConnections: 3 });
    expect((await t.state(g)).maxConnections).toBe(3);
  });
});
