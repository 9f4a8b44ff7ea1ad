/**
 * The bucket watcher against s3rver and local folders, with real Redis and workers: every new CSV
 * object becomes exactly one list (two watchers, a restart), its results land under
 * `<out>/<name without extension>/`, a malformed file gets `error.json` and is not retried, and a poll
 * that finds nothing new submits nothing and asks Redis nothing. `listwash watch` itself runs as a
 * process.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { createS3Client, s3Location } from '../../src/storage/index.js';
import { Watcher, watchListId, type Submitted, type WatchService } from '../../src/watch/index.js';
import { S3Source } from '../../src/watch/s3-source.js';
import { SimWorld } from '../../src/world/index.js';
import { REPO_ROOT, runCli } from '../helpers/processes.js';
import { rejection } from '../helpers/rejection.js';
import { dropKeys, getText, pipelineConfig, pipelineEnv, putText, testPrefix, TEST_BUCKET, useS3rverCredentials, waitFor } from '../pipeline/helpers.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../storage/s3rver-helper.js';
import { QUICK_ROWS, WEBHOOK_WORLD } from '../webhooks/helpers.js';

const prefix = testPrefix();
const run = `watch-${process.pid}-${Date.now()}`;
const CSV = ['email', ...QUICK_ROWS].join('\n') + '\n';
const BROKEN = 'email\n"ann@quick.test\n';
let world: SimWorld;
let s3: RunningS3rver;
let cfg: Config;
/** Two services: two watcher processes' worth of connections. The first also runs the workers. */
let svc: ListwashService;
let other: ListwashService;
let dir: string;

beforeAll(async () => {
  useS3rverCredentials();
  [world, s3] = await Promise.all([SimWorld.start(WEBHOOK_WORLD), startS3rver()]);
  dir = await mkdtemp(join(tmpdir(), 'lw-watch-'));
  cfg = pipelineConfig(world, prefix, s3, { LISTWASH_CATCH_ALL_PROBE: 'false' });
  svc = new ListwashService(cfg);
  other = new ListwashService(cfg);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
});

afterAll(async () => {
  await Promise.all([svc?.close(), other?.close()]);
  await dropKeys(cfg.redisUrl, prefix);
  await Promise.all([world?.stop(), s3?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Lists created by polls, by id: each must appear once. */
function createdIds(...polls: Submitted[][]): string[] {
  return polls.flat().filter((s) => s.created).map((s) => s.listId).sort();
}

async function s3Exists(key: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: TEST_BUCKET, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A service whose Redis counts the claims' commands (hmget, hset). */
function counting(service: ListwashService): { svc: WatchService; calls: () => number } {
  let n = 0;
  const redis = new Proxy(service.redis, {
    get(target, p, receiver) {
      const v = Reflect.get(target, p, receiver) as unknown;
      if ((p === 'hmget' || p === 'hset') && typeof v === 'function') return (...args: unknown[]) => (n++, (v as (...a: unknown[]) => unknown).apply(target, args));
      return v;
    },
  }) as Redis;
  return { svc: { cfg: service.cfg, redis, submit: (o) => service.submit(o) }, calls: () => n };
}

describe('watching an S3 prefix', () => {
  const inKey = `${run}/incoming/`;
  const source = `s3://${TEST_BUCKET}/${inKey}`;
  const out = `s3://${TEST_BUCKET}/${run}/cleaned/`;

  it('makes every CSV object exactly one list, with two watchers and a restart', async () => {
    await putText(s3, `${inKey}march.csv`, CSV);
    await putText(s3, `${inKey}team/april.csv`, CSV);
    await putText(s3, `${inKey}notes.txt`, 'not a list');
    const [a, b] = await Promise.all([Watcher.create(svc, source, out), Watcher.create(other, source, out)]);
    const [pa, pb] = await Promise.all([a.pollOnce(), b.pollOnce()]);
    const ids = createdIds(pa, pb);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect([...pa, ...pb].map((s) => s.name).sort()).toEqual(expect.arrayContaining(['march.csv', 'team/april.csv']));

    // A restarted watcher (nothing in memory) finds both recorded.
    const restarted = await Watcher.create(other, source, out);
    expect(await restarted.pollOnce()).toEqual([]);
    for (const w of [a, b, restarted]) w.close();

    // Results under <out>/<name without extension>/.
    for (const id of ids) await svc.waitUntilDone(id, { timeoutMs: 30_000, pollMs: 100 });
    expect(await s3Exists(`${run}/cleaned/march/summary.json`)).toBe(true);
    expect(await s3Exists(`${run}/cleaned/team/april/report.csv`)).toBe(true);
    expect((await getText(s3, `${run}/cleaned/march/report.csv`)).split('\n')[0]).toMatch(/^email,email_normalized/);
  });

  it('makes a new version of an object (overwritten) a new list', async () => {
    const w = await Watcher.create(svc, source, out);
    await w.pollOnce();
    await putText(s3, `${inKey}march.csv`, CSV + 'ben@quick.test\n');
    const again = await w.pollOnce();
    expect(again.map((s) => [s.name, s.created])).toEqual([['march.csv', true]]);
    w.close();
    await svc.waitUntilDone(again[0]!.listId, { timeoutMs: 30_000, pollMs: 100 });
  });

  it('turns a malformed file into <out>/<name>/error.json, once', async () => {
    await putText(s3, `${inKey}broken.csv`, BROKEN);
    const w = await Watcher.create(svc, source, out);
    const [s] = (await w.pollOnce()).filter((x) => x.name === 'broken.csv');
    expect((await rejection(svc.waitUntilDone(s!.listId, { timeoutMs: 30_000, pollMs: 100 }))).details.cause).toBe(ErrorCodes.CSV_UNTERMINATED_QUOTE);
    const error = JSON.parse(await getText(s3, `${run}/cleaned/broken/error.json`)) as { error: { code: string; message: string } };
    expect(error.error.code).toBe(ErrorCodes.CSV_UNTERMINATED_QUOTE);
    expect(error.error.message).toMatch(/quote/i);
    const restarted = await Watcher.create(other, source, out);
    expect(await restarted.pollOnce()).toEqual([]);
    for (const x of [w, restarted]) x.close();
  });

  it('submits nothing and asks Redis nothing when nothing changed', async () => {
    const { svc: watched, calls } = counting(svc);
    const w = await Watcher.create(watched, source, out);
    expect(await w.pollOnce()).toEqual([]);
    const afterFirst = calls();
    expect(afterFirst).toBeGreaterThan(0); // a fresh watcher looks its objects up once
    expect(await w.pollOnce()).toEqual([]);
    expect(await w.pollOnce()).toEqual([]);
    expect(calls()).toBe(afterFirst);
    w.close();
  });

  it('never takes its own results when the output lies under the watched prefix', async () => {
    const nestedIn = `${run}/nested/`;
    await putText(s3, `${nestedIn}may.csv`, CSV);
    const w = await Watcher.create(svc, `s3://${TEST_BUCKET}/${nestedIn}`, `s3://${TEST_BUCKET}/${nestedIn}cleaned/`);
    const [s] = await w.pollOnce();
    await svc.waitUntilDone(s!.listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(await s3Exists(`${nestedIn}cleaned/may/clean.csv`)).toBe(true);
    expect(await w.pollOnce()).toEqual([]);
    w.close();
    await s3.client.send(new DeleteObjectCommand({ Bucket: TEST_BUCKET, Key: `${nestedIn}may.csv` }));
  });

  it('refuses an output that is the watched prefix itself, and a bucket that does not exist at its first poll', async () => {
    expect((await rejection(Watcher.create(svc, source, source))).code).toBe(ErrorCodes.STORAGE_BAD_URL);
    const w = await Watcher.create(svc, 's3://no-such-bucket-lw/in/', out);
    expect((await rejection(w.run(1000, new AbortController().signal))).code).toBe(ErrorCodes.STORAGE_NOT_FOUND);
    w.close();
  });
});

describe('an S3 prefix longer than a page', () => {
  it('is listed a page at a time, following continuation tokens', async () => {
    // s3rver's continuation tokens need the legacy OpenSSL provider: this s3rver runs in its own process.
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'test/watch/s3rver-child.ts', TEST_BUCKET], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await waitFor(() => /port \d+/.test(out) || child.exitCode !== null, 20_000, 's3rver to listen');
      const settings = { s3Endpoint: `http://127.0.0.1:${/port (\d+)/.exec(out)![1]}`, s3Region: 'us-east-1', s3ForcePathStyle: false };
      const client = createS3Client(settings, { credentials: S3RVER_CREDENTIALS });
      const names = ['a.csv', 'b.csv', 'c.csv', 'd.txt', 'e.csv', 'f/g.csv'];
      for (const n of names) await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `paged/${n}`, Body: CSV }));
      const pages: string[][] = [];
      for await (const page of new S3Source(client, s3Location(TEST_BUCKET, 'paged/'), null, 2).list()) pages.push(page.map((o) => o.name));
      client.destroy();
      expect(pages).toHaveLength(3);
      expect(pages.flat()).toEqual(['a.csv', 'b.csv', 'c.csv', 'e.csv', 'f/g.csv']);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('watching a local folder', () => {
  it('takes a file once its size and mtime held still across two polls, once, with two watchers and a restart', async () => {
    const folder = join(dir, 'incoming');
    const out = join(dir, 'cleaned');
    await mkdir(join(folder, '.hidden'), { recursive: true });
    await writeFile(join(folder, 'june.csv'), CSV);
    await writeFile(join(folder, '.hidden', 'skip.csv'), CSV);
    const [a, b] = await Promise.all([Watcher.create(svc, folder, out), Watcher.create(other, `file://${folder}/`, out)]);
    // First sight: not yet still.
    expect([...(await a.pollOnce()), ...(await b.pollOnce())]).toEqual([]);
    // Still growing: not taken.
    await appendFile(join(folder, 'june.csv'), 'ann@quick.test\n');
    expect([...(await a.pollOnce()), ...(await b.pollOnce())]).toEqual([]);
    const [pa, pb] = await Promise.all([a.pollOnce(), b.pollOnce()]);
    const ids = createdIds(pa, pb);
    expect(ids).toHaveLength(1);
    const restarted = await Watcher.create(other, folder, out);
    expect([...(await restarted.pollOnce()), ...(await restarted.pollOnce())]).toEqual([]);
    await svc.waitUntilDone(ids[0]!, { timeoutMs: 30_000, pollMs: 100 });
    expect(await fileExists(join(out, 'june', 'summary.json'))).toBe(true);
    expect(ids[0]).toMatch(/^w-june-[0-9a-f]{20}$/);
  });

  it('turns a malformed file into <out>/<name>/error.json', async () => {
    const folder = join(dir, 'incoming-bad');
    const out = join(dir, 'cleaned-bad');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'broken.csv'), BROKEN);
    const w = await Watcher.create(svc, folder, out);
    await w.pollOnce();
    const [s] = await w.pollOnce();
    await rejection(svc.waitUntilDone(s!.listId, { timeoutMs: 30_000, pollMs: 100 }));
    const error = JSON.parse(await readFile(join(out, 'broken', 'error.json'), 'utf8')) as { error: { code: string } };
    expect(error.error.code).toBe(ErrorCodes.CSV_UNTERMINATED_QUOTE);
    expect(await w.pollOnce()).toEqual([]);
  });

  it('refuses a folder that does not exist', async () => {
    expect((await rejection(Watcher.create(svc, join(dir, 'nowhere'), join(dir, 'x')))).code).toBe(ErrorCodes.STORAGE_NOT_FOUND);
  });
});

describe('list ids of watched objects', () => {
  it('are the same for the same prefix, name and version, and differ otherwise', () => {
    const o = { name: 'team/March 2026.csv', version: 'etag1' };
    expect(watchListId('s3://b/in/', o)).toBe(watchListId('s3://b/in/', { ...o }));
    expect(watchListId('s3://b/in/', o)).toMatch(/^w-team-March-2026-[0-9a-f]{20}$/);
    const others = [watchListId('s3://b/in/', { ...o, version: 'etag2' }), watchListId('s3://b/other/', o), watchListId('s3://b/in/', { ...o, name: 'team/March 2026.CSV' })];
    expect(new Set([watchListId('s3://b/in/', o), ...others]).size).toBe(4);
    expect(watchListId('s3://b/', { name: '###.csv', version: 'e' })).toMatch(/^w-[0-9a-f]{20}$/);
  });
});

describe('listwash watch', () => {
  it('runs until SIGTERM, turning a dropped file into cleaned results (with --workers)', async () => {
    const folder = join(dir, 'cli-in');
    const out = join(dir, 'cli-out');
    await mkdir(folder, { recursive: true });
    const cliPrefix = testPrefix();
    const env = pipelineEnv(world, cliPrefix, null, { LISTWASH_WATCH_INTERVAL_SEC: '1', LISTWASH_CATCH_ALL_PROBE: 'false', LISTWASH_LOG_FORMAT: 'json' });
    const { child, result } = runCli(['watch', folder, '--out', out, '--workers'], env);
    try {
      await writeFile(join(folder, 'july.csv'), CSV);
      await waitFor(() => fileExists(join(out, 'july', 'summary.json')), 60_000, 'july/summary.json');
      child.kill('SIGTERM');
      const r = await result;
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^w-july-[0-9a-f]{20} file:\/\/\S+\/july\.csv -> file:\/\/\S+\/cli-out\/july\/\n$/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await dropKeys(cfg.redisUrl, cliPrefix);
    }
  });

  it('fails in one line when the watched folder does not exist', async () => {
    const r = await runCli(['watch', join(dir, 'missing'), '--out', join(dir, 'o')], pipelineEnv(world, testPrefix(), null)).result;
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not exist/);
  });
});
