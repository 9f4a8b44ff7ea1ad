/**
 * RCPT slots on an exact schedule, and the answered window: the k-th RCPT of a group waits until one window
 * after the host answered the (k-R)-th, so a host never counts more than R RCPTs in a sliding second, however
 * late each RCPT reaches it (the world process busy, the network slow).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { maxInWindow } from '../../src/world/smtp-stats.js';
import type { MxThrottle } from '../../src/throttle/mx-throttle.js';
import type { ThrottleGroup } from '../../src/throttle/providers.js';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

async function lease(t: MxThrottle, g: ThrottleGroup): Promise<string> {
  const l = await t.acquire(g);
  if (!l.granted) throw new Error(`no lease: ${l.why}`);
  return l.leaseId;
}

/**
 * A host that counts each RCPT `delayOf(n)` ms after it was sent (the n-th RCPT sent, fleet-wide) and answers
 * `answerMs` later. Sessions (each its own Redis connection and lease) send `perSession` RCPTs each, paced by
 * `paceRcpt` (answers reported) or by `waitRcpt` (no answers). Returns the host's counting times (ms).
 */
async function sendThroughHost(g: ThrottleGroup, opts: { sessions: number; perSession: number; delayOf: (n: number) => number; answerMs: number; reportAnswers: boolean }): Promise<number[]> {
  const counted: number[] = [];
  let sent = 0;
  const inFlight: Promise<void>[] = [];
  await Promise.all(
    Array.from({ length: opts.sessions }, async () => {
      const t = fx.throttle();
      const leaseId = await lease(t, g);
      for (let i = 0; i < opts.perSession; i++) {
        const paced = opts.reportAnswers ? await t.paceRcpt(g, leaseId) : { fate: null, slotMs: await t.waitRcpt(g, undefined, leaseId) };
        const delay = opts.delayOf(sent++);
        inFlight.push(
          (async () => {
            await sleep(delay);
            counted.push(performance.now());
            await sleep(opts.answerMs);
            await paced.fate?.('answered');
          })(),
        );
      }
      await Promise.all(inFlight);
      await t.release(g, leaseId);
    }),
  );
  return counted.sort((a, b) => a - b);
}

/** Every 21st RCPT travels 150 ms late: with slots exactly 1/rate apart, 21 then land within one second. */
const lateEvery21st = (n: number): number => (n % 21 === 0 ? 150 : 0);

describe('RCPT pacing: the answered window', () => {
  it('keeps a 20/s host at ≤ 20 RCPTs in any sliding second although some RCPTs reach it 150 ms late', async () => {
    const g = fx.group(3, 20);
    const counted = await sendThroughHost(g, { sessions: 3, perSession: 22, delayOf: lateEvery21st, answerMs: 5, reportAnswers: true });
    expect(counted).toHaveLength(66);
    expect(maxInWindow(counted, 1000)).toBeLessThanOrEqual(20);
    const stats = await fx.throttle().stats(g);
    expect(stats).toMatchObject({ rcptTaken: 66, rcptAnswersLost: 0 });
  });

  it('(the same RCPTs paced without reporting answers do put more than 20 into one second at that host)', async () => {
    const g = fx.group(3, 20);
    const counted = await sendThroughHost(g, { sessions: 3, perSession: 22, delayOf: lateEvery21st, answerMs: 5, reportAnswers: false });
    expect(maxInWindow(counted, 1000)).toBeGreaterThan(20);
  });

  it('holds under random lateness (0–120 ms) and slow answers, over several seeds', async () => {
    for (const seed of [1, 2, 3]) {
      let a = seed * 0x9e3779b9;
      const rnd = (): number => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = Math.imul(a ^ (a >>> 15), a | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const g = fx.group(2, 20);
      const counted = await sendThroughHost(g, { sessions: 2, perSession: 25, delayOf: () => Math.floor(rnd() * 120), answerMs: 30, reportAnswers: true });
      expect(counted).toHaveLength(50);
      expect(maxInWindow(counted, 1000), `seed ${seed}`).toBeLessThanOrEqual(20);
    }
  });

  it('reserves slots ahead on an exact schedule: a waiting caller is given its slot, not a time to ask again', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 10); // 100 ms apart
    const slots: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.reserveRcpt(g);
      if (!r.granted) throw new Error('not granted');
      slots.push(r.slotMs);
    }
    for (let i = 1; i < slots.length; i++) expect((slots[i] as number) - (slots[i - 1] as number)).toBeCloseTo(100, 0);
    // the next caller's slot is after the reserved ones
    expect(await t.takeRcpt(g)).toBeGreaterThan(400);
  });

  it('an RCPT whose answer is outstanding holds the slot R places later until its session has ended', async () => {
    const a = fx.throttle();
    const b = fx.throttle();
    const g = fx.group(2, 4); // R = 4 per second
    const leaseA = await lease(a, g);
    const leaseB = await lease(b, g);
    const first = await a.reserveRcpt(g, leaseA, true);
    expect(first.granted).toBe(true);
    for (let i = 0; i < 3; i++) expect((await b.reserveRcpt(g, leaseB)).granted).toBe(true);
    // the 5th RCPT needs the 1st one's answer
    expect(await b.reserveRcpt(g, leaseB)).toMatchObject({ granted: false });
    expect((await b.stats(g)).rcptAnswerWaits).toBe(1);
    // A's session ends without an answer (its worker lost the reply): the 1st counts as seen now
    await a.release(g, leaseA);
    const fifth = await b.reserveRcpt(g, leaseB);
    expect(fifth.granted).toBe(true);
    if (!first.granted || !fifth.granted) return;
    expect(fifth.slotMs - first.slotMs).toBeGreaterThanOrEqual(1000);
    expect((await b.stats(g)).rcptAnswersLost).toBe(1);
  });

  it('a reservation delivered twice (a call resent after its reply was lost with the connection) is one reservation', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 1); // R = 1: each RCPT needs the previous one's answer
    const id = await lease(t, g);
    const first = await t.reserveRcpt(g, id, true, 'req-1');
    const resent = await t.reserveRcpt(g, id, true, 'req-1');
    if (!first.granted || !resent.granted) throw new Error('not granted');
    expect(resent.seq).toBe(first.seq);
    // the same slot: sent at it, or at once if it has passed meanwhile
    expect(resent.slotMs).toBeGreaterThanOrEqual(first.slotMs);
    expect(resent.slotMs - first.slotMs).toBeLessThan(1000);
    // its one answer frees the next RCPT: no second, unreported reservation holds it for the session's life
    expect(await t.rcptFate(g, first.seq, 'answered')).toBe(true);
    const next = await t.reserveRcpt(g, id, true, 'req-2');
    expect(next).toMatchObject({ granted: true, seq: first.seq + 1 });
    expect(await t.rcptFate(g, first.seq + 1, 'answered')).toBe(true);
    expect(await t.stats(g)).toMatchObject({ rcptAnswersLost: 0, rcptRequestsRepeated: 1 });
    // nothing outstanding is left in the ledger
    await t.reserveRcpt(g, id, false);
    const fields = Object.keys(await fx.rawClient().hgetall(t.keys(g).state));
    expect(fields.filter((f) => /^[pq]/.test(f))).toEqual([]);
  });

  it('an answer not reported within answerTimeoutMs of its slot counts as lost, although its session lives on', async () => {
    const t = fx.throttle({ answerTimeoutMs: 300 });
    const g = fx.group(1, 1);
    const id = await lease(t, g);
    const first = await t.reserveRcpt(g, id, true);
    if (!first.granted) throw new Error('not granted');
    expect(await t.reserveRcpt(g, id, true)).toMatchObject({ granted: false });
    await sleep(first.slotMs - performance.timeOrigin - performance.now() + 350);
    const next = await t.reserveRcpt(g, id, true);
    expect(next).toMatchObject({ granted: true, seq: first.seq + 1 });
    expect((await t.stats(g)).rcptAnswersLost).toBe(1);
    // a report that comes after all finds nothing to resolve
    expect(await t.rcptFate(g, first.seq, 'answered')).toBe(false);
  });

  it('an answered RCPT frees the slot R places later one window after its answer; an unanswered one a window later still', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 2); // R = 2, 500 ms apart
    const id = await lease(t, g);
    const r1 = await t.reserveRcpt(g, id, true);
    const r2 = await t.reserveRcpt(g, id, true);
    if (!r1.granted || !r2.granted) throw new Error('not granted');
    expect(await t.rcptFate(g, r1.seq, 'unanswered')).toBe(true);
    expect(await t.rcptFate(g, r1.seq, 'answered')).toBe(false); // reported once
    expect(await t.rcptFate(g, r2.seq, 'answered')).toBe(true);
    const r3 = await t.reserveRcpt(g, id, true);
    const r4 = await t.reserveRcpt(g, id, true);
    if (!r3.granted || !r4.granted) throw new Error('not granted');
    // unanswered: the host may still read it for a window, so the 3rd waits two windows after the 1st's report
    expect(r3.slotMs - r1.slotMs).toBeGreaterThanOrEqual(2000);
    // the 4th: at least one window after the 2nd's answer, and at the GCRA spacing after the 3rd
    expect(r4.slotMs - r2.slotMs).toBeGreaterThanOrEqual(1000);
    expect(r4.slotMs - r3.slotMs).toBeGreaterThanOrEqual(500);
    expect(r4.slotMs - r3.slotMs).toBeLessThan(1000);
    // unsent: as if it had been sent at its slot
    expect(await t.rcptFate(g, r3.seq, 'unsent')).toBe(true);
  });

  it('a wait aborted after a slot was reserved reports the slot unsent and rejects with the reason', async () => {
    const t = fx.throttle();
    const g = fx.group(1, 1); // R = 1: each RCPT needs the previous one's answer
    const id = await lease(t, g);
    const first = await t.paceRcpt(g, id);
    await first.fate('answered');
    const ctl = new AbortController();
    const reason = new Error('session over');
    const waiting = t.paceRcpt(g, id, ctl.signal);
    setTimeout(() => ctl.abort(reason), 50);
    await expect(waiting).rejects.toBe(reason);
    // the aborted slot was reported unsent, so the next one is not held for the lease's life
    const next = await t.reserveRcpt(g, id, true);
    expect(next.granted).toBe(true);
    expect((await t.stats(g)).rcptAnswersLost).toBe(0);
  });
});
