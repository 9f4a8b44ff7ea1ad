/**
 * What `REDIS_URL` names: one Redis server (`redis://`, `rediss://` for TLS), or a Redis Cluster given
 * by seed nodes (`redis+cluster://host:port,host:port`, `rediss+cluster://` for TLS). Pure.
 *
 * A cluster URL lists one or more of the cluster's nodes; the client learns the rest (and which node
 * serves which slot) from them, so a few seeds are enough however large the cluster.
 */

export interface RedisSeed {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; seeds: RedisSeed[]; tls: boolean; username?: string; password?: string };

/** The URL schemes REDIS_URL may use. */
export const REDIS_URL_SCHEMES = ['redis://', 'rediss://', 'redis+cluster://', 'rediss+cluster://'] as const;

const CLUSTER_RE = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)(?:\/(\d*))?$/;
const SEED_RE = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/** Thrown for a REDIS_URL that names neither one server nor a cluster. The message says why. */
export class RedisUrlError extends Error {}

/** Read `REDIS_URL`. Throws `RedisUrlError` with the reason when it is not usable. */
export function parseRedisUrl(url: string): RedisTarget {
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return { kind: 'single', url };
  if (!url.startsWith('redis+cluster://') && !url.startsWith('rediss+cluster://')) {
    throw new RedisUrlError(`must start with ${REDIS_URL_SCHEMES.join(', ')}`);
  }
  const m = CLUSTER_RE.exec(url);
  if (!m) throw new RedisUrlError('expected redis+cluster://[user:password@]host:port,host:port');
  const [, scheme, auth, hosts, db] = m;
  if (db && db !== '0') throw new RedisUrlError(`a Redis Cluster has only database 0, not ${db}`);
  return { kind: 'cluster', seeds: hosts!.split(',').map(parseSeed), tls: scheme === 'rediss', ...parseAuth(auth) };
}

function parseSeed(text: string): RedisSeed {
  const m = SEED_RE.exec(text.trim());
  const port = Number(m?.[3] ?? 6379);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError(`not host:port: ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

/** `user:password`, `:password` or `user` (as ioredis reads `redis://` URLs), percent-decoded. */
function parseAuth(auth: string | undefined): { username?: string; password?: string } {
  if (!auth) return {};
  const cut = auth.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new RedisUrlError('bad percent-encoding in the user or password');
    }
  };
  if (cut < 0) return { username: decode(auth) };
  const username = decode(auth.slice(0, cut));
  return { ...(username ? { username } : {}), password: decode(auth.slice(cut + 1)) };
}
