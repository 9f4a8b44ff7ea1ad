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

  /** The most RCPTs within any window of `windowMs` (half-open: `[t, t + windowMs)`). */
  maxRcptInWindow(windowMs = 1000): number {
    const ts = this.rcptTimestamps;
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < ts.length; hi++) {
      const t = ts[hi] as number;
      while ((ts[lo] as number) <= t - windowMs) lo++;
      if (hi - lo + 1 > best) best = hi - lo + 1;
    }
    return best;
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

  connectionOpened(): void {
    this.connections++;
    this.currentConnections++;
    if (this.currentConnections > this.peakConcurrentConnections) this.peakConcurrentConnections = this.currentConnections;
  }

  connectionClosed(): void {
    this.currentConnections--;
  }

  /** Zero every counter; `currentConnections` stays (those sockets are still open) and the peak restarts from it. */
  reset(): void {
    this.connections = 0;
    this.peakConcurrentConnections = this.currentConnections;
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
