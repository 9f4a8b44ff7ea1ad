/**
 * Counters of one simulated MX host: what the client did to it. Used to check the prober's politeness
 * (concurrency, RCPT rate, never DATA).
 */

/** Limit violations by kind. */
export interface SimViolations {
  /** Connections refused with 421 because the client already held `maxConnectionsPerClient`. */
  connectionLimit: number;
  /** RCPTs refused with 450 because the client exceeded `maxRcptPerSecond`. */
  rate: number;
}

/** Verbs counted by name in {@link SimHostStats.commands}; anything else counts as `OTHER`. */
export const KNOWN_VERBS: ReadonlySet<string> = new Set([
  'EHLO', 'HELO', 'MAIL', 'RCPT', 'RSET', 'NOOP', 'QUIT', 'STARTTLS', 'VRFY', 'DATA', 'BDAT',
]);

/** What one client address did to a host (per-identity politeness: each egress identity is a client). */
export interface SimClientStats {
  /** TCP connections accepted from this client. */
  connections: number;
  /** Its connections open now. */
  currentConnections: number;
  /** Most of its connections open at once. */
  peakConcurrentConnections: number;
  /** Arrival time of each of its RCPTs, monotonic ms. */
  rcptTimestamps: number[];
  /** The recipient of each of its RCPTs, in order (as sent; `''` when unparsable). */
  recipients: string[];
  /** The names it greeted with (EHLO / HELO arguments), in order. */
  greetings: string[];
}

/** The most timestamps within any window of `windowMs` (half-open: `[t, t + windowMs)`); `ts` ascending. */
export function maxInWindow(ts: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < ts.length; hi++) {
    const t = ts[hi] as number;
    while ((ts[lo] as number) <= t - windowMs) lo++;
    if (hi - lo + 1 > best) best = hi - lo + 1;
  }
  return best;
}

export class SimHostStats {
  /** TCP connections accepted (including ones then refused with 421/554). */
  connections = 0;
  /** Connections open now. */
  currentConnections = 0;
  /** Most connections open at once (all clients). */
  peakConcurrentConnections = 0;
  /** Commands received, by upper-case verb (`OTHER` for unknown verbs). */
  commands: Record<string, number> = {};
  /** RCPT TO commands received. */
  rcptCount = 0;
  /** Arrival time of every RCPT, monotonic ms (`performance.now()` clock). */
  rcptTimestamps: number[] = [];
  /** DATA and BDAT commands received. Must stay 0 for a prober. */
  dataCommands = 0;
  /** Limit violations by kind. */
  violations: SimViolations = { connectionLimit: 0, rate: 0 };
  /** RCPTs answered with the greylisting 450. */
  greylisted = 0;
  /** Completed STARTTLS handshakes. */
  tlsSessions = 0;
  /** Connections refused at connect because the client IP was banned. */
  bannedConnections = 0;
  /** Refusals of a DNSBL-listed client (greetings or RCPTs, see `dnsblClients`). */
  dnsblRefusals = 0;
  /** Connections reset by `dropAfterCommands`. */
  droppedConnections = 0;
  /** Socket errors on client connections (resets by the client, TLS failures). */
  socketErrors = 0;
  /** Per client address (as the host sees it: IPv4-mapped IPv6 reduced to IPv4). */
  clients = new Map<string, SimClientStats>();

  /** The most RCPTs within any window of `windowMs` (half-open: `[t, t + windowMs)`). */
  maxRcptInWindow(windowMs = 1000): number {
    return maxInWindow(this.rcptTimestamps, windowMs);
  }

  /** The counters of client `ip` (created on first use). */
  client(ip: string): SimClientStats {
    let c = this.clients.get(ip);
    if (!c) {
      c = { connections: 0, currentConnections: 0, peakConcurrentConnections: 0, rcptTimestamps: [], recipients: [], greetings: [] };
      this.clients.set(ip, c);
    }
    return c;
  }

  /** Count one RCPT TO from `ip` for `recipient` at `now`. */
  rcpt(ip: string, recipient: string, now: number): void {
    this.rcptCount++;
    this.rcptTimestamps.push(now);
    const c = this.client(ip);
    c.rcptTimestamps.push(now);
    c.recipients.push(recipient);
  }

  /** Total commands received. */
  get totalCommands(): number {
    let n = 0;
    for (const v of Object.values(this.commands)) n += v;
    return n;
  }

  /** Count one command by verb. */
  command(verb: string): void {
    const key = KNOWN_VERBS.has(verb) ? verb : 'OTHER';
    this.commands[key] = (this.commands[key] ?? 0) + 1;
  }

  connectionOpened(ip = 'unknown'): void {
    this.connections++;
    this.currentConnections++;
    if (this.currentConnections > this.peakConcurrentConnections) this.peakConcurrentConnections = this.currentConnections;
    const c = this.client(ip);
    c.connections++;
    c.currentConnections++;
    if (c.currentConnections > c.peakConcurrentConnections) c.peakConcurrentConnections = c.currentConnections;
  }

  connectionClosed(ip = 'unknown'): void {
    this.currentConnections--;
    const c = this.clients.get(ip);
    if (c) c.currentConnections--;
  }

  /** Zero every counter; `currentConnections` stays (those sockets are still open) and the peak restarts from it. */
  reset(): void {
    this.connections = 0;
    this.peakConcurrentConnections = this.currentConnections;
    for (const [ip, c] of this.clients) {
      if (c.currentConnections === 0) this.clients.delete(ip);
      else Object.assign(c, { connections: 0, peakConcurrentConnections: c.currentConnections, rcptTimestamps: [], recipients: [], greetings: [] });
    }
    this.commands = {};
    this.rcptCount = 0;
    this.rcptTimestamps = [];
    this.dataCommands = 0;
    this.violations = { connectionLimit: 0, rate: 0 };
    this.greylisted = 0;
    this.tlsSessions = 0;
    this.bannedConnections = 0;
    this.dnsblRefusals = 0;
    this.droppedConnections = 0;
    this.socketErrors = 0;
  }
}
