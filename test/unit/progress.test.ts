/**
 * What `listwash clean` shows while a list runs: the pure rendering (view + samples + clock → lines),
 * the ETA with greylist retries pending, and how often lines are printed off a terminal.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bar, estimate, progressLine, progressLines, shouldPrint, type ProgressSample } from '../../src/cli/progress.js';
import { ProgressDisplay } from '../../src/cli/progress-display.js';
import { UTC_TIME } from '../../src/cli/text-format.js';
import type { ListMeta } from '../../src/pipeline/list-state.js';
import { listView, type ListView } from '../../src/pipeline/list-view.js';

/** 2026-03-01 14:00:00 UTC. */
const T0 = Date.UTC(2026, 2, 1, 14, 0, 0);
const clock = (now: number) => ({ now, time: UTC_TIME });

function view(m: Partial<ListMeta>, live: Partial<Parameters<typeof listView>[1]> = {}, now = T0): ListView {
  return listView({ listId: 'march', input: 'in.csv', output: 'out/', status: 'queued', createdAt: String(T0 - 60_000), ...m } as ListMeta, { batchesDone: 0, nextGreylistRetryAt: null, throttled: [], ...live }, now);
}

const probing = (extra: Partial<ListMeta> = {}, live: Partial<Parameters<typeof listView>[1]> = {}) =>
  view({ status: 'probing', rows: '1200', unique: '1100', batches: '7', final: '550', 's:deliverable': '400', 's:undeliverable': '150', ...extra }, { batchesDone: 3, ...live });

describe('the plain progress line (off a terminal)', () => {
  it('shows phase, rows, unique addresses, finished batches, the share verified and the verdicts so far', () => {
    expect(progressLine(probing(), [], clock(T0)).line).toBe('[probing] 1200 rows, 1100 unique, 3/7 batches done, 50% verified (deliverable 400, undeliverable 150)');
  });

  it('shows only the phase before the split has counted anything', () => {
    expect(progressLine(view({ status: 'queued' }), [], clock(T0)).line).toBe('[queued]');
  });

  it('names the throttled hosts and the greylist retry it waits for; the ETA is not part of its key', () => {
    const v = probing({}, { throttled: [{ group: 'mx.big.test', why: 'busy', batches: 2 }], nextGreylistRetryAt: T0 + 5 * 60_000 });
    const samples = [{ at: T0 - 10_000, verified: 450 }];
    const { line, key } = progressLine(v, samples, clock(T0));
    expect(key).toBe('[probing] 1200 rows, 1100 unique, 3/7 batches done, 50% verified (deliverable 400, undeliverable 150); throttled: mx.big.test busy (2 batches); waiting for greylist retry at 14:05');
    expect(line).toBe(`${key}; ETA 14:05 (in 5m 00s)`);
  });

  it('a done list reads every batch done, though its set of finished batches has left Redis', () => {
    const done = view({ status: 'done', rows: '1200', unique: '1100', batches: '8', final: '1100' }, { batchesDone: 0 });
    expect(done.batches).toEqual({ total: 8, done: 8, failed: 0 });
    expect(progressLine(done, [], clock(T0)).line).toMatch(/^\[done\] 1200 rows, 1100 unique, 8\/8 batches done, 100% verified/);
  });
});

describe('the ETA', () => {
  it('is the remaining unique addresses at the rate of the last minute', () => {
    // 100 verdicts in 10 s, 550 to go: 55 s.
    const e = estimate(probing(), [{ at: T0 - 10_000, verified: 450 }], T0);
    expect(e).toMatchObject({ rate: 10, finishAt: T0 + 55_000, bound: 'about', greylistAt: null });
  });

  it('is not told from samples spanning less than a few seconds, nor before probing', () => {
    expect(estimate(probing(), [{ at: T0 - 1000, verified: 540 }], T0).finishAt).toBeNull();
    expect(estimate(view({ status: 'splitting' }), [{ at: T0 - 30_000, verified: 0 }], T0).finishAt).toBeNull();
  });

  it('is never before the next greylist retry: a greylisted address has no verdict before it', () => {
    const e = estimate(probing({}, { nextGreylistRetryAt: T0 + 15 * 60_000 }), [{ at: T0 - 10_000, verified: 450 }], T0);
    expect(e).toMatchObject({ finishAt: T0 + 15 * 60_000, bound: 'about' });
  });

  it('says "after" the retry when no verdict comes until then, instead of looking stuck', () => {
    const v = probing({}, { nextGreylistRetryAt: T0 + 5 * 60_000 });
    const samples: ProgressSample[] = [
      { at: T0 - 40_000, verified: 550 },
      { at: T0 - 20_000, verified: 550 },
    ];
    expect(estimate(v, samples, T0)).toMatchObject({ rate: 0, finishAt: T0 + 5 * 60_000, bound: 'after' });
    const lines = progressLines(v, samples, clock(T0));
    expect(lines[1]).toBe(`${bar(50)} 50% verified (550 of 1100) · ETA after 14:05`);
    expect(lines.at(-1)).toBe('waiting for greylist retry at 14:05');
  });

  it('ignores a greylist retry time that has passed (the retry is running)', () => {
    expect(estimate(probing({}, { nextGreylistRetryAt: T0 - 1000 }), [], T0).greylistAt).toBeNull();
  });
});

describe('the live display (a terminal)', () => {
  it('shows phase, size, batches and elapsed time, a bar with the share verified and ETA, verdicts so far and throttled hosts', () => {
    const v = probing({}, { throttled: [{ group: 'mx.big.test', why: 'cooldown', batches: 1 }] });
    expect(progressLines(v, [{ at: T0 - 10_000, verified: 450 }], clock(T0))).toEqual([
      'list march: probing · 1200 rows · 1100 unique · 3/7 batches done · elapsed 1m 00s',
      `${bar(50)} 50% verified (550 of 1100) · ETA 14:00 (in 55s)`,
      'verdicts so far: deliverable 400 · undeliverable 150',
      'throttled: mx.big.test cooldown (1 batch)',
    ]);
  });

  it('says what a phase without a share does', () => {
    expect(progressLines(view({ status: 'splitting' }, { batchesDone: 2 }), [], clock(T0))).toEqual(['list march: splitting · 2 batches done · elapsed 1m 00s', 'reading the input, queueing per-domain batches']);
    expect(progressLines(view({ status: 'aggregating', rows: '10', unique: '9', batches: '1', final: '9' }, { batchesDone: 1 }), [], clock(T0))[1]).toBe('writing the result files');
  });

  it('redraws in place: up over the lines drawn, clear, draw; nothing when nothing changed; lines cut to the width', () => {
    const out = sink({ columns: 40 });
    let now = T0;
    const d = new ProgressDisplay(out, { live: true, now: () => now });
    d.update(view({ status: 'splitting' }));
    const first = out.text;
    expect(first.split('\n').every((l) => l.length <= 39)).toBe(true);
    expect(first).not.toContain('\x1b[');
    d.update(view({ status: 'splitting' }));
    expect(out.text).toBe(first);
    now += 1000;
    d.update(probing());
    expect(out.text.slice(first.length).startsWith('\x1b[2A\x1b[Jlist march: probing')).toBe(true);
  });
});

describe('plain lines (a log, a pipe)', () => {
  it('a new phase is printed at once; other changes at most every interval, and never lost', () => {
    const out = sink();
    let now = T0;
    const d = new ProgressDisplay(out, { live: false, minIntervalMs: 5000, now: () => now });
    d.update(probing({}, { batchesDone: 2 }));
    now += 1000;
    d.update(probing({ final: '800' }, { batchesDone: 6 }));
    expect(out.lines()).toHaveLength(1);
    expect(out.lines()[0]).toContain('2/7 batches done');
    // Nothing changes any more, but the last change is printed once the interval has passed.
    now += 4000;
    d.update(probing({ final: '800' }, { batchesDone: 6 }));
    expect(out.lines()).toHaveLength(2);
    expect(out.lines()[1]).toContain('6/7 batches done, 72.7% verified');
    now += 100;
    d.update(view({ status: 'aggregating', rows: '1200', unique: '1100', batches: '7', final: '1100' }, { batchesDone: 7 }));
    expect(out.lines()).toHaveLength(3);
    expect(out.lines()[2]).toMatch(/^\[aggregating\]/);
  });

  it('shouldPrint: first line, changed key after the interval or with a new phase; never the same key twice', () => {
    expect(shouldPrint(null, { key: 'a', state: 'probing' }, T0, 5000)).toBe(true);
    const last = { key: 'a', state: 'probing', at: T0 };
    expect(shouldPrint(last, { key: 'a', state: 'probing' }, T0 + 60_000, 5000)).toBe(false);
    expect(shouldPrint(last, { key: 'b', state: 'probing' }, T0 + 4999, 5000)).toBe(false);
    expect(shouldPrint(last, { key: 'b', state: 'probing' }, T0 + 5000, 5000)).toBe(true);
    expect(shouldPrint(last, { key: 'c', state: 'done' }, T0 + 1, 5000)).toBe(true);
  });
});

/** A stream that collects what is written (with `columns` like a terminal's). */
function sink(opts: { columns?: number } = {}) {
  const s = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        s.text += chunk.toString();
        cb();
      },
    }),
    { text: '', columns: opts.columns, lines: () => s.text.split('\n').filter(Boolean) },
  );
  return s;
}
