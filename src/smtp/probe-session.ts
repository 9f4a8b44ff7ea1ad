/**
 * The probe conversation with one MX host: banner → EHLO (HELO fallback) → opportunistic STARTTLS →
 * MAIL FROM once per transaction → RCPT TO per address (pipelined where offered) → RSET between
 * transactions → QUIT. Never DATA, never BDAT: nothing in this module can send them.
 */
import { classifyReply, type SmtpStage } from './classify.js';
import { SmtpConnection, SmtpConnectionError, type ConnectionOptions } from './connection.js';
import type { SmtpReply } from './reply.js';
import type { ReplyClassification } from '../verdict.js';

export interface ProbeSessionOptions extends ConnectionOptions {
  heloName: string;
  /** Envelope sender; `''` sends the null sender `<>`. */
  mailFrom: string;
  /** Opportunistic STARTTLS. Default true. */
  startTls?: boolean;
  /** Verify the server certificate. Default false (as MTAs do). */
  tlsVerify?: boolean;
  /** Most RCPT TO per transaction before RSET + MAIL FROM. Default 100. */
  rcptPerTransaction?: number;
}

export interface Capabilities {
  esmtp: boolean;
  pipelining: boolean;
  startTls: boolean;
  smtputf8: boolean;
}

/** How a session ended before any RCPT: the stage and why. */
export interface SessionFailure {
  stage: SmtpStage | 'tls';
  classification: ReplyClassification;
  reply: SmtpReply | null;
  /** Transport error message when there was no reply. */
  error: string | null;
  /** The transport error kind, when there was one. */
  errorKind: SmtpConnectionError['kind'] | null;
}

export interface RcptOutcome {
  address: string;
  /** The stage whose reply decided: `rcpt` normally, `mail` when MAIL FROM was refused. */
  stage: SmtpStage;
  classification: ReplyClassification;
  reply: SmtpReply | null;
  error: string | null;
}

export interface RcptRequest {
  address: string;
  /** The address needs SMTPUTF8 (non-ASCII local part). */
  smtputf8?: boolean;
}

/** What became of an RCPT TO: the server answered it; it was written but no answer came (connection lost); it was never written. */
export type RcptFate = 'answered' | 'unanswered' | 'unsent';

export interface VerifyHooks {
  /**
   * Awaited before each RCPT TO is written (the fleet-wide RCPT pacing). It may return a function
   * that is then told, exactly once, what became of that RCPT.
   */
  beforeRcpt?: () => Promise<((fate: RcptFate) => void) | void>;
  /** Called as each RCPT reply arrives, before the batch completes (e.g. to publish a catch-all answer early). */
  onReply?: (address: string, reply: SmtpReply) => void;
}

/** Map a transport error to the vocabulary. */
export function classifyConnectionError(err: SmtpConnectionError): ReplyClassification {
  switch (err.kind) {
    case 'connect_timeout':
    case 'timeout':
      return { status: 'unknown', reason: 'timeout' };
    default:
      return { status: 'unknown', reason: 'connection_failed' };
  }
}

function is2xx(r: SmtpReply): boolean {
  return r.code >= 200 && r.code < 300;
}

export function parseCapabilities(ehlo: SmtpReply): Capabilities {
  const keywords = new Set(ehlo.lines.slice(1).map((l) => (l.trim().split(/\s+/, 1)[0] ?? '').toUpperCase()));
  return { esmtp: true, pipelining: keywords.has('PIPELINING'), startTls: keywords.has('STARTTLS'), smtputf8: keywords.has('SMTPUTF8') };
}

export class ProbeSession {
  /** Replies with 4xx / 5xx codes seen, and RCPTs sent — for per-host stats. */
  readonly counters = { rcpt: 0, replies4xx: 0, replies5xx: 0 };
  private rcptLimit: number;
  /** A 421 arrived: the server is closing; everything after is "rate limited", not a mailbox verdict. */
  private closing: { reply: SmtpReply; classification: ReplyClassification } | null = null;

  private constructor(
    private readonly conn: SmtpConnection,
    private readonly opts: ProbeSessionOptions,
    readonly capabilities: Capabilities,
    readonly banner: SmtpReply,
  ) {
    this.rcptLimit = opts.rcptPerTransaction ?? 100;
  }

  get tls(): boolean {
    return this.conn.tls;
  }

  /** Connect and greet. Never throws for anything the server or network does. */
  static async open(opts: ProbeSessionOptions): Promise<{ ok: true; session: ProbeSession } | { ok: false; failure: SessionFailure }> {
    let conn: SmtpConnection;
    let banner: SmtpReply;
    try {
      ({ conn, banner } = await SmtpConnection.open(opts));
    } catch (err) {
      if (!(err instanceof SmtpConnectionError)) throw err;
      return { ok: false, failure: { stage: 'connect', classification: classifyConnectionError(err), reply: null, error: err.message, errorKind: err.kind } };
    }
    const fail = (stage: SessionFailure['stage'], reply: SmtpReply | null, err: unknown): { ok: false; failure: SessionFailure } => {
      if (err !== null && !(err instanceof SmtpConnectionError)) throw err;
      conn.close();
      const classification = reply ? classifyReply(stage === 'tls' ? 'ehlo' : stage, reply) : classifyConnectionError(err as SmtpConnectionError);
      return { ok: false, failure: { stage, classification, reply, error: err ? (err as Error).message : null, errorKind: err ? (err as SmtpConnectionError).kind : null } };
    };
    if (!is2xx(banner)) {
      // Politely end even a refusal (a 554 banner still expects QUIT).
      await conn.quit();
      return fail('connect', banner, null);
    }
    try {
      let caps = await ProbeSession.greet(conn, opts.heloName);
      if (!caps.ok) {
        await conn.quit();
        return fail('ehlo', caps.reply, null);
      }
      if ((opts.startTls ?? true) && caps.capabilities.startTls) {
        const r = await conn.command('STARTTLS');
        if (r.code === 220) {
          try {
            await conn.upgradeTls(opts.tlsVerify ?? false);
          } catch (err) {
            return fail('tls', null, err);
          }
          caps = await ProbeSession.greet(conn, opts.heloName);
          if (!caps.ok) {
            await conn.quit();
            return fail('ehlo', caps.reply, null);
          }
        }
        // Any other answer to STARTTLS: carry on in plain text, as MTAs do.
      }
      return { ok: true, session: new ProbeSession(conn, opts, caps.capabilities, banner) };
    } catch (err) {
      return fail('ehlo', null, err);
    }
  }

  private static async greet(conn: SmtpConnection, helo: string): Promise<{ ok: true; capabilities: Capabilities } | { ok: false; reply: SmtpReply }> {
    const ehlo = await conn.command(`EHLO ${helo}`);
    if (is2xx(ehlo)) return { ok: true, capabilities: parseCapabilities(ehlo) };
    // 500/502/504: ESMTP not understood — fall back to HELO (RFC 5321 §3.2). 421 etc.: give up.
    if (ehlo.code >= 500) {
      const h = await conn.command(`HELO ${helo}`);
      if (is2xx(h)) return { ok: true, capabilities: { esmtp: false, pipelining: false, startTls: false, smtputf8: false } };
      return { ok: false, reply: h };
    }
    return { ok: false, reply: ehlo };
  }

  /**
   * RCPT TO each address (in order), in as many transactions as the server's recipient limit needs.
   * Returns one outcome per request, in the same order. Never throws for server/network behaviour:
   * a dropped connection turns the remaining addresses into `connection_failed` / `timeout` outcomes.
   */
  async verify(requests: RcptRequest[], hooks: VerifyHooks = {}): Promise<RcptOutcome[]> {
    const out: (RcptOutcome | undefined)[] = new Array(requests.length);
    const queue = requests.map((_, i) => i);
    const needsUtf8 = requests.some((r) => r.smtputf8);
    const from = `MAIL FROM:<${this.opts.mailFrom}>${needsUtf8 && this.capabilities.smtputf8 ? ' SMTPUTF8' : ''}`;
    let inTx = false;
    let txCount = 0;
    const settleRest = (stage: SmtpStage, classification: ReplyClassification, reply: SmtpReply | null, error: string | null) => {
      for (const i of queue.splice(0)) out[i] = { address: requests[i]!.address, stage, classification, reply, error };
    };
    const failFromError = (err: unknown, stage: SmtpStage) => {
      if (!(err instanceof SmtpConnectionError)) throw err;
      if (this.closing) settleRest(stage, this.closing.classification, this.closing.reply, err.message);
      else settleRest(stage, classifyConnectionError(err), null, err.message);
    };

    // Addresses that need SMTPUTF8 cannot be given to a server without it.
    if (needsUtf8 && !this.capabilities.smtputf8) {
      for (let k = queue.length - 1; k >= 0; k--) {
        const i = queue[k]!;
        if (requests[i]!.smtputf8) {
          out[i] = { address: requests[i]!.address, stage: 'rcpt', classification: { status: 'undeliverable', reason: 'rejected' }, reply: null, error: 'server does not offer SMTPUTF8, needed for this address' };
          queue.splice(k, 1);
        }
      }
    }

    while (queue.length > 0) {
      if (!inTx) {
        let r: SmtpReply;
        try {
          r = await this.conn.command(from);
        } catch (err) {
          failFromError(err, 'mail');
          break;
        }
        this.count(r);
        if (!is2xx(r)) {
          settleRest('mail', classifyReply('mail', r), r, null);
          break;
        }
        inTx = true;
        txCount = 0;
      }
      const batch = queue.splice(0, Math.max(1, this.rcptLimit - txCount));
      const replies = await this.sendRcpts(batch.map((i) => requests[i]!.address), hooks);
      const retry: number[] = [];
      let accepted = 0;
      let dead: unknown = null;
      for (let k = 0; k < batch.length; k++) {
        const idx = batch[k]!;
        const res = replies[k]!;
        if ('error' in res) {
          // The connection is gone: this address, the rest of the batch and the queue stay open.
          dead = res.error;
          queue.push(...retry, ...batch.slice(k));
          break;
        }
        const cls = classifyReply('rcpt', res.reply);
        if (cls.reason === 'too_many_recipients' && txCount + accepted > 0) {
          retry.push(idx);
          continue;
        }
        if (cls.reason === 'rate_limited' && res.reply.code === 421) this.closing = { reply: res.reply, classification: cls };
        accepted++;
        out[idx] = { address: requests[idx]!.address, stage: 'rcpt', classification: cls, reply: res.reply, error: null };
      }
      if (dead !== null) {
        failFromError(dead, 'rcpt');
        break;
      }
      txCount += accepted;
      if (retry.length > 0) {
        // The server's per-transaction recipient limit: learn it, start a new transaction.
        this.rcptLimit = Math.max(1, txCount);
        queue.unshift(...retry);
      }
      if (queue.length > 0 && (retry.length > 0 || txCount >= this.rcptLimit)) {
        try {
          const r = await this.conn.command('RSET');
          this.count(r);
        } catch (err) {
          failFromError(err, 'rcpt');
          break;
        }
        inTx = false;
      }
    }
    return requests.map((req, i) => out[i] ?? { address: req.address, stage: 'rcpt', classification: { status: 'unknown', reason: 'connection_failed' }, reply: null, error: 'not attempted' });
  }

  private async sendRcpts(addresses: string[], hooks: VerifyHooks): Promise<({ reply: SmtpReply } | { error: unknown })[]> {
    const total = addresses.length;
    const pending: Promise<SmtpReply>[] = [];
    let sendError: unknown = null;
    if (!hooks.beforeRcpt && this.capabilities.pipelining) {
      // Unpaced and pipelined: one write for the whole batch.
      const sent = this.conn.send(addresses.map((a) => `RCPT TO:<${a}>`));
      if (hooks.onReply) sent.forEach((p, k) => p.then((r) => hooks.onReply?.(addresses[k]!, r), () => undefined));
      pending.push(...sent);
      this.counters.rcpt += addresses.length;
      addresses = [];
    }
    for (const a of addresses) {
      const fate = hooks.beforeRcpt ? await hooks.beforeRcpt() : undefined;
      if (this.conn.failed) {
        fate?.('unsent');
        sendError = this.conn.failed;
        break;
      }
      const p = this.conn.send([`RCPT TO:<${a}>`])[0]!;
      if (fate) p.then(() => fate('answered'), () => fate('unanswered'));
      if (hooks.onReply) p.then((r) => hooks.onReply?.(a, r), () => undefined);
      this.counters.rcpt++;
      pending.push(p);
      if (!this.capabilities.pipelining) {
        try {
          await p;
        } catch (err) {
          sendError = err;
          break;
        }
      }
    }
    const settled = await Promise.allSettled(pending);
    const res: ({ reply: SmtpReply } | { error: unknown })[] = settled.map((s) => {
      if (s.status === 'fulfilled') {
        this.count(s.value);
        return { reply: s.value };
      }
      return { error: s.reason as unknown };
    });
    while (res.length < total) res.push({ error: sendError ?? new SmtpConnectionError('closed', 'connection lost') });
    return res;
  }

  private count(r: SmtpReply): void {
    if (r.code >= 500) this.counters.replies5xx++;
    else if (r.code >= 400) this.counters.replies4xx++;
  }

  async quit(): Promise<void> {
    await this.conn.quit();
  }

  close(): void {
    this.conn.close();
  }
}
