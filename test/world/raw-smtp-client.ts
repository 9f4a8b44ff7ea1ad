/**
 * A tiny raw SMTP client for the simulator's tests: sends lines, reads whole (multi-line) replies, upgrades
 * to TLS, and reports how the connection ended. Loopback only.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface ClientEnd {
  /** Error code if the connection ended with an error (e.g. `ECONNRESET`). */
  error?: string;
}

export class RawSmtpClient {
  private text = '';
  private readonly replies: string[] = [];
  private waiter: (() => void) | undefined;
  private ended: ClientEnd | undefined;
  private readonly endWaiters: ((e: ClientEnd) => void)[] = [];
  /** Every byte received, as text. */
  received = '';

  private constructor(private socket: Socket) {
    this.attach(socket);
  }

  /** Connect to `ip:port`, from `localAddress` when given (another loopback client address). */
  static connect(ip: string, port: number, localAddress?: string): Promise<RawSmtpClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: ip, port, ...(localAddress ? { localAddress } : {}) });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawSmtpClient(s));
      });
    });
  }

  /** Connect and read the banner. */
  static async open(ip: string, port: number, localAddress?: string): Promise<{ client: RawSmtpClient; banner: string }> {
    const client = await RawSmtpClient.connect(ip, port, localAddress);
    return { client, banner: await client.reply() };
  }

  private readonly onData = (chunk: Buffer): void => {
    const s = chunk.toString('utf8');
    this.received += s;
    this.text += s;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.text);
      if (!m) break;
      this.replies.push(m[0].slice(0, -2));
      this.text = this.text.slice(m[0].length);
    }
    this.wake();
  };

  private attach(s: Socket): void {
    s.on('data', this.onData);
    s.on('error', (err: NodeJS.ErrnoException) => this.finish({ error: err.code ?? err.message }));
    s.on('close', () => this.finish({}));
  }

  private finish(e: ClientEnd): void {
    if (this.ended) return;
    this.ended = e;
    for (const w of this.endWaiters.splice(0)) w(e);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Whether the connection has ended. */
  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /** The next whole reply (lines joined with `\n`). Rejects on timeout or when the connection ends first. */
  async reply(timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.ended) throw new Error(`connection ended (${this.ended.error ?? 'closed'}) while waiting for a reply`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; received so far: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return (this.replies.shift() as string).replace(/\r\n/g, '\n');
  }

  /** Resolves true if a reply (or any byte) arrives within `ms`, false otherwise. */
  async anythingWithin(ms: number): Promise<boolean> {
    const before = this.received.length;
    await new Promise((r) => setTimeout(r, ms));
    return this.received.length > before;
  }

  /** Send raw text as is. */
  write(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  /** Send one command line (CRLF added). */
  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Send a command and read its reply. */
  async cmd(line: string, timeoutMs = 3000): Promise<string> {
    this.send(line);
    return this.reply(timeoutMs);
  }

  /** Send several commands in one write (pipelining) and read one reply per command. */
  async pipeline(lines: string[], timeoutMs = 3000): Promise<string[]> {
    this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) out.push(await this.reply(timeoutMs));
    return out;
  }

  /** After a `220` to STARTTLS: run the TLS handshake over the same socket (self-signed: no verification). */
  async upgradeTls(): Promise<TLSSocket> {
    this.socket.off('data', this.onData);
    const tls = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ socket: this.socket, rejectUnauthorized: false, servername: 'sim-mx.listwash.test' });
      t.once('error', reject);
      t.once('secureConnect', () => {
        t.off('error', reject);
        resolve(t);
      });
    });
    this.socket = tls;
    this.attach(tls);
    return tls;
  }

  /** Wait until the connection ends; rejects after `timeoutMs`. */
  waitEnd(timeoutMs = 3000): Promise<ClientEnd> {
    if (this.ended) return Promise.resolve(this.ended);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.endWaiters.push((e) => {
        clearTimeout(t);
        resolve(e);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Resolves to the error code of a connection attempt that fails (e.g. `ECONNREFUSED`), or 'connected'. */
export function connectOutcome(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
  });
}

/** A random `127.A.B.C` address (A, B in 1..254, C in 2..254) for a host outside a world. */
export function randomLoopbackIp(): string {
  const r = (): number => 1 + Math.floor(Math.random() * 254);
  return `127.${r()}.${r()}.${2 + Math.floor(Math.random() * 253)}`;
}
