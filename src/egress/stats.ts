/**
 * Per-identity counters of probing, for summary.json's `egress` section. A probe run adds them to the
 * list's per-MX counters under the key `egress/<identity>` (an MX host or throttle group name never
 * contains `/`); the aggregate splits them out again.
 */

/** What one identity did in a verify call (or a whole list). */
export interface IdentityStats {
  /** Sessions tried (including ones that failed to connect). */
  sessions: number;
  /** RCPT TO commands sent. */
  rcpts: number;
  /** Refusals of this identity by a host: a refused greeting or a policy refusal (ban signs, DNSBL). */
  refusals: number;
  /** Times a host asked this identity to slow down (421 greeting, 4.7.x rate limits). */
  rateLimited: number;
  /** Sessions that could not leave through this identity (source address not bindable, SOCKS5 proxy down or refusing). */
  egressFailures: number;
}

export const EGRESS_STATS_PREFIX = 'egress/';

export function emptyIdentityStats(): IdentityStats {
  return { sessions: 0, rcpts: 0, refusals: 0, rateLimited: 0, egressFailures: 0 };
}

/** The counters of `identity` as the key they are stored under among the per-MX counters. */
export function egressStatsKey(identity: string): string {
  return `${EGRESS_STATS_PREFIX}${identity}`;
}

/** Split stored counters into the MX hosts' and the identities' (`egress/<name>` keys, every counter present). */
export function splitEgressStats(all: Record<string, Record<string, number>>): { mxHosts: Record<string, Record<string, number>>; egress: Record<string, Record<string, number>> } {
  const mxHosts: Record<string, Record<string, number>> = {};
  const egress: Record<string, Record<string, number>> = {};
  for (const [key, counters] of Object.entries(all)) {
    // Zero counters are not stored: every identity shows all of its counters.
    if (key.startsWith(EGRESS_STATS_PREFIX)) egress[key.slice(EGRESS_STATS_PREFIX.length)] = { ...emptyIdentityStats(), ...counters };
    else mxHosts[key] = counters;
  }
  return { mxHosts, egress };
}
