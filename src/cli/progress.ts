/**
 * What `listwash clean` shows while a list runs, from the list's status views. Pure: view + recent
 * samples + clock in, lines out (the terminal handling is in `progress-display.ts`).
 *
 * On a terminal: a few lines redrawn in place (phase, rows, batches, a bar with the share of unique
 * addresses that have a final verdict and an ETA, verdicts so far by status, throttled hosts, the next
 * greylist retry). Off a terminal: one plain line, printed when it changes and at most every few seconds.
 */
import type { ListView } from '../pipeline/list-view.js';
import { STATUSES } from '../verdict.js';
import { countsText, humanDuration, LOCAL_TIME, percentText, type TimeFormat } from './text-format.js';

/** How many addresses had a final verdict at a moment. */
export interface ProgressSample {
  at: number;
  verified: number;
}

export interface ProgressClock {
  now: number;
  time?: TimeFormat;
}

/** How far back the samples reach for the verdict rate (older ones can be dropped). */
export const RATE_WINDOW_MS = 60_000;
/** A rate needs samples spanning at least this long. */
const MIN_RATE_SPAN_MS = 3_000;
/** Width of the bar, in characters. */
const BAR_WIDTH = 24;

export interface Estimate {
  /** Final verdicts per second over the last minute; null until the samples span a few seconds. */
  rate: number | null;
  /** When the list should have every verdict (ms); null when it cannot be told. */
  finishAt: number | null;
  /** `about`: from the rate; `after`: no verdicts are coming until the greylist retry at `finishAt`. */
  bound: 'about' | 'after' | null;
  /** The next greylist retry of this list (ms), when one is still to come. */
  greylistAt: number | null;
}

/**
 * When the list should have every final verdict: the remaining unique addresses at the recent rate,
 * but never before the next greylist retry (a greylisted address has no verdict before its retry).
 * With no verdict coming at all and a retry pending, the list waits for it: "after" that time.
 */
export function estimate(v: ListView, samples: readonly ProgressSample[], now: number): Estimate {
  const greylistAt = v.state === 'probing' && v.nextGreylistRetryAt !== null && v.nextGreylistRetryAt > now ? v.nextGreylistRetryAt : null;
  const none: Estimate = { rate: null, finishAt: null, bound: null, greylistAt };
  if (v.state !== 'probing' || v.unique === null) return none;
  const first = samples.find((s) => s.at >= now - RATE_WINDOW_MS && s.at <= now);
  const span = first ? now - first.at : 0;
  const rate = first && span >= MIN_RATE_SPAN_MS ? Math.max(0, (v.verified - first.verified) / (span / 1000)) : null;
  const remaining = Math.max(0, v.unique - v.verified);
  if (remaining === 0) return { ...none, rate };
  if (rate !== null && rate > 0) {
    const at = now + (remaining / rate) * 1000;
    return { rate, finishAt: greylistAt !== null ? Math.max(at, greylistAt) : at, bound: 'about', greylistAt };
  }
  if (greylistAt !== null) return { rate, finishAt: greylistAt, bound: 'after', greylistAt };
  return { ...none, rate };
}

/** `ETA 14:07 (in 3m 10s)`, `ETA after 14:05`, or '' when it cannot be told. */
export function etaText(e: Estimate, clock: ProgressClock): string {
  const time = clock.time ?? LOCAL_TIME;
  if (e.finishAt === null) return '';
  if (e.bound === 'after') return `ETA after ${time.clock(e.finishAt)}`;
  return `ETA ${time.clock(e.finishAt)} (in ${humanDuration((e.finishAt - clock.now) / 1000)})`;
}

/** `3/8 batches done` (`, 1 failed`); while the split still runs the total is not known yet. `noun: ''`: `3/8 done`. */
export function batchesText(v: ListView, noun = 'batches '): string {
  const b = v.batches;
  const done = b.total !== null ? `${b.done}/${b.total} ${noun}done` : `${b.done} ${noun}done`;
  return b.failed > 0 ? `${done}, ${b.failed} failed` : done;
}

function sizeText(v: ListView): string[] {
  return [v.rows !== null ? `${v.rows} rows` : '', v.unique ? `${v.unique} unique` : ''].filter(Boolean);
}

function throttledText(v: ListView): string {
  return v.throttled.map((t) => `${t.group} ${t.why} (${t.batches} ${t.batches === 1 ? 'batch' : 'batches'})`).join(', ');
}

/** The verified share as a bar: `[██████░░░░]`. */
export function bar(percent: number, width = BAR_WIDTH): string {
  const full = Math.max(0, Math.min(width, Math.floor((percent / 100) * width)));
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

const PHASE_NOTE: Partial<Record<ListView['state'], string>> = {
  queued: 'waiting for a split worker',
  splitting: 'reading the input, queueing per-domain batches',
  aggregating: 'writing the result files',
};

/** The live display on a terminal: a few lines, redrawn in place. */
export function progressLines(v: ListView, samples: readonly ProgressSample[], clock: ProgressClock): string[] {
  const time = clock.time ?? LOCAL_TIME;
  const elapsed = v.timings.elapsedSec !== null ? humanDuration(v.timings.elapsedSec) : null;
  const head = [`list ${v.id}: ${v.state}`, ...sizeText(v), ...(v.batches.total !== null || v.batches.done > 0 ? [batchesText(v)] : []), ...(elapsed ? [`elapsed ${elapsed}`] : [])];
  const lines = [head.join(' · ')];
  const note = PHASE_NOTE[v.state];
  if (v.state === 'probing' || v.state === 'done') {
    const e = estimate(v, samples, clock.now);
    const eta = etaText(e, clock);
    const of = v.unique !== null ? ` (${v.verified} of ${v.unique})` : '';
    lines.push(`${bar(v.percent)} ${percentText(v.percent)} verified${of}${eta ? ` · ${eta}` : ''}`);
    const counts = countsText(v.counts.byStatus, STATUSES, ' · ');
    if (counts) lines.push(`${v.state === 'done' ? 'rows' : 'verdicts so far'}: ${counts}`);
    if (v.throttled.length > 0) lines.push(`throttled: ${throttledText(v)}`);
    if (e.greylistAt !== null) lines.push(`waiting for greylist retry at ${time.clock(e.greylistAt)}`);
  } else if (note) {
    lines.push(note);
  }
  return lines;
}

/**
 * One plain line (off a terminal) and its key: the line without the ETA, which moves all the time. A
 * line is worth printing when its key changed (see `shouldPrint`).
 */
export function progressLine(v: ListView, samples: readonly ProgressSample[] = [], clock: ProgressClock = { now: Date.now() }): { line: string; key: string } {
  const time = clock.time ?? LOCAL_TIME;
  const parts = [...sizeText(v), ...(v.batches.total !== null ? [batchesText(v)] : [])];
  const e = estimate(v, samples, clock.now);
  if (v.state === 'probing' || v.state === 'aggregating' || v.state === 'done') {
    const counts = countsText(v.counts.byStatus, STATUSES);
    parts.push(`${percentText(v.percent)} verified${counts ? ` (${counts})` : ''}`);
  }
  const waits = [...(v.throttled.length > 0 ? [`throttled: ${throttledText(v)}`] : []), ...(e.greylistAt !== null ? [`waiting for greylist retry at ${time.clock(e.greylistAt)}`] : [])];
  const key = [`[${v.state}]${parts.length ? ` ${parts.join(', ')}` : ''}`, ...waits].join('; ');
  const eta = etaText(e, clock);
  return { key, line: eta ? `${key}; ${eta}` : key };
}

/** What was printed last (off a terminal). */
export interface Printed {
  key: string;
  state: string;
  at: number;
}

/**
 * Print a plain line now? When something changed since the last line: at once for a new phase, else
 * once `minIntervalMs` have passed since the last line (a change in between is printed then, not lost).
 */
export function shouldPrint(last: Printed | null, next: { key: string; state: string }, now: number, minIntervalMs: number): boolean {
  if (last === null) return true;
  if (next.key === last.key) return false;
  return next.state !== last.state || now - last.at >= minIntervalMs;
}
