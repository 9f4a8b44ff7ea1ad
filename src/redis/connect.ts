/**
 * Connections to Redis from the settings. Every connection of the service is made here, so the kind
 * of deployment (one node, TLS, a cluster) is decided in one place: `REDIS_URL` is `redis://` /
 * `rediss://` for one server, `redis+cluster://host:port,host:port` / `rediss+cluster://…` for a Redis
 * Cluster (see `url.ts`).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { parseRedisUrl, type RedisTarget } from './url.js';

/** A connection to one Redis server or to a Redis Cluster: both take the same commands. */
export type RedisClient = Redis | Cluster;

/** `REDIS_URL` without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, auth: string) => (auth.includes(':') ? `//${auth.slice(0, auth.indexOf(':'))}:***@` : '//***@'));
}

/** Whether a client talks to a Redis Cluster. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/** A client for `target`: `redisOptions` apply to every node's connection, `clusterOptions` to a cluster client. */
function connectTo(target: RedisTarget, redisOptions: RedisOptions, clusterOptions: ClusterOptions = {}): RedisClient {
  if (target.kind === 'single') return new Redis(target.url, redisOptions);
  const { seeds, tls, username, password } = target;
  return new Cluster(seeds, {
    ...clusterOptions,
    redisOptions: { ...(username ? { username } : {}), ...(password ? { password } : {}), ...(tls ? { tls: {} } : {}), ...redisOptions },
  });
}

/**
 * A connection for the service: commands wait while it reconnects (BullMQ needs
 * `maxRetriesPerRequest: null`); `name` is shown by `CLIENT LIST` (on every node of a cluster).
 */
export function createRedis(cfg: Pick<Config, 'redisUrl'>, opts: { name?: string; extra?: RedisOptions } = {}): RedisClient {
  return connectTo(parseRedisUrl(cfg.redisUrl), { maxRetriesPerRequest: null, ...(opts.name ? { connectionName: opts.name } : {}), ...opts.extra });
}

/**
 * Fail fast with a clear message when Redis is not there (the service itself would wait for it
 * forever): one connection attempt, `timeoutMs` at most. A `redis://` URL that names a node of a
 * Redis Cluster, or a `redis+cluster://` URL that names a server without cluster support, is
 * `REDIS_CLUSTER_MISMATCH` (the service would otherwise stop at the first `MOVED` reply); a cluster
 * that does not serve every slot is `REDIS_UNAVAILABLE`.
 */
export async function assertRedis(cfg: Pick<Config, 'redisUrl'>, timeoutMs = 3000): Promise<void> {
  const target = parseRedisUrl(cfg.redisUrl);
  const where = redactRedisUrl(cfg.redisUrl);
  const probe = connectTo(
    target,
    { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false },
    { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null, slotsRefreshTimeout: timeoutMs },
  );
  // The connection error is reported through connect()'s rejection below, with its cause.
  let cause: unknown = null;
  probe.on('error', (err: unknown) => (cause = err));
  try {
    try {
      await reach(probe, where, timeoutMs);
    } catch (err) {
      if (err instanceof ListwashError) throw err;
      const failure = cause ?? err;
      if (clusterRefusal(failure)) throw mismatch(`REDIS_URL names a Redis Cluster (${where}), but the server is not one (${describe(failure)}): use redis://host:port`);
      throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `Redis does not answer at ${where}: ${describe(failure)} (set REDIS_URL)`, {}, { cause: failure });
    }
    await assertDeployment(probe, target, where);
  } finally {
    probe.disconnect();
  }
}

/**
 * Connect and PING, settling within about `timeoutMs` whatever the client does: an ioredis Cluster
 * whose nodes answer but which does not serve (`cluster_state:fail`) ends without ever settling
 * `connect()`.
 */
async function reach(probe: RedisClient, where: string, timeoutMs: number): Promise<void> {
  const notServing = new Promise<never>((_, reject) => {
    if (!isCluster(probe)) return;
    let answered = false;
    probe.on('connect', () => (answered = true));
    probe.once('end', () => {
      if (answered) reject(new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `the Redis Cluster at ${where} is not serving (its nodes answer, but not every slot is served); check CLUSTER INFO on its nodes`));
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `Redis does not answer at ${where} within ${timeoutMs + 1000} ms (set REDIS_URL)`)), timeoutMs + 1000);
  });
  try {
    await Promise.race([
      (async () => {
        await probe.connect();
        await probe.ping();
      })(),
      notServing,
      silent,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The server behind a working connection is the kind of deployment the URL says. (A cluster client is
 * ready only once its nodes say `cluster_state:ok`: see `reach`.)
 */
async function assertDeployment(probe: RedisClient, target: RedisTarget, where: string): Promise<void> {
  if (isCluster(probe) || target.kind !== 'single') return;
  const info = await probe.info('cluster');
  if (/^cluster_enabled:1/m.test(info)) {
    const u = new URL(target.url);
    throw mismatch(`Redis at ${where} is a node of a Redis Cluster: set REDIS_URL=${u.protocol.replace(':', '')}+cluster://${u.host} (more seed nodes comma-separated)`);
  }
}

/** The cluster client's errors keep what the last node said apart (`lastNodeError`). */
function nodeError(err: unknown): unknown {
  return (err as { lastNodeError?: unknown } | null)?.lastNodeError;
}

/** An error's message, with what the last node said for a cluster client's error. */
function describe(err: unknown): string {
  const last = nodeError(err);
  return last ? `${errorMessage(err).replace(/\.$/, '')}: ${errorMessage(last)}` : errorMessage(err);
}

/** Whether `err` is a server without cluster support answering the cluster client. */
function clusterRefusal(err: unknown): boolean {
  return /cluster support disabled/i.test(errorMessage(nodeError(err) ?? err));
}

function mismatch(message: string): ListwashError {
  return new ListwashError(ErrorCodes.REDIS_CLUSTER_MISMATCH, message);
}
