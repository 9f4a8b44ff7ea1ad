/**
 * Test helper: a private `redis-server` on a free loopback port, for outage and restart tests — killed
 * (SIGKILL, as a crash) and started again on the same port, with or without append-only persistence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A free loopback TCP port (bound and released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

export interface PrivateRedisOptions {
  /**
   * Append-only persistence (`--appendonly yes --appendfsync always`, in a temporary folder): every write is on
   * disk before it is answered, so a SIGKILLed server comes back with all of it. Default false: nothing is kept.
   */
  aof?: boolean;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Start it (a no-op while it runs); resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL it (a crash: no shutdown save) and wait until it has exited. */
  stop(): Promise<void>;
  /** Stop it and remove its folder. */
  destroy(): Promise<void>;
}

export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'lw-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(...(opts.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let proc: ChildProcess | null = null;
  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // A refused connection is reported by connect() below; the event would only repeat it.
    probe.on('error', () => undefined);
    try {
      for (let i = 0; ; i++) {
        try {
          await probe.connect();
          // A server loading its append-only file answers LOADING until it is done.
          await probe.ping();
          return;
        } catch (err) {
          if (i > 100) throw err;
          probe.disconnect();
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      probe.disconnect();
    }
  };
  const stop = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGKILL');
    await once(p, 'exit');
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
