import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { blockedPastPatience } from '../../src/throttle/mx-throttle.js';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

describe('circuit breaker', () => {
  it('an open circuit refuses acquire on every machine, remembers when it first opened, and closes after openMs', async () => {
    const openMs = 400;
    const machineA = fx.throttle({ openMs });
    const machineB = fx.throttle({ openMs });
    const g = fx.group(2, 2);
    expect(await machineB.circuitState(g)).toMatchObject({ open: false, openedAt: null, until: null });

    const opened = await machineA.reportBlocked(g);
    expect(opened.open).toBe(true);
    const seen = await machineB.circuitState(g);
    expect(seen.open).toBe(true);
    expect(seen.openedAt).toBe(opened.openedAt);
    expect(seen.until).toBe(opened.until);
    expect(seen.until! - seen.openedAt!).toBeCloseTo(openMs, 0);

    const refused = await machineB.acquire(g);
    expect(refused).toMatchObject({ granted: false, why: 'open' });
    if (refused.granted) throw new Error('unreachable');
    expect(refused.retryInMs).toBeLessThanOrEqual(openMs);
    expect(blockedPastPatience(seen, 0)).toBe(true);
    expect(blockedPastPatience(seen, 60_000)).toBe(false);

    await sleep(refused.retryInMs + 20);
    // half-open: sessions may try again, the episode's start is kept
    expect((await machineB.acquire(g)).granted).toBe(true);
    const closed = await machineA.circuitState(g);
    expect(closed).toMatchObject({ open: false, openedAt: opened.openedAt, until: null });

    // still blocked: reopened, first opening time unchanged
    const again = await machineB.reportBlocked(g);
    expect(again.openedAt).toBe(opened.openedAt);
    expect(again.until!).toBeGreaterThan(opened.until!);
    expect((await machineA.acquire(g)).granted).toBe(false);
    expect(await machineA.stats(g)).toMatchObject({ blockedSignals: 2, openRefusals: 2 });
  });

  it('a success after the circuit closed ends the blocked episode', async () => {
    const t = fx.throttle({ openMs: 100 });
    const g = fx.group(2, 2);
    await t.reportBlocked(g);
    await t.reportSuccess(g); // still open: the episode goes on
    expect((await t.circuitState(g)).openedAt).not.toBeNull();
    await sleep(150);
    await t.reportSuccess(g);
    expect(await t.circuitState(g)).toMatchObject({ open: false, openedAt: null, until: null });
  });
});
