import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient } from '../../src/dns/client.js';
import { lookupA, lookupAddresses, lookupMx, lookupPtr, lookupTxt } from '../../src/dns/records.js';
import { reverseName, reversedLabels, sameAddress } from '../../src/dns/reverse.js';
import { parseDnsServer } from '../../src/dns/servers.js';
import { isListwashError } from '../../src/errors.js';
import { SimDnsServer } from '../../src/world/dns-server.js';
import { randomLoopbackIp } from '../world/raw-smtp-client.js';

describe('reverse names (RFC 1035 §3.5, RFC 3596 §2.5)', () => {
  it('reverses IPv4 octets under in-addr.arpa', () => {
    expect(reversedLabels('192.0.2.3')).toBe('3.2.0.192');
    expect(reverseName('192.0.2.3')).toBe('3.2.0.192.in-addr.arpa');
  });

  it('reverses the 32 nibbles of IPv6 under ip6.arpa, whatever the notation', () => {
    const full = 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa';
    expect(reverseName('4321:0:1:2:3:4:567:89ab')).toBe(full);
    expect(reverseName('4321::1:2:3:4:567:89AB')).toBe(full);
    expect(reversedLabels('::1')).toBe(['1', ...Array<string>(31).fill('0')].join('.'));
    expect(reversedLabels('2001:db8::')).toBe([...Array<string>(24).fill('0'), '8', 'b', 'd', '0', '1', '0', '0', '2'].join('.'));
    expect(reversedLabels('::ffff:1.2.3.4')).toBe(reversedLabels('::ffff:102:304'));
  });

  it('refuses something that is not an IP address', () => {
    for (const bad of ['example.org', '1.2.3', '']) {
      let caught: unknown;
      try {
        reverseName(bad);
      } catch (err) {
        caught = err;
      }
      expect(isListwashError(caught, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('compares addresses, IPv6 in any notation', () => {
    expect(sameAddress('2001:db8::1', '2001:0DB8:0:0:0:0:0:1')).toBe(true);
    expect(sameAddress('2001:db8::1', '2001:db8::2')).toBe(false);
    expect(sameAddress('1.2.3.4', '1.2.3.4')).toBe(true);
    expect(sameAddress('1.2.3.4', '::ffff:1.2.3.4')).toBe(false);
    expect(sameAddress('x', 'x')).toBe(false);
  });
});

describe('typed lookups: ok / none (NXDOMAIN or NODATA) / temporary', () => {
  const dns = new SimDnsServer({
    host: randomLoopbackIp(),
    zones: {
      '4.3.2.1.in-addr.arpa': { ptr: ['Host.Example.TEST.'] },
      'host.example.test': { a: ['1.2.3.4'], aaaa: ['2001:db8::4'], txt: ['v=spf1 -all', ['two ', 'strings']], mx: [{ preference: 5, exchange: 'MX.example.test.' }] },
      'v6only.example.test': { aaaa: ['2001:db8::6'] },
      'empty.example.test': {},
      'broken.example.test': { servfail: true },
      'example.test': {},
    },
  });
  let client: DnsClient;

  beforeAll(async () => {
    await dns.start();
    client = new DnsClient({ servers: [parseDnsServer(dns.address)], timeoutMs: 300, tries: 1 });
  });
  afterAll(async () => {
    client.close();
    await dns.stop();
  });

  it('PTR names of an address, lower-case without the trailing dot', async () => {
    expect(await lookupPtr(client, '1.2.3.4')).toEqual({ kind: 'ok', values: ['host.example.test'] });
    expect(await lookupPtr(client, '1.2.3.5')).toEqual({ kind: 'none', nxdomain: true });
  });

  it('TXT records, each joined from its strings', async () => {
    expect(await lookupTxt(client, 'host.example.test')).toEqual({ kind: 'ok', values: ['v=spf1 -all', 'two strings'] });
    expect(await lookupTxt(client, 'empty.example.test')).toEqual({ kind: 'none', nxdomain: false });
    expect(await lookupTxt(client, 'nope.example.test')).toEqual({ kind: 'none', nxdomain: true });
  });

  it('MX records, A and AAAA together', async () => {
    expect(await lookupMx(client, 'host.example.test')).toEqual({ kind: 'ok', values: [{ preference: 5, exchange: 'mx.example.test' }] });
    expect(await lookupAddresses(client, 'host.example.test')).toEqual({ kind: 'ok', values: ['1.2.3.4', '2001:db8::4'] });
    expect(await lookupAddresses(client, 'v6only.example.test')).toEqual({ kind: 'ok', values: ['2001:db8::6'] });
    expect(await lookupAddresses(client, 'empty.example.test')).toEqual({ kind: 'none', nxdomain: false });
    expect(await lookupAddresses(client, 'nope.example.test')).toEqual({ kind: 'none', nxdomain: true });
  });

  it('SERVFAIL and silence are temporary, never "none"', async () => {
    expect(await lookupA(client, 'broken.example.test')).toMatchObject({ kind: 'temporary', detail: expect.stringMatching(/SERVFAIL/) });
    expect(await lookupAddresses(client, 'broken.example.test')).toMatchObject({ kind: 'temporary' });
    dns.addZone('silent.test', { delayMs: Infinity });
    expect(await lookupTxt(client, 'silent.test')).toMatchObject({ kind: 'temporary', detail: expect.stringMatching(/timeout/) });
  });
});
