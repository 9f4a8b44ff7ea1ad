/**
 * Test helper: a webhook receiver on loopback (real HTTP). It answers each request with the next answer
 * of its script (an HTTP status, or `hang`: never answer), then with `fallback`, and records every request.
 * Also the test's signing secret and the Standard Webhooks verification of what it received.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../pipeline/helpers.js';

/** A fresh Standard Webhooks secret (`whsec_` + base64 of 32 bytes). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export type Answer = number | 'hang';

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What it was answered (null: left hanging). */
  answered: number | null;
}

export class HookReceiver {
  readonly received: ReceivedHook[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly script: Answer[],
    private readonly fallback: Answer,
  ) {}

  /** Start on 127.0.0.1 (an ephemeral port). */
  static async start(script: Answer[] = [], fallback: Answer = 200): Promise<HookReceiver> {
    let self: HookReceiver | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => self!.answer(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('receiver has no port');
    self = new HookReceiver(server, addr.port, [...script], fallback);
    server.on('connection', (s: Socket) => {
      self!.sockets.add(s);
      s.on('close', () => self!.sockets.delete(s));
    });
    return self;
  }

  private answer(path: string, headers: IncomingHttpHeaders, body: string, res: ServerResponse): void {
    const a = this.script.shift() ?? this.fallback;
    this.received.push({ path, headers, body, answered: a === 'hang' ? null : a });
    if (a === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(a, a >= 300 && a < 400 ? { location: `http://127.0.0.1:${this.port}/redirected` } : {}).end(a >= 200 && a < 300 ? 'ok' : 'no');
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Requests answered 2xx. */
  delivered(): ReceivedHook[] {
    return this.received.filter((r) => r.answered !== null && r.answered >= 200 && r.answered < 300);
  }

  async waitForRequests(n: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.received.length >= n, timeoutMs, `${n} webhook request(s) (got ${this.received.length})`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The payload of a received webhook, verified with the `standardwebhooks` library (throws when the signature does not verify). */
export function verified(secret: string, hook: ReceivedHook): unknown {
  const h = hook.headers;
  return new Webhook(secret).verify(hook.body, {
    'webhook-id': String(h['webhook-id']),
    'webhook-timestamp': String(h['webhook-timestamp']),
    'webhook-signature': String(h['webhook-signature']),
  });
}
