/**
 * One webhook attempt: a JSON `POST` over HTTP(S) to an allowed address (see `target-guard.ts`), no
 * redirect followed, no proxy, a fresh connection, a deadline for the whole exchange up to the status
 * line. Resolves with the receiver's status (any status: the caller decides what it means).
 */
import http from 'node:http';
import https from 'node:https';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { TargetPolicy } from '../net/targets.js';
import { checkLiteralHost, guardedLookup, guardSocket, type ResolveAll } from './target-guard.js';

export interface PostOptions {
  policy: TargetPolicy;
  timeoutMs: number;
  headers: Record<string, string>;
  /** DNS for the host (tests); default `dns.lookup`. */
  resolveAll?: ResolveAll;
}

export interface PostResult {
  status: number;
  durationMs: number;
}

/** Most response body bytes read (and thrown away) before the connection is closed. */
const MAX_DRAIN_BYTES = 64 * 1024;

/** `https://host:port` of a URL: what logs and errors may show (its path and query may hold a token). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

function deliveryError(url: string, why: string, details: Record<string, unknown> = {}): ListwashError {
  return new ListwashError(ErrorCodes.WEBHOOK_DELIVERY, `webhook to ${originOf(url)}: ${why}`, { origin: originOf(url), ...details });
}

/** Read and drop what is left of a response body, bounded in bytes and time; its errors no longer matter. */
function drain(res: http.IncomingMessage, timeoutMs: number): void {
  let bytes = 0;
  const timer = setTimeout(() => res.destroy(), timeoutMs);
  timer.unref();
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_DRAIN_BYTES) res.destroy();
  });
  res.on('close', () => clearTimeout(timer));
  // The status is already known: a body cut short changes nothing about the attempt.
  res.on('error', () => res.destroy());
}

/**
 * POST `body` to `url`.
 * @throws ListwashError `WEBHOOK_TARGET_NOT_ALLOWED` (no connection was made to a refused address),
 *   `WEBHOOK_TIMEOUT`, `WEBHOOK_DELIVERY` (DNS, connection, TLS).
 */
export async function postJson(url: string, body: string, opts: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const u = new URL(url);
  checkLiteralHost(u.hostname, opts.policy);
  return send(u, body, opts, started);
}

function send(u: URL, body: string, opts: PostOptions, started: number): Promise<PostResult> {
  const url = u.href;
  const client = u.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve, reject) => {
    let refused: ListwashError | null = null;
    let timedOut = false;
    const req = client.request(u, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(opts.policy, opts.resolveAll),
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...opts.headers },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, opts.timeoutMs);
    req.on('socket', (socket) => guardSocket(socket, opts.policy, u.hostname, (err) => (refused = err)));
    req.on('response', (res) => {
      clearTimeout(timer);
      drain(res, opts.timeoutMs);
      resolve({ status: res.statusCode ?? 0, durationMs: Math.round(performance.now() - started) });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      if (err instanceof ListwashError) return reject(err);
      if (refused) return reject(refused);
      if (timedOut) return reject(new ListwashError(ErrorCodes.WEBHOOK_TIMEOUT, `webhook to ${originOf(url)}: no answer within ${opts.timeoutMs} ms`, { origin: originOf(url) }));
      const code = (err as NodeJS.ErrnoException).code;
      reject(deliveryError(url, errorMessage(err), code ? { errno: code } : {}));
    });
    req.end(body);
  });
}
