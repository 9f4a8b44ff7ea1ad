/**
 * `GET /readyz`: Redis answers a PING, and the storage the server writes to by itself (the upload and
 * default output prefixes) is reachable: the S3 bucket answers HeadBucket, a local directory (or its
 * nearest existing parent) is writable. Each check has a time limit: a dead dependency makes the
 * answer `503`, never a hanging request.
 */
import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RedisClient } from '../redis/connect.js';
import { errorMessage } from '../errors.js';
import { parseLocation } from '../storage/index.js';
import { isRedisDown } from './errors.js';
import type { ReadyBody } from './schemas.js';

/** Resolve with `p`, or reject after `ms` with "timed out". The late settlement of `p` is observed. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function writableDir(path: string): Promise<void> {
  let dir = path;
  for (;;) {
    try {
      await access(dir, constants.W_OK);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(dir) === dir) throw new Error(`${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
      dir = dirname(dir);
    }
  }
}

/** Reach one storage prefix. */
async function checkPrefix(prefix: string, s3: S3Client): Promise<void> {
  const loc = parseLocation(prefix);
  if (loc.kind === 's3') {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: loc.bucket }));
    } catch (err) {
      throw new Error(`bucket ${loc.bucket}: ${err instanceof Error && err.name !== 'Error' ? err.name : errorMessage(err)}`, { cause: err });
    }
  } else {
    await writableDir(loc.path);
  }
}

export async function readiness(deps: { redis: RedisClient; s3: S3Client; prefixes: readonly string[]; timeoutMs?: number }): Promise<ReadyBody> {
  const ms = deps.timeoutMs ?? 2000;
  const redis = await withTimeout(deps.redis.ping(), ms, 'Redis').then(
    () => ({ ok: true }),
    (err: unknown) => ({ ok: false, error: isRedisDown(err) ? 'Redis does not answer' : errorMessage(err) }),
  );
  const prefixes = [...new Set(deps.prefixes.filter((p) => p !== ''))];
  const problems = await Promise.all(prefixes.map((p) => withTimeout(checkPrefix(p, deps.s3), ms, 'the storage').then(() => null, (err: unknown) => errorMessage(err))));
  const errors = problems.filter((e): e is string => e !== null);
  const storage = { ok: errors.length === 0, ...(errors.length ? { error: errors.join('; ') } : {}), checked: prefixes };
  return { ready: redis.ok && storage.ok, checks: { redis, storage } };
}
