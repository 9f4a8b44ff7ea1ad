import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { MemoryTtlCache } from '../../src/dns/cache.js';
import { catchAllProbeLocal, createVerifier, type AddressOutcome, type HostSignal, type ProbeGate } from '../../src/engine/index.js';
import { SimWorld } from '../../src/world/index.js';

let world: SimWorld;

const spec = {
  domains: {
    'acme.test': { mx: [{ host: 'mx.acme.test', preference: 10 }] },
    'catchall.test': { mx: [{ host: 'mx.catchall.test', preference: 10 }] },
    'grey.test': { mx: [{ host: 'mx.grey.test', preference: 10 }] },
    'limit.test': { mx: [{ host: 'mx.limit.test', preference: 10 }] },
    'backup.test': { mx: [{ host: 'mx1.backup.test', preference: 10 }, { host: 'mx2.backup.test', preference: 20 }] },
    'nullmx.test': { mx: 'null' as const },
    'gone.test': { nxdomain: true },
    'broken.test': { servfail: true },
    'implicit.test': { mx: 'none' as const, a: ['mail.implicit.test'] },
    'nomail.test': { mx: 'none' as const },
    'tls.test': { mx: [{ host: 'mx.tls.test', preference: 10 }] },
    'tarpit.test': { mx: [{ host: 'mx.tarpit.test', preference: 10 }] },
    'slowreply.test': { mx: [{ host: 'mx.slowreply.test', preference: 10 }] },
    'drop.test': { mx: [{ host: 'mx.drop.test', preference: 10 }] },
    'busy.test': { mx: [{ host: 'mx.busy.test', preference: 10 }] },
    'banned.test': { mx: [{ host: 'mx.banned.test', preference: 10 }] },
    'refused.test': { mx: [{ host: 'mx.refused.test', preference: 10 }] },
    'policy.test': { mx: [{ host: 'mx.policy.test', preference: 10 }] },
    'dnsbl.test': { mx: [{ host: 'mx.dnsbl.test', preference: 10 }] },
    'busyprimary.test': { mx: [{ host: 'mx1.busyprimary.test', preference: 10 }, { host: 'mx2.busyprimary.test', preference: 20 }] },
  },
  hosts: {
    'mx.acme.test': { mailboxes: ['alice', 'Bob', 'info'], full: ['frank'], disabled: ['grace'] },
    'mx.catchall.test': { catchAll: true, disabled: ['gone'] },
    'mx.grey.test': { mailboxes: ['dave'], greylistSeconds: 1 },
    'mx.limit.test': { mailboxes: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'], maxRcptPerTransaction: 3 },
    'mx1.backup.test': { refuse: true },
    'mx2.backup.test': { mailboxes: ['heidi'] },
    'mail.implicit.test': { mailboxes: ['ivan'] },
    'mx.tls.test': { mailboxes: ['oscar'], startTls: true },
    'mx.tarpit.test': { tarpit: true },
    'mx.slowreply.test': { mailboxes: ['sam'], tarpit: 3 },
    'mx.drop.test': { mailboxes: ['x'], dropAfterCommands: 3 },
    'mx.busy.test': { connectReply: '421 4.7.0 Too many connections, try again later' },
    'mx.banned.test': { connectReply: '554 5.7.1 Service unavailable; client host [127.0.0.1] blocked using zen.spamhaus.org' },
    'mx.refused.test': { refuse: true },
    'mx.policy.test': { mailboxes: ['pat'], mailFromReply: '550 5.7.1 Sender rejected by policy' },
    'mx1.busyprimary.test': { connectReply: '421 4.7.0 mx1.busyprimary.test Too busy, try later' },
    'mx2.busyprimary.test': { mailboxes: ['heidi'] },
    'mx.dnsbl.test': { mailboxes: ['x'], dnsblClients: true as const },
  },
};

function cfg(extra: Record<string, string> = {}): Config {
  return loadConfig({
    ...world.env(),
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: 'probe@listwash.test',
    LISTWASH_CONNECT_TIMEOUT_MS: '1000',
    LISTWASH_BANNER_TIMEOUT_MS: '500',
    LISTWASH_COMMAND_TIMEOUT_MS: '500',
    LISTWASH_DNS_TIMEOUT_MS: '300',
    ...extra,
  });
}

async function verify(domain: string, locals: string[], extra: Record<string, string> = {}, opts: Parameters<typeof createVerifier>[1] = {}): Promise<AddressOutcome[]> {
  const { verifier } = createVerifier(cfg(extra), opts);
  const r = await verifier.verify(domain, locals.map((l) => ({ address: `${l}@${domain}` })));
  return r.outcomes;
}

const reasons = (os: AddressOutcome[]) => os.map((o) => (o.kind === 'deferred' ? `deferred:${o.why}` : `${o.kind}:${o.verdict.reason}`));

beforeAll(async () => {
  world = await SimWorld.start(spec);
});
afterAll(async () => {
  await world?.stop();
});

describe('DomainVerifier against the simulated world', () => {
  it('classifies mailboxes: accepted, not found, full, disabled — one session, QUIT, never DATA', async () => {
    const host = world.host('mx.acme.test');
    host.resetStats();
    const out = await verify('acme.test', ['alice', 'Bob', 'nobody', 'frank', 'grace']);
    expect(reasons(out)).toEqual(['final:accepted', 'final:accepted', 'final:mailbox_not_found', 'final:mailbox_full', 'final:mailbox_disabled']);
    const first = out[0]!;
    expect(first.kind === 'final' && first.verdict.mxHost).toBe('mx.acme.test');
    expect(first.kind === 'final' && first.verdict.smtpCode).toBe(250);
    const nf = out[2]!;
    expect(nf.kind === 'final' && nf.verdict.enhancedCode).toBe('5.1.1');
    expect(host.stats.connections).toBe(1);
    expect(host.stats.commands.QUIT).toBe(1);
    expect(host.stats.commands.MAIL).toBe(1);
    expect(host.stats.rcptCount).toBe(6); // five addresses + the catch-all probe
    expect(host.stats.dataCommands).toBe(0);
  });

  it('detects a catch-all domain and marks accepted addresses risky/catch_all; a cached answer skips the probe', async () => {
    const host = world.host('mx.catchall.test');
    host.resetStats();
    const cache = new MemoryTtlCache();
    const out = await verify('catchall.test', ['anyone', 'gone'], {}, { cache });
    expect(reasons(out)).toEqual(['final:catch_all', 'final:mailbox_disabled']);
    expect(out[0]!.kind === 'final' && out[0]!.verdict.bounceRisk).toBe('medium');
    expect(host.stats.rcptCount).toBe(3);
    host.resetStats();
    const again = await verify('catchall.test', ['someone'], {}, { cache });
    expect(reasons(again)).toEqual(['final:catch_all']);
    expect(host.stats.rcptCount).toBe(1);
  });

  it('probes the catch-all address with a stable local part per domain (greylisting triplets repeat)', () => {
    expect(catchAllProbeLocal('a.test')).toBe(catchAllProbeLocal('a.test'));
    expect(catchAllProbeLocal('a.test')).not.toBe(catchAllProbeLocal('b.test'));
    expect(catchAllProbeLocal('a.test')).toMatch(/^x[0-9a-f]{15}$/);
  });

  it('returns greylisted answers as retries; the same triplet clears after the greylist period', async () => {
    const out = await verify('grey.test', ['dave', 'nobody']);
    expect(reasons(out)).toEqual(['retry:greylisted', 'retry:greylisted']);
    await new Promise((r) => setTimeout(r, 1100));
    const later = await verify('grey.test', ['dave', 'nobody']);
    expect(reasons(later)).toEqual(['final:accepted', 'final:mailbox_not_found']);
  });

  it('opens a new transaction on 452 4.5.3 too many recipients instead of calling mailboxes full', async () => {
    const host = world.host('mx.limit.test');
    host.resetStats();
    const locals = Array.from({ length: 10 }, (_, i) => `a${i}`);
    const out = await verify('limit.test', locals);
    expect(reasons(out)).toEqual(locals.map(() => 'final:accepted'));
    expect(host.stats.connections).toBe(1);
    expect(host.stats.commands.MAIL).toBeGreaterThanOrEqual(4);
    expect(host.stats.commands.RSET).toBeGreaterThanOrEqual(3);
  });

  it('uses at most ceil(n / rcpt-per-session) + 1 sessions', async () => {
    const host = world.host('mx.acme.test');
    host.resetStats();
    const locals = Array.from({ length: 10 }, (_, i) => `user${i}`);
    const out = await verify('acme.test', locals, { LISTWASH_RCPT_PER_SESSION: '4' });
    expect(out.every((o) => o.kind === 'final' && o.verdict.reason === 'mailbox_not_found')).toBe(true);
    expect(host.stats.connections).toBeLessThanOrEqual(Math.ceil(10 / 4) + 1);
    expect(host.stats.commands.QUIT).toBe(host.stats.connections);
  });

  it('falls through to the backup MX when the primary refuses connections', async () => {
    const out = await verify('backup.test', ['heidi', 'nobody']);
    expect(reasons(out)).toEqual(['final:accepted', 'final:mailbox_not_found']);
    expect(out[0]!.kind === 'final' && out[0]!.verdict.mxHost).toBe('mx2.backup.test');
  });

  it('handles DNS cases: null MX, NXDOMAIN, implicit MX, no mail server, SERVFAIL', async () => {
    expect(reasons(await verify('nullmx.test', ['a']))).toEqual(['final:no_mail_server']);
    expect(reasons(await verify('gone.test', ['a']))).toEqual(['final:no_domain']);
    expect(reasons(await verify('implicit.test', ['ivan', 'nobody']))).toEqual(['final:accepted', 'final:mailbox_not_found']);
    expect(reasons(await verify('nomail.test', ['a']))).toEqual(['final:no_mail_server']);
    expect(reasons(await verify('broken.test', ['a']))).toEqual(['retry:temporary_failure']);
  });

  it('upgrades with STARTTLS when offered (self-signed certificate accepted by default)', async () => {
    const host = world.host('mx.tls.test');
    host.resetStats();
    expect(reasons(await verify('tls.test', ['oscar', 'nobody']))).toEqual(['final:accepted', 'final:mailbox_not_found']);
    expect(host.stats.tlsSessions).toBe(1);
    host.resetStats();
    expect(reasons(await verify('tls.test', ['oscar'], { LISTWASH_STARTTLS: 'false' }))).toEqual(['final:accepted']);
    expect(host.stats.tlsSessions).toBe(0);
  });

  it('does not hang on a tarpit: no banner → timeout; replies stop mid-session → timeout', async () => {
    expect(reasons(await verify('tarpit.test', ['a']))).toEqual(['retry:timeout']);
    // This host answers 3 commands per connection, then goes silent: sam is answered in the second session.
    const out = await verify('slowreply.test', ['sam', 'other']);
    expect(reasons(out)).toEqual(['final:accepted', 'retry:timeout']);
  });

  it('re-sends addresses a dropped connection left unanswered; what never gets an answer is connection_failed, to be retried', async () => {
    const host = world.host('mx.drop.test');
    host.resetStats();
    // The host drops the connection at its 4th command: EHLO, MAIL, RCPT (catch-all probe) pass, RCPT x is cut.
    const out = await verify('drop.test', ['x', 'y']);
    expect(reasons(out)).toEqual(['final:accepted', 'retry:connection_failed']);
    expect(host.stats.connections).toBeLessThanOrEqual(3);
  });

  it('tells the gate about 421 (rate_limited) and 554 blocklist banners (blocked), retrying the addresses', async () => {
    const signals: [string, HostSignal][] = [];
    const gate: ProbeGate = {
      acquire: async (h) => ({ granted: true, group: h, release: async () => undefined }),
      report: async (h, s) => {
        signals.push([h, s]);
      },
    };
    const busy = await verify('busy.test', ['a'], {}, { gate });
    expect(busy[0]!.kind === 'retry' && busy[0]!.retry).toBe('rate_limited');
    const banned = await verify('banned.test', ['a'], {}, { gate });
    expect(banned[0]!.kind === 'retry' && banned[0]!.retry).toBe('blocked');
    expect(banned[0]!.kind === 'retry' && banned[0]!.verdict.reason).toBe('blocked');
    expect(signals).toEqual([
      ['mx.busy.test', 'rate_limited'],
      ['mx.banned.test', 'blocked'],
    ]);
  });

  it('goes on to the next MX when the primary greets with 421, and backs the primary off (rate_limited, never blocked)', async () => {
    const signals: [string, HostSignal][] = [];
    const gate: ProbeGate = {
      acquire: async (h) => ({ granted: true, group: h, release: async () => undefined }),
      report: async (h, s) => {
        signals.push([h, s]);
      },
    };
    const out = await verify('busyprimary.test', ['heidi', 'nobody'], {}, { gate });
    expect(reasons(out)).toEqual(['final:accepted', 'final:mailbox_not_found']);
    expect(out[0]!.kind === 'final' && out[0]!.verdict.mxHost).toBe('mx2.busyprimary.test');
    expect(signals).toEqual([
      ['mx1.busyprimary.test', 'rate_limited'],
      ['mx2.busyprimary.test', 'ok'],
    ]);
  });

  it('tries the next MX while the gate holds the primary in cooldown; with no other MX the addresses wait for it', async () => {
    const coolPrimary: ProbeGate = {
      acquire: async (h) => (h === 'mx1.busyprimary.test' ? { granted: false, retryInMs: 30_000, why: 'cooldown', group: h } : { granted: true, group: h, release: async () => undefined }),
      report: async () => undefined,
    };
    expect(reasons(await verify('busyprimary.test', ['heidi'], {}, { gate: coolPrimary }))).toEqual(['final:accepted']);
    const coolAll: ProbeGate = { acquire: async (h) => ({ granted: false, retryInMs: 30_000, why: 'cooldown', group: h }), report: async () => undefined };
    const out = await verify('busyprimary.test', ['heidi'], {}, { gate: coolAll });
    expect(out.map((o) => o.kind === 'deferred' && `${o.why}@${o.group}`)).toEqual(['cooldown@mx2.busyprimary.test']);
  });

  it('a DNSBL refusal at RCPT is permanent: every address — also those never sent — keeps the server\'s reply, and the gate is told to remember it', async () => {
    const reports: unknown[][] = [];
    const gate: ProbeGate = {
      acquire: async (h) => ({ granted: true, group: h, release: async () => undefined }),
      report: async (...args) => {
        reports.push(args);
      },
    };
    const cache = new MemoryTtlCache();
    const out = await verify('dnsbl.test', ['x', 'y', 'z'], { LISTWASH_RCPT_PER_SESSION: '2' }, { gate, cache });
    expect(reasons(out)).toEqual(['retry:blocked', 'retry:blocked', 'retry:blocked']);
    for (const o of out) {
      expect(o.kind === 'retry' && o.permanent).toBe(true);
      expect(o.kind === 'retry' && o.verdict.smtpCode).toBe(554);
      expect(o.kind === 'retry' && o.verdict.smtpReply).toMatch(/^554 5\.7\.1 Service unavailable; Client host \[[0-9.]+\] blocked using dnsbl\.sim\.test$/);
    }
    expect(reports).toEqual([['mx.dnsbl.test', 'blocked', { identity: 'default', refusal: { mxHost: 'mx.dnsbl.test', reply: (out[0] as { verdict: { smtpReply: string } }).verdict.smtpReply } }]]);
    // The catch-all probe was refused too: that says nothing about the domain, so nothing is cached.
    expect(await cache.get('catchall:dnsbl.test')).toBeNull();
    expect(world.host('mx.dnsbl.test').stats.connections).toBe(1);
  });

  it('addresses refused by a circuit that a permanent refusal opened carry that refusal', async () => {
    const refusal = { mxHost: 'mx.dnsbl.test', reply: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org' };
    const gate: ProbeGate = { acquire: async (h) => ({ granted: false, retryInMs: 300_000, why: 'open', group: h, refusal }), report: async () => undefined };
    const out = await verify('dnsbl.test', ['x'], {}, { gate });
    expect(out).toEqual([{ address: 'x@dnsbl.test', kind: 'deferred', retryInMs: 300_000, why: 'open', group: 'mx.dnsbl.test', refusal }]);
  });

  it('defers without any connection when the gate refuses a slot', async () => {
    const host = world.host('mx.acme.test');
    host.resetStats();
    const gate: ProbeGate = { acquire: async (h) => ({ granted: false, retryInMs: 700, why: 'busy', group: h }), report: async () => undefined };
    const out = await verify('acme.test', ['alice', 'bob'], {}, { gate });
    expect(out.map((o) => o.kind === 'deferred' && o.retryInMs)).toEqual([700, 700]);
    expect(host.stats.connections).toBe(0);
  });

  it('ends with connection_failed when every MX refuses, and a policy refusal at MAIL FROM is blocked', async () => {
    expect(reasons(await verify('refused.test', ['a']))).toEqual(['retry:connection_failed']);
    expect(reasons(await verify('policy.test', ['pat']))).toEqual(['retry:blocked']);
  });

  it('never contacts an MX outside LISTWASH_ALLOWED_TARGETS', async () => {
    const host = world.host('mx.acme.test');
    host.resetStats();
    const out = await verify('acme.test', ['alice'], { LISTWASH_ALLOWED_TARGETS: 'public' });
    expect(reasons(out)).toEqual(['final:connection_failed']);
    expect(out[0]!.kind === 'final' && out[0]!.verdict.smtpReply).toMatch(/LISTWASH_ALLOWED_TARGETS/);
    expect(host.stats.connections).toBe(0);
  });
});
