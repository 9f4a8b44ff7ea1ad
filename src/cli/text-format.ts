/** Formatting of numbers, times and durations for people (the command line's output). Pure. */

/** How clock times are shown: the machine's local time (the default) or UTC (tests, logs). */
export interface TimeFormat {
  /** `14:05` */
  clock(ms: number): string;
  /** `2026-03-01 14:05:09` */
  dateTime(ms: number): string;
}

const pad = (n: number) => String(n).padStart(2, '0');

function timeFormat(parts: (d: Date) => [number, number, number, number, number, number]): TimeFormat {
  return {
    clock: (ms) => {
      const [, , , h, m] = parts(new Date(ms));
      return `${pad(h)}:${pad(m)}`;
    },
    dateTime: (ms) => {
      const [y, mo, d, h, m, s] = parts(new Date(ms));
      return `${y}-${pad(mo + 1)}-${pad(d)} ${pad(h)}:${pad(m)}:${pad(s)}`;
    },
  };
}

export const LOCAL_TIME: TimeFormat = timeFormat((d) => [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]);
export const UTC_TIME: TimeFormat = timeFormat((d) => [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]);

/** Seconds for people: `0.4s`, `12s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function humanDuration(sec: number): string {
  const s = Math.max(0, sec);
  if (s < 10) return `${Math.round(s * 10) / 10}s`;
  const whole = Math.round(s);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${pad(whole % 60)}s`;
  if (whole < 86400) return `${Math.floor(whole / 3600)}h ${pad(Math.floor((whole % 3600) / 60))}m`;
  return `${Math.floor(whole / 86400)}d ${Math.floor((whole % 86400) / 3600)}h`;
}

/** A percentage with at most one decimal: `42.5%`, `100%`. */
export function percentText(p: number): string {
  return `${Math.round(p * 10) / 10}%`;
}

/**
 * `{ unknown: 1, deliverable: 3 }` → `deliverable 3, unknown 1`: the names of `order` first in that
 * order, then the others largest first (ties by name). Zero counts are left out.
 */
export function countsText(counts: Record<string, number>, order: readonly string[] = [], sep = ', '): string {
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => rank(a) - rank(b) || y - x || a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(sep);
}

/** Cut `line` to `width` columns (an ellipsis marks the cut); no cut for width ≤ 0. */
export function fitWidth(line: string, width: number): string {
  if (width <= 0 || line.length <= width) return line;
  return width === 1 ? '…' : `${line.slice(0, width - 1)}…`;
}
