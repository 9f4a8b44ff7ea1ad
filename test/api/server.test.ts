/**
 * The server as operators run it: `listwash serve` as a process (SIGTERM stops it cleanly), settings
 * checked at start, a graceful stop with requests in flight, and dependencies that fail: Redis down
 * (503 REDIS_UNAVAILABLE, never a hanging request; back when Redis is back), storage unreachable
 * (readyz 503).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/api/server.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { isListwashError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { dropKeys, testPrefix } from '../pipeline/helpers.js';
import { errorOf, freePort, postJson, startApiFixture, startPrivateRedis, TOKENS } from './fixture.js';

const prefix = testPrefix();
afterAll(async () => {
  await dropKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
});

async function startError(env: Record<string, string>): Promise<unknown> {
  const cfg = loadConfig({ LISTWASH_QUEUE_PREFIX: prefix, ...env });
  return startApiServer(cfg, { port: 0, logger: silentLogger }).then(
    async (api) => {
      await api.close();
      return null;
    },
    (err: unknown) => err,
  );
}

describe('listwash serve', () => {
  it('listens on --host/--port, answers, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = { ...process.env, LISTWASH_QUEUE_PREFIX: prefix, LISTWASH_API_KEYS: `alice:${TOKENS.alice}`, LISTWASH_LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--host', '127.0.0.1', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      for (let i = 0; !stderr.includes('listening on'); i++) {
        if (i > 300 || child.exitCode !== null) throw new Error(`serve did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stderr).toContain(`listening on http://127.0.0.1:${port}`);
      const res = await fetch(`http://127.0.0.1:${port}/v1/lists`, { headers: { authorization: `Bearer ${TOKENS.alice}` } });
      expect(await res.json()).toEqual({ lists: [], nextCursor: null });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toContain('SIGTERM');
  });

  it('refuses bad flags with a usage error', async () => {
    for (const argv of [['serve', '--port', 'eighty'], ['serve', '--port', '70000'], ['serve', 'extra']]) {
      const err = await main(argv).catch((e: unknown) => e);
      expect(isListwashError(err, 'CLI_USAGE'), argv.join(' ')).toBe(true);
    }
  });

  it.each([
    ['no API key at all', {}, 'LISTWASH_API_KEYS'],
    ['a token shorter than 16 characters', { LISTWASH_API_KEYS: 'alice:tiny-secret' }, 'alice'],
    ['a key name used twice', { LISTWASH_API_KEYS: `alice:${TOKENS.alice},alice:${TOKENS.bob}` }, 'twice'],
    ['a local root that does not exist', { LISTWASH_API_KEYS: `alice:${TOKENS.alice}`, LISTWASH_LOCAL_ROOT: '/nonexistent/lw-root' }, 'LISTWASH_LOCAL_ROOT'],
    ['an upload prefix that is no location', { LISTWASH_API_KEYS: `alice:${TOKENS.alice}`, LISTWASH_UPLOAD_PREFIX: 'http://x/' }, 'LISTWASH_UPLOAD_PREFIX'],
  ])('does not start with %s (CONFIG_INVALID naming it, no secret in the message)', async (_what, env, named) => {
    const err = await startError(env);
    expect(isListwashError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(named);
    expect((err as Error).message).not.toContain('tiny-secret');
  });

  it('does not start with a keys file that is not JSON, or a key without a token', async () => {
    const file = join(tmpdir(), `lw-keys-${process.pid}.json`);
    await writeFile(file, '{ not json');
    expect(isListwashError(await startError({ LISTWASH_API_KEYS_FILE: file }), 'CONFIG_FILE')).toBe(true);
    await writeFile(file, JSON.stringify({ keys: [{ name: 'x' }] }));
    const err = await startError({ LISTWASH_API_KEYS_FILE: file });
    expect(isListwashError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('tokenSha256');
  });
});

describe('a graceful stop', () => {
  it('answers the requests in flight (with Connection: close) before it stops', async () => {
    const f = await startApiFixture();
    const inFlight = postJson(f, '/v1/verify', { addresses: ['someone@example.com'], deadlineMs: 1500 });
    await new Promise((r) => setTimeout(r, 300));
    await f.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    expect(((await res.json()) as { deadlinePassed: boolean }).deadlinePassed).toBe(true);
  });
});

describe('dependencies that fail', () => {
  it('answers 503 REDIS_UNAVAILABLE while Redis is down (never hangs), readyz 503, and recovers when Redis is back', async () => {
    const redis = await startPrivateRedis();
    const f = await startApiFixture({ env: { REDIS_URL: redis.url } });
    try {
      expect((await f.http('/v1/lists', { key: 'alice' })).status).toBe(200);
      await redis.stop();
      expect(await errorOf(await f.http('/v1/lists', { key: 'alice' }))).toMatchObject({ status: 503, code: 'REDIS_UNAVAILABLE' });
      expect(await errorOf(await postJson(f, '/v1/lists', { input: 's3://lw-test/in.csv' }))).toMatchObject({ status: 503, code: 'REDIS_UNAVAILABLE' });
      const ready = await f.http('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, checks: { redis: { ok: false, error: 'Redis does not answer' } } });
      await redis.start();
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await f.http('/readyz')).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
      expect((await f.http('/v1/lists', { key: 'alice' })).status).toBe(200);
    } finally {
      await redis.start(); // a no-op when the test got as far as restarting it
      await f.close();
      await redis.destroy();
    }
  });

  it('answers readyz 503 naming the bucket when the S3 storage does not answer', async () => {
    const port = await freePort();
    const f = await startApiFixture({ env: { S3_ENDPOINT: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', LISTWASH_OUTPUT_PREFIX: 's3://lw-out/cleaned/', LISTWASH_UPLOAD_PREFIX: '' } });
    try {
      const ready = await f.http('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, checks: { redis: { ok: true }, storage: { ok: false, checked: ['s3://lw-out/cleaned/'], error: expect.stringContaining('lw-out') } } });
    } finally {
      await f.close();
    }
  });
});
