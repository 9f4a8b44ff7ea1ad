/**
 * The connection watch: a Redis connection that breaks and comes back at once says nothing; one that stays
 * lost is said once (a warning) after the grace time, and its return once. Against a private redis-server
 * that the test kills and starts again.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedis, type RedisClient } from '../../src/redis/connect.js';
import { ConnectionWatch, isConnectionError } from '../../src/redis/connection-watch.js';
import { waitFor } from '../pipeline/helpers.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';

let redis: PrivateRedis;
let client: RedisClient;
let watch: ConnectionWatch;
const lines: { level: number; msg: string }[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        done();
      },
    }),
  );
  watch = new ConnectionWatch(log, 1000);
  client = createRedis({ redisUrl: redis.url }, { extra: { retryStrategy: () => 100 } });
  // What BullMQ does with the client's errors: they reach a listener (here: none needed beyond this one).
  client.on('error', () => undefined);
  watch.watch(client, 'test');
  await client.ping();
});

afterAll(async () => {
  watch.close();
  client.disconnect();
  await redis.destroy();
});

describe('ConnectionWatch', () => {
  it('says nothing about a connection killed and re-established at once', async () => {
    const admin = createRedis({ redisUrl: redis.url });
    try {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    } finally {
      admin.disconnect();
    }
    expect(await client.ping()).toBe('PONG');
    await new Promise((r) => setTimeout(r, 1500));
    expect(lines).toEqual([]);
  });

  it('says a connection lost for longer than the grace time once, and its return once', async () => {
    await redis.stop();
    await waitFor(() => lines.length > 0, 10_000, 'the warning');
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    expect(await client.ping()).toBe('PONG');
    await waitFor(() => lines.length > 1, 10_000, 'the line saying it is back');
    expect(lines.map((l) => [l.level, l.msg.replace(/\d+ s/, 'N s')])).toEqual([
      [40, 'Redis connection test lost N s ago; reconnecting'],
      [30, 'Redis connection test is back after N s'],
    ]);
  });
});

describe('ConnectionWatch, for a client nobody else listens to', () => {
  it('hears its errors: a refused reconnect prints no "Unhandled error event" with a stack (a client not watched does)', async () => {
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    // Nothing listens on ports 1 and 2 of loopback: every connection attempt is refused.
    const watched = createRedis({ redisUrl: 'redis://127.0.0.1:1' }, { extra: { retryStrategy: () => 50 } });
    const bare = createRedis({ redisUrl: 'redis://127.0.0.1:2' }, { extra: { retryStrategy: () => 50 } });
    const quiet = new ConnectionWatch(pino({ level: 'silent' }));
    quiet.watch(watched, 'watched');
    try {
      await waitFor(() => printed.length >= 2, 5_000, 'the unwatched client to complain');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      watched.disconnect();
      bare.disconnect();
      quiet.close();
      spy.mockRestore();
    }
    const unhandled = printed.filter((l) => l.includes('Unhandled error event'));
    expect(unhandled.filter((l) => l.includes('127.0.0.1:2')).length).toBeGreaterThan(0);
    // the watched client failed as often, and was heard
    expect(unhandled.filter((l) => l.includes('127.0.0.1:1'))).toEqual([]);
    expect(watched.listenerCount('error')).toBe(1);
    expect(bare.listenerCount('error')).toBe(0);
  });
});

describe('isConnectionError', () => {
  it('tells a broken connection from other errors', () => {
    expect(isConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('ERR unknown command'))).toBe(false);
    expect(isConnectionError(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
  });
});
