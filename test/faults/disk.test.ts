/**
 * Output storage faults through real worker processes and the real CLI: a disk that fills up during the aggregate,
 * and an output that is, or turns, read-only — before the submit, between the submit and the split, while the list
 * is probed. Each fails the list with its storage code and cause, leaves no partial result, crashes no worker, and
 * `listwash` says it in one line. The folders are small tmpfs mounts: the tests need root and skip, saying so,
 * without it.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { aggregateJobId } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, pipelineConfig, pipelineEnv, testPrefix, waitFor } from '../pipeline/helpers.js';
import { killWorkerProcesses, runCli, startWorkerProcess, type WorkerProc } from '../helpers/processes.js';
import { rejection } from '../helpers/rejection.js';
import { TMPFS_UNAVAILABLE, mountTmpfs, tmpfsTitle, type Tmpfs } from '../helpers/tmpfs.js';

/** Addresses that take a few seconds to probe, of their own per list (the verdict cache would answer known ones at once). */
const slow = (tag: string) => Array.from({ length: 8 }, (_, i) => `u${i}.${tag}@slow.test`);

const spec: SimWorldSpec = {
  domains: {
    'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] },
    'slow.test': { mx: [{ host: 'mx.slow.test', preference: 10 }] },
  },
  hosts: {
    'mx.ok.test': { mailboxes: ['ann', 'ben'] },
    // Probing these takes a few seconds: time to turn the output read-only while the list is `probing`.
    'mx.slow.test': { replyDelayMs: 250 },
  },
};

let world: SimWorld;
let cfg: Config;
let env: Record<string, string>;
/** Submits and reads status; runs no workers (the worker processes do). */
let svc: ListwashService;
let dir: string;
const prefix = testPrefix();
const run = `disk-${process.pid}-${Date.now()}`;
const procs: WorkerProc[] = [];
const mounts: Tmpfs[] = [];

beforeAll(async () => {
  world = await SimWorld.start(spec);
  dir = await mkdtemp(join(tmpdir(), 'lw-disk-'));
  env = pipelineEnv(world, prefix, null, { LISTWASH_CATCH_ALL_PROBE: 'false', LISTWASH_BATCH_SIZE: '4' });
  cfg = pipelineConfig(world, prefix, null, { LISTWASH_CATCH_ALL_PROBE: 'false', LISTWASH_BATCH_SIZE: '4' });
  svc = new ListwashService(cfg);
});

afterAll(async () => {
  await killWorkerProcesses(procs);
  await svc?.close();
  for (const m of mounts) await m.unmount();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function worker(): Promise<WorkerProc> {
  const w = await startWorkerProcess(env, ['--concurrency', '4']);
  procs.push(w);
  return w;
}

async function tmpfs(sizeBytes: number, readOnly = false): Promise<Tmpfs> {
  const m = await mountTmpfs({ sizeBytes, readOnly });
  mounts.push(m);
  return m;
}

async function inputFile(name: string, csv: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, csv);
  return path;
}

/**
 * 6,000 rows whose output files take about 1.2 MB: a third deliverable, a third unknown mailboxes, a third invalid
 * syntax — three addresses to probe, the rest duplicates or not probed.
 */
function bigList(): string {
  const rows = ['id,email,notes'];
  for (let i = 0; i < 6000; i++) {
    const email = i % 3 === 0 ? 'ann@ok.test' : i % 3 === 1 ? 'zed@ok.test' : `not-an-address-${i}`;
    rows.push(`${i},${email},customer since ${2000 + (i % 25)} / segment ${i % 7}`);
  }
  return rows.join('\n') + '\n';
}

/**
 * The job ended `failed` after one attempt (not retried). The list is marked failed inside the job, a moment before
 * BullMQ records the job's failure: wait for that.
 */
async function failedOnce(queue: Queue, jobId: string): Promise<boolean> {
  await waitFor(async () => (await queue.getJobState(jobId)) === 'failed', 10_000, `job ${jobId} to be failed`);
  return (await queue.getJob(jobId))?.attemptsMade === 1;
}

/** No Node stack trace in a process's output. */
function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe.skipIf(TMPFS_UNAVAILABLE !== null)(tmpfsTitle('a full disk and read-only outputs, through worker processes and the CLI'), () => {
  it('a disk that fills up during the aggregate: the list fails with STORAGE_NO_SPACE, no result file is left (error.json says why), the aggregate is not retried, the worker lives on', async () => {
    const out = await tmpfs(1024 * 1024);
    const w = await worker();
    const listId = `${run}-full`;
    await svc.submit({ input: await inputFile('big.csv', bigList()), output: out.dir, listId });
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 90_000, pollMs: 200 }));
    expect(err.details.cause).toBe(ErrorCodes.STORAGE_NO_SPACE);
    expect(err.message).toMatch(new RegExp(`^list ${listId} failed: cannot write ${out.dir}/\\w+\\.csv: no space left on device \\(ENOSPC\\)$`));
    expect(await svc.view(listId)).toMatchObject({ state: 'failed', error: { code: 'STORAGE_NO_SPACE' } });
    // All or nothing: no report.csv, clean.csv, … without a summary.json, and no temp file; error.json says why.
    expect(await readdir(out.dir)).toEqual(['error.json']);
    expect(JSON.parse(await readFile(join(out.dir, 'error.json'), 'utf8'))).toMatchObject({ state: 'failed', error: { code: 'STORAGE_NO_SPACE' } });
    expect(await failedOnce(svc.aggregateQueue, aggregateJobId(listId))).toBe(true);
    expect(w.alive()).toBe(true);
    expectNoStack(w.stderr);
  });

  it('listwash submit to a read-only output: exit 1 at once with one line, and no list is created', async () => {
    const out = await tmpfs(64 * 1024, true);
    const listId = `${run}-submit-ro`;
    const { result } = runCli(['submit', await inputFile('small.csv', 'email\nann@ok.test\n'), '--out', out.dir, '--id', listId], env);
    const r = await result;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`listwash: STORAGE_READ_ONLY: output ${out.dir} is not writable: read-only file system (EROFS)\n`);
    expect(r.stdout).toBe('');
    expect(await svc.view(listId)).toBeNull();
  });

  it('listwash clean to a read-only output: exit 1 before any probing, with one line', async () => {
    const out = await tmpfs(64 * 1024, true);
    const before = world.host('mx.ok.test').stats.connections;
    const { result } = runCli(['clean', await inputFile('small2.csv', 'email\nann@ok.test\n'), '--out', out.dir, '--id', `${run}-clean-ro`], env);
    const r = await result;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`listwash: STORAGE_READ_ONLY: output ${out.dir} is not writable: read-only file system (EROFS)\n`);
    expect(world.host('mx.ok.test').stats.connections).toBe(before);
  });

  it('an output that turns read-only between the submit and the split: the split refuses it, nothing is probed', async () => {
    const out = await tmpfs(64 * 1024);
    // No worker may take the split before the folder turns read-only.
    await killWorkerProcesses(procs);
    const listId = `${run}-split-ro`;
    await svc.submit({ input: await inputFile('split-ro.csv', `email\n${slow('split-ro').join('\n')}\n`), output: out.dir, listId });
    out.remountReadOnly();
    const before = world.host('mx.slow.test').stats.connections;
    await worker();
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 }));
    expect(err.details.cause).toBe(ErrorCodes.STORAGE_READ_ONLY);
    expect(err.message).toBe(`list ${listId} failed: output ${out.dir} is not writable: read-only file system (EROFS)`);
    expect(world.host('mx.slow.test').stats.connections).toBe(before);
    expect(await failedOnce(svc.splitQueue, listId)).toBe(true);
  });

  it('an output that turns read-only while the list is probed: the list fails at the aggregate, no worker crashes, both go on', async () => {
    const out = await tmpfs(64 * 1024);
    while (procs.filter((p) => p.alive()).length < 2) await worker();
    const live = procs.filter((p) => p.alive());
    const listId = `${run}-late-ro`;
    await svc.submit({ input: await inputFile('late-ro.csv', `email\n${slow('late-ro').join('\n')}\n`), output: out.dir, listId });
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 20_000, 'the list to be probed');
    out.remountReadOnly();
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 60_000, pollMs: 100 }));
    expect(err.details.cause).toBe(ErrorCodes.STORAGE_READ_ONLY);
    expect(err.message).toBe(`list ${listId} failed: cannot delete ${out.dir}/summary.json: read-only file system (EROFS)`);
    expect(await failedOnce(svc.aggregateQueue, aggregateJobId(listId))).toBe(true);
    for (const w of live) {
      expect(w.alive()).toBe(true);
      expectNoStack(w.stderr);
    }
    // The workers clean the next list.
    const next = `${run}-after-ro`;
    await svc.submit({ input: await inputFile('after.csv', 'email\nann@ok.test\n'), output: join(dir, 'after-out') + '/', listId: next });
    expect((await svc.waitUntilDone(next, { timeoutMs: 30_000, pollMs: 100 })).state).toBe('done');
  });

  it('listwash clean when the output turns read-only mid-run: exit 1 with one line, no stack trace', async () => {
    const out = await tmpfs(64 * 1024);
    await killWorkerProcesses(procs);
    const listId = `${run}-clean-late-ro`;
    const { result } = runCli(['clean', await inputFile('clean-late.csv', `email\n${slow('clean-late').join('\n')}\n`), '--out', out.dir, '--id', listId, '--quiet'], env);
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 30_000, 'the list to be probed');
    out.remountReadOnly();
    const r = await result;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`listwash: STORAGE_READ_ONLY: list ${listId} failed: cannot delete ${out.dir}/summary.json: read-only file system (EROFS)\n`);
  });
});
