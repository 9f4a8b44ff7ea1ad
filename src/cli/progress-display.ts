/**
 * The progress of a running list on stderr: on a terminal, the lines of `progressLines` redrawn in
 * place (cut to the terminal's width so they never wrap); elsewhere (a log, a pipe), one plain line
 * per change, at most every `minIntervalMs`.
 */
import type { ListView } from '../pipeline/list-view.js';
import { progressLine, progressLines, RATE_WINDOW_MS, shouldPrint, type Printed, type ProgressSample } from './progress.js';
import { fitWidth } from './text-format.js';

export interface ProgressDisplayOptions {
  /** Redraw in place (a terminal) or print plain lines. Default: whether `out` is a TTY. */
  live?: boolean;
  /** Off a terminal: at most one line this often (a new phase is printed at once). Default 5 s. */
  minIntervalMs?: number;
  now?: () => number;
}

export class ProgressDisplay {
  private readonly live: boolean;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private samples: ProgressSample[] = [];
  /** Lines on the screen (live) and what they said. */
  private drawn: string[] = [];
  private printed: Printed | null = null;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    opts: ProgressDisplayOptions = {},
  ) {
    this.live = opts.live ?? out.isTTY === true;
    this.minIntervalMs = opts.minIntervalMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  /** Show the list as it is now. */
  update(v: ListView): void {
    const now = this.now();
    this.samples.push({ at: now, verified: v.verified });
    // Keep one sample older than the rate window, so the window stays full.
    while (this.samples.length > 2 && this.samples[1]!.at < now - RATE_WINDOW_MS) this.samples.shift();
    if (this.live) this.redraw(progressLines(v, this.samples, { now }).map((l) => fitWidth(l, (this.out.columns ?? 0) - 1)));
    else this.print(v, now);
  }

  private redraw(lines: string[]): void {
    if (lines.length === this.drawn.length && lines.every((l, i) => l === this.drawn[i])) return;
    // Up to the first line drawn, clear to the end of the screen, draw again.
    const up = this.drawn.length > 0 ? `\x1b[${this.drawn.length}A\x1b[J` : '';
    this.out.write(`${up}${lines.join('\n')}\n`);
    this.drawn = lines;
  }

  private print(v: ListView, now: number): void {
    const { line, key } = progressLine(v, this.samples, { now });
    if (!shouldPrint(this.printed, { key, state: v.state }, now, this.minIntervalMs)) return;
    this.out.write(`${line}\n`);
    this.printed = { key, state: v.state, at: now };
  }
}
