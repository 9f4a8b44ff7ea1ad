/**
 * SPF (RFC 7208): the record grammar, macro expansion (the RFC's own examples), and check_host() against
 * policies served by the simulated world's DNS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient } from '../../src/dns/client.js';
import { parseDnsServer } from '../../src/dns/servers.js';
import { checkSpf, expandMacros, inNetwork, isSpfRecord, parseSpf, type SpfVerdict } from '../../src/doctor/index.js';
import { SimWorld, type SimNameSpec } from '../../src/world/index.js';

describe('SPF record syntax', () => {
  it('recognises a policy by "v=spf1" followed by a space or nothing', () => {
    expect(isSpfRecord('v=spf1 -all')).toBe(true);
    expect(isSpfRecord('V=SPF1')).toBe(true);
    expect(isSpfRecord('v=spf10 -all')).toBe(false);
    expect(isSpfRecord('spf2.0/pra -all')).toBe(false);
  });

  it('parses qualifiers, mechanisms with their arguments and prefixes, and redirect=', () => {
    const p = parseSpf('v=spf1  +a -mx:mail.example.org/24//64 ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 ptr include:_spf.example.org exists:%{i}.x.org all redirect=other.org exp=why.org foo=bar');
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.record.redirect).toBe('other.org');
    expect(p.record.directives.map((d) => [d.qualifier, d.mechanism])).toEqual([
      ['+', { type: 'a', domain: undefined, cidr4: 32, cidr6: 128 }],
      ['-', { type: 'mx', domain: 'mail.example.org', cidr4: 24, cidr6: 64 }],
      ['~', { type: 'ip4', network: '192.0.2.0', prefix: 24 }],
      ['?', { type: 'ip6', network: '2001:db8::', prefix: 32 }],
      ['+', { type: 'ptr', domain: undefined }],
      ['+', { type: 'include', domain: '_spf.example.org' }],
      ['+', { type: 'exists', domain: '%{i}.x.org' }],
      ['+', { type: 'all' }],
    ]);
  });

  it('rejects what RFC 7208 calls a syntax error', () => {
    for (const bad of ['v=spf1 foo', 'v=spf1 ip4:1.2.3', 'v=spf1 ip4:1.2.3.4/33', 'v=spf1 ip6:1.2.3.4', 'v=spf1 include', 'v=spf1 a:', 'v=spf1 a/40', 'v=spf1 all:x', 'v=spf1 redirect=a.org redirect=b.org', 'v=spf1 exp=']) {
      expect(parseSpf(bad).ok, bad).toBe(false);
    }
  });
});

describe('SPF macros (RFC 7208 §7.4 examples)', () => {
  const ctx = { ip: '192.0.2.3', sender: 'strong-bad@email.example.com', domain: 'email.example.com', helo: 'mx.example.org' };
  const cases: [string, string][] = [
    ['%{s}', 'strong-bad@email.example.com'],
    ['%{o}', 'email.example.com'],
    ['%{d}', 'email.example.com'],
    ['%{d4}', 'email.example.com'],
    ['%{d3}', 'email.example.com'],
    ['%{d2}', 'example.com'],
    ['%{d1}', 'com'],
    ['%{dr}', 'com.example.email'],
    ['%{d2r}', 'example.email'],
    ['%{l}', 'strong-bad'],
    ['%{l-}', 'strong.bad'],
    ['%{lr}', 'strong-bad'],
    ['%{lr-}', 'bad.strong'],
    ['%{l1r-}', 'strong'],
    ['%{ir}.%{v}._spf.%{d2}', '3.2.0.192.in-addr._spf.example.com'],
    ['%{lr-}.lp._spf.%{d2}', 'bad.strong.lp._spf.example.com'],
    ['%{lr-}.lp.%{ir}.%{v}._spf.%{d2}', 'bad.strong.lp.3.2.0.192.in-addr._spf.example.com'],
    ['%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}', '3.2.0.192.in-addr.strong.lp._spf.example.com'],
    ['%{d2}.trusted-domains.example.net', 'example.com.trusted-domains.example.net'],
    ['%{h}%%%_%-', 'mx.example.org% %20'],
  ];
  it.each(cases)('%s → %s', (spec, expected) => {
    expect(expandMacros(spec, ctx)).toEqual({ ok: true, value: expected });
  });

  it('IPv6: %{ir} is the reversed nibbles, %{v} is ip6', () => {
    expect(expandMacros('%{ir}.%{v}._spf.%{d2}', { ...ctx, ip: '2001:db8::cb01' })).toEqual({
      ok: true,
      value: '1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com',
    });
  });

  it('upper-case letters are URL-escaped', () => {
    expect(expandMacros('%{S}', { ...ctx, sender: 'a b@x.org' })).toEqual({ ok: true, value: 'a%20b%40x.org' });
  });

  it('rejects a stray or unknown macro', () => {
    for (const bad of ['%', 'a%b', '%{x}', '%{d0}', '%{c}', '%{d']) expect(expandMacros(bad, ctx).ok, bad).toBe(false);
  });
});

describe('CIDR matching', () => {
  it('matches inside the prefix, by family', () => {
    expect(inNetwork('192.0.2.200', '192.0.2.7', 24)).toBe(true);
    expect(inNetwork('192.0.3.1', '192.0.2.0', 24)).toBe(false);
    expect(inNetwork('2001:db8:ffff::1', '2001:db8::', 32)).toBe(true);
    expect(inNetwork('192.0.2.1', '2001:db8::', 0)).toBe(false);
  });
});

/** The client of every evaluation below unless a test says otherwise. */
const IP = '11.1.2.3';

function chain(prefix: string, length: number, end: string): Record<string, SimNameSpec> {
  const out: Record<string, SimNameSpec> = {};
  for (let i = 0; i < length; i++) out[`${prefix}${i}.spf.test`] = { txt: [`v=spf1 include:${prefix}${i + 1}.spf.test -all`] };
  out[`${prefix}${length}.spf.test`] = { txt: [end] };
  return out;
}

const NAMES: Record<string, SimNameSpec> = {
  'spf.test': {},
  'ip4.spf.test': { txt: ['v=spf1 ip4:11.1.2.0/24 -all'] },
  'ip6.spf.test': { txt: ['v=spf1 ip6:2001:db8::/32 -all'] },
  'a.spf.test': { a: [IP], txt: ['v=spf1 a -all'] },
  'acidr.spf.test': { a: ['11.1.2.200'], txt: ['v=spf1 a/24 -all'] },
  'aname.spf.test': { txt: ['v=spf1 a:host.spf.test -all'] },
  'host.spf.test': { a: [IP] },
  'mx.spf.test': { mx: [{ host: 'mx1.spf.test', preference: 10 }, { host: 'mx2.spf.test', preference: 20 }], txt: ['v=spf1 mx -all'] },
  'mx1.spf.test': { a: ['11.5.5.5'] },
  'mx2.spf.test': { a: [IP] },
  'manymx.spf.test': { mx: Array.from({ length: 11 }, (_, i) => ({ host: `m${i}.spf.test`, preference: i })), txt: ['v=spf1 mx -all'] },
  'include.spf.test': { txt: ['v=spf1 include:ip4.spf.test -all'] },
  'fail.spf.test': { txt: ['v=spf1 -all'] },
  'softfail.spf.test': { txt: ['v=spf1 ~all'] },
  'neutral.spf.test': { txt: ['v=spf1 ?all'] },
  'noall.spf.test': { txt: ['v=spf1 ip4:11.9.9.9'] },
  'include-fail.spf.test': { txt: ['v=spf1 include:fail.spf.test ~all'] },
  'redirect.spf.test': { txt: ['v=spf1 redirect=ip4.spf.test'] },
  'redirect-all.spf.test': { txt: ['v=spf1 ?all redirect=ip4.spf.test'] },
  'redirect-none.spf.test': { txt: ['v=spf1 redirect=nospf.spf.test'] },
  'nospf.spf.test': { txt: ['some-verification=123'] },
  'two.spf.test': { txt: ['v=spf1 -all', 'v=spf1 +all'] },
  'badmech.spf.test': { txt: ['v=spf1 foo -all'] },
  'include-none.spf.test': { txt: ['v=spf1 include:nospf.spf.test -all'] },
  'loop.spf.test': { txt: ['v=spf1 include:loop.spf.test -all'] },
  'void2.spf.test': { txt: ['v=spf1 a:v1.spf.test a:v2.spf.test -all'] },
  'void3.spf.test': { txt: ['v=spf1 a:v1.spf.test a:v2.spf.test a:v3.spf.test -all'] },
  'broken.spf.test': { servfail: true },
  'a-broken.spf.test': { txt: ['v=spf1 a:broken.spf.test -all'] },
  'exists.spf.test': { txt: ['v=spf1 exists:%{ir}.allow.spf.test -all'] },
  '3.2.1.11.allow.spf.test': { a: ['127.0.0.2'] },
  'ptr.spf.test': { txt: ['v=spf1 ptr -all'] },
  'out.ptr.spf.test': { a: [IP] },
  'split.spf.test': { txt: [['v=spf1 ip4:11.9.9.9 ', 'ip4:11.1.2.3 -all']] },
  ...chain('ok', 9, 'v=spf1 ip4:11.1.2.3 -all'),
  ...chain('long', 11, 'v=spf1 ip4:11.1.2.3 -all'),
};

describe('check_host() against the simulated DNS', () => {
  let world: SimWorld;
  let client: DnsClient;

  beforeAll(async () => {
    world = await SimWorld.start({ domains: {}, names: NAMES, reverse: { [IP]: 'out.ptr.spf.test' } }, { smtpPort: 0 });
    client = new DnsClient({ servers: [parseDnsServer(world.dns.address)], timeoutMs: 400, tries: 1 });
  });
  afterAll(async () => {
    client?.close();
    await world?.stop();
  });

  function spf(domain: string, ip = IP): Promise<SpfVerdict> {
    return checkSpf(client, { ip, domain, sender: `bounces@${domain}`, helo: 'probe.test' });
  }

  it.each([
    ['ip4.spf.test', IP, 'pass', 'ip4:11.1.2.0/24'],
    ['ip4.spf.test', '11.1.3.1', 'fail', '-all'],
    ['ip4.spf.test', '::ffff:11.1.2.3', 'pass', 'ip4:11.1.2.0/24'],
    ['ip6.spf.test', '2001:db8:1::9', 'pass', 'ip6:2001:db8::/32'],
    ['ip6.spf.test', IP, 'fail', '-all'],
    ['a.spf.test', IP, 'pass', 'a'],
    ['acidr.spf.test', IP, 'pass', 'a/24'],
    ['aname.spf.test', IP, 'pass', 'a:host.spf.test'],
    ['mx.spf.test', IP, 'pass', 'mx'],
    ['mx.spf.test', '11.6.6.6', 'fail', '-all'],
    ['include.spf.test', IP, 'pass', 'include:ip4.spf.test'],
    ['include-fail.spf.test', IP, 'softfail', '~all'],
    ['fail.spf.test', IP, 'fail', '-all'],
    ['softfail.spf.test', IP, 'softfail', '~all'],
    ['neutral.spf.test', IP, 'neutral', '?all'],
    ['exists.spf.test', IP, 'pass', 'exists:%{ir}.allow.spf.test'],
    ['exists.spf.test', '11.1.2.4', 'fail', '-all'],
    ['ptr.spf.test', IP, 'pass', 'ptr'],
    ['ptr.spf.test', '11.1.2.4', 'fail', '-all'],
    ['split.spf.test', IP, 'pass', 'ip4:11.1.2.3'],
    ['ok0.spf.test', IP, 'pass', 'include:ok1.spf.test'],
  ])('%s for %s: %s by "%s"', async (domain, ip, result, by) => {
    expect(await spf(domain, ip)).toMatchObject({ result, decidedBy: by });
  });

  it('without a match and without "all" the result is neutral', async () => {
    expect(await spf('noall.spf.test')).toMatchObject({ result: 'neutral', reason: expect.stringMatching(/no mechanism matched/) });
  });

  it('redirect= hands the decision to another domain, unless the record has "all"', async () => {
    expect(await spf('redirect.spf.test')).toMatchObject({ result: 'pass', domain: 'ip4.spf.test', decidedBy: 'ip4:11.1.2.0/24' });
    expect(await spf('redirect-all.spf.test')).toMatchObject({ result: 'neutral', decidedBy: '?all' });
    expect(await spf('redirect-none.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/no SPF record/) });
  });

  it('none: no SPF record, or no such domain, or not a domain name', async () => {
    expect(await spf('nospf.spf.test')).toMatchObject({ result: 'none', reason: expect.stringMatching(/publishes no SPF record/) });
    expect(await spf('gone.spf.test')).toMatchObject({ result: 'none', reason: expect.stringMatching(/does not exist/) });
    expect(await spf('localhost')).toMatchObject({ result: 'none' });
  });

  it('permerror: two records, an unknown mechanism, an include without a policy', async () => {
    expect(await spf('two.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/2 SPF records/) });
    expect(await spf('badmech.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/unknown mechanism "foo"/) });
    expect(await spf('include-none.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/include:nospf.spf.test/) });
  });

  it('permerror past 10 DNS-querying terms (a loop, a chain of 11 includes), not at 10', async () => {
    expect(await spf('loop.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/more than 10 DNS lookups/), lookups: 11 });
    expect(await spf('long0.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/more than 10 DNS lookups/) });
    expect(await spf('ok0.spf.test')).toMatchObject({ result: 'pass', lookups: 9 });
  });

  it('permerror past 2 void lookups; 2 are allowed', async () => {
    expect(await spf('void2.spf.test')).toMatchObject({ result: 'fail', decidedBy: '-all' });
    expect(await spf('void3.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/more than 2 lookups found nothing/) });
  });

  it('permerror for an mx term with more than 10 hosts', async () => {
    expect(await spf('manymx.spf.test')).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/11 MX hosts/) });
  });

  it('temperror when DNS fails: the policy itself or a name a term needs', async () => {
    expect(await spf('broken.spf.test')).toMatchObject({ result: 'temperror', reason: expect.stringMatching(/SERVFAIL/) });
    expect(await spf('a-broken.spf.test')).toMatchObject({ result: 'temperror', reason: expect.stringMatching(/A broken.spf.test: .*SERVFAIL/) });
  });
});
