/**
 * Batches of domains without any mail route — NXDOMAIN, a null MX, neither MX nor address records — end with
 * their DNS answer at once: one (cached) DNS question per domain, no SMTP, and no verdict-cache lookup (what
 * DNS says now beats a mailbox verdict from before the domain went away). The split asks DNS and ends them
 * itself: they never become probe jobs. Through the real pipeline.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { domainVerdictField, probedDomainField, type DomainRecord } from '../../src/pipeline/list-state.js';
import { runSplit } from '../../src/pipeline/split.js';
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
        'broken.test': { servfail: true },
      },
      hosts: { 'mx.live.test': { mailboxes: ['ann'] } },
    },
    { LISTWASH_BATCH_SIZE: '2', LISTWASH_VERDICT_CACHE_MAX_AGE: 'accepted=30d,mailbox_not_found=30d', LISTWASH_GREYLIST_RETRY_DELAYS: '1' },
  );
});

afterAll(() => fx.stop());

/** The domains of the probe jobs added from now on, one entry per job (the real queue still gets them). */
function probeJobDomains(): string[] {
  const domains: string[] = [];
  const addBulk = fx.svc.probeQueue.addBulk.bind(fx.svc.probeQueue);
  vi.spyOn(fx.svc.probeQueue, 'addBulk').mockImplementation(async (jobs) => {
    domains.push(...jobs.map((j) => j.data.domain));
    return addBulk(jobs);
  });
  return domains;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('domains without a mail route', () => {
  it('end every address with the DNS answer, one DNS question per domain, no SMTP and no verdict-cache lookup', async () => {
    // A verdict from before gone.test went away: DNS now says the domain does not exist.
    await fx.svc.verdictCache!.store([{ address: 'ann@gone.test', verdict: verdict('accepted', { mxHost: 'mx.gone.test', smtpCode: 250, smtpReply: '250 OK' }), verifiedAt: Date.now() - 60_000 }]);
    const gone = ['ann@gone.test', 'bob@gone.test', 'cy@gone.test', 'dee@gone.test', 'eve@gone.test'];
    const probed = probeJobDomains();
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
    // only the live domain's batch became a probe job
    expect(probed).toEqual(['live.test']);
    expect(fx.world.dns.queryCount('gone.test', 'MX')).toBe(1);
    // only the live domain's address was looked up in the verdict cache, and only its host was contacted
    expect(list.summary.verdictCache).toEqual({ hits: 0, lookups: 1, maxAge: null });
    expect(fx.connections()).toBe(fx.connections(['mx.live.test']));
    expect(fx.connections(['mx.live.test'])).toBeGreaterThan(0);
  });

  it('a list of dead domains only creates no probe job and completes with every verdict counted', async () => {
    const probed = probeJobDomains();
    const connectionsBefore = fx.connections();
    const addresses = ['a@gone.test', 'b@gone.test', 'c@gone.test', 'x@nullmx.test', 'y@nomail.test'];
    const list = await fx.clean('all-dead', emailCsv([...addresses, 'not-an-address', 'a@gone.test']));

    expect(probed).toEqual([]);
    expect(list.rows.map((r) => `${r.email} ${r.status}/${r.reason}`)).toEqual([
      'a@gone.test undeliverable/no_domain',
      'b@gone.test undeliverable/no_domain',
      'c@gone.test undeliverable/no_domain',
      'x@nullmx.test undeliverable/no_mail_server',
      'y@nomail.test undeliverable/no_mail_server',
      'not-an-address undeliverable/invalid_syntax',
      'a@gone.test undeliverable/no_domain',
    ]);
    // gone.test 2 batches, nullmx.test 1, nomail.test 1: all done by the split itself
    expect(list.summary.batches).toBe(4);
    expect(list.summary.byReason).toEqual({ no_domain: 4, no_mail_server: 2, invalid_syntax: 1 });
    expect(fx.connections()).toBe(connectionsBefore);
  });

  it('are each asked about once, while the file is read, also when more domains than questions in flight (256) turn up at once', async () => {
    const domains = Array.from({ length: 300 }, (_, i) => `d${i}.many-gone.test`);
    const probed = probeJobDomains();
    const list = await fx.clean('many-dead', emailCsv([...domains.map((d) => `a@${d}`), ...domains.map((d) => `b@${d}`)]));

    expect(probed).toEqual([]);
    expect(list.rows.every((r) => r.reason === 'no_domain')).toBe(true);
    expect(list.rows).toHaveLength(600);
    expect(domains.map((d) => fx.world.dns.queryCount(d, 'MX'))).toEqual(domains.map(() => 1));
  });

  it('keep one verdict per dead domain in Redis, not one per address; an address with a verdict of its own keeps it', async () => {
    const listId = `dead-once-${process.pid}-${Date.now()}`;
    const input = join(tmpdir(), `${listId}.csv`);
    const gone = Array.from({ length: 7 }, (_, i) => `u${i}@gone.test`);
    await writeFile(input, emailCsv([...gone, 'ann@live.test']));
    const state = fx.svc.state(listId);
    await state.create({ input, output: join(tmpdir(), `${listId}-out/`) });
    probeJobDomains();
    await runSplit({ version: 1, listId, input, output: join(tmpdir(), `${listId}-out/`) }, { cfg: fx.cfg, state, probeQueue: fx.svc.probeQueue, aggregateQueue: fx.svc.aggregateQueue, deadEnd: async (d) => (d === 'gone.test' ? verdict('no_domain', { smtpReply: 'DNS: gone.test does not exist (NXDOMAIN)' }) : null) }, { batchSize: 2 });
    // 4 batches of gone.test, one field for all of them
    const stored = await state.results([...gone, domainVerdictField('gone.test')]);
    expect(stored.slice(0, gone.length)).toEqual(gone.map(() => null));
    expect(stored[gone.length]).toMatch(/"no_domain"/);

    // read back through the domain: a domain dead in every batch is never probed, so its addresses are not looked up one by one
    const probedNow = [{ normalized: 'u0@gone.test', domain: 'gone.test' }, { normalized: 'u1@gone.test', domain: 'gone.test' }, { normalized: 'zed@live.test', domain: 'live.test' }];
    expect(await state.verdictsOf(probedNow, new Map())).toEqual([stored[gone.length], stored[gone.length], null]);
    // a batch of the domain probed (marked first, as the split does), while DNS failed: the address recorded on its own wins
    await state.markProbed(['gone.test']);
    await state.recordRun({ batchId: `${listId}.own`, progress: { final: 1, byStatus: {}, byReason: {} }, results: new Map([['u0@gone.test', '["temporary_failure"]']]), mx: {} });
    // (live.test was marked by the split: its batch went to the probe queue)
    const domains = new Map<string, DomainRecord>();
    expect(await state.verdictsOf(probedNow, domains)).toEqual(['["temporary_failure"]', stored[gone.length], null]);
    expect([...domains]).toEqual([
      ['gone.test', { verdict: stored[gone.length], probed: true }],
      ['live.test', { verdict: null, probed: true }],
    ]);
    await state.destroy();
  });

  it('mark a domain as probed before its first probe job is added, and never a domain dead in every batch', async () => {
    const marksAtAdd: string[] = [];
    const addBulk = fx.svc.probeQueue.addBulk.bind(fx.svc.probeQueue);
    vi.spyOn(fx.svc.probeQueue, 'addBulk').mockImplementation(async (jobs) => {
      const state = fx.svc.state(jobs[0]!.data.listId);
      const marks = await state.results(['live.test', 'gone.test'].map(probedDomainField));
      marksAtAdd.push(...marks.map((m, i) => `${['live.test', 'gone.test'][i]}=${m}`));
      return addBulk(jobs);
    });
    const list = await fx.clean('marked', emailCsv(['ann@live.test', 'a@gone.test', 'b@gone.test']));

    expect(marksAtAdd).toEqual(['live.test=1', 'gone.test=null']);
    expect(list.rows.map((r) => `${r.email} ${r.status}/${r.reason}`)).toEqual(['ann@live.test deliverable/accepted', 'a@gone.test undeliverable/no_domain', 'b@gone.test undeliverable/no_domain']);
  });

  it('a mark for a list whose state is gone writes nothing and says the state is lost', async () => {
    const state = fx.svc.state(`mark-lost-${process.pid}-${Date.now()}`);
    const err = await state.markProbed(['live.test']).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ListwashError);
    expect((err as ListwashError).code).toBe(ErrorCodes.LIST_STATE_LOST);
    expect(await state.results([probedDomainField('live.test')])).toEqual([null]);
  });

  it('a domain whose DNS fails (SERVFAIL) is not dead: its batch is probed, and retried', async () => {
    const probed = probeJobDomains();
    const list = await fx.clean('servfail', emailCsv(['a@broken.test', 'b@gone.test']));

    expect(probed).toEqual(['broken.test']);
    expect(list.rows.map((r) => `${r.email} ${r.status}/${r.reason}`)).toEqual(['a@broken.test unknown/temporary_failure', 'b@gone.test undeliverable/no_domain']);
    expect(list.summary.batches).toBe(2);
  });

  it('a list cancelled while the split ends dead batches gets none of their verdicts, and the split stops', async () => {
    const listId = `dead-cancel-${process.pid}-${Date.now()}`;
    const input = join(tmpdir(), `${listId}.csv`);
    await writeFile(input, emailCsv(['a@gone.test', 'b@gone.test', 'c@gone.test']));
    const state = fx.svc.state(listId);
    await state.create({ input, output: join(tmpdir(), `${listId}-out/`) });
    const probed = probeJobDomains();
    const gone = verdict('no_domain', { smtpReply: 'DNS: gone.test does not exist (NXDOMAIN)' });
    const split = runSplit(
      { version: 1, listId, input, output: join(tmpdir(), `${listId}-out/`) },
      {
        cfg: fx.cfg,
        state,
        probeQueue: fx.svc.probeQueue,
        aggregateQueue: fx.svc.aggregateQueue,
        // the list is cancelled while DNS answers
        deadEnd: async () => {
          await state.transition('cancelled', ['splitting']);
          return gone;
        },
      },
      { batchSize: 2 },
    );

    const err = await split.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ListwashError);
    expect((err as ListwashError).code).toBe(ErrorCodes.LIST_ENDED);
    expect(await state.results(['a@gone.test', 'b@gone.test', 'c@gone.test', domainVerdictField('gone.test')])).toEqual([null, null, null, null]);
    expect(await state.doneCount()).toBe(0);
    expect(probed).toEqual([]);
    await state.destroy();
  });
});
