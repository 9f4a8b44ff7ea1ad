/**
 * The connection watch: a Redis connection that breaks and comes back at once says nothing; one that stays
 * lost is said once (a warning) after the grace time, and its return once. Against a private redis-server
 * that the test kills and starts again.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('isConnectionError', () => {
  it('tells a broken connection from other errors', () => {
    expect(isConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('ERR unknown command'))).toBe(false);
    expect(isConnectionError(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
  });
});
