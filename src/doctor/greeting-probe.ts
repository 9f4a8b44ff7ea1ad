/**
 * The port-25 check's only traffic: open a TCP connection (from a chosen source address, if any), read
 * the greeting, send `QUIT`, close. Nothing else is ever written: no EHLO, no MAIL. Every wait is bounded.
 */
import { connect } from 'node:net';
import { ReplyReader } from '../smtp/reply-reader.js';
import type { SmtpReply } from '../smtp/reply.js';
import { errorMessage } from '../errors.js';

export interface GreetingProbeOptions {
  address: string;
  port: number;
  /** Source address to bind (an identity's `bind`). */
  localAddress?: string;
  /** Bound on the connect, on the wait for the greeting, and on the wait for QUIT's reply. */
  timeoutMs: number;
}

/** What happened. `localAddress` is the connection's source address, once connected. */
export type GreetingOutcome =
  | { kind: 'greeting'; greeting: SmtpReply; localAddress: string; quitReply: SmtpReply | null }
  /** The peer (or a firewall) refused or reset the connection. */
  | { kind: 'refused'; detail: string }
  /** No route, or the source address cannot be used. */
  | { kind: 'unreachable'; detail: string }
  | { kind: 'connect_timeout' }
  /** Connected, but no greeting came in time. */
  | { kind: 'no_greeting'; localAddress: string }
  /** Connected, but the connection closed (or sent garbage) before a greeting. */
  | { kind: 'closed'; localAddress: string; detail: string };

const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET']);

/** Run the probe. Never rejects: every failure is an outcome. */
export function probeGreeting(opts: GreetingProbeOptions): Promise<GreetingOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: opts.address, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const reader = new ReplyReader();
    let connected = false;
    /** The source address, read once connected (it is gone after close). */
    let localAddress = '';
    let greeting: SmtpReply | null = null;
    let done = false;
    let timer = setTimeout(() => finish({ kind: 'connect_timeout' }), opts.timeoutMs);

    function finish(outcome: GreetingOutcome): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined); // the socket is being destroyed; a late error is meaningless now
      socket.destroy();
      resolve(outcome);
    }
    const onReply = (reply: SmtpReply): void => {
      if (greeting === null) {
        greeting = reply;
        clearTimeout(timer);
        timer = setTimeout(() => finish({ kind: 'greeting', greeting: reply, localAddress, quitReply: null }), opts.timeoutMs);
        socket.write('QUIT\r\n');
        return;
      }
      finish({ kind: 'greeting', greeting, localAddress, quitReply: reply });
    };

    socket.once('connect', () => {
      connected = true;
      localAddress = normalizeMapped(socket.localAddress ?? '');
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'no_greeting', localAddress }), opts.timeoutMs);
    });
    socket.on('data', (chunk: Buffer) => {
      let replies: SmtpReply[];
      try {
        replies = reader.push(chunk);
      } catch (err) {
        finish({ kind: 'closed', localAddress, detail: `not SMTP: ${errorMessage(err)}` });
        return;
      }
      for (const r of replies) onReply(r);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (greeting !== null) finish({ kind: 'greeting', greeting, localAddress, quitReply: null });
      else if (connected) finish({ kind: 'closed', localAddress, detail: err.code ?? err.message });
      else if (REFUSED.has(err.code ?? '')) finish({ kind: 'refused', detail: err.code ?? err.message });
      else finish({ kind: 'unreachable', detail: err.code ? `${err.code}: ${err.message}` : err.message });
    });
    socket.on('close', () => {
      if (greeting !== null) finish({ kind: 'greeting', greeting, localAddress, quitReply: null });
      else finish({ kind: 'closed', localAddress, detail: 'closed by the peer' });
    });
  });
}

/** `::ffff:1.2.3.4` → `1.2.3.4`. */
function normalizeMapped(ip: string): string {
  return ip.toLowerCase().startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

