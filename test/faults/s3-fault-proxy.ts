/**
 * Test helper: an HTTP proxy on loopback in front of s3rver that injects the faults S3 clients meet in the wild —
 * `500 InternalError`, `503 SlowDown`, connection resets before the response, response bodies cut short (headers
 * with the full Content-Length, part of the body, then the connection reset), slow response bodies, and uploads
 * stored short (the request body cut in half on its way to s3rver, which then stores half an object and says 200).
 * A plan picks the fault of each request. Requests are forwarded byte for byte (same Host header: the signature
 * stays valid).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const FAULTS = ['pass', '500', '503', 'reset', 'truncate', 'cut', 'slow', 'short-upload'] as const;
/**
 * - `pass`: forwarded as is.
 * - `500` / `503`: answered by the proxy with S3's `InternalError` / `SlowDown` error (the request never reaches s3rver).
 * - `reset`: the connection is reset before any response.
 * - `truncate`: the response's headers and the first half of its body, then a reset.
 * - `cut`: the response's headers, then a reset (no body byte).
 * - `slow`: the response body in 4 KiB pieces, 5 ms apart; a request body goes on to s3rver in 16 KiB pieces, 2 ms apart.
 * - `short-upload`: only the first half of the request body reaches s3rver, which stores that (Content-Length
 *   adjusted) and answers 200.
 */
export type Fault = (typeof FAULTS)[number];

export interface ProxiedRequest {
  method: string;
  url: string;
  range: string | undefined;
  /** The request body's length (Content-Length), 0 without one. */
  bodyBytes: number;
  /** How many times a request with this method, URL and Range has been seen, this one included (1 = first attempt). */
  attempt: number;
}

export type FaultPlan = (req: ProxiedRequest) => Fault;

/** Every request passes. */
export const NO_FAULTS: FaultPlan = () => 'pass';

/** The faults that can happen to a request: body faults need a GET (a response body) or a request body. */
export function applicable(req: ProxiedRequest): readonly Fault[] {
  if (req.method === 'GET') return ['500', '503', 'reset', 'truncate', 'cut', 'slow'];
  if (req.bodyBytes > 1) return ['500', '503', 'reset', 'slow', 'short-upload'];
  return ['500', '503', 'reset'];
}

/**
 * The first attempt of a request gets a fault, every retry passes, so each request meets one fault and succeeds on its
 * next attempt. Faults are taken in turn from `faults`, separately for GETs, requests with a body and the others,
 * skipping those that cannot happen to the request. A URL meets at most `perUrl` faults (a resumed read asks for a new
 * range each time: without a bound every resume would be faulted again).
 */
export function firstAttemptFaults(faults: readonly Fault[], perUrl = 3): FaultPlan {
  const next = new Map<string, number>();
  const perUrlCount = new Map<string, number>();
  return (req) => {
    if (req.attempt !== 1 || (perUrlCount.get(req.url) ?? 0) >= perUrl) return 'pass';
    const can = applicable(req);
    const mine = faults.filter((f) => can.includes(f));
    if (mine.length === 0) return 'pass';
    const kind = req.method === 'GET' ? 'get' : req.bodyBytes > 1 ? 'body' : 'other';
    const i = next.get(kind) ?? 0;
    next.set(kind, i + 1);
    perUrlCount.set(req.url, (perUrlCount.get(req.url) ?? 0) + 1);
    return mine[i % mine.length] as Fault;
  };
}

const ERROR_BODIES: Readonly<Record<'500' | '503', { code: string; message: string }>> = {
  '500': { code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  '503': { code: 'SlowDown', message: 'Please reduce your request rate.' },
};

export class S3FaultProxy {
  /** Faults applied, by kind. */
  readonly injected: Record<Fault, number> = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
  private readonly attempts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    private readonly upstreamPort: number,
    private plan: FaultPlan,
  ) {}

  /** Decide faults with `plan` from now on; attempts are counted afresh (the next request of each kind is a first attempt). */
  use(plan: FaultPlan): void {
    this.plan = plan;
    this.attempts.clear();
  }

  /** Start a proxy on 127.0.0.1 in front of `upstream` (`http://127.0.0.1:<port>`). */
  static async start(upstream: string, plan: FaultPlan = NO_FAULTS): Promise<S3FaultProxy> {
    const up = new URL(upstream);
    if (up.hostname !== '127.0.0.1') throw new Error(`the proxy forwards to loopback only, not ${upstream}`);
    const server = createServer();
    const proxy = new S3FaultProxy(server, Number(up.port), plan);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The S3 endpoint clients use: `http://127.0.0.1:<proxy port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    const key = `${method} ${url} ${range ?? ''}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const bodyBytes = Number(req.headers['content-length'] ?? 0);
    const fault = this.plan({ method, url, range, bodyBytes, attempt });
    if (fault === 'reset') {
      this.injected.reset++;
      req.socket.destroy();
      return;
    }
    if (fault === '500' || fault === '503') {
      this.injected[fault]++;
      const { code, message } = ERROR_BODIES[fault];
      req.resume();
      req.once('end', () => {
        res.writeHead(Number(fault), { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
      });
      return;
    }
    this.forward(req, res, fault);
  }

  private forward(req: IncomingMessage, res: ServerResponse, fault: Fault): void {
    const headers = { ...req.headers };
    // `Expect: 100-continue` is not signed; this server has already answered it.
    delete headers.expect;
    const length = Number(headers['content-length'] ?? 0);
    const shortUpload = fault === 'short-upload' && length > 1;
    if (shortUpload) headers['content-length'] = String(Math.floor(length / 2));
    const up = request({ host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers }, (upRes) => {
      void this.respond(upRes, res, req.method === 'GET' ? fault : 'pass');
    });
    up.on('error', () => res.socket?.destroy());
    if (shortUpload) {
      this.injected['short-upload']++;
      void this.forwardHalf(req, up, Math.floor(length / 2));
    } else if (fault === 'slow' && length > 1) {
      this.injected.slow++;
      void this.forwardSlowly(req, up);
    } else {
      req.pipe(up);
    }
  }

  /** Send the request body upstream in 16 KiB pieces, 2 ms apart. */
  private async forwardSlowly(req: IncomingMessage, up: ReturnType<typeof request>): Promise<void> {
    for await (const chunk of req) {
      const c = chunk as Buffer;
      for (let i = 0; i < c.length; i += 16 * 1024) {
        up.write(c.subarray(i, i + 16 * 1024));
        await sleep(2);
      }
    }
    up.end();
  }

  /** Send the first `bytes` bytes of the request body upstream, drop the rest. */
  private async forwardHalf(req: IncomingMessage, up: ReturnType<typeof request>, bytes: number): Promise<void> {
    let sent = 0;
    for await (const chunk of req) {
      const c = chunk as Buffer;
      const take = Math.min(c.length, bytes - sent);
      if (take > 0) up.write(c.subarray(0, take));
      sent += take;
    }
    up.end();
  }

  /** Relay s3rver's response, with a body fault (GETs only). */
  private async respond(upRes: IncomingMessage, res: ServerResponse, fault: Fault): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of upRes) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    const hasBody = body.length > 1;
    if ((fault === 'truncate' || fault === 'cut') && hasBody) {
      this.injected[fault]++;
      res.flushHeaders();
      if (fault === 'truncate') res.write(body.subarray(0, Math.floor(body.length / 2)));
      // Let the bytes leave before the reset.
      await sleep(20);
      res.socket?.resetAndDestroy();
      return;
    }
    if (fault === 'slow' && hasBody) {
      this.injected.slow++;
      for (let i = 0; i < body.length; i += 4096) {
        res.write(body.subarray(i, i + 4096));
        await sleep(5);
      }
      res.end();
      return;
    }
    res.end(body);
  }
}
