import { promises as dnsPromises } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimWorld, demoWorld, expectedVerdicts, type SimWorldSpec } from '../../src/world/index.js';
import { isListwashError } from '../../src/errors.js';
import { REASON_STATUS } from '../../src/verdict.js';
import { RawSmtpClient, connectOutcome } from './raw-smtp-client.js';

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

describe('SimWorld with the demo spec', () => {
  let world: SimWorld;
  let resolver: dnsPromises.Resolver;

  beforeAll(async () => {
    world = await SimWorld.start(demoWorld());
    resolver = new dnsPromises.Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([world.env().LISTWASH_DNS_SERVERS]);
  });

  afterAll(async () => {
    await world.stop();
  });

  it('exposes the env for listwash, on a random 127.A.B subnet', () => {
    const env = world.env();
    const m = /^127\.(\d+)\.(\d+)$/.exec(world.subnet);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
    expect(env.LISTWASH_DNS_SERVERS).toBe(`${world.subnet}.1:${world.dns.port}`);
    expect(env.LISTWASH_SMTP_PORT).toBe(String(world.smtpPort));
    expect(env.LISTWASH_ALLOWED_TARGETS).toBe('loopback');
    // We run as root here, so the default port 25 binds.
    if (process.getuid?.() === 0) expect(world.smtpPort).toBe(25);
  });

  it('publishes MX records and A records of the MX hosts on distinct addresses', async () => {
    const mx = await resolver.resolveMx('backup.test');
    expect(mx.sort((a, b) => a.priority - b.priority)).toEqual([
      { exchange: 'mx1.backup.test', priority: 10 },
      { exchange: 'mx2.backup.test', priority: 20 },
    ]);
    const ips = new Set<string>();
    for (const name of world.hostNames) {
      const [ip] = await resolver.resolve4(name);
      expect(ip).toBe(world.host(name).ip);
      expect(ip!.startsWith(`${world.subnet}.`)).toBe(true);
      ips.add(ip!);
    }
    expect(ips.size).toBe(world.hostNames.length);
    expect(await resolver.resolveMx('nullmx.test')).toEqual([{ exchange: '', priority: 0 }]);
    expect(await errorCode(resolver.resolveMx('nxdomain.test'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolveMx('servfail.test'))).toBe('ESERVFAIL');
    expect(await errorCode(resolver.resolveMx('implicit.example'))).toBe('ENODATA');
    expect(await resolver.resolve4('implicit.example')).toEqual([world.host('mail.implicit.example').ip]);
    expect(await errorCode(resolver.resolve4('nomail.test'))).toBe('ENODATA');
  });

  it('the hosts answer on the shared port; the dead primary refuses connections', async () => {
    const { client, banner } = await RawSmtpClient.open(world.host('mx2.backup.test').ip, world.smtpPort);
    try {
      expect(banner).toBe('220 mx2.backup.test ESMTP listwash simulator');
      await client.cmd('EHLO p.test');
      await client.cmd('MAIL FROM:<p@s.test>');
      expect(await client.cmd('RCPT TO:<heidi@backup.test>')).toBe('250 2.1.5 OK');
      expect(await client.cmd('RCPT TO:<nobody@backup.test>')).toMatch(/^550 5\.1\.1 /);
    } finally {
      client.close();
    }
    expect(await connectOutcome(world.host('mx1.backup.test').ip, world.smtpPort)).toBe('ECONNREFUSED');
  });

  it('every expected address of the demo has a consistent status and reason', () => {
    const truth = expectedVerdicts();
    expect(truth.size).toBeGreaterThanOrEqual(25);
    for (const [addr, v] of truth) {
      expect(addr).toMatch(/@[a-z.]+\.(test|example)$/);
      expect(REASON_STATUS[v.reason]).toBe(v.status);
    }
    expect(truth.get('frank@mailboxes.example')).toEqual({ status: 'risky', reason: 'mailbox_full' });
    expect(truth.get('anyone@nxdomain.test')).toEqual({ status: 'undeliverable', reason: 'no_domain' });
    expect(world.expectedVerdicts()).toEqual(truth);
  });

  it('the hosts give the replies the truth is based on', async () => {
    const expectations: [string, string, RegExp][] = [
      ['mx1.acme.test', 'alice@acme.test', /^250 /],
      ['mx1.acme.test', 'ghost.user@acme.test', /^550 5\.1\.1 /],
      ['mx.catchall.test', 'whoever.else@catchall.test', /^250 /],
      ['mx.mailboxes.example', 'frank@mailboxes.example', /^452 4\.2\.2 /],
      ['mx.mailboxes.example', 'grace@mailboxes.example', /^550 5\.2\.1 /],
      ['mail.implicit.example', 'ivan@implicit.example', /^250 /],
      ['mx.greylist.test', 'dave@greylist.test', /^450 4\.7\.1 Greylisted/],
    ];
    for (const [host, rcpt, re] of expectations) {
      const { client } = await RawSmtpClient.open(world.host(host).ip, world.smtpPort);
      try {
        await client.cmd('EHLO p.test');
        await client.cmd('MAIL FROM:<p@s.test>');
        expect(await client.cmd(`RCPT TO:<${rcpt}>`)).toMatch(re);
        await client.cmd('QUIT');
      } finally {
        client.close();
      }
    }
  });

  it('politenessReport flags concurrency, rate and DATA per host', async () => {
    world.resetStats();
    expect(world.politenessReport({ maxConnections: 2, rcptPerSecond: 2 })).toEqual([]);
    const host = world.host('mx.catchall.test');
    const opened = await Promise.all([0, 1, 2].map(() => RawSmtpClient.open(host.ip, world.smtpPort)));
    try {
      const { client } = opened[0]!;
      await client.cmd('EHLO p.test');
      await client.cmd('MAIL FROM:<p@s.test>');
      await client.pipeline(['RCPT TO:<a@catchall.test>', 'RCPT TO:<b@catchall.test>', 'RCPT TO:<c@catchall.test>']);
      await client.cmd('DATA');
    } finally {
      for (const o of opened) o.client.close();
    }
    const report = world.politenessReport({ maxConnections: 2, rcptPerSecond: 2 });
    expect(report).toEqual([
      { host: 'mx.catchall.test', kind: 'concurrency', observed: 3, limit: 2 },
      { host: 'mx.catchall.test', kind: 'rate', observed: 3, limit: 2 },
      { host: 'mx.catchall.test', kind: 'data', observed: 1, limit: 0 },
    ]);
    expect(world.politenessReport({ maxConnections: 3, rcptPerSecond: 3 })).toEqual([
      { host: 'mx.catchall.test', kind: 'data', observed: 1, limit: 0 },
    ]);
  });

  it('politenessReport per client: each client address is held to the limits on its own', async () => {
    const host = world.host('mx.catchall.test');
    // The last test's connections close asynchronously at the host; start from none open.
    for (let i = 0; i < 200 && host.stats.currentConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    world.resetStats();
    const fromA = await Promise.all([0, 1].map(() => RawSmtpClient.open(host.ip, world.smtpPort, '127.0.0.2')));
    const fromB = await Promise.all([0, 1].map(() => RawSmtpClient.open(host.ip, world.smtpPort, '127.0.0.3')));
    try {
      const { client } = fromA[0]!;
      await client.cmd('EHLO p.test');
      await client.cmd('MAIL FROM:<p@s.test>');
      await client.pipeline(['RCPT TO:<a@catchall.test>', 'RCPT TO:<b@catchall.test>', 'RCPT TO:<c@catchall.test>']);
    } finally {
      for (const o of [...fromA, ...fromB]) o.client.close();
    }
    // Four connections at the host, but two per client: only client a's RCPT burst breaks a per-client limit.
    expect(world.politenessReport({ maxConnections: 2, rcptPerSecond: 2, perClient: true })).toEqual([{ host: 'mx.catchall.test', client: '127.0.0.2', kind: 'rate', observed: 3, limit: 2 }]);
    expect(world.politenessReport({ maxConnections: 2, rcptPerSecond: 3 }).map((v) => v.kind)).toEqual(['concurrency']);
  });

  it('host() throws SIM_WORLD for an unknown name', () => {
    let err: unknown;
    try {
      world.host('nope.test');
    } catch (e) {
      err = e;
    }
    expect(isListwashError(err, 'SIM_WORLD')).toBe(true);
  });
});

describe('SimWorld options and validation', () => {
  it('shares one ephemeral port across hosts with smtpPort 0 and honours a fixed subnet', async () => {
    const a = 10 + Math.floor(Math.random() * 240);
    const b = 10 + Math.floor(Math.random() * 240);
    const spec: SimWorldSpec = {
      domains: { 'x.test': { mx: [{ host: 'mx.x.test', preference: 1 }, { host: 'mx2.x.test', preference: 2 }] } },
      hosts: { 'mx.x.test': { catchAll: true }, 'mx2.x.test': { mailboxes: ['z'] } },
    };
    const w = await SimWorld.start(spec, { smtpPort: 0, subnet: [a, b] });
    try {
      expect(w.smtpPort).toBeGreaterThan(0);
      expect(w.subnet).toBe(`127.${a}.${b}`);
      expect(w.host('mx.x.test').ip).toBe(`127.${a}.${b}.2`);
      expect(w.host('MX2.x.test').port).toBe(w.smtpPort);
      const { client, banner } = await RawSmtpClient.open(w.host('mx2.x.test').ip, w.smtpPort);
      client.close();
      expect(banner).toMatch(/^220 mx2\.x\.test /);
    } finally {
      await w.stop();
    }
  });

  it('implements DNS-level options of a domain (dnsDelayMs, truncate)', async () => {
    const w = await SimWorld.start(
      { domains: { 'slow.test': { dnsDelayMs: 1000, mx: 'none', a: ['127.0.0.1'] }, 'tc.test': { truncate: true, mx: 'null' } } },
      { smtpPort: 0 },
    );
    try {
      const r = new dnsPromises.Resolver({ timeout: 150, tries: 1 });
      r.setServers([w.env().LISTWASH_DNS_SERVERS]);
      expect(await errorCode(r.resolve4('slow.test'))).toBe('ETIMEOUT');
      const patient = new dnsPromises.Resolver({ timeout: 4000, tries: 1 });
      patient.setServers([w.env().LISTWASH_DNS_SERVERS]);
      expect(await patient.resolve4('slow.test')).toEqual(['127.0.0.1']);
      expect(await patient.resolveMx('tc.test')).toEqual([{ exchange: '', priority: 0 }]);
    } finally {
      await w.stop();
    }
  });

  it('rejects non-loopback addresses in the spec', () => {
    const bad = (spec: SimWorldSpec): unknown => {
      try {
        new SimWorld(spec);
        return undefined;
      } catch (e) {
        return e;
      }
    };
    expect(isListwashError(bad({ domains: {}, hosts: { h: { ip: '10.0.0.1' } } }), 'SIM_WORLD')).toBe(true);
    expect(isListwashError(bad({ domains: { 'd.test': { a: ['8.8.8.8'] } } }), 'SIM_WORLD')).toBe(true);
    expect(isListwashError(bad({ domains: { 'd.test': { mx: [{ host: 'h', preference: -1 }] } } }), 'SIM_WORLD')).toBe(true);
  });
});
