import { describe, expect, it } from 'vitest';
import type { AddressOutcome } from '../../src/engine/index.js';
import { planNextRun } from '../../src/pipeline/probe.js';
import { verdict } from '../../src/verdict.js';

const cfg = { greylistRetryDelays: [60, 300], blockedPatienceSec: 600, mxCooldownMs: 30_000 };
const noJitter = () => 0;
const final = (a: string): AddressOutcome => ({ address: a, kind: 'final', verdict: verdict('accepted') });
const grey = (a: string): AddressOutcome => ({ address: a, kind: 'retry', retry: 'greylist', verdict: verdict('greylisted') });
const blocked = (a: string): AddressOutcome => ({ address: a, kind: 'retry', retry: 'blocked', verdict: verdict('blocked') });
const deferred = (a: string, why: 'busy' | 'open', ms = 800): AddressOutcome => ({ address: a, kind: 'deferred', retryInMs: ms, why, group: 'mx.test' });

describe('planNextRun (what happens to addresses a probe run left open)', () => {
  it('is done when everything is final', () => {
    const p = planNextRun([final('a'), final('b')], {}, cfg, 1000, noJitter);
    expect(p.pending).toEqual([]);
    expect(p.finalize).toEqual([]);
  });

  it('retries greylisted addresses on the schedule, one step per run, then lets the last answer stand', () => {
    const first = planNextRun([final('a'), grey('b')], {}, cfg, 1000, noJitter);
    expect(first.pending).toEqual(['b']);
    expect(first.attempt).toBe(1);
    expect(first.delayMs).toBeGreaterThanOrEqual(60_000);
    const second = planNextRun([grey('b')], { attempt: 1, greylisted: first.greylisted }, cfg, 1000, noJitter);
    expect(second.pending).toEqual(['b']);
    expect(second.delayMs).toBeGreaterThanOrEqual(300_000);
    const last = planNextRun([grey('b')], { attempt: 2, greylisted: second.greylisted }, cfg, 1000, noJitter);
    expect(last.pending).toEqual([]);
    expect(last.finalize.map((o) => o.address)).toEqual(['b']);
  });

  it('gives an address greylisted for the first time in the schedule\'s last run its one retry, and only one', () => {
    const conn = (a: string): AddressOutcome => ({ address: a, kind: 'retry', retry: 'connection', verdict: verdict('temporary_failure') });
    // Run 1 and 2: the session broke before c's RCPT (connection trouble) while b was greylisted.
    const first = planNextRun([grey('b'), conn('c')], {}, cfg, 1000, noJitter);
    expect(first).toMatchObject({ pending: ['b', 'c'], greylisted: ['b'], attempt: 1 });
    const second = planNextRun([grey('b'), conn('c')], { attempt: 1, greylisted: first.greylisted }, cfg, 1000, noJitter);
    expect(second).toMatchObject({ pending: ['b', 'c'], greylisted: ['b'], attempt: 2 });
    // The last run of the schedule: b's answer stands; c is greylisted for the first time and gets a retry.
    const last = planNextRun([grey('b'), grey('c')], { attempt: 2, greylisted: second.greylisted }, cfg, 1000, noJitter);
    expect(last.finalize.map((o) => o.address)).toEqual(['b']);
    expect(last).toMatchObject({ pending: ['c'], greylisted: ['c'], why: 'greylist' });
    expect(last.delayMs).toBeGreaterThanOrEqual(300_000);
    // Greylisted again after that retry: its answer stands.
    const after = planNextRun([grey('c')], { attempt: 2, greylisted: last.greylisted }, cfg, 1000, noJitter);
    expect(after.pending).toEqual([]);
    expect(after.finalize.map((o) => o.address)).toEqual(['c']);
    // Connection trouble in the last run is not greylisting: its answer stands at once.
    expect(planNextRun([conn('d')], { attempt: 2 }, cfg, 1000, noJitter).finalize.map((o) => o.address)).toEqual(['d']);
  });

  it('moves throttled addresses to delayed for the throttle\'s wait, without using a greylist retry', () => {
    const p = planNextRun([deferred('a', 'busy', 800), deferred('b', 'busy', 800)], { attempt: 1 }, cfg, 1000, noJitter);
    expect(p.pending).toEqual(['a', 'b']);
    expect(p.attempt).toBe(1);
    expect(p.delayMs).toBeGreaterThanOrEqual(800);
    expect(p.delayMs).toBeLessThan(2000);
  });

  it('holds ban-signed addresses until the patience runs out, then ends them unknown/blocked', () => {
    const early = planNextRun([deferred('a', 'open', 5000)], { heldSince: 0 }, cfg, 100_000, noJitter);
    expect(early.pending).toEqual(['a']);
    expect(early.heldSince).toBe(0);
    const late = planNextRun([deferred('a', 'open', 5000), blocked('b')], { heldSince: 0 }, cfg, 600_000, noJitter);
    expect(late.pending).toEqual([]);
    const reasons = late.finalize.map((o) => (o.kind === 'deferred' ? 'deferred' : o.verdict.reason));
    expect(reasons.sort()).toEqual(['blocked', 'blocked']);
  });

  it('starts the patience clock on the first ban sign', () => {
    const p = planNextRun([blocked('a')], {}, cfg, 42_000, noJitter);
    expect(p.heldSince).toBe(42_000);
    expect(p.pending).toEqual(['a']);
    expect(p.delayMs).toBeGreaterThanOrEqual(cfg.mxCooldownMs);
  });

  it('ends a permanent refusal (a 5xx policy refusal of the prober) at once, with the server\'s reply, and holds signs that may pass', () => {
    const reply = '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org';
    const refused: AddressOutcome = { address: 'a', kind: 'retry', retry: 'blocked', permanent: true, verdict: verdict('blocked', { smtpCode: 554, smtpReply: reply }) };
    const p = planNextRun([refused, blocked('b')], {}, cfg, 1000, noJitter);
    expect(p.finalize).toEqual([refused]);
    expect(p.pending).toEqual(['b']);
    expect(p.why).toBe('held');
  });

  it('ends addresses refused by a circuit that a permanent refusal opened, with the reply the circuit remembers', () => {
    const refusal = { mxHost: 'mx.listed.test', reply: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org' };
    const o: AddressOutcome = { address: 'a', kind: 'deferred', retryInMs: 300_000, why: 'open', group: 'mx.listed.test', refusal };
    const p = planNextRun([o, deferred('b', 'open', 300_000)], {}, cfg, 1000, noJitter);
    expect(p.pending).toEqual(['b']);
    expect(p.finalize).toHaveLength(1);
    const f = p.finalize[0]!;
    expect(f.kind === 'final' && [f.address, f.verdict.status, f.verdict.reason, f.verdict.mxHost, f.verdict.smtpCode, f.verdict.enhancedCode, f.verdict.smtpReply]).toEqual([
      'a', 'unknown', 'blocked', 'mx.listed.test', 554, '5.7.1', refusal.reply,
    ]);
  });

  it('pins a greylisted address to the egress identity that got the 4xx, and keeps the pin of an address still waiting', () => {
    const greyOnB: AddressOutcome = { address: 'a', kind: 'retry', retry: 'greylist', verdict: verdict('greylisted'), identity: 'b' };
    const p = planNextRun([greyOnB, deferred('c', 'busy'), final('d')], { pendingIdentity: { c: 'a', d: 'a' } }, cfg, 1000, noJitter);
    expect(p.pending.sort()).toEqual(['a', 'c']);
    expect(p.identities).toEqual({ a: 'b', c: 'a' });
  });
});
