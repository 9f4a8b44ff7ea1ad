/**
 * What the fleet-wide verdict cache keeps and when a kept verdict may answer again. Pure.
 *
 * A verdict is kept by its class (its reason) for that class's maximum age (`LISTWASH_VERDICT_CACHE_MAX_AGE`,
 * e.g. `accepted=30d,catch_all=7d`); a class without one is never kept, and `unknown` verdicts
 * (greylisted, timeouts, blocks, …) never are, whatever the setting says: they say nothing lasting about
 * the mailbox. A list may ask for fresher verdicts than that (its `maxAge`; 0 probes everything).
 */
import { REASON_STATUS, type Reason } from '../verdict.js';

/** Reasons the probe stage can store: every answer about a mailbox or a domain that is not `unknown`. */
export const CACHEABLE_REASONS: readonly Reason[] = ['accepted', 'catch_all', 'mailbox_full', 'mailbox_not_found', 'mailbox_disabled', 'rejected', 'no_domain', 'no_mail_server'];

/** Maximum age in seconds per class; a class that is absent is never kept. */
export type MaxAges = ReadonlyMap<Reason, number>;

/** A duration or max-age list that cannot be read. The message says why. */
export class PolicyError extends Error {}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION_RE = /^(\d{1,9})\s*([smhdw]?)$/;

/** `30d`, `12h`, `90m`, `45s`, `2w`, or plain seconds (`3600`) → seconds. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim().toLowerCase());
  if (!m) throw new PolicyError(`not a duration (e.g. 30d, 12h, 90m, 3600): ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
}

/** Seconds as the largest whole unit of d, h, m: 2592000 → `30d`, 5400 → `90m`, 0 → `0`. */
export function formatDuration(sec: number): string {
  if (sec === 0) return '0';
  for (const unit of ['d', 'h', 'm'] as const) if (sec % UNIT_SECONDS[unit]! === 0) return `${sec / UNIT_SECONDS[unit]!}${unit}`;
  return `${sec}s`;
}

/**
 * The setting's entries (`reason=duration`) → max age per class. A class given `0` is not kept; an
 * `unknown` class, a flag-only class (`role_account`, `disposable`: applied to each list's rows, not
 * probed) or an unknown name is refused.
 */
export function parseMaxAges(entries: readonly string[]): MaxAges {
  const out = new Map<Reason, number>();
  for (const entry of entries) {
    const cut = entry.indexOf('=');
    if (cut < 1) throw new PolicyError(`expected reason=duration, got ${JSON.stringify(entry)}`);
    const reason = entry.slice(0, cut).trim() as Reason;
    if (!(reason in REASON_STATUS)) throw new PolicyError(`unknown verdict reason ${JSON.stringify(reason)}`);
    if (REASON_STATUS[reason] === 'unknown') throw new PolicyError(`${reason} is an unknown verdict: unknown verdicts are never cached`);
    if (!CACHEABLE_REASONS.includes(reason)) throw new PolicyError(`${reason} is not a probe result (it comes from the address's flags in each list), so it cannot be cached`);
    if (out.has(reason)) throw new PolicyError(`${reason} is given twice`);
    const sec = parseDuration(entry.slice(cut + 1));
    if (sec > 0) out.set(reason, sec);
  }
  return out;
}

/** The longest max age of any class (seconds), 0 when nothing is kept. */
export function longestMaxAge(maxAges: MaxAges): number {
  return Math.max(0, ...maxAges.values());
}

/** Whether a verdict of `reason` is kept at all. */
export function isKept(reason: Reason, maxAges: MaxAges): boolean {
  return REASON_STATUS[reason] !== 'unknown' && (maxAges.get(reason) ?? 0) > 0;
}

/**
 * Whether a kept verdict of `reason`, verified at `verifiedAt` (ms), may answer for a list now: younger
 * than its class's max age and than the list's `maxAgeSec` (when the list gives one).
 */
export function isFresh(reason: Reason, verifiedAt: number, now: number, maxAges: MaxAges, maxAgeSec?: number): boolean {
  if (!isKept(reason, maxAges)) return false;
  const limitSec = Math.min(maxAges.get(reason)!, maxAgeSec ?? Number.POSITIVE_INFINITY);
  return now - verifiedAt < limitSec * 1000;
}

/** The shard that keeps an address: FNV-1a (32 bits) of its UTF-16 units, modulo `shards`. */
export function shardOf(address: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
