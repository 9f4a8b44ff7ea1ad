/**
 * The port-25 check talks to simulated hosts on loopback only: it reads the greeting, sends QUIT and
 * nothing else; a refused, silent or hostile port is a FAIL that says what will go wrong; a target outside
 * the allowed targets gets no connection at all.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { judgePort25, parsePort25Host, port25SettingsFromConfig } from '../../src/doctor/index.js';
import { isListwashError } from '../../src/errors.js';
import type { SimWorld } from '../../src/world/index.js';
import { randomLoopbackIp } from '../world/raw-smtp-client.js';
import { checkOf, EGRESS_IP, HELO, MAIL_FROM, runDoctorOn, startWorld, WELL_KNOWN_MX } from './helpers.js';

let world: SimWorld;

beforeAll(async () => {
  world = await startWorld((spec) => {
    spec.hosts = {
      [WELL_KNOWN_MX]: {},
      'closed.wellknown.test': { refuse: true },
      'silent.wellknown.test': { tarpit: true },
      'blocks.wellknown.test': { connectReply: '554 5.7.1 Service unavailable; client host [127.0.0.1] blocked using zen.spamhaus.org' },
      'busy.wellknown.test': { connectReply: '421 4.7.0 Try again later' },
    };
  });
});
afterAll(async () => {
  await world?.stop();
});
afterEach(() => {
  world.resetStats();
});

describe('port 25 against a simulated well-known MX', () => {
  it('reads the greeting, sends QUIT and nothing else', async () => {
    const report = await runDoctorOn(world, { ip: EGRESS_IP });
    const c = checkOf(report, 'port25');
    expect(c.level).toBe('ok');
    expect(c.message).toMatch(/^outbound port 25 is open: mx\.wellknown\.test \[127\.[\d.]+\]:\d+ greeted "220 mx\.wellknown\.test ESMTP/);
    const stats = world.host(WELL_KNOWN_MX).stats;
    expect(stats.connections).toBe(1);
    expect(stats.commands).toEqual({ QUIT: 1 });
  });

  it('--offline makes no connection', async () => {
    const report = await runDoctorOn(world, { offline: true, ip: EGRESS_IP });
    expect(checkOf(report, 'port25')).toMatchObject({ level: 'skip', message: 'not checked (--offline)' });
    expect(world.host(WELL_KNOWN_MX).stats.connections).toBe(0);
  });

  it('a refused port is a FAIL: every result will be unknown', async () => {
    const c = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: 'closed.wellknown.test' }), 'port25');
    expect(c.level).toBe('fail');
    expect(c.message).toMatch(/was refused \(ECONNREFUSED\): every result will be unknown: outbound port 25 is blocked; ask your provider to open it or run the workers elsewhere/);
  });

  it('a silent port (connection accepted, no greeting) is a FAIL after the timeout', async () => {
    const c = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: 'silent.wellknown.test', LISTWASH_DOCTOR_TIMEOUT_MS: '300' }), 'port25');
    expect(c.level).toBe('fail');
    expect(c.message).toMatch(/no greeting came within 300 ms: port 25 is intercepted or filtered/);
    expect(world.host('silent.wellknown.test').stats.totalCommands).toBe(0);
  });

  it('a 554 greeting is a FAIL (the IP is refused); a 421 greeting a warning; both get QUIT only', async () => {
    const blocked = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: 'blocks.wellknown.test' }), 'port25');
    expect(blocked.level).toBe('fail');
    expect(blocked.message).toMatch(/refused this client at connect with "554 5\.7\.1 Service unavailable/);
    expect(world.host('blocks.wellknown.test').stats.commands).toEqual({ QUIT: 1 });
    const busy = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: 'busy.wellknown.test' }), 'port25');
    expect(busy.level).toBe('warn');
    expect(busy.message).toMatch(/port 25 is open, but .* greeted "421 4\.7\.0 Try again later"/);
  });

  it('something that does not speak SMTP is a FAIL', async () => {
    const ip = randomLoopbackIp();
    // resume(): read what the client sends, so its close is seen and server.close() can finish.
    const server: Server = createServer((s) => s.resume().end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, ip, () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const c = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: `${ip}:${port}` }), 'port25');
      expect(c.level).toBe('fail');
      expect(c.message).toMatch(/answered "HTTP\/1\.1 400 Bad Request", which is not SMTP/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a connection closed before any greeting is a FAIL', async () => {
    const ip = randomLoopbackIp();
    const server: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, ip, () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const c = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: `${ip}:${port}` }), 'port25');
      expect(c.level).toBe('fail');
      expect(c.message).toMatch(/but it closed before any greeting \(.*\): port 25 is filtered on the way, so every result will be unknown/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('an address outside the allowed targets gets no connection, unless LISTWASH_DOCTOR_TARGETS allows it', async () => {
    const refused = checkOf(await runDoctorOn(world, {}, { LISTWASH_ALLOWED_TARGETS: 'public' }), 'port25');
    expect(refused.level).toBe('warn');
    expect(refused.message).toMatch(/^not checked: mx\.wellknown\.test resolves to 127\.[\d.]+, outside LISTWASH_ALLOWED_TARGETS; set LISTWASH_DOCTOR_TARGETS/);
    expect(world.host(WELL_KNOWN_MX).stats.connections).toBe(0);

    const own = checkOf(await runDoctorOn(world, {}, { LISTWASH_ALLOWED_TARGETS: 'public', LISTWASH_DOCTOR_TARGETS: 'loopback' }), 'port25');
    expect(own.level).toBe('ok');
    expect(world.host(WELL_KNOWN_MX).stats.connections).toBe(1);

    const narrowed = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_TARGETS: '10.0.0.0/8' }), 'port25');
    expect(narrowed.message).toMatch(/outside LISTWASH_DOCTOR_TARGETS/);
    expect(world.host(WELL_KNOWN_MX).stats.connections).toBe(1);
  });

  it('a target that does not resolve is not checked (a warning, no connection)', async () => {
    const c = checkOf(await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: 'nowhere.wellknown.test' }), 'port25');
    expect(c).toMatchObject({ level: 'warn', message: expect.stringMatching(/^not checked: nowhere\.wellknown\.test \(LISTWASH_DOCTOR_PORT25_HOST\) does not resolve \(NXDOMAIN\)/) });
  });

  it("connects from the identity's bind address, which is then the egress witness", async () => {
    const bind = randomLoopbackIp();
    const report = await runDoctorOn(world, {}, {}, [{ name: 'pool-1', bind, helo: HELO, mailFrom: MAIL_FROM }]);
    expect(checkOf(report, 'port25')).toMatchObject({ level: 'ok', details: { localAddress: bind } });
    expect(checkOf(report, 'egress-ip').message).toBe(
      `connections leave from ${bind}, which is not a public address (NAT or a private network): the public IP could not be determined; pass --ip <public IP> (or set LISTWASH_DOCTOR_IP) to check reverse DNS, SPF and DNSBLs`,
    );
  });

  it('an IPv4 bind address and an IPv6-only target: not checked, no connection', async () => {
    const report = await runDoctorOn(world, {}, { LISTWASH_DOCTOR_PORT25_HOST: '[::1]:1' }, [{ name: 'v4', bind: randomLoopbackIp(), helo: HELO, mailFrom: MAIL_FROM }]);
    expect(checkOf(report, 'port25')).toMatchObject({ level: 'warn', message: expect.stringMatching(/^not checked: ::1 has no IPv4 address to reach from this identity's bind address/) });
  });

  it('a bind address that is not on this machine is a FAIL naming it', async () => {
    const report = await runDoctorOn(world, {}, {}, [{ name: 'pool-2', bind: '192.0.2.77', helo: HELO, mailFrom: MAIL_FROM }]);
    expect(checkOf(report, 'port25')).toMatchObject({ level: 'fail', message: expect.stringMatching(/bind address 192\.0\.2\.77 is not an address of this machine \(EADDRNOTAVAIL/) });
    expect(world.host(WELL_KNOWN_MX).stats.connections).toBe(0);
  });
});

describe('port 25: settings and judgement', () => {
  it('LISTWASH_DOCTOR_PORT25_HOST is host or host:port; the port defaults to LISTWASH_SMTP_PORT', () => {
    expect(parsePort25Host('Gmail-SMTP-in.l.google.com', 25)).toEqual({ host: 'gmail-smtp-in.l.google.com', port: 25 });
    expect(parsePort25Host('mx.example.org:2525', 25)).toEqual({ host: 'mx.example.org', port: 2525 });
    expect(parsePort25Host('127.0.0.9:26', 25)).toEqual({ host: '127.0.0.9', port: 26 });
    expect(parsePort25Host('[::1]:27', 25)).toEqual({ host: '::1', port: 27 });
    expect(parsePort25Host('2001:db8::1', 25)).toEqual({ host: '2001:db8::1', port: 25 });
    for (const bad of ['mx.example.org:0', 'mx.example.org:70000', 'a b', 'http://x']) {
      let caught: unknown;
      try {
        parsePort25Host(bad, 25);
      } catch (err) {
        caught = err;
      }
      expect(isListwashError(caught, 'CONFIG_INVALID'), bad).toBe(true);
    }
  });

  it('a connect timeout is a FAIL that says port 25 is blocked', () => {
    const settings = port25SettingsFromConfig(loadConfig({ LISTWASH_DOCTOR_PORT25_HOST: 'mx.example.org' }));
    const c = judgePort25(settings, '192.0.2.1', { kind: 'connect_timeout' });
    expect(c).toMatchObject({ level: 'fail', message: 'no connection to mx.example.org [192.0.2.1]:25 within 5000 ms: every result will be unknown: outbound port 25 is blocked; ask your provider to open it or run the workers elsewhere' });
    const unreachable = judgePort25(settings, '192.0.2.1', { kind: 'unreachable', detail: 'ENETUNREACH: connect ENETUNREACH' });
    expect(unreachable).toMatchObject({ level: 'fail', message: expect.stringMatching(/is unreachable \(ENETUNREACH.*outbound port 25 is blocked/) });
  });
});
