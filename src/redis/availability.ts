/**
 * Which Redis a command-line run uses, decided before its first Redis command, within seconds:
 * - the configured Redis, when it answers;
 * - a private `redis-server` for this run (see `embedded.ts`) when nothing answers at the default
 *   address, `REDIS_URL` is not set and the command may run on its own (`clean`, `demo`);
 * - otherwise a typed error: `REDIS_UNAVAILABLE` naming the URL (never its password), or
 *   `REDIS_SERVER_MISSING` naming the fixes when a private server was wanted but there is no binary.
 * Never a command that waits, reconnecting, for a Redis that is not there.
 */
import { SETTINGS } from '../config.js';
import { ErrorCodes, ListwashError, isListwashError } from '../errors.js';
import { assertRedis, redactRedisUrl } from './connect.js';
import { findOnPath, startEmbeddedRedis, type EmbeddedRedis } from './embedded.js';

/** The Redis a run uses when `REDIS_URL` is not set. */
export const DEFAULT_REDIS_URL: string = SETTINGS.redisUrl.default!;

/** What a user can do when there is neither a Redis nor a redis-server binary. */
export const REDIS_FIXES =
  'install Redis from your OS\'s packages (apt install redis-server, brew install redis), run one in a container (docker run -p 6379:6379 redis:7), or set REDIS_URL to a Redis that answers';

export interface ResolveOptions {
  /** May a private redis-server be started when nothing answers at the default address? */
  allowEmbedded: boolean;
  /** Where the one-line notice of a private server goes. */
  say: (line: string) => void;
  /** How long the configured Redis has to answer. Default 2000 ms. */
  timeoutMs?: number;
  /** The address used when REDIS_URL is not set (`DEFAULT_REDIS_URL`): any other was chosen by the user. */
  defaultUrl?: string;
}

export interface ResolvedRedis<C> {
  /** The configuration to run with: `redisUrl` names the private server when one was started. */
  cfg: C;
  /** The private server of this run, or null when the configured Redis answered. */
  embedded: EmbeddedRedis | null;
  /**
   * Rejects with `REDIS_UNAVAILABLE` when the private server ends before `stop()` (killed, crashed): a run
   * waiting on Redis should give up at once. Never settles for a Redis of the user's.
   */
  lost: Promise<never>;
  /** Stop the private server (if any) and remove its directory. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * The Redis this run uses: see the module comment. `env` is the process environment (`REDIS_URL` and
 * `PATH` are read from it).
 */
export async function resolveRedis<C extends { redisUrl: string }>(cfg: C, env: NodeJS.ProcessEnv, opts: ResolveOptions): Promise<ResolvedRedis<C>> {
  try {
    await assertRedis(cfg, opts.timeoutMs ?? 2000);
    return { cfg, embedded: null, lost: new Promise<never>(() => undefined), stop: async () => undefined };
  } catch (err) {
    const mayEmbed = opts.allowEmbedded && env.REDIS_URL === undefined && cfg.redisUrl === (opts.defaultUrl ?? DEFAULT_REDIS_URL);
    if (!mayEmbed || !isListwashError(err, ErrorCodes.REDIS_UNAVAILABLE)) throw err;
  }
  const where = redactRedisUrl(cfg.redisUrl);
  const binary = findOnPath('redis-server', env.PATH);
  if (!binary) {
    throw new ListwashError(ErrorCodes.REDIS_SERVER_MISSING, `no Redis at ${where} and no redis-server on PATH to start a private one: ${REDIS_FIXES}`);
  }
  const embedded = await startEmbeddedRedis({ binary });
  const detach = stopOnSignals(embedded);
  opts.say(`no Redis at ${where}; started a private redis-server on 127.0.0.1:${embedded.port} for this run`);
  const lost = embedded.ended.then(() => new Promise<never>(() => undefined));
  lost.catch(() => undefined);
  return {
    cfg: { ...cfg, redisUrl: embedded.url },
    embedded,
    lost,
    stop: async () => {
      detach();
      await embedded.stop();
    },
  };
}

/**
 * On SIGINT/SIGTERM with no other handler (the process would die of it), stop the server first, then die of
 * the signal as before. With other handlers (a graceful stop), they end the process, and the server goes
 * with it (`exit`, or the watchdog when the process is gone).
 */
function stopOnSignals(embedded: EmbeddedRedis): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const detach = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      if (process.listenerCount(signal) > 1) return;
      detach();
      // Not awaited: the process dies of the signal now; the watchdog finishes the stop if this is cut short.
      embedded.stop().then(
        () => process.kill(process.pid, signal),
        () => process.kill(process.pid, signal),
      );
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return detach;
}
