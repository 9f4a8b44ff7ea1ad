import { afterEach, describe, expect, it } from 'vitest';
import { SimMxHost, type SimMxHostOptions } from '../../src/world/index.js';
import { isListwashError } from '../../src/errors.js';
import { RawSmtpClient, connectOutcome, randomLoopbackIp } from './raw-smtp-client.js';

const started: SimMxHost[] = [];
const clients: RawSmtpClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(started.splice(0).map((h) => h.stop()));
});

async function startHost(opts: SimMxHostOptions = {}): Promise<SimMxHost> {
  const host = new SimMxHost({ ip: randomLoopbackIp(), port: 0, ...opts });
  await host.start();
  started.push(host);
  return host;
}

async function open(host: SimMxHost, localAddress?: string): Promise<{ client: RawSmtpClient; banner: string }> {
  const r = await RawSmtpClient.open(host.ip, host.port, localAddress);
  clients.push(r.client);
  return r;
}

async function connectRaw(host: SimMxHost): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect(host.ip, host.port);
  clients.push(c);
  return c;
}

/** Open a session and get as far as an open MAIL FROM transaction. */
async function inTransaction(host: SimMxHost, from = 'probe@sender.test', localAddress?: string): Promise<RawSmtpClient> {
  const { client } = await open(host, localAddress);
  expect(await client.cmd('EHLO prober.test')).toMatch(/^250-/);
  expect(await client.cmd(`MAIL FROM:<${from}>`)).toBe('250 2.1.0 Ok');
  return client;
}

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SimMxHost: conversation', () => {
  it('greets, advertises extensions and answers a whole probe conversation', async () => {
    const host = await startHost({ hostname: 'mx.acme.test', mailboxes: ['alice', 'bob@acme.test'] });
    const { client, banner } = await open(host);
    expect(banner).toBe('220 mx.acme.test ESMTP listwash simulator');
    const ehlo = await client.cmd('EHLO prober.test');
    const lines = ehlo.split('\n');
    expect(lines[0]).toBe('250-mx.acme.test Hello prober.test');
    expect(lines).toContain('250-PIPELINING');
    expect(lines).toContain('250-8BITMIME');
    expect(lines).toContain('250-SIZE 10485760');
    expect(lines.at(-1)).toBe('250 SMTPUTF8');
    expect(ehlo).not.toContain('STARTTLS');
    expect(await client.cmd('MAIL FROM:<probe@sender.test>')).toBe('250 2.1.0 Ok');
    expect(await client.cmd('RCPT TO:<Alice@acme.test>')).toBe('250 2.1.5 OK');
    expect(await client.cmd('RCPT TO:<bob@acme.test>')).toBe('250 2.1.5 OK');
    expect(await client.cmd('RCPT TO:<bob@other.test>')).toBe('550 5.1.1 <bob@other.test>: Recipient address rejected: User unknown');
    expect(await client.cmd('RCPT TO:<zed@acme.test>')).toBe('550 5.1.1 <zed@acme.test>: Recipient address rejected: User unknown');
    expect(await client.cmd('VRFY alice')).toMatch(/^252 /);
    expect(await client.cmd('NOOP')).toBe('250 2.0.0 Ok');
    expect(await client.cmd('RSET')).toBe('250 2.0.0 Ok');
    expect(await client.cmd('HELP')).toMatch(/^500 /);
    expect(await client.cmd('QUIT')).toBe('221 2.0.0 Bye');
    expect(await client.waitEnd()).toEqual({});
    expect(host.stats.commands).toMatchObject({ EHLO: 1, MAIL: 1, RCPT: 4, VRFY: 1, NOOP: 1, RSET: 1, QUIT: 1, OTHER: 1 });
    expect(host.stats.rcptCount).toBe(4);
    expect(host.stats.dataCommands).toBe(0);
    await waitFor(() => host.stats.currentConnections === 0);
    expect(host.stats.connections).toBe(1);
  });

  it('enforces command order with 503 and rejects bad syntax with 501', async () => {
    const host = await startHost({ mailboxes: ['a'] });
    const { client } = await open(host);
    expect(await client.cmd('MAIL FROM:<x@y.test>')).toMatch(/^503 5\.5\.1 /);
    expect(await client.cmd('HELO prober.test')).toBe('250 sim-mx.listwash.test');
    expect(await client.cmd('RCPT TO:<a@b.test>')).toMatch(/^503 5\.5\.1 .*MAIL/);
    expect(await client.cmd('MAIL TO:<x@y.test>')).toMatch(/^501 /);
    expect(await client.cmd('MAIL FROM:<>')).toBe('250 2.1.0 Ok');
    expect(await client.cmd('MAIL FROM:<x@y.test>')).toMatch(/^503 .*nested/);
    expect(await client.cmd('RCPT TO:<>')).toMatch(/^501 /);
    expect(await client.cmd('RSET')).toBe('250 2.0.0 Ok');
    expect(await client.cmd('RCPT TO:<a@b.test>')).toMatch(/^503 /);
  });

  it('answers a pipelined batch in order, in one piece', async () => {
    const host = await startHost({ mailboxes: ['a', 'c'] });
    const { client } = await open(host);
    const replies = await client.pipeline([
      'EHLO prober.test',
      'MAIL FROM:<p@s.test>',
      'RCPT TO:<a@d.test>',
      'RCPT TO:<b@d.test>',
      'RCPT TO:<c@d.test>',
      'RSET',
      'QUIT',
    ]);
    expect(replies.slice(1)).toEqual([
      '250 2.1.0 Ok',
      '250 2.1.5 OK',
      '550 5.1.1 <b@d.test>: Recipient address rejected: User unknown',
      '250 2.1.5 OK',
      '250 2.0.0 Ok',
      '221 2.0.0 Bye',
    ]);
  });

  it('does not advertise PIPELINING when disabled but still answers lines in order', async () => {
    const host = await startHost({ pipelining: false, catchAll: true });
    const { client } = await open(host);
    const [ehlo, mail, rcpt] = await client.pipeline(['EHLO p.test', 'MAIL FROM:<p@s.test>', 'RCPT TO:<x@d.test>']);
    expect(ehlo).not.toContain('PIPELINING');
    expect(mail).toBe('250 2.1.0 Ok');
    expect(rcpt).toBe('250 2.1.5 OK');
  });

  it('accepts LF-only line endings and reassembles commands split across packets', async () => {
    const host = await startHost({ catchAll: true });
    const client = await inTransaction(host);
    client.write('RCPT TO:<split');
    await new Promise((r) => setTimeout(r, 30));
    client.write('@d.test>\n');
    expect(await client.reply()).toBe('250 2.1.5 OK');
  });

  it('answers 500 to a line longer than 1000 bytes and carries on', async () => {
    const host = await startHost({ catchAll: true });
    const client = await inTransaction(host);
    expect(await client.cmd(`RCPT TO:<${'x'.repeat(1200)}@d.test>`)).toMatch(/^500 5\.5\.2 .*too long/);
    client.write('NOOP '.padEnd(3000, 'y'));
    client.write('\r\n');
    expect(await client.reply()).toMatch(/^500 /);
    expect(await client.cmd('RCPT TO:<ok@d.test>')).toBe('250 2.1.5 OK');
  });
});

describe('SimMxHost: mailbox behaviours', () => {
  it('catch-all, full (452 and 552), disabled, custom replies and relay domains', async () => {
    const host = await startHost({
      catchAll: true,
      full: ['frank'],
      disabled: ['grace@d.test'],
      rcptReplies: { odd: '553 5.1.3 Odd address', 'weird@d.test': '450-4.2.1 line one\n450 4.2.1 line two' },
      domains: ['d.test'],
    });
    const client = await inTransaction(host);
    expect(await client.cmd('RCPT TO:<anybody@d.test>')).toBe('250 2.1.5 OK');
    expect(await client.cmd('RCPT TO:<frank@d.test>')).toBe('452 4.2.2 Mailbox full');
    expect(await client.cmd('RCPT TO:<grace@d.test>')).toBe('550 5.2.1 Mailbox disabled');
    expect(await client.cmd('RCPT TO:<odd@d.test>')).toBe('553 5.1.3 Odd address');
    expect(await client.cmd('RCPT TO:<weird@d.test>')).toBe('450-4.2.1 line one\n450 4.2.1 line two');
    expect(await client.cmd('RCPT TO:<x@elsewhere.test>')).toBe('554 5.7.1 <x@elsewhere.test>: Relay access denied');
    host.update({ fullCode: 552 });
    expect(await client.cmd('RCPT TO:<frank@d.test>')).toBe('552 5.2.2 Mailbox full');
  });

  it('replies with the custom MAIL FROM reply and opens no transaction for a non-2xx one', async () => {
    const host = await startHost({ catchAll: true, mailFromReply: '550 5.7.1 Sender rejected' });
    const { client } = await open(host);
    await client.cmd('EHLO p.test');
    expect(await client.cmd('MAIL FROM:<p@s.test>')).toBe('550 5.7.1 Sender rejected');
    expect(await client.cmd('RCPT TO:<a@d.test>')).toMatch(/^503 /);
  });

  it('greylists a triplet until the period has passed, then answers normally', async () => {
    const host = await startHost({ mailboxes: ['dave'], greylistSeconds: 1 });
    const client = await inTransaction(host);
    expect(await client.cmd('RCPT TO:<dave@g.test>')).toBe('450 4.7.1 Greylisted, try again later');
    expect(await client.cmd('RCPT TO:<dave@g.test>')).toBe('450 4.7.1 Greylisted, try again later');
    expect(await client.cmd('RCPT TO:<nobody@g.test>')).toBe('450 4.7.1 Greylisted, try again later');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await client.cmd('RCPT TO:<dave@g.test>')).toBe('250 2.1.5 OK');
    expect(await client.cmd('RCPT TO:<nobody@g.test>')).toMatch(/^550 5\.1\.1 /);
    // A new triplet (other sender) starts its own period.
    expect(await client.cmd('RSET')).toBe('250 2.0.0 Ok');
    expect(await client.cmd('MAIL FROM:<other@s.test>')).toBe('250 2.1.0 Ok');
    expect(await client.cmd('RCPT TO:<dave@g.test>')).toMatch(/^450 4\.7\.1 Greylisted/);
    expect(host.stats.greylisted).toBe(4);
  });

  it('answers 452 4.5.3 beyond maxRcptPerTransaction, and a new transaction starts over', async () => {
    const host = await startHost({ catchAll: true, maxRcptPerTransaction: 2 });
    const client = await inTransaction(host);
    expect(await client.pipeline(['RCPT TO:<a@d.test>', 'RCPT TO:<b@d.test>', 'RCPT TO:<c@d.test>'])).toEqual([
      '250 2.1.5 OK',
      '250 2.1.5 OK',
      '452 4.5.3 Too many recipients',
    ]);
    expect(await client.pipeline(['RSET', 'MAIL FROM:<p@s.test>', 'RCPT TO:<c@d.test>'])).toEqual([
      '250 2.0.0 Ok',
      '250 2.1.0 Ok',
      '250 2.1.5 OK',
    ]);
  });
});

describe('SimMxHost: limits and bans', () => {
  it('refuses a connection beyond maxConnectionsPerClient with 421 and closes it', async () => {
    const host = await startHost({ maxConnectionsPerClient: 2 });
    const a = await open(host);
    const b = await open(host);
    expect(a.banner).toMatch(/^220 /);
    expect(b.banner).toMatch(/^220 /);
    const c = await open(host);
    expect(c.banner).toBe('421 4.7.0 Too many connections, try again later');
    await c.client.waitEnd();
    expect(host.stats.violations.connectionLimit).toBe(1);
    expect(host.stats.peakConcurrentConnections).toBe(3);
    // A slot frees up when a session ends.
    await a.client.cmd('QUIT');
    await a.client.waitEnd();
    await waitFor(() => host.stats.currentConnections === 1);
    const d = await open(host);
    expect(d.banner).toMatch(/^220 /);
  });

  it('rate-limits RCPTs per sliding second, then bans the client after N violations', async () => {
    const host = await startHost({ catchAll: true, maxRcptPerSecond: 3, banAfterViolations: 2, banSeconds: 1 });
    const client = await inTransaction(host);
    // One pipelined batch, so all six arrive well within one second.
    const replies = await client.pipeline(['a', 'b', 'c', 'd', 'e', 'f'].map((l) => `RCPT TO:<${l}@d.test>`));
    expect(replies).toEqual([
      '250 2.1.5 OK',
      '250 2.1.5 OK',
      '250 2.1.5 OK',
      '450 4.7.1 Rate limit exceeded, slow down',
      '450 4.7.1 Rate limit exceeded, slow down',
      // Second violation: banned. RCPTs in the open session and new connections are refused.
      '554 5.7.1 Service unavailable; client host blocked',
    ]);
    expect(host.stats.violations.rate).toBe(2);
    const banned = await open(host);
    expect(banned.banner).toBe('554 5.7.1 Service unavailable; client host blocked');
    await banned.client.waitEnd();
    expect(host.stats.bannedConnections).toBe(1);
    // The ban (1 s) and the rate window expire.
    await new Promise((r) => setTimeout(r, 1100));
    const again = await open(host);
    expect(again.banner).toMatch(/^220 /);
    expect(await client.cmd('RCPT TO:<g@d.test>')).toBe('250 2.1.5 OK');
  });

  it('records connection-limit violations towards a ban', async () => {
    const host = await startHost({ maxConnectionsPerClient: 1, banAfterViolations: 1, banSeconds: 60 });
    await open(host);
    const second = await open(host);
    expect(second.banner).toMatch(/^421 /);
    const third = await open(host);
    expect(third.banner).toMatch(/^554 5\.7\.1 /);
    host.resetState();
    await waitFor(() => host.stats.currentConnections === 1);
    const fourth = await open(host);
    expect(fourth.banner).toMatch(/^421 /); // ban forgotten; the first connection still holds the only slot
  });
});

describe('SimMxHost: DATA, STARTTLS, drops and delays', () => {
  it('counts DATA and BDAT and refuses them; a BDAT chunk is skipped, not read as commands', async () => {
    const host = await startHost({ catchAll: true });
    const client = await inTransaction(host);
    await client.cmd('RCPT TO:<a@d.test>');
    expect(await client.cmd('DATA')).toBe('554 5.5.1 No DATA in simulator');
    const chunk = 'QUIT\r\nRSET\r\n';
    client.write(`BDAT ${Buffer.byteLength(chunk)} LAST\r\n${chunk}`);
    expect(await client.reply()).toBe('554 5.5.1 No DATA in simulator');
    expect(await client.cmd('NOOP')).toBe('250 2.0.0 Ok');
    expect(host.stats.dataCommands).toBe(2);
    expect(host.stats.commands.QUIT).toBeUndefined();
  });

  it('upgrades to TLS on STARTTLS, requires a new EHLO, and counts the TLS session', async () => {
    const host = await startHost({ startTls: true, mailboxes: ['oscar'] });
    const { client } = await open(host);
    const ehlo = await client.cmd('EHLO p.test');
    expect(ehlo.split('\n')).toContain('250-STARTTLS');
    expect(await client.cmd('STARTTLS')).toBe('220 2.0.0 Ready to start TLS');
    const tls = await client.upgradeTls();
    expect(tls.encrypted).toBe(true);
    expect(tls.getPeerCertificate().subject.CN).toBe('sim-mx.listwash.test');
    expect(await client.cmd('MAIL FROM:<p@s.test>')).toMatch(/^503 /);
    const ehlo2 = await client.cmd('EHLO p.test');
    expect(ehlo2).not.toContain('STARTTLS');
    expect(await client.cmd('MAIL FROM:<p@s.test>')).toBe('250 2.1.0 Ok');
    expect(await client.cmd('RCPT TO:<oscar@s.test>')).toBe('250 2.1.5 OK');
    expect(await client.cmd('STARTTLS')).toMatch(/^503 /);
    expect(host.stats.tlsSessions).toBe(1);
  });

  it('drops commands pipelined after STARTTLS (no plaintext injection)', async () => {
    const host = await startHost({ startTls: true, catchAll: true });
    const { client } = await open(host);
    await client.cmd('EHLO p.test');
    client.write('STARTTLS\r\nNOOP\r\n');
    expect(await client.reply()).toBe('220 2.0.0 Ready to start TLS');
    await client.upgradeTls();
    expect(await client.cmd('NOOP')).toBe('250 2.0.0 Ok');
    expect(host.stats.commands.NOOP).toBe(1);
  });

  it('answers 502 to STARTTLS when it is not offered', async () => {
    const host = await startHost();
    const { client } = await open(host);
    await client.cmd('EHLO p.test');
    expect(await client.cmd('STARTTLS')).toMatch(/^502 /);
  });

  it('resets the connection when the command after dropAfterCommands arrives', async () => {
    const host = await startHost({ catchAll: true, dropAfterCommands: 2 });
    const { client } = await open(host);
    expect(await client.cmd('EHLO p.test')).toMatch(/^250/);
    expect(await client.cmd('MAIL FROM:<p@s.test>')).toBe('250 2.1.0 Ok');
    client.send('RCPT TO:<a@d.test>');
    const end = await client.waitEnd();
    expect(end.error).toBe('ECONNRESET');
    expect(host.stats.droppedConnections).toBe(1);
  });

  it('tarpit true: accepts but never greets; tarpit N: silent after N commands', async () => {
    const silent = await startHost({ tarpit: true });
    const c1 = await connectRaw(silent);
    expect(await c1.anythingWithin(300)).toBe(false);
    c1.send('EHLO p.test');
    expect(await c1.anythingWithin(200)).toBe(false);
    expect(silent.stats.currentConnections).toBe(1);

    const slow = await startHost({ tarpit: 1 });
    const { client } = await open(slow);
    expect(await client.cmd('EHLO p.test')).toMatch(/^250/);
    client.send('MAIL FROM:<p@s.test>');
    expect(await client.anythingWithin(300)).toBe(false);
    expect(client.isEnded).toBe(false);
  });

  it('delays the banner by bannerDelayMs and each reply by replyDelayMs', async () => {
    const host = await startHost({ bannerDelayMs: 400, replyDelayMs: 150, catchAll: true });
    const client = await connectRaw(host);
    expect(await client.anythingWithin(150)).toBe(false);
    expect(await client.reply(3000)).toMatch(/^220 /);
    client.write('EHLO p.test\r\nMAIL FROM:<p@s.test>\r\n');
    expect(await client.anythingWithin(60)).toBe(false);
    expect(await client.reply(3000)).toMatch(/^250-/);
    expect(await client.reply(3000)).toBe('250 2.1.0 Ok');
  });

  it('a custom non-2xx banner: 421 closes, 554 stays open and answers 503 until QUIT', async () => {
    const h421 = await startHost({ connectReply: '421 4.3.2 Service shutting down' });
    const a = await open(h421);
    expect(a.banner).toBe('421 4.3.2 Service shutting down');
    await a.client.waitEnd();

    const h554 = await startHost({ connectReply: '554 5.7.1 No SMTP service here' });
    const b = await open(h554);
    expect(b.banner).toBe('554 5.7.1 No SMTP service here');
    expect(await b.client.cmd('EHLO p.test')).toMatch(/^503 /);
    expect(await b.client.cmd('QUIT')).toBe('221 2.0.0 Bye');
  });

  it('refuse: nothing listens (connection refused)', async () => {
    const host = new SimMxHost({ ip: randomLoopbackIp(), port: 2525, refuse: true });
    await host.start();
    started.push(host);
    expect(host.listening).toBe(false);
    expect(await connectOutcome(host.ip, 2525)).toBe('ECONNREFUSED');
  });

  it('refuses to bind a non-loopback address', async () => {
    const host = new SimMxHost({ ip: '192.0.2.1' });
    const err: unknown = await host.start().then(() => undefined, (e: unknown) => e);
    expect(isListwashError(err, 'SIM_WORLD')).toBe(true);
  });
});

describe('SimMxHost: stats', () => {
  it('tracks peak concurrency, RCPT timestamps and resets', async () => {
    const host = await startHost({ catchAll: true });
    const sessions = await Promise.all([inTransaction(host), inTransaction(host), inTransaction(host)]);
    expect(host.stats.peakConcurrentConnections).toBe(3);
    expect(host.stats.currentConnections).toBe(3);
    await sessions[0]!.pipeline(['RCPT TO:<a@d.test>', 'RCPT TO:<b@d.test>', 'RCPT TO:<c@d.test>']);
    expect(host.stats.maxRcptInWindow(1000)).toBe(3);
    for (const s of sessions) s.close();
    await waitFor(() => host.stats.currentConnections === 0);
    const client = await inTransaction(host);
    await client.cmd('RCPT TO:<d@d.test>');
    host.resetStats();
    expect(host.stats.rcptCount).toBe(0);
    expect(host.stats.maxRcptInWindow()).toBe(0);
    expect(host.stats.peakConcurrentConnections).toBe(1);
    expect(host.stats.currentConnections).toBe(1);
  });

  it('keeps per-client counters: connections, peak concurrency, RCPT times and recipients of each client address', async () => {
    const host = await startHost({ catchAll: true });
    const a1 = await inTransaction(host, 'p@s.test', '127.0.0.2');
    const a2 = await inTransaction(host, 'p@s.test', '127.0.0.2');
    const b = await inTransaction(host, 'p@s.test', '127.0.0.3');
    await a1.cmd('RCPT TO:<x@d.test>');
    await a2.cmd('RCPT TO:<y@d.test>');
    await b.pipeline(['RCPT TO:<x@d.test>', 'RCPT TO:<z@d.test>']);
    const a = host.stats.clients.get('127.0.0.2')!;
    expect([a.connections, a.peakConcurrentConnections, a.recipients]).toEqual([2, 2, ['x@d.test', 'y@d.test']]);
    const bs = host.stats.clients.get('127.0.0.3')!;
    expect([bs.connections, bs.peakConcurrentConnections, bs.recipients, bs.rcptTimestamps.length]).toEqual([1, 1, ['x@d.test', 'z@d.test'], 2]);
    expect(host.stats.rcptCount).toBe(4);
    a1.close();
    await waitFor(() => host.stats.clients.get('127.0.0.2')!.currentConnections === 1);
    host.resetStats();
    expect([...host.stats.clients.keys()].sort()).toEqual(['127.0.0.2', '127.0.0.3']); // still connected
    expect(host.stats.clients.get('127.0.0.2')).toMatchObject({ connections: 0, peakConcurrentConnections: 1, recipients: [] });
  });
});
