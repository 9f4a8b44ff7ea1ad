/**
 * A list's life as every door sees it through the service: its typed status while it runs and when
 * done, newest-first listings per owner, cancel, delete, files, the completion channel, and what
 * happens when its state vanishes from Redis.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { eventsKey, listKeys } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { rejection } from '../helpers/rejection.js';
import { dropKeys, pipelineConfig, testPrefix, waitFor } from './helpers.js';

const spec: SimWorldSpec = {
  domains: {
    'quick.test': { mx: [{ host: 'mx.quick.test', preference: 10 }] },
    'slow.test': { mx: [{ host: 'mx.slow.test', preference: 10 }] },
  },
  hosts: {
    'mx.quick.test': { mailboxes: ['ann', 'ben', 'cid'] },
    // Slow enough that a list of a few dozen addresses is still probing when the test acts on it.
    'mx.slow.test': { catchAll: true, replyDelayMs: 150 },
  },
};

let world: SimWorld;
let cfg: Config;
let svc: ListwashService;
let redis: Redis;
let dir: string;
const prefix = testPrefix();
const run = `lc-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  world = await SimWorld.start(spec);
  dir = await mkdtemp(join(tmpdir(), 'lw-lifecycle-'));
  cfg = pipelineConfig(world, prefix, null, { LISTWASH_CATCH_ALL_PROBE: 'false', LISTWASH_MX_RCPT_PER_SECOND: '5' });
  svc = new ListwashService(cfg);
  redis = new Redis(cfg.redisUrl);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
});

afterAll(async () => {
  await svc?.close();
  redis?.disconnect();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function input(name: string, lines: string[]): Promise<string> {
  const path = join(dir, `${name}.csv`);
  await writeFile(path, ['email', ...lines].join('\n') + '\n');
  return path;
}

const quickList = () => input(`quick-${Math.random().toString(36).slice(2)}`, ['ann@quick.test', 'ben@quick.test', 'zed@quick.test', 'not an address']);
/** A list that takes a while: addresses of its own each time (the verdict cache would answer known ones at once). */
const slowList = (n: number) => {
  const tag = Math.random().toString(36).slice(2);
  return input(`slow-${tag}`, Array.from({ length: n }, (_, i) => `u${i}.${tag}@slow.test`));
};

/** Every Redis key of a list (its hash tag). */
async function keysOf(listId: string): Promise<string[]> {
  const tag = listKeys(cfg.queuePrefix, listId).meta.replace(/:meta$/, '');
  return redis.keys(`${tag}:*`);
}

describe('a finished list', () => {
  it('reads as done with 100 %, its counts from the report, timings, and its files', async () => {
    const output = join(dir, 'done-out') + '/';
    const { listId } = await svc.submit({ input: await quickList(), output, listId: `${run}-done` });
    const done = await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(done).toMatchObject({ id: listId, state: 'done', percent: 100, rows: 4, unique: 3, invalid: 1, verified: 3, error: null });
    expect(done.counts.byStatus).toEqual({ deliverable: 2, undeliverable: 2 });
    expect(done.counts.byReason).toEqual({ accepted: 2, mailbox_not_found: 1, invalid_syntax: 1 });
    expect(done.timings.finishedAt).toBeGreaterThanOrEqual(done.timings.createdAt!);
    const files = await svc.files(listId);
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['report.csv', 'clean.csv', 'summary.json']));
    const summary = JSON.parse(await readFile(join(output, 'summary.json'), 'utf8')) as { byStatus: unknown };
    expect(done.counts.byStatus).toEqual(summary.byStatus);
    const opened = await svc.openFile(listId, 'report.csv');
    expect(opened.contentType).toMatch(/^text\/csv/);
    let text = '';
    for await (const chunk of opened.stream) text += String(chunk);
    expect(text.split('\n')[0]).toMatch(/^email,email_normalized,status/);
  });

  it('wakes a waiter in the process that ends it at once, not at its next poll (here 10 minutes away)', async () => {
    const { listId } = await svc.submit({ input: await quickList(), output: join(dir, 'woken-out') + '/', listId: `${run}-woken` });
    const done = await svc.waitUntilDone(listId, { pollMs: 600_000 });
    expect(done.state).toBe('done');
  }, 30_000);

  it('keeps only its metadata in Redis once the files are written: no per-address results', async () => {
    const { listId } = await svc.submit({ input: await quickList(), output: join(dir, 'lean-out') + '/', listId: `${run}-lean` });
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    const k = listKeys(cfg.queuePrefix, listId);
    expect(await keysOf(listId)).toEqual([k.meta]);
  });

  it('is announced once on the events stream with its counts and output', async () => {
    const output = join(dir, 'event-out') + '/';
    const { listId } = await svc.submit({ input: await quickList(), output, listId: `${run}-event` });
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    const events = async () =>
      (await redis.xrange(eventsKey(cfg.queuePrefix), '-', '+'))
        .map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]]))) as Record<string, string>)
        .filter((e) => e.listId === listId);
    // The list reads `done` first, then its event is written.
    await waitFor(async () => (await events()).length > 0, 5_000, 'the event');
    await new Promise((r) => setTimeout(r, 300));
    const mine = await events();
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ state: 'done', output });
    expect(JSON.parse(mine[0]!.counts!)).toMatchObject({ byStatus: { deliverable: 2, undeliverable: 2 } });
  });
});

describe('a running list', () => {
  it('shows its progress: state, verified share and verdicts so far', async () => {
    const { listId } = await svc.submit({ input: await slowList(40), output: join(dir, 'progress-out') + '/', listId: `${run}-progress` });
    const seen: number[] = [];
    await svc.waitUntilDone(listId, { timeoutMs: 60_000, pollMs: 50, onProgress: (v) => seen.push(v.percent) });
    expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('has no files yet: LIST_NOT_DONE', async () => {
    const { listId } = await svc.submit({ input: await slowList(30), output: join(dir, 'notdone-out') + '/', listId: `${run}-notdone` });
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 20_000, 'probing');
    expect((await rejection(svc.files(listId))).code).toBe(ErrorCodes.LIST_NOT_DONE);
    await svc.cancel(listId);
  });

  it('is cancelled where it stands: no files written, sessions end and give their slots back, waiters learn it', async () => {
    const output = join(dir, 'cancel-out') + '/';
    const { listId } = await svc.submit({ input: await slowList(60), output, listId: `${run}-cancel` });
    await waitFor(async () => ((await svc.view(listId))?.verified ?? 0) > 0, 30_000, 'the first verdicts');
    const waiting = rejection(svc.waitUntilDone(listId, { pollMs: 50 }));
    const { cancelled, view } = await svc.cancel(listId);
    expect(cancelled).toBe(true);
    expect(view.state).toBe('cancelled');
    expect((await waiting).code).toBe(ErrorCodes.LIST_ENDED);
    const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(cfg, {}));
    await waitFor(async () => (await throttle.state(throttle.groupFor('mx.slow.test'))).activeLeases === 0, 10_000, 'the leases to be released');
    const rcptsAtCancel = world.host('mx.slow.test').stats.rcptCount;
    await new Promise((r) => setTimeout(r, 2000));
    expect(world.host('mx.slow.test').stats.rcptCount - rcptsAtCancel).toBeLessThanOrEqual(2);
    await expect(readdir(output)).rejects.toThrow(/ENOENT/);
    expect((await svc.view(listId))?.state).toBe('cancelled');
    // Cancelling again changes nothing.
    expect((await svc.cancel(listId)).cancelled).toBe(false);
  });

  it('that is deleted leaves no key behind, and is gone for every caller', async () => {
    const { listId } = await svc.submit({ input: await slowList(30), output: join(dir, 'delete-out') + '/', listId: `${run}-delete` });
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 20_000, 'probing');
    await svc.delete(listId);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await keysOf(listId)).toEqual([]);
    expect(await svc.view(listId)).toBeNull();
    expect((await rejection(svc.cancel(listId))).code).toBe(ErrorCodes.JOB_NOT_FOUND);
  });
});

describe('deleting a finished list', () => {
  it('with files: removes exactly the files listwash wrote, and nothing else under the prefix', async () => {
    const output = join(dir, 'purge-out') + '/';
    const { listId } = await svc.submit({ input: await quickList(), output, listId: `${run}-purge` });
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    await writeFile(join(output, 'mine.txt'), 'the user put this here');
    const { files } = await svc.delete(listId, {}, { files: true });
    expect(files).toEqual(expect.arrayContaining(['summary.json', 'report.csv', 'clean.csv', 'invalid.csv']));
    expect(await readdir(output)).toEqual(['mine.txt']);
  });
});

describe('owners', () => {
  it('see only their own lists, newest first, a page at a time; another owner’s list does not exist for them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { listId } = await svc.submit({ input: await quickList(), output: join(dir, `own-${i}`) + '/', listId: `${run}-own-${i}`, owner: 'alice' });
      ids.push(listId);
    }
    const { listId: bobs } = await svc.submit({ input: await quickList(), output: join(dir, 'bob') + '/', listId: `${run}-bob`, owner: 'bob' });
    const page1 = await svc.lists({ owner: 'alice' }, { limit: 2 });
    const page2 = await svc.lists({ owner: 'alice' }, { limit: 2, cursor: page1.nextCursor! });
    const page3 = await svc.lists({ owner: 'alice' }, { limit: 2, cursor: page2.nextCursor! });
    expect([...page1.lists, ...page2.lists, ...page3.lists].map((l) => l.id)).toEqual([...ids].reverse());
    expect(page3.nextCursor).toBeNull();
    expect(await svc.view(bobs, { owner: 'alice' })).toBeNull();
    expect((await rejection(svc.cancel(bobs, { owner: 'alice' }))).code).toBe(ErrorCodes.JOB_NOT_FOUND);
    expect((await rejection(svc.submit({ input: await quickList(), output: join(dir, 'x') + '/', listId: bobs, owner: 'alice' }))).code).toBe(ErrorCodes.JOB_EXISTS);
    expect((await svc.view(bobs, { owner: 'bob' }))?.owner).toBe('bob');
  });
});

describe('a failed list', () => {
  it('writes error.json beside where its results would have been, with the code and message', async () => {
    const path = join(dir, 'broken.csv');
    await writeFile(path, 'email\n"ann@quick.test\n');
    const output = join(dir, 'broken-out') + '/';
    const { listId } = await svc.submit({ input: path, output, listId: `${run}-broken` });
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 }));
    expect(err.details.cause).toBe(ErrorCodes.CSV_UNTERMINATED_QUOTE);
    expect((await svc.files(listId)).map((f) => f.name)).toEqual(['error.json']);
    const body = JSON.parse(await readFile(join(output, 'error.json'), 'utf8')) as { state: string; error: { code: string } };
    expect(body).toMatchObject({ id: listId, state: 'failed', error: { code: ErrorCodes.CSV_UNTERMINATED_QUOTE } });
  });

  it('wakes a waiter in the process that fails it at once, with the failure', async () => {
    const path = join(dir, 'broken-woken.csv');
    await writeFile(path, 'email\n"ann@quick.test\n');
    const { listId } = await svc.submit({ input: path, output: join(dir, 'broken-woken-out') + '/', listId: `${run}-broken-woken` });
    const err = await rejection(svc.waitUntilDone(listId, { pollMs: 600_000 }));
    expect(err.details.cause).toBe(ErrorCodes.CSV_UNTERMINATED_QUOTE);
  }, 30_000);
});

describe('a list whose state vanishes from Redis while it runs', () => {
  it('gets no key back from a probe run that ends afterwards: the run is refused whole (LIST_STATE_LOST)', async () => {
    const listId = `${run}-late-run`;
    const state = svc.state(listId);
    await state.create({ input: 'x.csv', output: 'out/' });
    await state.destroy();
    const err = await rejection(
      state.recordRun({
        batchId: `${listId}.b0`,
        progress: { final: 1, byStatus: { deliverable: 1 }, byReason: { accepted: 1 } },
        results: new Map([['ann@quick.test', '["accepted"]']]),
        mx: { 'mx.quick.test': { sessions: 1, rcpts: 1 } },
        wait: { kind: 'throttle', group: 'mx.quick.test', why: 'busy' },
      }),
    );
    expect(err.code).toBe(ErrorCodes.LIST_STATE_LOST);
    expect(await keysOf(listId)).toEqual([]);
  });

  it('gets no key back from dead batches the split records afterwards: LIST_STATE_LOST, nothing written', async () => {
    const listId = `${run}-late-dead`;
    const state = svc.state(listId);
    await state.create({ input: 'x.csv', output: 'out/' });
    await state.destroy();
    const err = await rejection(
      state.recordDoneBatches([
        { batchId: `${listId}.b0`, domain: 'gone.test', verdict: '["no_domain"]', progress: { final: 1, byStatus: { undeliverable: 1 }, byReason: { no_domain: 1 } } },
        { batchId: `${listId}.b1`, domain: 'gone.test', verdict: '["no_domain"]', progress: { final: 1, byStatus: { undeliverable: 1 }, byReason: { no_domain: 1 } } },
      ]),
    );
    expect(err.code).toBe(ErrorCodes.LIST_STATE_LOST);
    expect(await keysOf(listId)).toEqual([]);
  });

  it('ends the wait with LIST_STATE_LOST, and the workers do not re-create it', async () => {
    const { listId } = await svc.submit({ input: await slowList(30), output: join(dir, 'lost-out') + '/', listId: `${run}-lost` });
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 20_000, 'probing');
    const waiting = rejection(svc.waitUntilDone(listId, { pollMs: 50 }));
    // What a Redis restart without persistence does to the list.
    await redis.del(...(await keysOf(listId)));
    expect((await waiting).code).toBe(ErrorCodes.LIST_STATE_LOST);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await redis.exists(listKeys(cfg.queuePrefix, listId).meta)).toBe(0);
  });
});
