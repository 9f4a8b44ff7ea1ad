/**
 * What a lost Redis connection is worth saying. A connection dropped and re-established at once (Redis
 * restarted quickly, `CLIENT KILL`, a proxy that recycles connections) is no failure: the client reconnects,
 * its commands wait and are sent again, and the work goes on — each of BullMQ's queues and workers would
 * otherwise report the same `ECONNRESET` once. A connection that stays lost is said once, after a grace
 * time, and its return once.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { RedisClient } from './connect.js';

const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether `err` says only that a connection to Redis broke or could not be made (the client reconnects by itself). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return /^(Connection is closed\.?|Stream isn't writeable.*|connect ETIMEDOUT|read ECONNRESET|write EPIPE)$/.test(errorMessage(err));
}

export class ConnectionWatch {
  private readonly down = new Map<RedisClient, { since: number; timer: NodeJS.Timeout; said: boolean }>();
  private closed = false;

  /** @param graceMs how long a connection may be lost before it is said (a warning). */
  constructor(
    private readonly log: Logger,
    private readonly graceMs = 5000,
  ) {}

  /**
   * Watch `client` (named `name` in the log lines) until `close()`. Its error events are heard for good: a client
   * without an 'error' listener (BullMQ removes its own when it closes a connection) prints "Unhandled error event"
   * with a stack trace at every failed reconnect. A broken connection is said by the watch, after the grace time;
   * any other error is a warning.
   */
  watch(client: RedisClient, name: string): void {
    client.on('close', () => this.lost(client, name));
    client.on('ready', () => this.back(client, name));
    client.on('error', (err: unknown) => {
      if (!this.closed && !isConnectionError(err)) this.log.warn({ connection: name }, `Redis connection ${name}: ${errorMessage(err)}`);
    });
  }

  private lost(client: RedisClient, name: string): void {
    if (this.closed || this.down.has(client)) return;
    const since = Date.now();
    const timer = setTimeout(() => {
      const entry = this.down.get(client);
      if (entry) entry.said = true;
      this.log.warn({ connection: name }, `Redis connection ${name} lost ${Math.round((Date.now() - since) / 1000)} s ago; reconnecting`);
    }, this.graceMs);
    // A watch never keeps a process alive.
    timer.unref();
    this.down.set(client, { since, timer, said: false });
  }

  private back(client: RedisClient, name: string): void {
    const entry = this.down.get(client);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.down.delete(client);
    if (entry.said && !this.closed) this.log.info({ connection: name }, `Redis connection ${name} is back after ${Math.round((Date.now() - entry.since) / 1000)} s`);
  }

  /** Stop watching (connections closed on purpose say nothing). */
  close(): void {
    this.closed = true;
    for (const entry of this.down.values()) clearTimeout(entry.timer);
    this.down.clear();
  }
}
