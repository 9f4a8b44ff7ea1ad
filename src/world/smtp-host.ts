/**
 * `SimMxHost`: a real SMTP server on a loopback address for tests, benchmarks and the demo. The protocol
 * logic lives in {@link SmtpSession} / {@link HostPolicy} (pure); this module does the sockets: line
 * splitting, pipelined batches (all replies to one input chunk go out in one write), delays, tarpits,
 * resets and the STARTTLS upgrade.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { assertLoopback, clientIp, formatHostPort } from './loopback.js';
import { MAX_LINE_BYTES, SmtpSession } from './smtp-behaviour.js';
import { HostPolicy } from './smtp-policy.js';
import { SimHostStats } from './smtp-stats.js';
import type { SimMxHostOptions } from './smtp-options.js';
import { SIM_TLS_CERT, SIM_TLS_KEY } from './tls/tls-material.js';

/** Where a host listens, on top of its behaviour. */
export interface SimMxHostConfig extends SimMxHostOptions {
  /** Loopback address to bind (127.0.0.0/8 or ::1). Default `127.0.0.1`. */
  ip?: string;
  /** TCP port; 0 = ephemeral. Default 0. */
  port?: number;
}

let secureContext: SecureContext | undefined;
/** The simulator's TLS context (self-signed, test-only), created once. */
function simSecureContext(): SecureContext {
  secureContext ??= createSecureContext({ key: SIM_TLS_KEY, cert: SIM_TLS_CERT });
  return secureContext;
}

const EMPTY = Buffer.alloc(0);
const LF = 10;
const CR = 13;

export class SimMxHost {
  /** What clients did to this host. */
  readonly stats = new SimHostStats();
  /** Host-wide protocol state (options, greylisting, limits, bans). */
  readonly policy: HostPolicy;
  /** The bound address. */
  readonly ip: string;
  private readonly requestedPort: number;
  private server: Server | undefined;
  private boundPort = 0;
  private readonly connections = new Set<SimConnection>();

  constructor(config: SimMxHostConfig = {}) {
    const { ip, port, ...behaviour } = config;
    this.ip = ip ?? '127.0.0.1';
    this.requestedPort = port ?? 0;
    this.policy = new HostPolicy(behaviour, this.stats);
  }

  /** Current behaviour options. */
  get options(): Readonly<SimMxHostOptions> {
    return this.policy.opts;
  }

  /** The bound port (the requested one for a `refuse` host). */
  get port(): number {
    return this.boundPort;
  }

  /** `ip:port` (`[ip]:port` for IPv6). */
  get address(): string {
    return formatHostPort(this.ip, this.boundPort);
  }

  /** Whether the host accepts connections (false before start, after stop, and for `refuse`). */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Change behaviour options; takes effect for the next connection/command (`refuse` only at start). */
  update(patch: Partial<SimMxHostOptions>): void {
    this.policy.update(patch);
  }

  /** Zero the counters in {@link stats}. */
  resetStats(): void {
    this.stats.reset();
  }

  /** Forget greylisting triplets, rate windows, violations and bans. */
  resetState(): void {
    this.policy.resetState();
  }

  /**
   * Listen on `ip:port` (nothing for a `refuse` host). Rejects with `SIM_WORLD` for a non-loopback address or a
   * bind failure; the system error code (`EACCES`, `EADDRINUSE`) is in `details.errno`.
   */
  async start(): Promise<void> {
    assertLoopback(this.ip, 'SMTP host');
    if (this.server) return;
    if (this.policy.opts.refuse) {
      this.boundPort = this.requestedPort;
      return;
    }
    const server = createServer({ noDelay: true }, (socket) => {
      this.connections.add(new SimConnection(this, socket, (c) => this.connections.delete(c)));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.requestedPort, this.ip, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw new ListwashError(ErrorCodes.SIM_WORLD, `SMTP host cannot listen on ${formatHostPort(this.ip, this.requestedPort)}: ${errorMessage(err)}`, {
        ip: this.ip,
        port: this.requestedPort,
        errno: (err as NodeJS.ErrnoException).code,
      }, { cause: err });
    }
    server.on('error', () => {
      // After listen succeeded the server only reports per-connection trouble; those are counted there.
      this.stats.socketErrors++;
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.requestedPort;
    this.server = server;
  }

  /** Stop listening and destroy every open connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections) c.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One client connection: buffers input, feeds whole lines to its {@link SmtpSession}, writes replies. */
class SimConnection {
  private readonly raw: Socket;
  private stream: Socket;
  private readonly session: SmtpSession;
  private readonly ip: string;
  private readonly admitted: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private buf: Buffer = EMPTY;
  private pos = 0;
  private out = '';
  /** The banner went out: commands may be processed. */
  private ready = false;
  /** A delayed reply is pending: later lines wait. */
  private busy = false;
  /** No more processing (closed, reset, or refused at connect). */
  private done = false;
  private closed = false;
  /** The rest of an overlong line is being thrown away. */
  private discarding = false;
  /** A BDAT chunk is being skipped; `skipReply` goes out after it. */
  private skipping = false;
  private skipRemaining = 0;
  private skipReply = '';

  constructor(
    private readonly host: SimMxHost,
    socket: Socket,
    private readonly untrack: (c: SimConnection) => void,
  ) {
    this.raw = socket;
    this.stream = socket;
    this.ip = clientIp(socket.remoteAddress);
    host.stats.connectionOpened(this.ip);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    const decision = host.policy.connect(this.ip, performance.now());
    this.admitted = decision.admitted;
    this.session = new SmtpSession(host.policy, this.ip, decision.rejecting);
    if (decision.close) {
      this.done = true;
      socket.end(decision.reply);
      return;
    }
    if (decision.reply === '') return; // tarpit: never greet; input is read and ignored
    const greet = (): void => {
      this.send(decision.reply);
      this.ready = true;
      this.pump();
    };
    const delay = host.policy.opts.bannerDelayMs ?? 0;
    if (delay > 0) this.after(delay, greet);
    else greet();
  }

  /** Close at once (host stop). */
  destroy(): void {
    this.done = true;
    this.stream.destroy();
    this.raw.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    if (!this.ready && this.host.policy.opts.tarpit === true) return;
    this.buf = this.buf.length > this.pos ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    this.pump();
  };

  private readonly onError = (): void => {
    // Client resets and failed TLS handshakes are part of the simulation: count them, the socket then closes.
    this.host.stats.socketErrors++;
  };

  private readonly onClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.host.stats.connectionClosed(this.ip);
    if (this.admitted) this.host.policy.disconnect(this.ip);
    this.untrack(this);
  };

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.done) fn();
    }, ms);
    this.timers.add(t);
  }

  private send(s: string): void {
    if (s !== '' && !this.stream.destroyed && this.stream.writable) this.stream.write(s);
  }

  private flush(): void {
    if (this.out !== '') {
      this.send(this.out);
      this.out = '';
    }
  }

  /** The next complete line; `null` for an overlong one; undefined when no complete line is buffered. */
  private nextLine(): string | null | undefined {
    const buf = this.buf;
    const nl = buf.indexOf(LF, this.pos);
    if (nl < 0) {
      if (buf.length - this.pos > MAX_LINE_BYTES + 1) {
        this.discarding = true;
        this.pos = buf.length;
      }
      return undefined;
    }
    const start = this.pos;
    this.pos = nl + 1;
    if (this.discarding) {
      this.discarding = false;
      return null;
    }
    const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
    if (end - start > MAX_LINE_BYTES) return null;
    return buf.toString('utf8', start, end);
  }

  /** Process every complete buffered line; replies to one batch leave in one write. */
  private pump(): void {
    if (!this.ready || this.busy || this.done) return;
    const delay = this.host.policy.opts.replyDelayMs ?? 0;
    while (!this.done && !this.busy) {
      if (this.skipping) {
        const n = Math.min(this.skipRemaining, this.buf.length - this.pos);
        this.pos += n;
        this.skipRemaining -= n;
        if (this.skipRemaining > 0) break;
        this.skipping = false;
        this.out += this.skipReply;
        this.skipReply = '';
      }
      const line = this.nextLine();
      if (line === undefined) break;
      if (delay > 0) {
        this.busy = true;
        this.after(delay, () => {
          this.busy = false;
          if (this.handle(line)) this.pump();
        });
        break;
      }
      if (!this.handle(line)) break;
    }
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    this.flush();
  }

  /** Run one line through the session and act on the result. Returns false when processing must stop. */
  private handle(line: string | null): boolean {
    const s = this.session;
    const reply = line === null ? s.handleOverlong() : s.handleLine(line, performance.now());
    switch (s.action) {
      case 'none':
        this.out += reply;
        return true;
      case 'skip':
        this.skipping = true;
        this.skipRemaining = s.skipBytes;
        this.skipReply = reply;
        return true;
      case 'close':
        this.out += reply;
        this.flush();
        this.done = true;
        this.stream.end();
        return false;
      case 'reset':
        this.done = true;
        this.reset();
        return false;
      case 'starttls':
        this.out += reply;
        this.flush();
        this.startTls();
        return false;
    }
  }

  /** Abrupt close: replies already queued are written, then the connection is reset (RST) where possible. */
  private reset(): void {
    const rst = (): void => {
      if (this.stream === this.raw && !this.raw.destroyed) this.raw.resetAndDestroy();
      else this.stream.destroy();
    };
    if (this.out !== '' && this.stream.writable) {
      const pending = this.out;
      this.out = '';
      this.stream.write(pending, rst);
    } else {
      this.out = '';
      rst();
    }
  }

  /** Upgrade to TLS. Input buffered after STARTTLS is dropped (RFC 3207 §5: no plaintext injection). */
  private startTls(): void {
    this.raw.removeListener('data', this.onData);
    this.buf = EMPTY;
    this.pos = 0;
    this.discarding = false;
    this.ready = false;
    const tls = new TLSSocket(this.raw, { isServer: true, secureContext: simSecureContext() });
    this.stream = tls;
    tls.on('secure', () => {
      this.host.stats.tlsSessions++;
      this.session.tlsStarted();
      this.ready = true;
      this.pump();
    });
    tls.on('data', this.onData);
    tls.on('error', this.onError);
    tls.on('close', this.onClose);
  }
}
