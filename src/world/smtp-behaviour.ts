/**
 * The per-connection SMTP state machine of a simulated MX host: one input line in, the reply out (wire
 * format, CRLF-terminated, '' for none) plus an {@link SessionAction} for the transport. Pure: no I/O,
 * time passed in. Never accepts message data: DATA and BDAT are counted and refused.
 */
import { ADVERTISED_SIZE } from './smtp-options.js';
import { dnsblReply, SIM_REPLIES, toWire, type HostPolicy } from './smtp-policy.js';

/**
 * What the transport must do after sending the reply:
 * - `none`: carry on;
 * - `close`: flush the reply and close the connection (QUIT);
 * - `reset`: reset the connection at once, sending nothing (`dropAfterCommands`);
 * - `starttls`: flush the reply, drop any input buffered after the command (RFC 3207 §5), start TLS,
 *   then call {@link SmtpSession.tlsStarted};
 * - `skip`: discard the next {@link SmtpSession.skipBytes} input bytes (a BDAT chunk), then send the reply.
 */
export type SessionAction = 'none' | 'close' | 'reset' | 'starttls' | 'skip';

/** Largest command line, bytes without CRLF (RFC 5321 §4.5.3.1.4: 512 octets; we allow up to 1000 with CRLF). */
export const MAX_LINE_BYTES = 998;

const R = {
  badSequenceHelo: '503 5.5.1 Error: send HELO/EHLO first\r\n',
  badSequenceMail: '503 5.5.1 Error: need MAIL command\r\n',
  nestedMail: '503 5.5.1 Error: nested MAIL command\r\n',
  rejecting: '503 5.5.1 Error: bad sequence of commands\r\n',
  ok: '250 2.0.0 Ok\r\n',
  mailOk: '250 2.1.0 Ok\r\n',
  bye: '221 2.0.0 Bye\r\n',
  vrfy: '252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n',
  unknown: '500 5.5.2 Error: command not recognized\r\n',
  notImplemented: '502 5.5.1 Error: command not implemented\r\n',
  tlsReady: '220 2.0.0 Ready to start TLS\r\n',
  tlsAlready: '503 5.5.1 Error: TLS already active\r\n',
  heloSyntax: '501 5.5.4 Syntax: EHLO hostname\r\n',
  mailSyntax: '501 5.5.4 Syntax: MAIL FROM:<address>\r\n',
  rcptSyntax: '501 5.1.3 Bad recipient address syntax\r\n',
  bdatSyntax: '501 5.5.4 Syntax: BDAT size [LAST]\r\n',
  argSyntax: '501 5.5.4 Syntax error: no parameters allowed\r\n',
  lineTooLong: '500 5.5.2 Error: line too long\r\n',
  noData: `${SIM_REPLIES.noData}\r\n`,
  greylisted: `${SIM_REPLIES.greylisted}\r\n`,
  tooMany: `${SIM_REPLIES.tooManyRecipients}\r\n`,
  rate: `${SIM_REPLIES.rateLimited}\r\n`,
  banned: `${SIM_REPLIES.banned}\r\n`,
} as const;

/**
 * Parse the path of `MAIL FROM:<a>` / `RCPT TO:<a>` (after the verb). Returns the address without brackets
 * ('' for `<>`), or undefined when the keyword or a closing bracket is missing. Parameters are ignored.
 */
export function parsePath(arg: string, keyword: 'FROM:' | 'TO:'): string | undefined {
  if (arg.length < keyword.length || arg.slice(0, keyword.length).toUpperCase() !== keyword) return undefined;
  const rest = arg.slice(keyword.length).trimStart();
  if (rest.startsWith('<')) {
    const close = rest.indexOf('>');
    return close < 0 ? undefined : rest.slice(1, close);
  }
  const sp = rest.indexOf(' ');
  const bare = sp < 0 ? rest : rest.slice(0, sp);
  return bare === '' ? undefined : bare;
}

export class SmtpSession {
  /** What the transport must do after the last reply (see {@link SessionAction}). */
  action: SessionAction = 'none';
  /** Bytes to discard when {@link action} is `skip`. */
  skipBytes = 0;
  /** Commands received so far (every line, including unknown and refused ones). */
  commands = 0;
  /** Whether the session runs over TLS. */
  tls = false;
  private greeted = false;
  private mailFrom: string | undefined;
  private txRcpts = 0;
  private closed = false;

  /**
   * @param policy the host's shared state and options
   * @param clientIp the peer's address (greylisting, rate and connection limits key on it)
   * @param rejecting the banner was a non-2xx that keeps the connection: answer 503 to all but QUIT
   */
  constructor(
    private readonly policy: HostPolicy,
    readonly clientIp: string,
    private readonly rejecting = false,
  ) {}

  /** Whether a MAIL FROM transaction is open. */
  get inTransaction(): boolean {
    return this.mailFrom !== undefined;
  }

  /** The transport finished the TLS handshake: the client must greet again (RFC 3207 §4.2). */
  tlsStarted(): void {
    this.tls = true;
    this.greeted = false;
    this.resetTransaction();
  }

  /** A line longer than {@link MAX_LINE_BYTES} arrived (the transport discarded it). */
  handleOverlong(): string {
    this.action = 'none';
    if (this.closed) return '';
    this.commands++;
    this.policy.stats.command('OTHER');
    return this.silenced() ? '' : R.lineTooLong;
  }

  /** Handle one command line (without CRLF) received at `now` (monotonic ms). */
  handleLine(line: string, now: number): string {
    this.action = 'none';
    if (this.closed) return '';
    this.commands++;
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    const stats = this.policy.stats;
    stats.command(verb);
    if (verb === 'DATA' || verb === 'BDAT') stats.dataCommands++;
    if (verb === 'RCPT') stats.rcpt(this.clientIp, parsePath(arg, 'TO:') ?? '', now);
    const drop = this.policy.opts.dropAfterCommands;
    if (drop !== undefined && this.commands > drop) {
      stats.droppedConnections++;
      this.closed = true;
      this.action = 'reset';
      return '';
    }
    if (this.silenced()) return this.bdatSkipOnly(verb, arg);
    if (this.rejecting && verb !== 'QUIT') return R.rejecting;

    switch (verb) {
      case 'EHLO':
      case 'HELO':
        if (arg.trim() === '') return R.heloSyntax;
        stats.client(this.clientIp).greetings.push(arg.trim());
        this.greeted = true;
        this.resetTransaction();
        return verb === 'EHLO' ? this.ehloReply(arg.trim()) : `250 ${this.policy.hostname}\r\n`;
      case 'MAIL':
        return this.mail(arg);
      case 'RCPT':
        return this.rcpt(arg, now);
      case 'RSET':
        this.resetTransaction();
        return R.ok;
      case 'NOOP':
        return R.ok;
      case 'QUIT':
        this.closed = true;
        this.action = 'close';
        return R.bye;
      case 'VRFY':
        return R.vrfy;
      case 'STARTTLS':
        if (!this.policy.opts.startTls) return R.notImplemented;
        if (this.tls) return R.tlsAlready;
        if (arg.trim() !== '') return R.argSyntax;
        this.action = 'starttls';
        return R.tlsReady;
      case 'DATA':
        return R.noData;
      case 'BDAT':
        return this.bdat(arg, R.noData);
      default:
        return R.unknown;
    }
  }

  /** Tarpitted: no reply from now on. */
  private silenced(): boolean {
    const t = this.policy.opts.tarpit;
    return t === true || (typeof t === 'number' && this.commands > t);
  }

  /** While silent, a BDAT chunk must still be skipped so its bytes are not read as commands. */
  private bdatSkipOnly(verb: string, arg: string): string {
    if (verb === 'BDAT') this.bdat(arg, '');
    return '';
  }

  private bdat(arg: string, reply: string): string {
    const m = /^(\d{1,10})(?:\s+LAST)?\s*$/i.exec(arg);
    if (!m) return reply === '' ? '' : R.bdatSyntax;
    this.skipBytes = Number(m[1]);
    this.action = 'skip';
    return reply;
  }

  private resetTransaction(): void {
    this.mailFrom = undefined;
    this.txRcpts = 0;
  }

  private ehloReply(clientName: string): string {
    const o = this.policy.opts;
    let s = `250-${this.policy.hostname} Hello ${clientName}\r\n`;
    if (o.pipelining !== false) s += '250-PIPELINING\r\n';
    s += `250-SIZE ${ADVERTISED_SIZE}\r\n`;
    if (o.startTls && !this.tls) s += '250-STARTTLS\r\n';
    s += '250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n';
    return s;
  }

  private mail(arg: string): string {
    if (!this.greeted) return R.badSequenceHelo;
    if (this.mailFrom !== undefined) return R.nestedMail;
    const from = parsePath(arg, 'FROM:');
    if (from === undefined) return R.mailSyntax;
    const custom = this.policy.opts.mailFromReply;
    if (custom !== undefined) {
      if (custom.startsWith('2')) this.mailFrom = from;
      return toWire(custom);
    }
    this.mailFrom = from;
    return R.mailOk;
  }

  private rcpt(arg: string, now: number): string {
    if (!this.greeted) return R.badSequenceHelo;
    if (this.mailFrom === undefined) return R.badSequenceMail;
    const to = parsePath(arg, 'TO:');
    if (to === undefined || to === '') return R.rcptSyntax;
    const p = this.policy;
    if (p.isBanned(this.clientIp, now)) return R.banned;
    if (p.opts.dnsblStage !== 'connect' && p.dnsbl(this.clientIp)) return toWire(dnsblReply(this.clientIp));
    if (!p.admitRcpt(this.clientIp, now)) return R.rate;
    this.txRcpts++;
    const max = p.opts.maxRcptPerTransaction;
    if (max !== undefined && this.txRcpts > max) return R.tooMany;
    if (p.greylisted(this.clientIp, this.mailFrom, to, now)) return R.greylisted;
    return p.recipientReply(to);
  }
}
