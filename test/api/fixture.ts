/**
 * The HTTP API's test fixture: the API listening on loopback (real Fastify, real HTTP), real Redis
 * under a private prefix, optionally an in-process s3rver, a simulated mail world and workers (a
 * separate service, as `listwash worker` would be), a local root with a keys file, and captured logs.
 * Every test file of `test/api/` starts its environment here and closes it in `afterAll`.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startApiServer, type RunningApi } from '../../src/api/server.js';
import { ListwashClient } from '../../src/client/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, pipelineEnv, testPrefix, useS3rverCredentials } from '../pipeline/helpers.js';
import { startS3rver, TEST_BUCKET, type RunningS3rver } from '../storage/s3rver-helper.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';

/** Tokens of the fixture's keys (never to be seen in logs or answers). */
export const TOKENS = {
  alice: 'alice-secret-token-0001',
  bob: 'bob-secret-token-000002',
  admin: 'admin-secret-token-0003',
  /** A keys-file key restricted to `s3://lw-test/crm/in/` inputs and `s3://lw-test/crm/out/` outputs. */
  crm: 'crm-secret-token-000004',
} as const;
export type KeyName = keyof typeof TOKENS;

/** A small world: two mailboxes at acme.test, a domain that does not exist. */
export const SMALL_WORLD: SimWorldSpec = {
  domains: {
    'acme.test': { mx: [{ host: 'mx.acme.test', preference: 10 }], expect: { bob: 'accepted', alice: 'accepted', nobody: 'mailbox_not_found' } },
    'gone.test': { nxdomain: true, expect: { x: 'no_domain' } },
  },
  hosts: { 'mx.acme.test': { mailboxes: ['bob', 'alice'] } },
};

export interface FixtureOptions {
  /** A simulated mail world (needed for lists that probe). Default: none. */
  world?: SimWorldSpec;
  /** An in-process s3rver with the bucket `lw-test`. Default false. */
  s3?: boolean;
  /** Where uploads and default outputs go. Default: `s3` with s3rver, else `local` (under the root). */
  storage?: 's3' | 'local';
  /** Workers (split, probe, aggregate, webhook) in a separate service. Default false. */
  workers?: boolean;
  /** Extra settings (environment variables); they win. */
  env?: Record<string, string>;
}

/** A route as Fastify registered it. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

export interface ApiFixture {
  cfg: Config;
  api: RunningApi;
  url: string;
  s3: RunningS3rver | null;
  world: SimWorld | null;
  /** The workers' service, when started. */
  workers: ListwashService | null;
  /** `LISTWASH_LOCAL_ROOT` (a real path); `outside` is a directory beside it. */
  root: string;
  outside: string;
  /** Every log line the API wrote. */
  logs: string[];
  /** Every route the API registered. */
  routes: RegisteredRoute[];
  /** A typed client with a key (or none). */
  client(key: KeyName | null): ListwashClient;
  /** Raw HTTP with a key (or none). */
  http(path: string, init?: RequestInit & { key?: KeyName | null }): Promise<Response>;
  close(): Promise<void>;
}

export function bearer(key: KeyName): { authorization: string } {
  return { authorization: `Bearer ${TOKENS[key]}` };
}

export async function startApiFixture(opts: FixtureOptions = {}): Promise<ApiFixture> {
  const prefix = testPrefix();
  const base = await realpath(await mkdtemp(join(tmpdir(), 'lw-api-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await Promise.all([mkdir(root), mkdir(outside)]);
  const keysFile = join(base, 'keys.json');
  await writeFile(keysFile, JSON.stringify({ keys: [{ name: 'crm', token: TOKENS.crm, inputPrefixes: [`s3://${TEST_BUCKET}/crm/in/`], outputPrefixes: [`s3://${TEST_BUCKET}/crm/out/`] }] }));

  if (opts.s3) useS3rverCredentials();
  const [world, s3] = await Promise.all([opts.world ? SimWorld.start(opts.world) : null, opts.s3 ? startS3rver() : null]);
  const storage = (opts.storage ?? (s3 ? 's3' : 'local')) === 's3' ? `s3://${TEST_BUCKET}` : `file://${root}`;
  const env: Record<string, string> = {
    ...(world ? pipelineEnv(world, prefix, s3) : { ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}), LISTWASH_QUEUE_PREFIX: prefix, LISTWASH_JOB_TTL: '600' }),
    ...(s3 && !world ? { S3_ENDPOINT: s3.settings.s3Endpoint, AWS_REGION: s3.settings.s3Region } : {}),
    // Without s3rver, S3 points at a closed loopback port: nothing can ever reach a real S3.
    ...(s3 ? {} : { S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`, AWS_ACCESS_KEY_ID: 'none', AWS_SECRET_ACCESS_KEY: 'none' }),
    LISTWASH_API_KEYS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
    LISTWASH_ADMIN_KEY: TOKENS.admin,
    LISTWASH_API_KEYS_FILE: keysFile,
    LISTWASH_LOCAL_ROOT: root,
    LISTWASH_UPLOAD_PREFIX: `${storage}/uploads/`,
    LISTWASH_OUTPUT_PREFIX: `${storage}/out/`,
    LISTWASH_UPLOAD_MAX_BYTES: String(64 * 1024),
    ...opts.env,
  };
  const cfg = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const routes: RegisteredRoute[] = [];
  const onRoute = (r: { method: string | string[]; url: string }) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  };
  const api = await startApiServer(cfg, { host: '127.0.0.1', port: 0, logger: pino({ level: 'info' }, sink), processMetrics: false, onRoute });
  let workers: ListwashService | null = null;
  if (opts.workers) {
    workers = new ListwashService(cfg);
    await workers.startWorkers({ split: true, probe: true, aggregate: true, webhook: true, probeConcurrency: 4 });
  }
  const client = (key: KeyName | null) => new ListwashClient({ baseUrl: api.url, ...(key ? { token: TOKENS[key] } : {}) });
  return {
    cfg,
    api,
    url: api.url,
    s3,
    world,
    workers,
    root,
    outside,
    logs,
    routes,
    client,
    http: (path, init = {}) => {
      const { key = null, headers, ...rest } = init;
      return fetch(`${api.url}${path}`, { ...rest, headers: { ...(key ? bearer(key) : {}), ...(headers as Record<string, string> | undefined) } });
    },
    close: async () => {
      await workers?.close();
      await api.close();
      await dropKeys(cfg.redisUrl, prefix);
      await Promise.all([world?.stop(), s3?.close(), rm(base, { recursive: true, force: true })]);
    },
  };
}

/** POST JSON with a key. */
export function postJson(f: ApiFixture, path: string, body: unknown, key: KeyName | null = 'alice'): Promise<Response> {
  return f.http(path, { method: 'POST', key, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The `{ error }` body of an answer, with its status. */
export async function errorOf(res: Response): Promise<{ status: number; code: string; message: string; field?: string }> {
  const body = (await res.json()) as { error: { code: string; message: string; field?: string } };
  return { status: res.status, ...body.error };
}

export { TEST_BUCKET };

export { freePort, startPrivateRedis, type PrivateRedis };
