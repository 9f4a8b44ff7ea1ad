/**
 * Which Redis a command-line run uses (`resolveRedis`): the configured one when it answers; a private
 * redis-server when nothing answers at the default address and REDIS_URL is unset — one that never
 * outlives its process, however that process ends; a typed error otherwise, returned within seconds.
 *
 * "The default address" is a free loopback port here (`defaultUrl`): the shared Redis at 127.0.0.1:6379
 * answers on this machine. test/fresh/fresh-clone.test.ts covers the real default, in a network namespace.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { REDIS_FIXES, resolveRedis, type ResolvedRedis } from '../../src/redis/availability.js';
import { freeLoopbackPort } from '../../src/redis/embedded.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { rejection } from '../helpers/rejection.js';
import { waitFor } from '../pipeline/helpers.js';

const sharedRedis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = { say: () => undefined };
const started: ResolvedRedis<unknown>[] = [];

afterEach(async () => {
  for (const r of started.splice(0)) await r.stop();
});

/** Whether a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A `redis://` URL where nothing listens. */
async function silentUrl(auth = ''): Promise<string> {
  return `redis://${auth}127.0.0.1:${await freeLoopbackPort()}`;
}

/** The environment of a run with REDIS_URL unset. */
function envWithoutRedisUrl(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.REDIS_URL;
  return env;
}

/** PING once: 'PONG', or the connection error's message. */
async function ping(url: string): Promise<string> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.ping();
  } catch (err) {
    return (err as Error).message;
  } finally {
    r.disconnect();
  }
}

/** Start test/redis/embedded-child.ts; resolves with what it printed once its private server answers. */
async function startChild(defaultUrl: string, mode: 'wait' | 'exit') {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/redis/embedded-child.ts', defaultUrl, mode], { cwd: REPO_ROOT, env: envWithoutRedisUrl(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await waitFor(() => out.includes('\n') || child.exitCode !== null, 30_000, `the child to start its server (stderr: ${err})`);
  const info = JSON.parse(out) as { pid: number; dir: string; url: string };
  return { child, exit, info, stderr: () => err };
}

describe('resolveRedis', () => {
  it('uses the configured Redis when it answers, starting nothing', async () => {
    const r = await resolveRedis({ redisUrl: sharedRedis }, process.env, { allowEmbedded: true, ...quiet });
    expect(r.embedded).toBeNull();
    expect(r.cfg.redisUrl).toBe(sharedRedis);
    await r.stop();
  });

  it('starts a private redis-server when nothing answers at the default address and REDIS_URL is unset, says so in one line, and stops it', async () => {
    const defaultUrl = await silentUrl();
    const lines: string[] = [];
    const r = await resolveRedis({ redisUrl: defaultUrl, other: 'kept' }, envWithoutRedisUrl(), { allowEmbedded: true, defaultUrl, say: (l) => lines.push(l) });
    started.push(r);
    const e = r.embedded!;
    expect(r.cfg).toEqual({ redisUrl: `redis://127.0.0.1:${e.port}`, other: 'kept' });
    expect(lines).toEqual([`no Redis at ${defaultUrl}; started a private redis-server on 127.0.0.1:${e.port} for this run`]);
    expect(await ping(r.cfg.redisUrl)).toBe('PONG');
    expect(alive(e.pid)).toBe(true);
    expect(existsSync(e.dir)).toBe(true);

    await r.stop();
    expect(alive(e.pid)).toBe(false);
    expect(existsSync(e.dir)).toBe(false);
    expect(await ping(r.cfg.redisUrl)).not.toBe('PONG');
    await r.stop(); // a second stop is harmless
  });

  it('keeps nothing on the private server: no persistence, its own temporary directory', async () => {
    const defaultUrl = await silentUrl();
    const r = await resolveRedis({ redisUrl: defaultUrl }, envWithoutRedisUrl(), { allowEmbedded: true, defaultUrl, ...quiet });
    started.push(r);
    const c = new Redis(r.cfg.redisUrl);
    try {
      const [, save] = (await c.config('GET', 'save')) as string[];
      const [, aof] = (await c.config('GET', 'appendonly')) as string[];
      const [, dir] = (await c.config('GET', 'dir')) as string[];
      const [, bind] = (await c.config('GET', 'bind')) as string[];
      expect({ save, aof, dir, bind }).toEqual({ save: '', aof: 'no', dir: r.embedded!.dir, bind: '127.0.0.1' });
    } finally {
      c.disconnect();
    }
  });

  it('says when the private server ends by itself (killed): `lost` rejects with REDIS_UNAVAILABLE', async () => {
    const defaultUrl = await silentUrl();
    const r = await resolveRedis({ redisUrl: defaultUrl }, envWithoutRedisUrl(), { allowEmbedded: true, defaultUrl, ...quiet });
    started.push(r);
    process.kill(r.embedded!.pid, 'SIGKILL');
    const err = await rejection(r.lost);
    expect(err.code).toBe(ErrorCodes.REDIS_UNAVAILABLE);
    expect(err.message).toBe(`the private redis-server (pid ${r.embedded!.pid}, ${r.cfg.redisUrl}) ended by itself (killed by signal 9)`);
    await r.stop();
    expect(existsSync(r.embedded!.dir)).toBe(false);
  });

  it('fails with REDIS_SERVER_MISSING naming the fixes when there is no redis-server on PATH', async () => {
    const defaultUrl = await silentUrl();
    const err = await rejection(resolveRedis({ redisUrl: defaultUrl }, envWithoutRedisUrl({ PATH: '/nonexistent' }), { allowEmbedded: true, defaultUrl, ...quiet }));
    expect(err.code).toBe(ErrorCodes.REDIS_SERVER_MISSING);
    expect(err.message).toBe(`no Redis at ${defaultUrl} and no redis-server on PATH to start a private one: ${REDIS_FIXES}`);
    expect(REDIS_FIXES).toMatch(/apt install redis-server.*brew install redis.*docker run -p 6379:6379 redis:7.*set REDIS_URL/);
  });

  it('fails with REDIS_UNAVAILABLE naming the URL without its password when REDIS_URL is set and nothing answers: no private server', async () => {
    const url = await silentUrl('app:s3cret@');
    const err = await rejection(resolveRedis({ redisUrl: url }, { ...process.env, REDIS_URL: url }, { allowEmbedded: true, defaultUrl: url, ...quiet }));
    expect(err.code).toBe(ErrorCodes.REDIS_UNAVAILABLE);
    expect(err.message).toContain(`Redis does not answer at ${url.replace('s3cret', '***')}`);
    expect(err.message).not.toContain('s3cret');
  });

  it('fails with REDIS_UNAVAILABLE when the command may not start a private server (worker, submit, status, …)', async () => {
    const defaultUrl = await silentUrl();
    const err = await rejection(resolveRedis({ redisUrl: defaultUrl }, envWithoutRedisUrl(), { allowEmbedded: false, defaultUrl, ...quiet }));
    expect(err.code).toBe(ErrorCodes.REDIS_UNAVAILABLE);
  });

  it('fails with REDIS_UNAVAILABLE for another address than the default one (chosen by the user, e.g. in LISTWASH_CONFIG)', async () => {
    const defaultUrl = await silentUrl();
    const chosen = await silentUrl();
    const err = await rejection(resolveRedis({ redisUrl: chosen }, envWithoutRedisUrl(), { allowEmbedded: true, defaultUrl, ...quiet }));
    expect(err.code).toBe(ErrorCodes.REDIS_UNAVAILABLE);
    expect(err.message).toContain(chosen);
  });
});

describe('a private redis-server never outlives its process', () => {
  it('is stopped, and its directory removed, when the process is SIGKILLed', async () => {
    const c = await startChild(await silentUrl(), 'wait');
    expect(alive(c.info.pid)).toBe(true);
    c.child.kill('SIGKILL');
    expect(await c.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await waitFor(() => !alive(c.info.pid) && !existsSync(c.info.dir), 10_000, `redis-server ${c.info.pid} to stop after its parent died`);
  });

  it('is stopped before the process dies of Ctrl-C (SIGINT) or SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const c = await startChild(await silentUrl(), 'wait');
      c.child.kill(signal);
      expect(await c.exit).toEqual({ code: null, signal });
      // Stopped by the process itself before it died: gone at once, not later by the watchdog.
      expect(alive(c.info.pid)).toBe(false);
      expect(existsSync(c.info.dir)).toBe(false);
    }
  });

  it('does not keep its process alive, and goes when the process ends on its own', async () => {
    const c = await startChild(await silentUrl(), 'exit');
    expect(await c.exit).toEqual({ code: 0, signal: null });
    // At its natural end a process can only signal the server (its 'exit' handlers cannot wait): the server stops a moment later.
    await waitFor(() => !alive(c.info.pid) && !existsSync(c.info.dir), 10_000, `redis-server ${c.info.pid} to stop after its process ended`);
  });
});
