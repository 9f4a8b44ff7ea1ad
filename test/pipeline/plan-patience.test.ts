/** planNextRun: a circuit that stays open longer than the patience never delays past the patience. Pure. */
import { describe, expect, it } from 'vitest';
import type { AddressOutcome } from '../../src/engine/index.js';
import { planNextRun } from '../../src/pipeline/probe.js';
import { verdict } from '../../src/verdict.js';

const cfg = { greylistRetryDelays: [1, 1], blockedPatienceSec: 2, mxCooldownMs: 1000 };
const noJitter = () => 0;
const open = (a: string, ms: number): AddressOutcome => ({ address: a, kind: 'deferred', retryInMs: ms, why: 'open', group: 'mx.test' });
const blocked = (a: string): AddressOutcome => ({ address: a, kind: 'retry', retry: 'blocked', verdict: verdict('blocked') });

describe('planNextRun and the blocked patience', () => {
  it('wakes a batch held by an open circuit when the patience runs out, not when the circuit closes', () => {
    // The throttle keeps a circuit open for 5 minutes; the patience is 2 s and 0.5 s of it are used.
    const p = planNextRun([open('a', 300_000)], { heldSince: 10_000 }, cfg, 10_500, noJitter);
    expect(p.pending).toEqual(['a']);
    expect(p.delayMs).toBeGreaterThanOrEqual(1500);
    expect(p.delayMs).toBeLessThan(2500);
    // The run after that ends it.
    const next = planNextRun([open('a', 298_000)], { heldSince: 10_000 }, cfg, 10_500 + p.delayMs, noJitter);
    expect(next.pending).toEqual([]);
    expect(next.finalize.map((o) => (o.kind === 'final' ? o.verdict.reason : o.kind))).toEqual(['blocked']);
  });

  it('keeps the cooldown wait when the patience has more time left than that', () => {
    const p = planNextRun([blocked('a')], {}, { ...cfg, blockedPatienceSec: 60 }, 0, noJitter);
    expect(p.delayMs).toBeGreaterThanOrEqual(1000);
    expect(p.delayMs).toBeLessThan(2000);
  });
});
