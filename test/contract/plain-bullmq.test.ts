/**
 * The job contract, from the outside: a service that knows only the README enqueues lists with plain
 * `bullmq` and `ioredis` and learns how they ended from the events stream (`XREAD BLOCK`), while
 * listwash runs as separate processes (`workers/all.ts`, as `listwash worker`; the simulated mail world
 * as `src/world/cli.ts`). This file imports nothing from listwash's source.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** BullMQ prefix = LISTWASH_QUEUE_PREFIX; listwash's own keys use it without the braces. */
const PREFIX = `{lwcontract-${randomBytes(4).toString('hex')}}`;
const BARE = PREFIX.replace(/[{}]/g, '');
const EVENTS = `${BARE}:events`;

interface Proc {
  child: ChildProcess;
  out: string;
  exit: Promise<unknown>;
}

const procs: Proc[] = [];
let redis: Redis;
let queue: Queue;
let dir: string;
let worldEnv: Record<string, string> = {};
/** The demo world's truth: address → `status/reason`. */
const truth = new Map<string, string>();

function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', exit: new Promise((resolve) => child.once('exit', resolve)) };
  procs.push(p);
  const onData = (b: Buffer) => (p.out += b.toString());
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${p.out}`)), 30_000);
    const check = () => {
      if (ready.test(p.out)) {
        clearTimeout(timer);
        resolve(p);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', () => reject(new Error(`${args.join(' ')} exited: ${p.out}`)));
  });
}

/** Read the events stream after `lastId` until an entry about `listId` arrives (fields as a record). */
async function awaitEvent(lastId: string, listId: string, timeoutMs = 60_000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  const reader = new Redis(REDIS_URL);
  try {
    let from = lastId;
    while (Date.now() < deadline) {
      const res = await reader.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', EVENTS, from);
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          from = id;
          const e: Record<string, string> = {};
          for (let i = 0; i < fields.length; i += 2) e[fields[i]!] = fields[i + 1]!;
          if (e.listId === listId) return e;
        }
      }
    }
    throw new Error(`no event for ${listId} within ${timeoutMs} ms`);
  } finally {
    reader.disconnect();
  }
}

/** The job once BullMQ has moved it to `failed`. */
async function failedJob(id: string): Promise<Job> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if ((await queue.getJobState(id)) === 'failed') return (await queue.getJob(id))!;
    if (Date.now() > deadline) throw new Error(`job ${id} did not fail`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The newest entry id of the stream now ('0' when it has none): events after it are new. */
async function streamEnd(): Promise<string> {
  const [last] = await redis.xrevrange(EVENTS, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0';
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  dir = await mkdtemp(join(tmpdir(), 'lw-contract-'));
  const world = await start(['src/world/cli.ts'], {}, /# Ctrl-C to stop\./);
  for (const [, k, v] of world.out.matchAll(/^export (\w+)=(\S+)$/gm)) worldEnv[k!] = v!;
  for (const [, address, verdict] of world.out.matchAll(/^#\s+(\S+@\S+)\s+(\w+\/\w+)$/gm)) truth.set(address!, verdict!);
  worldEnv = {
    ...worldEnv,
    REDIS_URL,
    LISTWASH_QUEUE_PREFIX: PREFIX,
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: 'probe@listwash.test',
    LISTWASH_GREYLIST_RETRY_DELAYS: '3,1',
    LISTWASH_DNS_TIMEOUT_MS: '300',
    LISTWASH_DNS_TRIES: '1',
    LISTWASH_MX_RCPT_PER_SECOND: '5',
    LISTWASH_LOG_FORMAT: 'json',
    // The worker's start-up checks of the prober (listwash doctor) are beside the point here.
    LISTWASH_DOCTOR_AT_START: 'false',
  };
  await start(['workers/all.ts'], worldEnv, / running /);
  queue = new Queue('lw-split', { connection: { url: REDIS_URL }, prefix: PREFIX });
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exit));
  await queue?.close();
  for (const pattern of [`${PREFIX}:*`, `${BARE}:*`]) {
    const keys = await redis.keys(pattern);
    if (keys.length) await redis.del(...keys);
  }
  redis?.disconnect();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a service enqueuing with plain bullmq', () => {
  it('starts a list with a version 1 payload, jobId = list id, and receives its completion from the events stream', async () => {
    const addresses = ['alice@acme.test', 'bob@acme.test', 'info@acme.test', 'nobody@acme.test', 'anyone@nxdomain.test'];
    const input = join(dir, 'contract.csv');
    await writeFile(input, ['name,email', ...addresses.map((a, i) => `n${i},${a}`), 'broken,not an address'].join('\n') + '\n');
    const listId = `contract-${process.pid}`;
    const output = join(dir, 'out') + '/';
    const after = await streamEnd();

    await queue.add('split', { version: 1, listId, input, output, emailColumn: 'email' }, { jobId: listId, attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
    const event = await awaitEvent(after, listId);

    const expected: Record<string, number> = { undeliverable: 1 }; // the row that is not an address
    for (const a of addresses) {
      const status = truth.get(a)!.split('/')[0]!;
      expected[status] = (expected[status] ?? 0) + 1;
    }
    expect(event).toMatchObject({ listId, state: 'done', output, owner: '', error: '' });
    expect(Number(event.at)).toBeGreaterThan(0);
    expect((JSON.parse(event.counts!) as { byStatus: unknown }).byStatus).toEqual(expected);
    expect((await readFile(join(output, 'report.csv'), 'utf8')).split('\n')[0]).toMatch(/^name,email,email_normalized,status,reason/);
  });

  it('gets a failed completion naming the field of a payload that breaks the contract, and the job is not retried', async () => {
    const listId = `contract-bad-${process.pid}`;
    const after = await streamEnd();
    const job = await queue.add('split', { version: 2, listId, input: join(dir, 'x.csv'), output: join(dir, 'bad-out') + '/' }, { jobId: listId, attempts: 3 });
    const event = await awaitEvent(after, listId);
    expect(event).toMatchObject({ listId, state: 'failed', counts: '' });
    const error = JSON.parse(event.error!) as { code: string; message: string };
    expect(error.code).toBe('JOB_INVALID');
    expect(error.message).toContain('version');
    const failed = await failedJob(job.id!);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toContain('version');
  });

  it('sees a job whose list id cannot be a list fail in BullMQ with the reason (there is no list to announce)', async () => {
    const job = await queue.add('split', { version: 1, listId: 'not a list id', input: 'x.csv', output: 'out/' }, { jobId: `bad-id-${process.pid}`, attempts: 3 });
    const failed = await failedJob(job.id!);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/listId/);
  });
});
