/**
 * One SMTP client connection: TCP (optionally upgraded by STARTTLS), a reply reader, and a FIFO of
 * commands waiting for their replies — which is all PIPELINING needs: write several commands, then
 * collect the replies in order. Every wait is bounded (connect, banner, each reply, whole session),
 * so a tarpitting server cannot hang a worker.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { SocksClient } from 'socks';
import type { SocksProxy } from '../egress/identity.js';
import { ReplyReader } from './reply-reader.js';
import type { SmtpReply } from './reply.js';

export type ConnectionErrorKind =
  /** TCP connection refused / unreachable. */
  | 'connect_failed'
  /** TCP connect did not complete in time. */
  | 'connect_timeout'
  /** A reply (or the banner) did not come in time, or the session cap was reached. */
  | 'timeout'
  /** The server closed the connection while we waited for a reply. */
  | 'closed'
  /** STARTTLS handshake failed. */
  | 'tls'
  /** The server sent something that is not SMTP. */
  | 'protocol'
  /**
   * The connection could not leave through its egress: the local source address cannot be bound, or
   * the SOCKS5 proxy is unreachable, refused our credentials or the request. Says nothing of the MX host.
   */
  | 'egress';

export class SmtpConnectionError extends Error {
  constructor(
    readonly kind: ConnectionErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SmtpConnectionError';
  }
}

export interface ConnectionOptions {
  /** IP address to connect to. */
  address: string;
  port: number;
  /** MX host name, for TLS SNI and messages. */
  serverName: string;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Default 30 s. */
  bannerTimeoutMs?: number;
  /** Default 30 s. */
  commandTimeoutMs?: number;
  /** Hard cap on the connection's life. Default 300 s. */
  sessionTimeoutMs?: number;
  /** Aborting destroys the connection; pending waits fail with `closed`. */
  signal?: AbortSignal;
  /** Local source address of the TCP connection (an egress identity's `bind`). */
  localAddress?: string;
  /** Connect through this SOCKS5 proxy (an egress identity's `socks`). */
  socks?: SocksProxy;
}

interface Waiter {
  resolve(r: SmtpReply): void;
  reject(e: SmtpConnectionError): void;
  timer: NodeJS.Timeout | null;
  timeoutMs: number;
  what: string;
}

const FORBIDDEN = /[\r\n\0]/;

export class SmtpConnection {
  private socket: Socket | TLSSocket;
  private reader = new ReplyReader();
  private readonly queue: Waiter[] = [];
  private readonly early: SmtpReply[] = [];
  private failure: SmtpConnectionError | null = null;
  private readonly sessionTimer: NodeJS.Timeout;
  private readonly opts: Required<Omit<ConnectionOptions, 'signal' | 'localAddress' | 'socks'>>;
  private readonly onAbort = () => this.destroy(new SmtpConnectionError('closed', 'aborted'));
  private readonly signal: AbortSignal | undefined;
  tls = false;

  private constructor(socket: Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = {
      address: opts.address,
      port: opts.port,
      serverName: opts.serverName,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      bannerTimeoutMs: opts.bannerTimeoutMs ?? 30_000,
      commandTimeoutMs: opts.commandTimeoutMs ?? 30_000,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 300_000,
    };
    this.sessionTimer = setTimeout(
      () => this.destroy(new SmtpConnectionError('timeout', `session to ${opts.serverName} exceeded ${this.opts.sessionTimeoutMs} ms`)),
      this.opts.sessionTimeoutMs,
    );
    this.sessionTimer.unref();
    this.signal = opts.signal;
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.attach(socket);
  }

  /**
   * Connect (directly, from `localAddress` if given, or through the SOCKS5 proxy) and wait for the
   * banner. Resolves with the connection and the banner reply (whatever its code: the caller
   * classifies it). Rejects with SmtpConnectionError only.
   */
  static async open(opts: ConnectionOptions): Promise<{ conn: SmtpConnection; banner: SmtpReply }> {
    if (opts.signal?.aborted) throw new SmtpConnectionError('closed', 'aborted');
    const socket = opts.socks ? await connectViaSocks(opts, opts.socks) : await connectDirect(opts);
    const conn = new SmtpConnection(socket, opts);
    try {
      return { conn, banner: await conn.expect(conn.opts.bannerTimeoutMs, 'banner') };
    } catch (err) {
      conn.destroy(err as SmtpConnectionError);
      throw err;
    }
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.destroy(new SmtpConnectionError('closed', `connection to ${this.opts.serverName} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.destroy(new SmtpConnectionError('closed', `${this.opts.serverName} closed the connection`)));
  }

  private onData(chunk: Buffer): void {
    let replies: SmtpReply[];
    try {
      replies = this.reader.push(chunk);
    } catch (err) {
      this.destroy(new SmtpConnectionError('protocol', `bad reply from ${this.opts.serverName}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    for (const r of replies) {
      const w = this.queue.shift();
      if (!w) {
        this.early.push(r); // unsolicited (e.g. a 421 before we asked): kept for the next waiter
        continue;
      }
      if (w.timer) clearTimeout(w.timer);
      w.resolve(r);
      this.armHead();
    }
  }

  /** Only the oldest waiter has a running timer: pipelined replies come in order. */
  private armHead(): void {
    const head = this.queue[0];
    if (head && !head.timer) {
      head.timer = setTimeout(
        () => this.destroy(new SmtpConnectionError('timeout', `no reply to ${head.what} from ${this.opts.serverName} within ${head.timeoutMs} ms`)),
        head.timeoutMs,
      );
    }
  }

  private expect(timeoutMs: number, what: string): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    const early = this.early.shift();
    if (early) return Promise.resolve(early);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject, timer: null, timeoutMs, what });
      this.armHead();
    });
  }

  /** Send one command line (without CRLF) and wait for its reply. */
  command(line: string): Promise<SmtpReply> {
    return this.send([line])[0] as Promise<SmtpReply>;
  }

  /**
   * Write several command lines at once (PIPELINING) and return one promise per reply, in order.
   * Refuses (throws) any line with CR, LF or NUL: nothing can inject a command.
   */
  send(lines: string[]): Promise<SmtpReply>[] {
    for (const l of lines) {
      if (FORBIDDEN.test(l)) throw new SmtpConnectionError('protocol', `refusing to send a command containing CR/LF/NUL: ${JSON.stringify(l)}`);
    }
    const promises = lines.map((l) => this.expect(this.opts.commandTimeoutMs, l.split(' ', 1)[0] ?? l));
    if (!this.failure) {
      this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
    }
    // Attach a no-op rejection handler so a failure before the caller awaits is not "unhandled";
    // the caller still sees the rejection through the returned promise.
    for (const p of promises) p.catch(() => undefined);
    return promises;
  }

  /** Upgrade the connection after a `220` answer to STARTTLS. */
  upgradeTls(verify: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const plain = this.socket;
      plain.removeAllListeners('data');
      plain.removeAllListeners('error');
      plain.removeAllListeners('close');
      this.reader = new ReplyReader();
      const secure = tlsConnect({ socket: plain as Socket, servername: this.opts.serverName.replace(/\.$/, ''), rejectUnauthorized: verify });
      const timer = setTimeout(() => {
        secure.destroy();
        const err = new SmtpConnectionError('tls', `TLS handshake with ${this.opts.serverName} timed out`);
        this.destroy(err);
        reject(err);
      }, this.opts.commandTimeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        secure.off('error', onErr);
        this.socket = secure;
        this.tls = true;
        this.attach(secure);
        resolve();
      });
      const onErr = (err: Error) => {
        clearTimeout(timer);
        const e = new SmtpConnectionError('tls', `TLS handshake with ${this.opts.serverName} failed: ${err.message}`, { cause: err });
        this.destroy(e);
        reject(e);
      };
      secure.once('error', onErr);
    });
  }

  /** Send QUIT (best effort, short wait) and close. */
  async quit(): Promise<void> {
    if (this.failure) return;
    const p = this.send(['QUIT'])[0] as Promise<SmtpReply>;
    const t = setTimeout(() => this.close(), Math.min(this.opts.commandTimeoutMs, 2000));
    try {
      await p;
    } catch (err) {
      // The server may drop the connection right after QUIT without a 221: that is fine.
      if (!(err instanceof SmtpConnectionError)) throw err;
    } finally {
      clearTimeout(t);
      this.close();
    }
  }

  close(): void {
    this.destroy(new SmtpConnectionError('closed', 'connection closed by us'));
  }

  get failed(): SmtpConnectionError | null {
    return this.failure;
  }

  private destroy(err: SmtpConnectionError): void {
    if (this.failure) return;
    this.failure = err;
    clearTimeout(this.sessionTimer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    for (const w of this.queue.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
  }
}

/** Where a connection goes, for messages: `host [ip]:port`. */
function target(opts: ConnectionOptions): string {
  return `${opts.serverName} [${opts.address}]:${opts.port}`;
}

/** Errors of binding the local source address: the identity's, not the host's. */
const BIND_ERRORS = new Set(['EADDRNOTAVAIL', 'EADDRINUSE', 'EINVAL', 'EACCES']);

/** A TCP connection to the MX address, from `localAddress` when given, within the connect timeout. */
function connectDirect(opts: ConnectionOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: opts.address, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    socket.setNoDelay(true);
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpConnectionError('connect_timeout', `connect to ${target(opts)} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (opts.localAddress && err.code !== undefined && BIND_ERRORS.has(err.code)) {
        reject(new SmtpConnectionError('egress', `cannot connect from ${opts.localAddress} to ${target(opts)}: ${err.message}`, { cause: err }));
      } else {
        reject(new SmtpConnectionError('connect_failed', `connect to ${target(opts)} failed: ${err.message}`, { cause: err }));
      }
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/**
 * SOCKS5 answers about the target host, not the proxy: REP 1, 3, 4, 5, 6 (RFC 1928 §6), and a proxy
 * that closes the connection after the CONNECT request (some answer a failed connect with a short
 * reply and close). Proxy errors proper — unreachable, credentials refused, REP 2 "not allowed" —
 * are the identity's.
 */
const TARGET_REPLIES = /^(?:Socks5 proxy rejected connection - (?:Failure|NetworkUnreachable|HostUnreachable|ConnectionRefused|TTLExpired)|Socket closed)$/;

/** A TCP connection to the MX address through the SOCKS5 proxy (CONNECT command), within the connect timeout. */
async function connectViaSocks(opts: ConnectionOptions, proxy: SocksProxy): Promise<Socket> {
  const via = `SOCKS5 proxy ${proxy.host}:${proxy.port}`;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  try {
    const { socket } = await SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxy.port, type: 5, ...(proxy.userId !== undefined ? { userId: proxy.userId, password: proxy.password ?? '' } : {}) },
      command: 'connect',
      destination: { host: opts.address, port: opts.port },
      timeout: connectTimeoutMs,
      set_tcp_nodelay: true,
    });
    return socket;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (TARGET_REPLIES.test(message)) throw new SmtpConnectionError('connect_failed', `connect to ${target(opts)} via ${via} failed: ${message}`, { cause: err });
    if (message === 'Proxy connection timed out') throw new SmtpConnectionError('connect_timeout', `connect to ${target(opts)} via ${via} timed out after ${connectTimeoutMs} ms`, { cause: err });
    throw new SmtpConnectionError('egress', `${via} could not connect us to ${target(opts)}: ${message}`, { cause: err });
  }
}
