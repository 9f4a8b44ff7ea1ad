import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimDnsServer, SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { isListwashError } from '../../src/errors.js';
import { randomLoopbackIp } from './raw-smtp-client.js';

type Decoded = dnsPacket.DecodedPacket & { rcode?: string };

function rcodeOf(p: dnsPacket.DecodedPacket): number {
  return (p.flags ?? 0) & 0xf;
}

/** One query over UDP with dns-packet; resolves undefined on timeout. */
function udpQuery(server: SimDnsServer, name: string, type: dnsPacket.RecordType, timeoutMs = 1000): Promise<Decoded | undefined> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const id = Math.floor(Math.random() * 65535);
    const t = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, timeoutMs);
    sock.on('error', reject);
    sock.on('message', (msg) => {
      const p = dnsPacket.decode(msg) as Decoded;
      if (p.id !== id) return;
      clearTimeout(t);
      sock.close();
      resolve(p);
    });
    const q = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
    const [host, port] = [server.address.slice(0, server.address.lastIndexOf(':')), server.port];
    sock.send(q, port, host);
  });
}

/** One query over TCP (2-byte length framing). */
function tcpQuery(server: SimDnsServer, name: string, type: dnsPacket.RecordType): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const host = server.address.slice(0, server.address.lastIndexOf(':'));
    const s = connect({ host, port: server.port });
    let buf = Buffer.alloc(0);
    s.on('error', reject);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        s.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, buf.readUInt16BE(0) + 2)) as Decoded);
      }
    });
    s.write(dnsPacket.streamEncode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }));
  });
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

describe('SimDnsServer', () => {
  const server = new SimDnsServer({ host: randomLoopbackIp() });
  let resolver: dnsPromises.Resolver;

  beforeAll(async () => {
    server.addZone('Acme.TEST', {
      mx: [
        { preference: 20, exchange: 'mx2.acme.test' },
        { preference: 10, exchange: 'mx1.acme.test' },
      ],
      ttl: 120,
    });
    server.addZone('mx1.acme.test', { a: ['127.5.5.2'], aaaa: ['::1'] });
    server.addZone('nullmx.test', { mx: [{ preference: 0, exchange: '.' }] });
    server.addZone('gone.test', { nxdomain: true });
    server.addZone('broken.test', { servfail: true });
    server.addZone('implicit.test', { a: ['127.5.5.3'] });
    server.addZone('big.test', { truncate: true, mx: [{ preference: 10, exchange: 'mx.big.test' }] });
    server.addZone('slow.test', { delayMs: 400, mx: [{ preference: 10, exchange: 'mx.slow.test' }] });
    server.addZone('dead.test', { delayMs: Infinity, mx: [{ preference: 10, exchange: 'mx.dead.test' }] });
    server.addZone('4.3.2.1.in-addr.arpa', { ptr: ['host.acme.test', 'alias.acme.test'] });
    server.addZone('spf.test', { txt: ['v=spf1 -all', ['first half ', 'second half'], 'x'.repeat(300)] });
    server.addZone('bl.test', {});
    server.addZone('*.wild.test', { a: ['127.255.255.254'], txt: ['wildcard'] });
    server.addZone('exact.wild.test', { a: ['127.0.0.7'] });
    await server.start();
    resolver = new dnsPromises.Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([server.address]);
  });

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(() => {
    server.resetStats();
  });

  it('binds a loopback address and reports ip:port', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`${server.address.split(':')[0]}:${server.port}`);
    expect(server.address.startsWith('127.')).toBe(true);
  });

  it('answers MX over UDP with TTLs, case-insensitively, echoing the question', async () => {
    const res = await udpQuery(server, 'ACME.test', 'MX');
    expect(res).toBeDefined();
    expect(rcodeOf(res!)).toBe(0);
    expect(res!.flag_qr).toBe(true);
    expect(res!.questions?.[0]?.name).toBe('ACME.test');
    const mx = res!.answers?.map((a) => (a.type === 'MX' ? [a.data.preference, a.data.exchange, a.ttl] : null));
    expect(mx).toEqual([
      [20, 'mx2.acme.test', 120],
      [10, 'mx1.acme.test', 120],
    ]);
  });

  it('node:dns resolves MX, A, AAAA and the null MX', async () => {
    expect(await resolver.resolveMx('acme.test')).toEqual([
      { exchange: 'mx2.acme.test', priority: 20 },
      { exchange: 'mx1.acme.test', priority: 10 },
    ]);
    expect(await resolver.resolve4('mx1.acme.test')).toEqual(['127.5.5.2']);
    expect(await resolver.resolve6('mx1.acme.test')).toEqual(['::1']);
    expect(await resolver.resolveMx('nullmx.test')).toEqual([{ exchange: '', priority: 0 }]);
    expect(await resolver.resolve4('implicit.test')).toEqual(['127.5.5.3']);
  });

  it('NXDOMAIN (flagged zone, unknown name under a zone, name outside every zone) with an SOA', async () => {
    expect(await errorCode(resolver.resolveMx('gone.test'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolveMx('nope.acme.test'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolveMx('unconfigured.example'))).toBe('ENOTFOUND');
    const res = await udpQuery(server, 'nope.acme.test', 'A');
    expect(rcodeOf(res!)).toBe(3);
    const soa = res!.authorities?.[0];
    expect(soa?.type).toBe('SOA');
    expect(soa?.name).toBe('acme.test');
    expect(soa?.type === 'SOA' ? soa.data.minimum : undefined).toBe(60);
  });

  it('NODATA: the name exists without records of the asked type (NOERROR, empty, SOA)', async () => {
    expect(await errorCode(resolver.resolveMx('implicit.test'))).toBe('ENODATA');
    expect(await errorCode(resolver.resolve4('acme.test'))).toBe('ENODATA');
    const res = await udpQuery(server, 'implicit.test', 'MX');
    expect(rcodeOf(res!)).toBe(0);
    expect(res!.answers).toEqual([]);
    expect(res!.authorities?.[0]?.type).toBe('SOA');
  });

  it('SERVFAIL', async () => {
    expect(await errorCode(resolver.resolveMx('broken.test'))).toBe('ESERVFAIL');
    const res = await udpQuery(server, 'broken.test', 'MX');
    expect(rcodeOf(res!)).toBe(2);
  });

  it('truncate: UDP answer has TC and no records; TCP has the records; node:dns falls back to TCP', async () => {
    const udp = await udpQuery(server, 'big.test', 'MX');
    expect(udp!.flag_tc).toBe(true);
    expect(udp!.answers).toEqual([]);
    const tcp = await tcpQuery(server, 'big.test', 'MX');
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers?.[0]?.type === 'MX' ? tcp.answers[0].data.exchange : undefined).toBe('mx.big.test');
    expect(await resolver.resolveMx('big.test')).toEqual([{ exchange: 'mx.big.test', priority: 10 }]);
  });

  it('delayMs answers late; Infinity never answers', async () => {
    expect(await udpQuery(server, 'slow.test', 'MX', 150)).toBeUndefined();
    const late = await udpQuery(server, 'slow.test', 'MX', 3000);
    expect(late?.answers?.length).toBe(1);
    expect(await udpQuery(server, 'dead.test', 'MX', 600)).toBeUndefined();
    const impatient = new dnsPromises.Resolver({ timeout: 300, tries: 1 });
    impatient.setServers([server.address]);
    expect(await errorCode(impatient.resolveMx('dead.test'))).toBe('ETIMEOUT');
  });

  it('answers PTR records of a reverse name', async () => {
    expect((await resolver.reverse('1.2.3.4')).sort()).toEqual(['alias.acme.test', 'host.acme.test']);
    expect(await errorCode(resolver.reverse('1.2.3.5'))).toBe('ENOTFOUND');
  });

  it('answers TXT records: given strings as one record each, a text over 255 bytes cut into strings of one record', async () => {
    const txt = await resolver.resolveTxt('spf.test');
    expect(txt).toHaveLength(3);
    expect(txt).toContainEqual(['v=spf1 -all']);
    expect(txt).toContainEqual(['first half ', 'second half']);
    expect(txt).toContainEqual(['x'.repeat(255), 'x'.repeat(45)]);
    expect(await errorCode(resolver.resolveTxt('implicit.test'))).toBe('ENODATA');
  });

  it('a wildcard answers for every unconfigured name below it, owned by the asked name; configured names keep their own', async () => {
    const res = await udpQuery(server, '9.8.7.6.WILD.test', 'A');
    expect(rcodeOf(res!)).toBe(0);
    expect(res!.answers?.map((a) => [a.name, a.type === 'A' ? a.data : null])).toEqual([['9.8.7.6.WILD.test', '127.255.255.254']]);
    expect(await resolver.resolveTxt('any.wild.test')).toEqual([['wildcard']]);
    expect(await resolver.resolve4('exact.wild.test')).toEqual(['127.0.0.7']);
    // The wildcard does not cover its own parent.
    expect(await errorCode(resolver.resolve4('wild.test'))).toBe('ENOTFOUND');
  });

  it('counts queries per (name, type)', async () => {
    await resolver.resolveMx('acme.test');
    await resolver.resolveMx('Acme.Test');
    await resolver.resolve4('mx1.acme.test');
    expect(server.queryCount('acme.test', 'MX')).toBe(2);
    expect(server.queryCount('ACME.TEST.', 'mx')).toBe(2);
    expect(server.queryCount('mx1.acme.test', 'A')).toBe(1);
    expect(server.queryCount('acme.test', 'A')).toBe(0);
    expect(server.totalQueries).toBe(3);
  });

  it('addZone / removeZone take effect on the next query', async () => {
    server.addZone('new.test', { mx: [{ preference: 5, exchange: 'mx.new.test' }] });
    expect(await resolver.resolveMx('new.test')).toEqual([{ exchange: 'mx.new.test', priority: 5 }]);
    expect(server.removeZone('NEW.test')).toBe(true);
    expect(await errorCode(resolver.resolveMx('new.test'))).toBe('ENOTFOUND');
  });

  it('ignores garbage datagrams and keeps answering', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.send(Buffer.from([1, 2, 3]), server.port, server.address.split(':')[0], () => r()));
    sock.close();
    expect(await resolver.resolveMx('acme.test')).toHaveLength(2);
  });
});

describe('SimDnsServer options', () => {
  it('unknownNames: refused answers REFUSED outside every zone', async () => {
    const s = new SimDnsServer({ host: randomLoopbackIp(), unknownNames: 'refused', zones: { 'a.test': { a: ['127.0.0.9'] } } });
    await s.start();
    try {
      expect(rcodeOf((await udpQuery(s, 'b.test', 'A'))!)).toBe(5);
      expect(rcodeOf((await udpQuery(s, 'x.a.test', 'A'))!)).toBe(3);
    } finally {
      await s.stop();
    }
  });

  it('refuses a non-loopback address', async () => {
    const s = new SimDnsServer({ host: '192.0.2.53' });
    const err: unknown = await s.start().then(() => undefined, (e: unknown) => e);
    expect(isListwashError(err, 'SIM_WORLD')).toBe(true);
  });
});

describe('SimWorld DNS data for the doctor', () => {
  it('publishes TXT of domains, names with any address, reverse DNS and DNSBL listings', async () => {
    const world = await SimWorld.start(
      {
        domains: { 'mail.test': { txt: ['v=spf1 include:_spf.mail.test -all'] } },
        names: { '_spf.mail.test': { txt: ['v=spf1 ip4:11.1.2.0/24 -all'] }, 'probe.mail.test': { a: ['11.1.2.3'], aaaa: ['2001:db8::5'] } },
        reverse: { '11.1.2.3': 'probe.mail.test', '2001:db8::5': ['probe.mail.test', 'other.mail.test'] },
        dnsbls: {
          'bl.test': { listed: { '11.1.2.3': { code: '127.0.0.4', reason: 'listed: see https://bl.test/11.1.2.3' }, '11.1.2.4': '127.0.0.10', '11.1.2.5': {} } },
          'refuses.test': { answerAll: '127.255.255.254' },
          'broken.test': { servfail: true, listed: { '11.1.2.3': {} } },
        },
      },
      { smtpPort: 0 },
    );
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([world.dns.address]);
    try {
      expect(await r.resolveTxt('mail.test')).toEqual([['v=spf1 include:_spf.mail.test -all']]);
      expect(await r.resolveTxt('_spf.mail.test')).toEqual([['v=spf1 ip4:11.1.2.0/24 -all']]);
      expect(await r.resolve4('probe.mail.test')).toEqual(['11.1.2.3']);
      expect(await r.resolve6('probe.mail.test')).toEqual(['2001:db8::5']);
      expect(await r.reverse('11.1.2.3')).toEqual(['probe.mail.test']);
      expect((await r.reverse('2001:db8::5')).sort()).toEqual(['other.mail.test', 'probe.mail.test']);
      expect(await r.resolve4('3.2.1.11.bl.test')).toEqual(['127.0.0.4']);
      expect(await r.resolveTxt('3.2.1.11.bl.test')).toEqual([['listed: see https://bl.test/11.1.2.3']]);
      expect(await r.resolve4('4.2.1.11.bl.test')).toEqual(['127.0.0.10']);
      expect(await r.resolve4('5.2.1.11.bl.test')).toEqual(['127.0.0.2']);
      expect(await errorCode(r.resolve4('9.2.1.11.bl.test'))).toBe('ENOTFOUND');
      expect(await r.resolve4('9.2.1.11.refuses.test')).toEqual(['127.255.255.254']);
      expect(await errorCode(r.resolve4('3.2.1.11.broken.test'))).toBe('ESERVFAIL');
    } finally {
      await world.stop();
    }
  });

  it('rejects a reverse entry, a name address or a DNSBL listing that is not an IP address', () => {
    const bad: SimWorldSpec[] = [
      { domains: {}, reverse: { 'not-an-ip': 'x.test' } },
      { domains: {}, names: { 'x.test': { a: ['2001:db8::1'] } } },
      { domains: {}, dnsbls: { 'bl.test': { listed: { '11.1.2.3': 'listed' } } } },
      { domains: {}, dnsbls: { 'bl.test': { answerAll: 'yes' } } },
    ];
    for (const spec of bad) {
      const err: unknown = (() => {
        try {
          return new SimWorld(spec);
        } catch (e) {
          return e;
        }
      })();
      expect(isListwashError(err, 'SIM_WORLD')).toBe(true);
    }
  });
});
