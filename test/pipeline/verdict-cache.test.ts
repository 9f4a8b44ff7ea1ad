/**
 * The fleet-wide verdict cache across lists, through the real pipeline (in-process workers, real Redis,
 * the simulated world): a list whose addresses were verified recently costs no SMTP traffic; `maxAge: 0`
 * probes everything; a verdict older than its class allows (or than the list's `maxAge`) is probed again;
 * unknown verdicts are never kept. report.csv says when each verdict was verified (`verified_at`),
 * summary.json how many the cache answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdict } from '../../src/verdict.js';
import type { VerdictCache } from '../../src/verdict-cache/index.js';
import { emailCsv, PipelineFixture, type CleanedList } from './pipeline-fixture.js';

const DAY = 86_400_000;
const fx = new PipelineFixture();
let cache: VerdictCache;

beforeAll(async () => {
  await fx.start(
    {
      domains: Object.fromEntries(['a.test', 'catch.test', 'blocked.test', 'grey.test'].map((d) => [d, { mx: [{ host: `mx.${d}`, preference: 10 }] }])),
      hosts: {
        'mx.a.test': { mailboxes: ['ann', 'carl', 'dora'], disabled: ['dis'] },
        'mx.catch.test': { catchAll: true },
        'mx.blocked.test': { mailboxes: ['ann'], dnsblClients: true },
        'mx.grey.test': { mailboxes: ['ann'], greylistSeconds: 3600 },
      },
    },
    { LISTWASH_GREYLIST_RETRY_DELAYS: '1', LISTWASH_VERDICT_CACHE_MAX_AGE: 'accepted=30d,mailbox_not_found=30d,mailbox_disabled=30d,catch_all=7d' },
  );
  cache = fx.svc.verdictCache!;
});

afterAll(() => fx.stop());

/** `[email, status/reason, verified_at]` of every row. */
function verdicts(list: CleanedList): [string, string, string][] {
  return list.rows.map((r) => [r.email!, `${r.status}/${r.reason}`, r.verified_at!]);
}

function cacheSummary(list: CleanedList): unknown {
  return list.summary.verdictCache;
}

describe('the verdict cache across lists', () => {
  const known = ['ann@a.test', 'bob@a.test', 'dis@a.test', 'x@catch.test'];

  it('answers a second list with the same addresses without opening any SMTP connection, with the first verification time', async () => {
    const first = await fx.clean('first', emailCsv(known));
    expect(verdicts(first).map(([e, v]) => [e, v])).toEqual([
      ['ann@a.test', 'deliverable/accepted'],
      ['bob@a.test', 'undeliverable/mailbox_not_found'],
      ['dis@a.test', 'undeliverable/mailbox_disabled'],
      ['x@catch.test', 'risky/catch_all'],
    ]);
    for (const [, , at] of verdicts(first)) expect(Date.parse(at)).toBeGreaterThan(Date.now() - 60_000);
    expect(cacheSummary(first)).toEqual({ hits: 0, lookups: 4, maxAge: null });

    const before = fx.connections();
    const second = await fx.clean('second', emailCsv([...known, 'ann@A.Test', 'not an address']));
    expect(fx.connections()).toBe(before);
    expect(verdicts(second)).toEqual([...verdicts(first), ['ann@A.Test', 'deliverable/accepted', verdicts(first)[0]![2]], ['not an address', 'undeliverable/invalid_syntax', '']]);
    expect(second.rows.map((r) => r.smtp_reply)).toEqual([...first.rows.map((r) => r.smtp_reply), first.rows[0]!.smtp_reply, expect.any(String)]);
    expect(cacheSummary(second)).toEqual({ hits: 4, lookups: 4, maxAge: null });
    expect(second.summary.byReason).toEqual({ accepted: 2, mailbox_not_found: 1, mailbox_disabled: 1, catch_all: 1, invalid_syntax: 1 });
    expect(second.summary.duplicates).toBe(1);
  });

  it('probes every address again for a list with maxAge 0, and keeps the newer verdicts', async () => {
    await fx.clean('seed', emailCsv(known));
    const first = await cache.lookup(known, Date.now());
    expect(first.size).toBe(known.length);
    const before = fx.connections();
    const again = await fx.clean('max-age-0', emailCsv(known), 30_000, { maxAge: 0 });
    expect(fx.connections()).toBeGreaterThan(before);
    expect(cacheSummary(again)).toEqual({ hits: 0, lookups: 0, maxAge: 0 });
    for (const [email, , at] of verdicts(again)) expect(Date.parse(at)).toBeGreaterThan(Number(first.get(email)!.split(' ')[0]));
    const now = await cache.lookup(known, Date.now());
    for (const [email, , at] of verdicts(again)) expect(Number(now.get(email)!.split(' ')[0])).toBe(Date.parse(at));
  });

  it('does not use a verdict older than its class allows: an 8-day-old catch_all is probed again, an 8-day-old accepted is not', async () => {
    const eightDaysAgo = Date.now() - 8 * DAY;
    await cache.store([
      { address: 'old@catch.test', verdict: verdict('catch_all', { mxHost: 'mx.catch.test', smtpCode: 250, smtpReply: '250 old', catchAll: true }), verifiedAt: eightDaysAgo },
      { address: 'carl@a.test', verdict: verdict('accepted', { mxHost: 'mx.a.test', smtpCode: 250, smtpReply: '250 old', catchAll: false }), verifiedAt: eightDaysAgo },
    ]);
    const catchBefore = fx.connections(['mx.catch.test']);
    const aBefore = fx.connections(['mx.a.test']);
    const list = await fx.clean('old-entries', emailCsv(['old@catch.test', 'carl@a.test']));
    expect(fx.connections(['mx.catch.test'])).toBeGreaterThan(catchBefore);
    expect(fx.connections(['mx.a.test'])).toBe(aBefore);
    const [oldRow, carlRow] = verdicts(list);
    expect(oldRow![1]).toBe('risky/catch_all');
    expect(Date.parse(oldRow![2])).toBeGreaterThan(Date.now() - 60_000);
    expect(list.rows[0]!.smtp_reply).not.toBe('250 old');
    expect(carlRow).toEqual(['carl@a.test', 'deliverable/accepted', new Date(eightDaysAgo).toISOString()]);
    expect(cacheSummary(list)).toEqual({ hits: 1, lookups: 2, maxAge: null });
  });

  it('does not use a verdict older than the list’s maxAge', async () => {
    await cache.store([{ address: 'dora@a.test', verdict: verdict('accepted', { mxHost: 'mx.a.test', smtpCode: 250, smtpReply: '250 old', catchAll: false }), verifiedAt: Date.now() - 2 * 3600_000 }]);
    const before = fx.connections(['mx.a.test']);
    const list = await fx.clean('list-max-age', emailCsv(['dora@a.test']), 30_000, { maxAge: 3600 });
    expect(fx.connections(['mx.a.test'])).toBeGreaterThan(before);
    expect(list.rows[0]!.smtp_reply).not.toBe('250 old');
    expect(cacheSummary(list)).toEqual({ hits: 0, lookups: 1, maxAge: 3600 });
  });

  it('never keeps unknown verdicts: a second list probes them again', async () => {
    const unknown = ['ann@blocked.test', 'ann@grey.test'];
    const first = await fx.clean('unknown-1', emailCsv(unknown));
    expect(verdicts(first).map(([e, v]) => [e, v])).toEqual([
      ['ann@blocked.test', 'unknown/blocked'],
      ['ann@grey.test', 'unknown/greylisted'],
    ]);
    // An unknown verdict still says when it was found.
    for (const [, , at] of verdicts(first)) expect(Date.parse(at)).toBeGreaterThan(Date.now() - 60_000);
    expect((await cache.lookup(unknown, Date.now())).size).toBe(0);
    const grey = fx.connections(['mx.grey.test']);
    const second = await fx.clean('unknown-2', emailCsv(unknown));
    // (The blocked host is not contacted again either way: the throttle's circuit keeps its refusal.)
    expect(fx.connections(['mx.grey.test'])).toBeGreaterThan(grey);
    expect(cacheSummary(second)).toEqual({ hits: 0, lookups: 2, maxAge: null });
    expect(verdicts(second).map(([e, v]) => [e, v])).toEqual(verdicts(first).map(([e, v]) => [e, v]));
  });
});
