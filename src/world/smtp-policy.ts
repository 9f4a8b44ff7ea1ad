/**
 * Host-wide state of a simulated MX host, shared by its sessions: mailbox rules, greylisting, per-client
 * connection counts, RCPT rate windows, violations and bans. Pure: time is passed in (monotonic ms), no I/O.
 */
import { DEFAULT_BAN_SECONDS, DEFAULT_SIM_HOSTNAME, type SimMxHostOptions } from './smtp-options.js';
import type { SimHostStats } from './smtp-stats.js';

/** Reply texts of the simulator (without CRLF). Tests may match on them. */
export const SIM_REPLIES = {
  rcptOk: '250 2.1.5 OK',
  greylisted: '450 4.7.1 Greylisted, try again later',
  tooManyRecipients: '452 4.5.3 Too many recipients',
  rateLimited: '450 4.7.1 Rate limit exceeded, slow down',
  tooManyConnections: '421 4.7.0 Too many connections, try again later',
  banned: '554 5.7.1 Service unavailable; client host blocked',
  disabled: '550 5.2.1 Mailbox disabled',
  full452: '452 4.2.2 Mailbox full',
  full552: '552 5.2.2 Mailbox full',
  noData: '554 5.5.1 No DATA in simulator',
} as const;

/** The simulator's DNSBL refusal of client `ip` (Postfix's wording for `reject_rbl_client`). */
export function dnsblReply(ip: string): string {
  return `554 5.7.1 Service unavailable; Client host [${ip}] blocked using dnsbl.sim.test`;
}

/** A reply as sent on the wire: lines joined and terminated with CRLF. */
export function toWire(reply: string): string {
  return reply.replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** What to do with a new connection. */
export interface ConnectDecision {
  /** Banner (wire format), or '' to stay silent (tarpit). */
  reply: string;
  /** Close the connection after the reply. */
  close: boolean;
  /** Counted as one of the client's open connections (call {@link HostPolicy.disconnect} on close). */
  admitted: boolean;
  /** Non-2xx banner that keeps the connection open: every command but QUIT gets 503. */
  rejecting: boolean;
}

interface ClientState {
  open: number;
  violations: number;
  bannedUntil: number;
  /** RCPT admission times inside the current 1 s window (oldest first, from `head`). */
  window: number[];
  head: number;
}

interface MailboxRules {
  mailboxes: Set<string>;
  full: Set<string> | true;
  disabled: Set<string> | true;
  domains: Set<string> | undefined;
  custom: Map<string, string>;
}

function lowerSet(list: readonly string[] | undefined): Set<string> {
  return new Set((list ?? []).map((s) => s.toLowerCase()));
}

function compileRules(o: SimMxHostOptions): MailboxRules {
  return {
    mailboxes: lowerSet(o.mailboxes),
    full: o.full === true ? true : lowerSet(o.full === false ? [] : o.full),
    disabled: o.disabled === true ? true : lowerSet(o.disabled === false ? [] : o.disabled),
    domains: o.domains ? lowerSet(o.domains) : undefined,
    custom: new Map(Object.entries(o.rcptReplies ?? {}).map(([k, v]) => [k.toLowerCase(), toWire(v)])),
  };
}

function matches(rule: Set<string> | true, address: string, local: string): boolean {
  return rule === true || rule.has(address) || rule.has(local);
}

const RATE_WINDOW_MS = 1000;

export class HostPolicy {
  private options: SimMxHostOptions;
  private rules: MailboxRules;
  private readonly greylist = new Map<string, number>();
  private readonly clients = new Map<string, ClientState>();

  constructor(options: SimMxHostOptions, readonly stats: SimHostStats) {
    this.options = { ...options };
    this.rules = compileRules(this.options);
  }

  /** Current options (read-only view; change them with {@link update}). */
  get opts(): Readonly<SimMxHostOptions> {
    return this.options;
  }

  get hostname(): string {
    return this.options.hostname ?? DEFAULT_SIM_HOSTNAME;
  }

  /** Change options; takes effect for the next command of every session. */
  update(patch: Partial<SimMxHostOptions>): void {
    this.options = { ...this.options, ...patch };
    this.rules = compileRules(this.options);
  }

  /** Forget greylisting triplets, rate windows, violations and bans (not the stats). */
  resetState(): void {
    this.greylist.clear();
    for (const [ip, c] of this.clients) {
      if (c.open === 0) this.clients.delete(ip);
      else Object.assign(c, { violations: 0, bannedUntil: 0, window: [], head: 0 });
    }
  }

  private client(ip: string): ClientState {
    let c = this.clients.get(ip);
    if (!c) {
      c = { open: 0, violations: 0, bannedUntil: 0, window: [], head: 0 };
      this.clients.set(ip, c);
    }
    return c;
  }

  /** Decide the greeting of a new connection from `ip` (ban → connection limit → custom banner → 220). */
  connect(ip: string, now: number): ConnectDecision {
    const c = this.client(ip);
    if (this.isBanned(ip, now)) {
      this.stats.bannedConnections++;
      return { reply: toWire(SIM_REPLIES.banned), close: true, admitted: false, rejecting: false };
    }
    const max = this.options.maxConnectionsPerClient;
    if (max !== undefined && c.open >= max) {
      this.stats.violations.connectionLimit++;
      this.violation(c, now);
      return { reply: toWire(SIM_REPLIES.tooManyConnections), close: true, admitted: false, rejecting: false };
    }
    c.open++;
    if (this.options.tarpit === true) return { reply: '', close: false, admitted: true, rejecting: false };
    if (this.options.dnsblStage === 'connect' && this.dnsbl(ip)) return { reply: toWire(dnsblReply(ip)), close: false, admitted: true, rejecting: true };
    const custom = this.options.connectReply;
    if (custom !== undefined) {
      const close = custom.startsWith('421');
      return { reply: toWire(custom), close, admitted: true, rejecting: !close && !custom.startsWith('2') };
    }
    return { reply: `220 ${this.hostname} ESMTP listwash simulator\r\n`, close: false, admitted: true, rejecting: false };
  }

  /** An admitted connection of `ip` closed. */
  disconnect(ip: string): void {
    const c = this.clients.get(ip);
    if (c && c.open > 0) c.open--;
  }

  /** Whether a DNSBL lists `ip` (see `dnsblClients`); counts the refusal. */
  dnsbl(ip: string): boolean {
    const listed = this.options.dnsblClients;
    if (listed === undefined || (listed !== true && !listed.includes(ip))) return false;
    this.stats.dnsblRefusals++;
    return true;
  }

  isBanned(ip: string, now: number): boolean {
    const c = this.clients.get(ip);
    if (!c || c.bannedUntil === 0) return false;
    if (now < c.bannedUntil) return true;
    c.bannedUntil = 0; // ban over: start with a clean slate
    c.violations = 0;
    return false;
  }

  private violation(c: ClientState, now: number): void {
    c.violations++;
    const after = this.options.banAfterViolations;
    if (after !== undefined && c.violations >= after) {
      c.bannedUntil = now + (this.options.banSeconds ?? DEFAULT_BAN_SECONDS) * 1000;
      c.violations = 0;
    }
  }

  /**
   * Rate limit: whether one more RCPT from `ip` at `now` fits `maxRcptPerSecond` in the sliding 1 s window.
   * An admitted RCPT is recorded; a refused one counts as a violation.
   */
  admitRcpt(ip: string, now: number): boolean {
    const max = this.options.maxRcptPerSecond;
    if (max === undefined) return true;
    const c = this.client(ip);
    const w = c.window;
    while (c.head < w.length && (w[c.head] as number) <= now - RATE_WINDOW_MS) c.head++;
    if (c.head > 1024 && c.head * 2 > w.length) {
      c.window = w.slice(c.head);
      c.head = 0;
    }
    if (c.window.length - c.head >= max) {
      this.stats.violations.rate++;
      this.violation(c, now);
      return false;
    }
    c.window.push(now);
    return true;
  }

  /** Greylisting: whether the triplet must still wait (records its first attempt). */
  greylisted(ip: string, from: string, rcpt: string, now: number): boolean {
    const secs = this.options.greylistSeconds ?? 0;
    if (secs <= 0) return false;
    const key = `${ip}\0${from.toLowerCase()}\0${rcpt.toLowerCase()}`;
    const first = this.greylist.get(key);
    if (first === undefined) {
      this.greylist.set(key, now);
      this.stats.greylisted++;
      return true;
    }
    if (now - first < secs * 1000) {
      this.stats.greylisted++;
      return true;
    }
    return false;
  }

  /** The mailbox verdict reply (wire format) for `address`: relay → custom → disabled → full → catch-all → mailboxes. */
  recipientReply(address: string): string {
    const r = this.rules;
    const lower = address.toLowerCase();
    const at = lower.lastIndexOf('@');
    const local = at < 0 ? lower : lower.slice(0, at);
    if (r.domains && !r.domains.has(at < 0 ? '' : lower.slice(at + 1))) return `554 5.7.1 <${address}>: Relay access denied\r\n`;
    const custom = r.custom.get(lower) ?? r.custom.get(local);
    if (custom !== undefined) return custom;
    if (matches(r.disabled, lower, local)) return `${SIM_REPLIES.disabled}\r\n`;
    if (matches(r.full, lower, local)) return `${this.options.fullCode === 552 ? SIM_REPLIES.full552 : SIM_REPLIES.full452}\r\n`;
    if (this.options.catchAll || matches(r.mailboxes, lower, local)) return `${SIM_REPLIES.rcptOk}\r\n`;
    return `550 5.1.1 <${address}>: Recipient address rejected: User unknown\r\n`;
  }
}
