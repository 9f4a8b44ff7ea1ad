/**
 * The start-up check of Redis (`assertRedis`) against one server: Redis at REDIS_URL (default
 * 127.0.0.1:6379, without cluster support) and servers the test starts on loopback. The cluster cases
 * run against a real cluster in `npm run test:cluster` (test/cluster/cluster.test.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { assertRedis } from '../../src/redis/connect.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let silent: Server;
let silentPort: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  // Accepts connections and never answers.
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('assertRedis', () => {
  it('passes for a Redis that answers', async () => {
    await expect(assertRedis({ redisUrl })).resolves.toBeUndefined();
  });

  it('names the URL to use when a redis+cluster:// URL names a server without cluster support', async () => {
    const { host } = new URL(redisUrl);
    const err = await assertRedis({ redisUrl: `redis+cluster://${host}` }, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.REDIS_CLUSTER_MISMATCH, message: expect.stringMatching(/but the server is not one \(.*cluster support disabled\): use redis:\/\/host:port$/) });
  });

  it('fails within its time when the server accepts the connection but never answers', async () => {
    for (const url of [`redis://127.0.0.1:${silentPort}`, `redis+cluster://127.0.0.1:${silentPort}`]) {
      const err = await assertRedis({ redisUrl: url }, 300).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.REDIS_UNAVAILABLE, message: expect.stringContaining(`Redis does not answer at ${url}`) });
    }
  });

  it('says that nothing listens, with the cause', async () => {
    const err = await assertRedis({ redisUrl: 'redis://127.0.0.1:1' }, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.REDIS_UNAVAILABLE, message: 'Redis does not answer at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 (set REDIS_URL)' });
  });
});
