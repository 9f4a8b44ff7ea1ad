import { describe, expect, it } from 'vitest';
import { HostPolicy, SimHostStats, SmtpSession, dnsblReply, parsePath, type SimMxHostOptions } from '../../src/world/index.js';

function session(opts: SimMxHostOptions = {}, ip = '127.9.9.9'): { s: SmtpSession; policy: HostPolicy; stats: SimHostStats } {
  const stats = new SimHostStats();
  const policy = new HostPolicy(opts, stats);
  return { s: new SmtpSession(policy, ip), policy, stats };
}

/** Run lines at time `now`; return replies without CRLF. */
function run(s: SmtpSession, lines: string[], now = 0): string[] {
  return lines.map((l) => s.handleLine(l, now).replace(/\r\n$/, '').replace(/\r\n/g, '\n'));
}

const OPEN = ['EHLO p.test', 'MAIL FROM:<p@s.test>'];

describe('parsePath', () => {
  it('extracts the address of MAIL FROM / RCPT TO', () => {
    expect(parsePath('FROM:<a@b.test> SIZE=100', 'FROM:')).toBe('a@b.test');
    expect(parsePath('from: <a@b.test>', 'FROM:')).toBe('a@b.test');
    expect(parsePath('FROM:<>', 'FROM:')).toBe('');
    expect(parsePath('TO:a@b.test', 'TO:')).toBe('a@b.test');
    expect(parsePath('TO:<a@b.test', 'TO:')).toBeUndefined();
    expect(parsePath('FROM:<a@b.test>', 'TO:')).toBeUndefined();
    expect(parsePath('TO:', 'TO:')).toBeUndefined();
  });
});

describe('SmtpSession', () => {
  it('advertises STARTTLS only when enabled and not yet in TLS', () => {
    const { s } = session({ startTls: true });
    expect(s.handleLine('EHLO p.test', 0)).toContain('250-STARTTLS\r\n');
    expect(s.handleLine('STARTTLS', 0)).toBe('220 2.0.0 Ready to start TLS\r\n');
    expect(s.action).toBe('starttls');
    s.tlsStarted();
    expect(s.tls).toBe(true);
    expect(s.handleLine('EHLO p.test', 0)).not.toContain('STARTTLS');
    expect(s.action).toBe('none');
  });

  it('QUIT closes and later lines get nothing', () => {
    const { s } = session();
    expect(run(s, ['QUIT'])).toEqual(['221 2.0.0 Bye']);
    expect(s.action).toBe('close');
    expect(s.handleLine('NOOP', 0)).toBe('');
  });

  it('greylisting passes once the period has elapsed (injected clock)', () => {
    const { s, stats } = session({ greylistSeconds: 300, mailboxes: ['dave'] });
    run(s, OPEN, 0);
    expect(run(s, ['RCPT TO:<dave@g.test>'], 1_000)).toEqual(['450 4.7.1 Greylisted, try again later']);
    expect(run(s, ['RCPT TO:<dave@g.test>'], 300_999)).toEqual(['450 4.7.1 Greylisted, try again later']);
    expect(run(s, ['RCPT TO:<dave@g.test>'], 301_000)).toEqual(['250 2.1.5 OK']);
    expect(run(s, ['RCPT TO:<DAVE@G.TEST>'], 301_000)).toEqual(['250 2.1.5 OK']);
    expect(stats.greylisted).toBe(2);
  });

  it('greylisting keys on the client IP', () => {
    const stats = new SimHostStats();
    const policy = new HostPolicy({ greylistSeconds: 10, catchAll: true }, stats);
    const a = new SmtpSession(policy, '127.0.0.2');
    const b = new SmtpSession(policy, '127.0.0.3');
    run(a, OPEN);
    run(b, OPEN);
    expect(run(a, ['RCPT TO:<x@d.test>'], 0)).toEqual(['450 4.7.1 Greylisted, try again later']);
    expect(run(a, ['RCPT TO:<x@d.test>'], 10_000)).toEqual(['250 2.1.5 OK']);
    expect(run(b, ['RCPT TO:<x@d.test>'], 10_000)).toEqual(['450 4.7.1 Greylisted, try again later']);
  });

  it('rate limit uses a sliding 1 s window per client; rejected RCPTs do not fill it', () => {
    const { s, stats } = session({ maxRcptPerSecond: 2, catchAll: true });
    run(s, OPEN);
    expect(run(s, ['RCPT TO:<a@d.test>'], 0)).toEqual(['250 2.1.5 OK']);
    expect(run(s, ['RCPT TO:<b@d.test>'], 500)).toEqual(['250 2.1.5 OK']);
    expect(run(s, ['RCPT TO:<c@d.test>'], 999)).toEqual(['450 4.7.1 Rate limit exceeded, slow down']);
    expect(run(s, ['RCPT TO:<c@d.test>'], 1000)).toEqual(['250 2.1.5 OK']); // the one at 0 left the window
    expect(run(s, ['RCPT TO:<d@d.test>'], 1499)).toEqual(['450 4.7.1 Rate limit exceeded, slow down']);
    expect(run(s, ['RCPT TO:<d@d.test>'], 1500)).toEqual(['250 2.1.5 OK']);
    expect(stats.violations.rate).toBe(2);
    expect(stats.rcptCount).toBe(6);
  });

  it('bans after N violations for banSeconds, then forgives', () => {
    const { s, policy, stats } = session({ maxRcptPerSecond: 1, banAfterViolations: 2, banSeconds: 10, catchAll: true });
    run(s, OPEN);
    run(s, ['RCPT TO:<a@d.test>', 'RCPT TO:<b@d.test>', 'RCPT TO:<c@d.test>'], 0);
    expect(stats.violations.rate).toBe(2);
    expect(run(s, ['RCPT TO:<d@d.test>'], 5_000)).toEqual(['554 5.7.1 Service unavailable; client host blocked']);
    expect(policy.connect('127.9.9.9', 5_000)).toMatchObject({ close: true, admitted: false });
    expect(policy.connect('127.9.9.8', 5_000)).toMatchObject({ close: false, admitted: true }); // other client
    expect(run(s, ['RCPT TO:<d@d.test>'], 10_001)).toEqual(['250 2.1.5 OK']);
    expect(policy.connect('127.9.9.9', 10_001).reply).toMatch(/^220 /);
  });

  it('a DNSBL-listed client is refused at every RCPT with Postfix\'s wording; other clients are answered', () => {
    const stats = new SimHostStats();
    const policy = new HostPolicy({ dnsblClients: ['127.0.0.2'], mailboxes: ['bob'] }, stats);
    const listed = new SmtpSession(policy, '127.0.0.2');
    const clean = new SmtpSession(policy, '127.0.0.3');
    run(listed, OPEN);
    run(clean, OPEN);
    expect(run(listed, ['RCPT TO:<bob@d.test>'])).toEqual(['554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using dnsbl.sim.test']);
    expect(run(clean, ['RCPT TO:<bob@d.test>'])).toEqual(['250 2.1.5 OK']);
    expect(stats.dnsblRefusals).toBe(1);
  });

  it('dnsblStage connect: a listed client is greeted with the refusal and gets 503 until QUIT', () => {
    const stats = new SimHostStats();
    const policy = new HostPolicy({ dnsblClients: true, dnsblStage: 'connect', mailboxes: ['bob'] }, stats);
    const d = policy.connect('127.0.0.9', 0);
    expect(d).toMatchObject({ reply: `${dnsblReply('127.0.0.9')}\r\n`, close: false, admitted: true, rejecting: true });
    expect(stats.dnsblRefusals).toBe(1);
  });

  it('connection limit counts admitted connections per client and frees on disconnect', () => {
    const { policy, stats } = session({ maxConnectionsPerClient: 1 });
    expect(policy.connect('127.1.1.1', 0).reply).toMatch(/^220 /);
    expect(policy.connect('127.1.1.1', 0)).toMatchObject({ reply: '421 4.7.0 Too many connections, try again later\r\n', close: true, admitted: false });
    expect(policy.connect('127.1.1.2', 0).admitted).toBe(true);
    policy.disconnect('127.1.1.1');
    expect(policy.connect('127.1.1.1', 0).admitted).toBe(true);
    expect(stats.violations.connectionLimit).toBe(1);
  });

  it('dropAfterCommands: the command after N asks for a reset', () => {
    const { s, stats } = session({ dropAfterCommands: 1 });
    expect(run(s, ['EHLO p.test'])[0]).toMatch(/^250-/);
    expect(s.handleLine('MAIL FROM:<p@s.test>', 0)).toBe('');
    expect(s.action).toBe('reset');
    expect(stats.droppedConnections).toBe(1);
  });

  it('tarpit N: silent after N commands, but still counts them', () => {
    const { s, stats } = session({ tarpit: 2 });
    expect(run(s, ['EHLO p.test', 'NOOP', 'NOOP', 'DATA'])).toEqual([expect.stringMatching(/^250-/), '250 2.0.0 Ok', '', '']);
    expect(stats.commands.NOOP).toBe(2);
    expect(stats.dataCommands).toBe(1);
  });

  it('BDAT asks the transport to skip the chunk; a bad BDAT gets 501', () => {
    const { s, stats } = session();
    run(s, OPEN);
    expect(s.handleLine('BDAT 12 LAST', 0)).toBe('554 5.5.1 No DATA in simulator\r\n');
    expect(s.action).toBe('skip');
    expect(s.skipBytes).toBe(12);
    expect(run(s, ['BDAT x'])).toEqual([expect.stringMatching(/^501 /)]);
    expect(stats.dataCommands).toBe(2);
  });

  it('recipient rule order: custom > disabled > full > catch-all > mailboxes', () => {
    const { s } = session({
      catchAll: true,
      disabled: true,
      full: ['frank'],
      rcptReplies: { vip: '250 2.1.5 VIP' },
    });
    run(s, OPEN);
    expect(run(s, ['RCPT TO:<vip@d.test>', 'RCPT TO:<frank@d.test>', 'RCPT TO:<x@d.test>'])).toEqual([
      '250 2.1.5 VIP',
      '550 5.2.1 Mailbox disabled',
      '550 5.2.1 Mailbox disabled',
    ]);
    const other = session({ full: true, mailboxes: ['a'] }).s;
    run(other, OPEN);
    expect(run(other, ['RCPT TO:<zzz@d.test>'])).toEqual(['452 4.2.2 Mailbox full']);
  });

  it('policy.update changes behaviour for live sessions', () => {
    const { s, policy } = session({ mailboxes: [] });
    run(s, OPEN);
    expect(run(s, ['RCPT TO:<a@d.test>'])[0]).toMatch(/^550 /);
    policy.update({ mailboxes: ['a'] });
    expect(run(s, ['RCPT TO:<a@d.test>'])).toEqual(['250 2.1.5 OK']);
  });

  it('overlong lines get 500 and count as commands', () => {
    const { s, stats } = session();
    expect(s.handleOverlong()).toMatch(/^500 5\.5\.2 /);
    expect(s.commands).toBe(1);
    expect(stats.commands.OTHER).toBe(1);
  });
});

describe('SimHostStats.maxRcptInWindow', () => {
  it('finds the busiest half-open window', () => {
    const st = new SimHostStats();
    expect(st.maxRcptInWindow()).toBe(0);
    st.rcptTimestamps = [0, 500, 1000, 1500, 1600, 1700, 5000];
    expect(st.maxRcptInWindow(1000)).toBe(4); // 1000,1500,1600,1700
    expect(st.maxRcptInWindow(200)).toBe(2);
    expect(st.maxRcptInWindow(10_000)).toBe(7);
    st.rcptTimestamps = [0, 1000, 2000];
    expect(st.maxRcptInWindow(1000)).toBe(1); // evenly spaced at exactly the rate
  });
});
