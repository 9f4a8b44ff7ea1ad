/**
 * Test helpers for the pipeline's integration tests: a per-file Redis prefix, a config pointing at a
 * simulated world (and optionally an in-process s3rver), S3 read/write, CSV parsing of the outputs.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { dropPrefix } from '../../src/cli/demo.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createRedis } from '../../src/redis/connect.js';
import type { SimWorld } from '../../src/world/index.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET, type RunningS3rver } from '../storage/s3rver-helper.js';

export { TEST_BUCKET };

/** The columns report.csv appends to the input's columns, in order. */
export const EXTRA_COLUMNS = [
  'email_normalized',
  'status',
  'reason',
  'bounce_risk',
  'suggestion',
  'is_role',
  'is_disposable',
  'is_free',
  'is_catch_all',
  'mx_host',
  'smtp_code',
  'smtp_reply',
  'verified_at',
];

/** The columns risky.csv, invalid.csv and unknown.csv append to the input's columns, in order. */
export const STATUS_FILE_COLUMNS = ['status', 'reason', 'bounce_risk', 'suggestion'];

/** A random BullMQ/key prefix for one test file: `{lwtest-<hex>}`. */
export function testPrefix(): string {
  return `{lwtest-${randomBytes(5).toString('hex')}}`;
}

/**
 * Environment for a listwash process against `world` (and `s3`): short timeouts, the given prefix.
 * `extra` wins. Also used as the child env of spawned worker processes.
 */
export function pipelineEnv(world: SimWorld, prefix: string, s3: RunningS3rver | null, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...world.env(),
    LISTWASH_QUEUE_PREFIX: prefix,
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: 'probe@listwash.test',
    LISTWASH_GREYLIST_RETRY_DELAYS: '3,1',
    LISTWASH_BLOCKED_PATIENCE_SEC: '20',
    LISTWASH_MX_COOLDOWN_MS: '1000',
    LISTWASH_CONNECT_TIMEOUT_MS: '2000',
    LISTWASH_BANNER_TIMEOUT_MS: '3000',
    LISTWASH_COMMAND_TIMEOUT_MS: '3000',
    LISTWASH_DNS_TIMEOUT_MS: '300',
    LISTWASH_DNS_TRIES: '1',
    LISTWASH_BATCH_SIZE: '3',
    LISTWASH_JOB_TTL: '600',
    ...(s3
      ? {
          S3_ENDPOINT: s3.settings.s3Endpoint,
          AWS_REGION: s3.settings.s3Region,
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        }
      : {}),
    ...extra,
  };
}

/**
 * The S3 client the pipeline makes from the config reads credentials from the standard chain: put
 * s3rver's fixed ones in this process's environment so the chain stops there (no metadata lookups).
 */
export function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
}

export function pipelineConfig(world: SimWorld, prefix: string, s3: RunningS3rver | null, extra: Record<string, string> = {}): Config {
  return loadConfig(pipelineEnv(world, prefix, s3, extra));
}

export async function putText(s3: RunningS3rver, key: string, body: string | Buffer): Promise<string> {
  await s3.client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: key, Body: body }));
  return `s3://${TEST_BUCKET}/${key}`;
}

export async function getText(s3: RunningS3rver, key: string): Promise<string> {
  const res = await s3.client.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: key }));
  return res.Body!.transformToString('utf8');
}

/** Parse CSV text into arrays of fields (no header handling). */
export function parseCsv(text: string, delimiter = ','): string[][] {
  return parse(text, { delimiter, relax_column_count: true }) as string[][];
}

/** Rows of report.csv as objects keyed by header. */
export function reportRows(text: string, delimiter = ','): { header: string[]; rows: Record<string, string>[]; raw: string[][] } {
  const [header, ...raw] = parseCsv(text, delimiter);
  if (!header) throw new Error('report.csv is empty');
  const rows = raw.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  return { header, rows, raw };
}

/** Delete every key under `prefix` (queues, list state, throttle, caches), on every master of a Redis Cluster. */
export async function dropKeys(redisUrl: string, prefix: string): Promise<number> {
  const r = createRedis({ redisUrl });
  try {
    return await dropPrefix(r, prefix);
  } finally {
    r.disconnect();
  }
}

/** Resolve when `check` returns true, polling; reject after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
