/**
 * Probe-session behaviours the simulated hosts do not cover, against tiny scripted SMTP servers.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProbeSession } from '../../src/smtp/probe-session.js';
import { SmtpConnection } from '../../src/smtp/connection.js';

type Script = (line: string, sock: Socket, seen: string[]) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function scripted(banner: string, onLine: Script): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((sock) => {
    sock.write(banner + '\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        seen.push(line);
        onLine(line, sock, seen);
      }
    });
    sock.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, seen };
}

const base = { address: '127.0.0.1', serverName: 'scripted.test', heloName: 'probe.listwash.test', mailFrom: 'probe@listwash.test', bannerTimeoutMs: 1000, commandTimeoutMs: 1000 };

describe('ProbeSession', () => {
  it('falls back to HELO when EHLO is not understood, and then does not pipeline', async () => {
    const { port, seen } = await scripted('220 old.test SMTP', (line, sock) => {
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') sock.write('502 5.5.2 Command not recognized\r\n');
      else if (verb === 'HELO') sock.write('250 old.test\r\n');
      else if (verb === 'MAIL') sock.write('250 OK\r\n');
      else if (verb === 'RCPT') sock.write(line.includes('<known@') ? '250 OK\r\n' : '550 5.1.1 unknown\r\n');
      else if (verb === 'QUIT') sock.end('221 bye\r\n');
    });
    const r = await ProbeSession.open({ ...base, port });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.session.capabilities).toMatchObject({ esmtp: false, pipelining: false });
    const out = await r.session.verify([{ address: 'known@old.test' }, { address: 'other@old.test' }]);
    expect(out.map((o) => o.classification.reason)).toEqual(['accepted', 'mailbox_not_found']);
    await r.session.quit();
    expect(seen.map((l) => l.split(' ')[0])).toEqual(['EHLO', 'HELO', 'MAIL', 'RCPT', 'RCPT', 'QUIT']);
  });

  it('reports a failed TLS handshake as stage tls (the engine then retries in plain text)', async () => {
    const { port } = await scripted('220 badtls.test ESMTP', (line, sock) => {
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') sock.write('250-badtls.test\r\n250 STARTTLS\r\n');
      else if (verb === 'STARTTLS') sock.write('220 go ahead\r\nthis is not a TLS handshake\r\n');
    });
    const r = await ProbeSession.open({ ...base, port, startTls: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failure.stage).toBe('tls');
    expect(r.failure.classification.reason).toBe('connection_failed');
  });

  it('sends MAIL FROM with SMTPUTF8 only when an address needs it and the server offers it', async () => {
    const { port, seen } = await scripted('220 utf8.test ESMTP', (line, sock) => {
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') sock.write('250-utf8.test\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n');
      else if (verb === 'MAIL' || verb === 'RCPT') sock.write('250 OK\r\n');
      else if (verb === 'QUIT') sock.end('221 bye\r\n');
    });
    const r = await ProbeSession.open({ ...base, port });
    if (!r.ok) throw new Error('open failed');
    const out = await r.session.verify([{ address: 'jörg@utf8.test', smtputf8: true }]);
    await r.session.quit();
    expect(out[0]!.classification.reason).toBe('accepted');
    expect(seen).toContain('MAIL FROM:<probe@listwash.test> SMTPUTF8');
  });

  it('gives up on an address that needs SMTPUTF8 when the server does not offer it, without sending it', async () => {
    const { port, seen } = await scripted('220 ascii.test ESMTP', (line, sock) => {
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') sock.write('250-ascii.test\r\n250 PIPELINING\r\n');
      else if (verb === 'MAIL' || verb === 'RCPT') sock.write('250 OK\r\n');
      else if (verb === 'QUIT') sock.end('221 bye\r\n');
    });
    const r = await ProbeSession.open({ ...base, port });
    if (!r.ok) throw new Error('open failed');
    const out = await r.session.verify([{ address: 'jörg@ascii.test', smtputf8: true }, { address: 'joerg@ascii.test' }]);
    await r.session.quit();
    expect(out.map((o) => o.classification.reason)).toEqual(['rejected', 'accepted']);
    expect(seen.some((l) => l.includes('jörg'))).toBe(false);
  });

  it('tells the pacing hook what became of each RCPT: answered, unanswered when the connection broke after it was written, unsent when it was never written', async () => {
    let rcpts = 0;
    const { port } = await scripted('220 drop.test ESMTP', (line, sock) => {
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') sock.write('250-drop.test\r\n250 PIPELINING\r\n');
      else if (verb === 'MAIL') sock.write('250 OK\r\n');
      else if (verb === 'RCPT' && ++rcpts <= 2) sock.write('250 OK\r\n');
      else if (verb === 'RCPT') sock.destroy();
    });
    const r = await ProbeSession.open({ ...base, port });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const fates: string[] = [];
    let thirdSettled = (): void => undefined;
    const third = new Promise<void>((resolve) => (thirdSettled = resolve));
    let calls = 0;
    const out = await r.session.verify(['a', 'b', 'c', 'd'].map((l) => ({ address: `${l}@drop.test` })), {
      beforeRcpt: async () => {
        const n = calls++;
        if (n === 3) await third; // the 4th waits until the 3rd is known lost: the connection is gone by then
        return (fate) => {
          expect(fates[n], `fate of RCPT ${n} told twice`).toBeUndefined();
          fates[n] = fate;
          if (n === 2) thirdSettled();
        };
      },
    });
    r.session.close();
    expect(fates).toEqual(['answered', 'answered', 'unanswered', 'unsent']);
    expect(out.map((o) => o.classification.reason)).toEqual(['accepted', 'accepted', 'connection_failed', 'connection_failed']);
  });

  it('refuses to write a command containing CR, LF or NUL (no SMTP command injection)', async () => {
    const { port, seen } = await scripted('220 inj.test ESMTP', (line, sock) => {
      if (line.startsWith('EHLO')) sock.write('250 inj.test\r\n');
    });
    const { conn } = await SmtpConnection.open({ address: '127.0.0.1', port, serverName: 'inj.test' });
    await conn.command('EHLO probe.listwash.test');
    for (const bad of ['RCPT TO:<a@b.test>\r\nDATA', 'RCPT TO:<a@b.test>\nDATA', 'RCPT TO:<a\0@b.test>']) {
      expect(() => conn.send([bad])).toThrow(/CR\/LF\/NUL/);
    }
    conn.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['EHLO probe.listwash.test']);
  });
});
