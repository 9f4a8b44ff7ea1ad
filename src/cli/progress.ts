/** Progress of a list as text: one line from its status view, and when to print it in a log. Pure. */
import type { ListView } from '../pipeline/list-view.js';

export function progressLine(v: ListView): string {
  const rows = v.rows !== null ? `${v.rows} rows` : '';
  const unique = v.unique ? `${v.unique} unique` : '';
  const batches = v.batches.total !== null ? `${v.batches.done}/${v.batches.total} batches done` : '';
  const percent = v.state === 'probing' || v.state === 'aggregating' || v.state === 'done' ? `${v.percent}% verified` : '';
  return `[${v.state}] ${[rows, unique, batches, percent].filter(Boolean).join(', ')}`.padEnd(60);
}

/**
 * The progress lines of a log (stderr not a terminal): a line at every status change, and between them whenever the
 * line would say something new, at most one every `everyMs` — so the last line printed is never far behind (a line
 * per status change alone said `2/8 batches done` until the list left `probing`, while 6 of 8 were done).
 */
export class ProgressLog {
  private last = '';
  private lastState = '';
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly everyMs = 10_000) {}

  /** The line to print now for `v` seen at `now` (ms), or null. */
  next(v: ListView, now: number): string | null {
    const line = progressLine(v).trimEnd();
    if (line === this.last) return null;
    if (v.state === this.lastState && now - this.lastAt < this.everyMs) return null;
    this.last = line;
    this.lastState = v.state;
    this.lastAt = now;
    return line;
  }
}
