/**
 * Egress identities in the engine, against the simulated world: identities on loopback source
 * addresses (127.0.0.2, 127.0.0.3 — all of 127.0.0.0/8 is local) and one through a SOCKS5 server this
 * test starts on loopback. The world's hosts record which client address each greeting and RCPT came from.
 */
import socks from 'socksv5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { EgressPool, type EgressIdentity } from '../../src/egress/index.js';
import { createVerifier, type AddressOutcome, type GateRefusal, type ProbeGate, type ReportDetail, type VerifyRequest } from '../../src/engine/index.js';
import { SimWorld, dnsblReply } from '../../src/world/index.js';

const A: EgressIdentity = { name: 'a', bind: '127.0.0.2', helo: 'a.probe.test', mailFrom: 'probe@a.probe.test' };
const B: EgressIdentity = { name: 'b', bind: '127.0.0.3', helo: 'b.probe.test', mailFrom: 'probe@b.probe.test' };

let world: SimWorld;

beforeAll(async () => {
  world = await SimWorld.start({
    domains: {
      'plain.test': { mx: [{ host: 'mx.plain.test', preference: 10 }] },
      'picky.test': { mx: [{ host: 'mx.picky.test', preference: 10 }] },
      'strict.test': { mx: [{ host: 'mx.strict.test', preference: 10 }] },
      'grey.test': { mx: [{ host: 'mx.grey.test', preference: 10 }] },
    },
    hosts: {
      'mx.plain.test': { mailboxes: ['alice', 'bob'] },
      // A DNSBL lists identity a's address only.
      'mx.picky.test': { mailboxes: ['alice'], dnsblClients: [A.bind!] },
      'mx.strict.test': { mailboxes: ['alice'], dnsblClients: true },
      'mx.grey.test': { mailboxes: ['alice'], greylistSeconds: 1 },
    },
  });
});
afterAll(async () => {
  await world?.stop();
});

function verifier(identities: EgressIdentity[], gate?: ProbeGate) {
  const cfg = loadConfig({ ...world.env(), LISTWASH_CONNECT_TIMEOUT_MS: '1000', LISTWASH_BANNER_TIMEOUT_MS: '1000', LISTWASH_COMMAND_TIMEOUT_MS: '1000', LISTWASH_DNS_TIMEOUT_MS: '300' });
  return createVerifier(cfg, { egress: new EgressPool(identities), ...(gate ? { gate } : {}) }).verifier;
}

const requests = (domain: string, locals: string[], identity?: string): VerifyRequest[] => locals.map((l) => ({ address: `${l}@${domain}`, ...(identity ? { identity } : {}) }));
const reasons = (os: AddressOutcome[]) => os.map((o) => (o.kind === 'deferred' ? `deferred:${o.why}` : `${o.kind}:${o.verdict.reason}@${o.identity ?? '-'}`));
const client = (host: string, ip: string) => world.host(host).stats.clients.get(ip);

/** A gate that grants everything and records the reports (host, signal, detail). */
function recordingGate(reports: [string, string, ReportDetail | undefined][], refuse: (host: string, identity?: string) => GateRefusal | null = () => null): ProbeGate {
  return {
    acquire: async (h, identity) => refuse(h, identity) ?? { granted: true, group: h, release: async () => undefined },
    report: async (h, s, d) => {
      reports.push([h, s, d]);
    },
  };
}

describe('egress identities', () => {
  it('each session leaves from its identity\'s source address with its HELO name; verify calls take turns', async () => {
    world.resetStats();
    const v = verifier([A, B]);
    expect(reasons((await v.verify('plain.test', requests('plain.test', ['alice']))).outcomes)).toEqual(['final:accepted@a']);
    const second = await v.verify('plain.test', requests('plain.test', ['bob', 'nobody']));
    expect(reasons(second.outcomes)).toEqual(['final:accepted@b', 'final:mailbox_not_found@b']);
    expect(client('mx.plain.test', A.bind!)?.greetings).toEqual(['a.probe.test']);
    expect(client('mx.plain.test', B.bind!)?.greetings).toEqual(['b.probe.test']);
    expect(client('mx.plain.test', B.bind!)?.recipients).toEqual(expect.arrayContaining(['bob@plain.test', 'nobody@plain.test']));
    // Two addresses and the catch-all probe (no shared cache here: every call probes).
    expect(second.identities).toEqual({ b: { sessions: 1, rcpts: 3, refusals: 0, rateLimited: 0, egressFailures: 0 } });
  });

  it('a host that refuses one identity (DNSBL) is finished by another in the same call; the ban is reported for that identity only', async () => {
    world.resetStats();
    const reports: [string, string, ReportDetail | undefined][] = [];
    const r = await verifier([A, B], recordingGate(reports)).verify('picky.test', requests('picky.test', ['alice', 'nobody']));
    expect(reasons(r.outcomes)).toEqual(['final:accepted@b', 'final:mailbox_not_found@b']);
    expect(reports).toEqual([
      ['mx.picky.test', 'blocked', { identity: 'a', refusal: { mxHost: 'mx.picky.test', reply: dnsblReply(A.bind!) } }],
      ['mx.picky.test', 'ok', { identity: 'b' }],
    ]);
    expect(r.identities.a).toMatchObject({ sessions: 1, refusals: 1 });
    expect(r.identities.b).toMatchObject({ sessions: 1, refusals: 0 });
    expect(r.catchAll).toBe(false); // the probe was answered by b's session
  });

  it('an identity whose circuit is open at a host leaves it to the others', async () => {
    world.resetStats();
    const reports: [string, string, ReportDetail | undefined][] = [];
    const gate = recordingGate(reports, (h, id) => (id === 'a' ? { granted: false, retryInMs: 300_000, why: 'open', group: `egress:a:${h}` } : null));
    const r = await verifier([A, B], gate).verify('plain.test', requests('plain.test', ['alice']));
    expect(reasons(r.outcomes)).toEqual(['final:accepted@b']);
    expect(client('mx.plain.test', A.bind!)).toBeUndefined();
  });

  it('when every identity is refused for good, the addresses end blocked with the server\'s reply (permanent)', async () => {
    world.resetStats();
    const r = await verifier([A, B]).verify('strict.test', requests('strict.test', ['alice']));
    const o = r.outcomes[0]!;
    expect(o.kind === 'retry' && [o.retry, o.permanent, o.verdict.smtpCode]).toEqual(['blocked', true, 554]);
    expect(o.kind === 'retry' && o.verdict.smtpReply).toMatch(/blocked using dnsbl\.sim\.test$/);
    expect(client('mx.strict.test', A.bind!)?.connections).toBe(1);
    expect(client('mx.strict.test', B.bind!)?.connections).toBe(1);
  });

  it('greylisted addresses, and the catch-all probe, are retried from the identity that was greylisted', async () => {
    world.resetStats();
    const v = verifier([A, B]);
    const first = await v.verify('grey.test', requests('grey.test', ['alice', 'nobody']));
    expect(reasons(first.outcomes)).toEqual(['retry:greylisted@a', 'retry:greylisted@a']);
    expect(first.catchAllIdentity).toBe('a');
    await new Promise((r) => setTimeout(r, 1100));
    // This call's turn would start at b: the pins keep addresses and probe on a.
    const again = await v.verify('grey.test', requests('grey.test', ['alice', 'nobody'], 'a'), undefined, { catchAllIdentity: 'a' });
    expect(reasons(again.outcomes)).toEqual(['final:accepted@a', 'final:mailbox_not_found@a']);
    expect(again.catchAll).toBe(false);
    expect(again.catchAllIdentity).toBeUndefined();
    expect(client('mx.grey.test', B.bind!)).toBeUndefined();
    expect(client('mx.grey.test', A.bind!)?.recipients.filter((r) => r === 'alice@grey.test')).toHaveLength(2);
  });

  it('a pinned address waits for its busy identity rather than moving (greylisting would start over)', async () => {
    const gate = recordingGate([], (h, id) => (id === 'a' ? { granted: false, retryInMs: 800, why: 'busy', group: `egress:a:${h}` } : null));
    const r = await verifier([A, B], gate).verify('grey.test', requests('grey.test', ['alice'], 'a'));
    expect(r.outcomes).toEqual([{ address: 'alice@grey.test', kind: 'deferred', retryInMs: 800, why: 'busy', group: 'egress:a:mx.grey.test' }]);
  });

  it('an identity that cannot leave (its source address is not bindable) is skipped for the rest of the call', async () => {
    world.resetStats();
    const broken: EgressIdentity = { name: 'x', bind: '192.0.2.77', helo: 'x.probe.test', mailFrom: 'probe@x.probe.test' };
    const r = await verifier([broken, B]).verify('plain.test', requests('plain.test', ['alice', 'nobody']));
    expect(reasons(r.outcomes)).toEqual(['final:accepted@b', 'final:mailbox_not_found@b']);
    expect(r.identities.x).toMatchObject({ sessions: 1, egressFailures: 1, rcpts: 0 });
    const alone = await verifier([broken]).verify('plain.test', requests('plain.test', ['alice']));
    const o = alone.outcomes[0]!;
    expect(o.kind === 'retry' && [o.retry, o.verdict.reason]).toEqual(['connection', 'connection_failed']);
    expect(o.kind === 'retry' && o.verdict.smtpReply).toMatch(/egress x: cannot connect from 192\.0\.2\.77/);
  });
});

describe('a SOCKS5 identity', () => {
  let proxy: ReturnType<typeof socks.createServer>;
  const requested: string[] = [];

  beforeAll(async () => {
    proxy = socks.createServer((info, accept) => {
      requested.push(`${info.dstAddr}:${info.dstPort}`);
      accept();
    });
    proxy.useAuth(socks.auth.UserPassword((user, password, cb) => cb(user === 'probe' && password === 'pa:ss')));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  const viaProxy = (password: string): EgressIdentity => ({ name: 's', socks: { host: '127.0.0.1', port: proxy.address().port, userId: 'probe', password }, helo: 's.probe.test', mailFrom: 'probe@s.probe.test' });

  it('verifies through the proxy: the host sees the proxy\'s address greet with the identity\'s name', async () => {
    world.resetStats();
    requested.length = 0;
    const r = await verifier([viaProxy('pa:ss')]).verify('plain.test', requests('plain.test', ['alice', 'nobody']));
    expect(reasons(r.outcomes)).toEqual(['final:accepted@s', 'final:mailbox_not_found@s']);
    const host = world.host('mx.plain.test');
    expect(requested).toEqual([`${host.ip}:${host.port}`]);
    const clients = [...host.stats.clients.values()];
    expect(clients.flatMap((c) => c.greetings)).toEqual(['s.probe.test']);
  });

  it('a proxy that refuses the credentials is an egress failure: another identity takes over', async () => {
    world.resetStats();
    const r = await verifier([viaProxy('wrong'), B]).verify('plain.test', requests('plain.test', ['alice']));
    expect(reasons(r.outcomes)).toEqual(['final:accepted@b']);
    expect(r.identities.s).toMatchObject({ egressFailures: 1, rcpts: 0 });
  });
});
