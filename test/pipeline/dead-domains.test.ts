/**
 * Batches of domains without any mail route — NXDOMAIN, a null MX, neither MX nor address records — end with
 * their DNS answer at once: one (cached) DNS question per domain, no SMTP, and no verdict-cache lookup (what
 * DNS says now beats a mailbox verdict from before the domain went away). Through the real pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdict } from '../../src/verdict.js';
import { emailCsv, PipelineFixture } from './pipeline-fixture.js';

const fx = new PipelineFixture();

beforeAll(async () => {
  await fx.start(
    {
      domains: {
        'live.test': { mx: [{ host: 'mx.live.test', preference: 10 }] },
        'gone.test': { nxdomain: true },
        'nullmx.test': { mx: 'null' },
        'nomail.test': { mx: 'none' },
      },
      hosts: { 'mx.live.test': { mailboxes: ['ann'] } },
    },
    { LISTWASH_BATCH_SIZE: '2', LISTWASH_VERDICT_CACHE_MAX_AGE: 'accepted=30d,mailbox_not_found=30d' },
  );
});

afterAll(() => fx.stop());

describe('domains without a mail route', () => {
  it('end every address with the DNS answer, one DNS question per domain, no SMTP and no verdict-cache lookup', async () => {
    // A verdict from before gone.test went away: DNS now says the domain does not exist.
    await fx.svc.verdictCache!.store([{ address: 'ann@gone.test', verdict: verdict('accepted', { mxHost: 'mx.gone.test', smtpCode: 250, smtpReply: '250 OK' }), verifiedAt: Date.now() - 60_000 }]);
    const gone = ['ann@gone.test', 'bob@gone.test', 'cy@gone.test', 'dee@gone.test', 'eve@gone.test'];
    const list = await fx.clean('dead', emailCsv(['ann@live.test', ...gone, 'x@nullmx.test', 'y@nomail.test', 'z@nomail.test']));

    expect(list.rows.map((r) => [r.email, `${r.status}/${r.reason}`, r.smtp_reply])).toEqual([
      ['ann@live.test', 'deliverable/accepted', expect.stringMatching(/^250/)],
      ...gone.map((a) => [a, 'undeliverable/no_domain', 'DNS: gone.test does not exist (NXDOMAIN)']),
      ['x@nullmx.test', 'undeliverable/no_mail_server', 'DNS: nullmx.test publishes a null MX (RFC 7505)'],
      ['y@nomail.test', 'undeliverable/no_mail_server', 'DNS: nomail.test has no MX and no A/AAAA record'],
      ['z@nomail.test', 'undeliverable/no_mail_server', 'DNS: nomail.test has no MX and no A/AAAA record'],
    ]);
    for (const r of list.rows) expect(Date.parse(r.verified_at!)).toBeGreaterThan(Date.now() - 60_000);
    // gone.test took 3 batches (batch size 2), nomail.test 1, nullmx.test 1, live.test 1 — one DNS question each
    expect(list.summary.batches).toBe(6);
    expect(fx.world.dns.queryCount('gone.test', 'MX')).toBe(1);
    // only the live domain's address was looked up in the verdict cache, and only its host was contacted
    expect(list.summary.verdictCache).toEqual({ hits: 0, lookups: 1, maxAge: null });
    expect(fx.connections()).toBe(fx.connections(['mx.live.test']));
    expect(fx.connections(['mx.live.test'])).toBeGreaterThan(0);
  });
});
