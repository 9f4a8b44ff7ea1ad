/** Accuracy per category for bench:peers: how many answers of a tool equal the world's truth. */
import type { Reason } from '../../src/verdict.js';
import type { HostSnapshot } from './world-protocol.js';
import { CATEGORIES, type Category } from './peer-world.js';

/** One tool's answer for one address, already judged against the truth. */
export interface Judged {
  /** The reason (or, for the peer, the set of reasons) includes the truth. */
  reason: boolean;
  /** The status equals the truth's status. */
  status: boolean;
}

export interface Tally {
  n: number;
  reason: number;
  status: number;
}

export type Scores = Map<Category, Tally>;

/** Tally judged answers by category (every category present, in report order). */
export function score(addresses: readonly string[], category: ReadonlyMap<string, Category>, judged: readonly Judged[]): Scores {
  const out: Scores = new Map(CATEGORIES.map((c) => [c, { n: 0, reason: 0, status: 0 }]));
  addresses.forEach((a, i) => {
    const t = out.get(category.get(a) as Category)!;
    const j = judged[i]!;
    t.n++;
    if (j.reason) t.reason++;
    if (j.status) t.status++;
  });
  return out;
}

/** The sum over all categories. */
export function total(s: Scores): Tally {
  const t: Tally = { n: 0, reason: 0, status: 0 };
  for (const v of s.values()) {
    t.n += v.n;
    t.reason += v.reason;
    t.status += v.status;
  }
  return t;
}

/** Categories where `a` is less accurate than `b` (by reason or by status). */
export function worseCategories(a: Scores, b: Scores): Category[] {
  return CATEGORIES.filter((c) => {
    const x = a.get(c)!;
    const y = b.get(c)!;
    return x.reason < y.reason || x.status < y.status;
  });
}

/** The truth reasons of a category, e.g. `accepted, mailbox_not_found`. */
export function truthsOf(c: Category, addresses: readonly string[], category: ReadonlyMap<string, Category>, truth: ReadonlyMap<string, Reason>): string {
  const set = new Set<Reason>();
  for (const a of addresses) if (category.get(a) === c) set.add(truth.get(a)!);
  return [...set].join(', ');
}

/** What the hosts saw of one tool's run. */
export interface HostTotals {
  connections: number;
  peakConnections: number;
  rcpts: number;
  quits: number;
  data: number;
  /** Connections refused (421 over the connection limit, 554 while banned) + RCPTs refused over the rate. */
  refused: number;
  greylisted: number;
  /** The host with the most RCPTs, and their count. */
  busiest: { host: string; rcpts: number };
}

export function hostTotals(hosts: Record<string, HostSnapshot>): HostTotals {
  const t: HostTotals = { connections: 0, peakConnections: 0, rcpts: 0, quits: 0, data: 0, refused: 0, greylisted: 0, busiest: { host: '', rcpts: 0 } };
  for (const [name, h] of Object.entries(hosts)) {
    t.connections += h.connections;
    t.peakConnections = Math.max(t.peakConnections, h.peakConcurrentConnections);
    t.rcpts += h.rcptCount;
    t.quits += h.commands.QUIT ?? 0;
    t.data += h.dataCommands;
    t.refused += h.rateViolations + h.connectionLimitViolations + h.bannedConnections;
    t.greylisted += h.greylisted;
    if (h.rcptCount > t.busiest.rcpts) t.busiest = { host: name, rcpts: h.rcptCount };
  }
  return t;
}
