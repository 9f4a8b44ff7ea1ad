import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient, DnsTimeoutError } from '../../src/dns/client.js';
import { MemoryTtlCache } from '../../src/dns/cache.js';
import { orderHosts } from '../../src/dns/mail-route.js';
import { MailResolver } from '../../src/dns/resolver.js';
import { parseDnsServer } from '../../src/dns/servers.js';
import { SimDnsServer } from '../../src/world/dns-server.js';

const dns = new SimDnsServer({
  zones: {
    'mx.test': { mx: [{ preference: 20, exchange: 'backup.mx.test' }, { preference: 10, exchange: 'primary.mx.test' }], ttl: 120 },
    'primary.mx.test': { a: ['127.0.0.10'], ttl: 30 },
    'backup.mx.test': { a: ['127.0.0.11'], aaaa: ['::1'] },
    'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
    'implicit.test': { a: ['127.0.0.12'], ttl: 50 },
    'nomail.test': { aaaa: [] , a: [] },
    'gone.test': { nxdomain: true },
    'broken.test': { servfail: true },
    'slow.test': { mx: [{ preference: 10, exchange: 'primary.mx.test' }], delayMs: Infinity },
    'big.test': { mx: [{ preference: 10, exchange: 'primary.mx.test' }], truncate: true },
    'dangling.test': { mx: [{ preference: 10, exchange: 'nowhere.dangling.test' }] },
  },
});

let client: DnsClient;

beforeAll(async () => {
  await dns.start();
  client = new DnsClient({ servers: [parseDnsServer(dns.address)], timeoutMs: 300, tries: 2 });
});
afterAll(async () => {
  client.close();
  await dns.stop();
});

function resolver(): MailResolver {
  return new MailResolver({ dns: client, cache: new MemoryTtlCache(), negativeTtlSec: 300 });
}

describe('mail route (RFC 5321 §5.1, RFC 7505)', () => {
  it('orders MX hosts by preference', async () => {
    const r = await resolver().route('mx.test');
    expect(r).toEqual({ kind: 'mx', implicit: false, hosts: [{ name: 'primary.mx.test', preference: 10 }, { name: 'backup.mx.test', preference: 20 }] });
  });

  it('reads a null MX as "accepts no mail"', async () => {
    expect(await resolver().route('nullmx.test')).toEqual({ kind: 'null_mx' });
  });

  it('falls back to the implicit MX (the domain itself) when there is no MX but an A record', async () => {
    expect(await resolver().route('implicit.test')).toEqual({ kind: 'mx', implicit: true, hosts: [{ name: 'implicit.test', preference: 0 }] });
  });

  it('says no_mail_server when there is neither MX nor A/AAAA', async () => {
    expect(await resolver().route('nomail.test')).toEqual({ kind: 'no_mail_server' });
  });

  it('tells NXDOMAIN (no_domain) apart from SERVFAIL and timeouts (temporary)', async () => {
    const r = resolver();
    expect(await r.route('gone.test')).toEqual({ kind: 'no_domain' });
    expect((await r.route('broken.test')).kind).toBe('temporary');
    expect((await r.route('slow.test')).kind).toBe('temporary');
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    expect(await resolver().route('big.test')).toEqual({ kind: 'mx', implicit: false, hosts: [{ name: 'primary.mx.test', preference: 10 }] });
  });

  it('resolves host addresses, IPv4 first, and reports hosts without addresses', async () => {
    const r = resolver();
    expect(await r.hostAddresses('backup.mx.test')).toEqual({ kind: 'ok', addresses: ['127.0.0.11', '::1'] });
    expect(await r.hostAddresses('nowhere.dangling.test')).toEqual({ kind: 'none' });
  });

  it('caches answers by TTL and coalesces concurrent lookups into one query', async () => {
    const r = resolver();
    dns.resetStats();
    await Promise.all([r.route('mx.test'), r.route('mx.test'), r.route('mx.test')]);
    await r.route('mx.test');
    expect(dns.queryCount('mx.test', 'MX')).toBe(1);
  });

  it('does not cache temporary failures', async () => {
    const r = resolver();
    dns.resetStats();
    await r.route('broken.test');
    await r.route('broken.test');
    expect(dns.queryCount('broken.test', 'MX')).toBe(4); // 2 tries × 2 lookups
  });

  it('times out with a typed error when nobody answers', async () => {
    await expect(client.query('slow.test', 'MX')).rejects.toBeInstanceOf(DnsTimeoutError);
  });
});

describe('orderHosts', () => {
  it('keeps preference order and shuffles equal preferences', () => {
    const hosts = [
      { name: 'c', preference: 20 },
      { name: 'a', preference: 10 },
      { name: 'b', preference: 10 },
    ];
    expect(orderHosts(hosts, () => 0).map((h) => h.name)).toEqual(['b', 'a', 'c']);
    expect(orderHosts(hosts, () => 0.99).map((h) => h.name)).toEqual(['a', 'b', 'c']);
  });
});

describe('parseDnsServer', () => {
  it.each([
    ['127.0.0.1', { host: '127.0.0.1', port: 53, family: 4 }],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353, family: 4 }],
    ['::1', { host: '::1', port: 53, family: 6 }],
    ['[::1]:5353', { host: '::1', port: 5353, family: 6 }],
  ])('%s', (spec, want) => expect(parseDnsServer(spec)).toEqual(want));

  it('rejects names and bad ports', () => {
    expect(() => parseDnsServer('dns.google')).toThrow(/ip\[:port\]/);
    expect(() => parseDnsServer('127.0.0.1:99999')).toThrow(/ip\[:port\]/);
  });
});
