/**
 * Connections to Redis from the settings. Every connection of the service is made here, so the kind
 * of deployment (one node, TLS, a cluster) is decided in one place.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';

/** `REDIS_URL` without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, auth: string) => (auth.includes(':') ? `//${auth.slice(0, auth.indexOf(':'))}:***@` : '//***@'));
}

/**
 * A connection for the service: commands wait while it reconnects (BullMQ needs
 * `maxRetriesPerRequest: null`); `name` is shown by `CLIENT LIST`.
 */
export function createRedis(cfg: Pick<Config, 'redisUrl'>, opts: { name?: string; extra?: RedisOptions } = {}): Redis {
  return new Redis(cfg.redisUrl, { maxRetriesPerRequest: null, ...(opts.name ? { connectionName: opts.name } : {}), ...opts.extra });
}

/**
 * Fail fast with a clear message when Redis is not there (the service itself would wait for it
 * forever): one connection attempt, `timeoutMs` at most.
 */
export async function assertRedis(cfg: Pick<Config, 'redisUrl'>, timeoutMs = 3000): Promise<void> {
  const probe = new Redis(cfg.redisUrl, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The connection error is reported through connect()'s rejection below, with its cause.
  let cause: unknown = null;
  probe.on('error', (err: unknown) => (cause = err));
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `Redis does not answer at ${redactRedisUrl(cfg.redisUrl)}: ${errorMessage(cause ?? err)} (set REDIS_URL)`, {}, { cause: cause ?? err });
  } finally {
    probe.disconnect();
  }
}
