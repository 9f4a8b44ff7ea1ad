/**
 * Where a host's time went: its RCPT arrival times (as the host saw them) against the politeness
 * bound — the first RCPT's delay after submit, the spacing beyond 1/rate between RCPTs that followed
 * each other closely, the gaps (a session ending, the next one setting up, nobody sending), and the
 * tail from the last RCPT to the list's end. Also how close the RCPTs came to breaking the limit: the
 * shortest time any `rate + 1` consecutive RCPTs took (≥ 1000 ms: never more than `rate` in a
 * sliding second). Pure.
 */

export interface HostTimeline {
  rcpts: number;
  /** Submit → the first RCPT, ms. */
  firstDelayMs: number;
  /** First → last RCPT, ms. */
  spanMs: number;
  /** (rcpts − 1) ÷ rate: the span at exactly the allowed rate, ms. */
  idealSpanMs: number;
  /** Time lost to spacing: the sum over intervals up to `gapFactor` × 1/rate of (interval − 1/rate), ms. */
  spacingLossMs: number;
  /** Intervals longer than `gapFactor` × 1/rate, and the time they lost beyond 1/rate each, ms. */
  gaps: number;
  gapLossMs: number;
  longestGapMs: number;
  /** The last RCPT → the list done, ms. */
  tailMs: number;
  /** Shortest time any `rate + 1` consecutive RCPTs took (ms), Infinity when fewer; < 1000 ms is a violation. */
  tightestWindowMs: number;
  /** Median interval, ms. */
  medianIntervalMs: number;
}

/** A timeline of `ts` (epoch ms, any order) at `rate` RCPT/s, for a list submitted at `t0` and done at `t1` (epoch ms). */
export function hostTimeline(times: readonly number[], rate: number, t0: number, t1: number, gapFactor = 2): HostTimeline {
  const ts = [...times].sort((a, b) => a - b);
  const ideal = 1000 / rate;
  let spacingLossMs = 0;
  let gapLossMs = 0;
  let gaps = 0;
  let longestGapMs = 0;
  const intervals: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const d = (ts[i] as number) - (ts[i - 1] as number);
    intervals.push(d);
    if (d > gapFactor * ideal) {
      gaps++;
      gapLossMs += d - ideal;
      longestGapMs = Math.max(longestGapMs, d);
    } else {
      spacingLossMs += d - ideal;
    }
  }
  const k = Math.floor(rate);
  let tightestWindowMs = Infinity;
  for (let i = 0; i + k < ts.length; i++) tightestWindowMs = Math.min(tightestWindowMs, (ts[i + k] as number) - (ts[i] as number));
  intervals.sort((a, b) => a - b);
  const first = ts[0] ?? t0;
  const last = ts[ts.length - 1] ?? t0;
  return {
    rcpts: ts.length,
    firstDelayMs: first - t0,
    spanMs: last - first,
    idealSpanMs: Math.max(0, ts.length - 1) * ideal,
    spacingLossMs,
    gaps,
    gapLossMs,
    longestGapMs,
    tailMs: t1 - last,
    tightestWindowMs,
    medianIntervalMs: intervals[Math.floor(intervals.length / 2)] ?? 0,
  };
}
