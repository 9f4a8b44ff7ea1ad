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

  it('remembers the permanent refusal that opened it and hands its evidence to every refused acquire until it closes', async () => {
    const t = fx.throttle({ openMs: 300 });
    const other = fx.throttle({ openMs: 300 });
    const g = fx.group(2, 2);
    const evidence = '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org';
    expect((await t.reportBlocked(g, evidence)).permanentRefusal).toBe(evidence);
    expect(await other.acquire(g)).toMatchObject({ granted: false, why: 'open', permanentRefusal: evidence });
    // A sign that may pass (a 4xx ban sign) while open extends the circuit but keeps the evidence.
    expect((await other.reportBlocked(g)).permanentRefusal).toBe(evidence);
    expect((await t.circuitState(g)).permanentRefusal).toBe(evidence);
    expect((await t.state(g)).circuit.permanentRefusal).toBe(evidence);
    expect(await t.stats(g)).toMatchObject({ blockedSignals: 2, permanentRefusals: 1 });

    await sleep(350);
    expect((await t.circuitState(g)).permanentRefusal).toBeNull();
    // Closed: the next report decides afresh — here a sign that may pass, so no evidence.
    expect((await t.reportBlocked(g)).permanentRefusal).toBeNull();
    const refused = await other.acquire(g);
    expect(refused).toMatchObject({ granted: false, why: 'open' });
    expect(refused).not.toHaveProperty('permanentRefusal');
  });

  it('a circuit opened by signs that may pass refuses without evidence, and takes the first permanent refusal while open', async () => {
    const t = fx.throttle({ openMs: 60_000 });
    const g = fx.group(2, 2);
    await t.reportBlocked(g);
    expect(await t.acquire(g)).not.toHaveProperty('permanentRefusal');
    await t.reportBlocked(g, 'first');
    await t.reportBlocked(g, 'second');
    expect(await t.acquire(g)).toMatchObject({ why: 'open', permanentRefusal: 'first' });
  });
});
