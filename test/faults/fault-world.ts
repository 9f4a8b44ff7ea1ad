/**
 * The world and the lists of the process and Redis fault tests: many fast simulated MX hosts (no
 * artificial delays) covering the verdicts a real list gets — mailboxes that exist or not, catch-all,
 * disabled mailboxes, greylisting, a null MX, a domain that does not exist — and a list generator with
 * duplicates and invalid rows. The pace comes from listwash's own throttle (`FAULT_ENV`), so a list takes
 * long enough for faults to land mid-probing.
 */
import type { SimWorldSpec } from '../../src/world/index.js';

/** Plain domains: `u<even>` mailboxes exist, `u<odd>` do not. */
const PLAIN = Array.from({ length: 24 }, (_, i) => `p${String(i).padStart(2, '0')}.test`);
const CATCH_ALL = ['ca0.test', 'ca1.test'];
const DISABLED = ['off.test'];
const GREYLIST = ['grey.test'];
/** Domains whose addresses are probed (each has its own MX host). */
const PROBED = [...PLAIN, ...CATCH_ALL, ...DISABLED, ...GREYLIST];
/** Domains decided by DNS alone. */
const NO_SMTP = ['nullmx.test', 'gone.test'];

const mx = (d: string) => ({ mx: [{ host: `mx.${d}`, preference: 10 }] });

export function faultWorldSpec(perDomain: number): SimWorldSpec {
  const mailboxes = Array.from({ length: perDomain }, (_, i) => `u${i}`).filter((_, i) => i % 2 === 0);
  return {
    domains: {
      ...Object.fromEntries(PROBED.map((d) => [d, mx(d)])),
      'nullmx.test': { mx: 'null' },
      'gone.test': { nxdomain: true },
    },
    hosts: {
      ...Object.fromEntries(PLAIN.map((d) => [`mx.${d}`, { mailboxes }])),
      ...Object.fromEntries(CATCH_ALL.map((d) => [`mx.${d}`, { catchAll: true }])),
      ...Object.fromEntries(DISABLED.map((d) => [`mx.${d}`, { mailboxes, disabled: mailboxes.filter((_, i) => i % 2 === 0) }])),
      // Greylisting for 1 s: the first retry (3 s later with the test settings' schedule) gets through.
      ...Object.fromEntries(GREYLIST.map((d) => [`mx.${d}`, { mailboxes, greylistSeconds: 1 }])),
    },
  };
}

/**
 * A list of `rows` rows (`id,email,note`): unique addresses spread over the world's domains, about 2% duplicates
 * of earlier rows (in other spellings: upper case) and 1% invalid syntax. Deterministic.
 */
export function faultList(rows: number): { csv: string; emails: string[]; perDomain: number } {
  const domains = [...PROBED, ...NO_SMTP];
  const emails: string[] = [];
  let unique = 0;
  for (let i = 0; i < rows; i++) {
    if (i % 100 === 37) emails.push(`not-an-address-${i}`);
    else if (i % 50 === 11 && i > 100) emails.push(emails[i - 97]!.toUpperCase());
    else {
      const d = domains[unique % domains.length]!;
      emails.push(`u${Math.floor(unique / domains.length)}@${d}`);
      unique++;
    }
  }
  const csv = ['id,email,note', ...emails.map((e, i) => `${i + 1},${e},row ${i + 1}`)].join('\n') + '\n';
  return { csv, emails, perDomain: Math.ceil(unique / domains.length) };
}

/**
 * Settings of every process of a fault test: batches of 50 addresses paced at 40 RCPT/s and 2 sessions per host by
 * the fleet-wide throttle (a batch takes more than 1 s: a SIGKILL lands in the middle of several), short locks and leases
 * so a dead worker's batches and session slots come back within seconds, no verdict cache (every run probes), no
 * doctor at start.
 */
export const FAULT_ENV: Record<string, string> = {
  LISTWASH_BATCH_SIZE: '50',
  LISTWASH_MX_RCPT_PER_SECOND: '40',
  LISTWASH_MX_MAX_CONNECTIONS: '2',
  LISTWASH_MX_LEASE_MS: '3000',
  LISTWASH_LOCK_DURATION_MS: '3000',
  LISTWASH_STALLED_INTERVAL_MS: '1000',
  LISTWASH_VERDICT_CACHE_MAX_ENTRIES: '0',
  LISTWASH_DOCTOR_AT_START: 'false',
};

/** status/reason per input row, in input order, from report.csv's rows. */
export function verdictsOf(rows: readonly Record<string, string>[]): string[] {
  return rows.map((r) => `${r.id} ${r.email} ${r.status}/${r.reason}`);
}
