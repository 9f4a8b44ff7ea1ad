/**
 * Redis faults under a running list, with real worker processes and a private `redis-server` of the test's own
 * (a free loopback port):
 * - killed (SIGKILL) and restarted on the same port, with append-only persistence: the list completes, every
 *   row once;
 * - the same without persistence (the list's state is gone): `listwash clean` ends with one clear line and exit 1
 *   within a bounded time, never a hang, and the worker processes live on and take the next list;
 * - `CLIENT KILL TYPE normal` of every connection, again and again: survived silently — the list completes
 *   correctly, and the workers log no warning, no error and no unhandled rejection.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelineFixture, emailCsv } from '../pipeline/pipeline-fixture.js';
import { waitFor } from '../pipeline/helpers.js';
import { runCli, WorkerFleet, type WorkerProc } from '../helpers/processes.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { FAULT_ENV, faultList, faultWorldSpec } from './fault-world.js';

const list = faultList(6000);
const spec = faultWorldSpec(list.perDomain);

let redis: PrivateRedis | null = null;
let fx: PipelineFixture | null = null;
let fleet: WorkerFleet | null = null;

afterEach(async () => {
  await fleet?.stop();
  // The fixture drops its keys: Redis must answer.
  await redis?.start();
  await fx?.stop();
  await redis?.destroy();
  fleet = fx = redis = null;
});

/** A private Redis, a world, a service that submits and watches (no workers), and `workers` worker processes. */
async function setUp(opts: { aof: boolean; workers: number }): Promise<{ redis: PrivateRedis; fx: PipelineFixture; fleet: WorkerFleet }> {
  redis = await startPrivateRedis({ aof: opts.aof });
  fx = await new PipelineFixture().start(spec, { ...FAULT_ENV, REDIS_URL: redis.url }, 4, { workers: false });
  fleet = new WorkerFleet(fx.childEnv(), ['--concurrency', '16']);
  await fleet.start(opts.workers);
  return { redis, fx, fleet };
}

/** Wait until the list is being probed and `n` of its batches are done (the fault lands mid-probing). */
async function midProbing(f: PipelineFixture, listId: string, n = 5): Promise<void> {
  const state = f.svc.state(listId);
  await waitFor(async () => (await state.status()) === 'probing' && (await state.doneCount()) >= n, 90_000, `list ${listId} to be mid-probing`, 50);
}

/** Every input row once, in input order, with its own fields. */
function expectEveryRowOnce(rows: Record<string, string>[]): void {
  expect(rows.map((r) => r.id)).toEqual(list.emails.map((_, i) => String(i + 1)));
  expect(rows.map((r) => r.email)).toEqual(list.emails);
  expect(rows.map((r) => r.note)).toEqual(list.emails.map((_, i) => `row ${i + 1}`));
}

/** The workers' log lines at warning level or above (pino JSON: level ≥ 40), and anything that is not a log line. */
function troubleIn(procs: readonly WorkerProc[]): string[] {
  const out: string[] = [];
  for (const p of procs) {
    for (const line of p.stderr.split('\n')) {
      if (line === '' || / running \(/.test(line)) continue;
      let level: number;
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 0;
      } catch {
        out.push(`${p.name}: ${line}`);
        continue;
      }
      if (level >= 40) out.push(`${p.name}: ${line}`);
    }
  }
  return out;
}

/** The throttle counters of every group on a (private) Redis, summed. */
async function throttleCounters(url: string): Promise<Record<string, number>> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  const sum: Record<string, number> = { rcptRequestsRepeated: 0, rcptAnswersLost: 0 };
  try {
    for await (const keys of r.scanStream({ match: '*thr:*:stats', count: 1000 }) as AsyncIterable<string[]>) {
      for (const k of keys) for (const [f, v] of Object.entries(await r.hgetall(k))) sum[f] = (sum[f] ?? 0) + Number(v);
    }
  } finally {
    r.disconnect();
  }
  return sum;
}

describe('a Redis with append-only persistence, SIGKILLed and restarted mid-list', () => {
  it('the list completes with every row once and no unknown verdict; no worker crashes', async () => {
    const { redis, fx, fleet } = await setUp({ aof: true, workers: 2 });
    const { listId, output } = await fx.submit('aof', list.csv);
    await midProbing(fx, listId);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();

    await fx.waitDone(listId, 120_000);
    const { rows, summary } = await fx.result(listId, output);
    expectEveryRowOnce(rows);
    expect(summary.rows).toBe(list.emails.length);
    expect(rows.filter((r) => r.status === 'unknown').map((r) => `${r.email}: ${r.reason} ${r.smtp_reply}`)).toEqual([]);
    expect(fleet.crashed()).toEqual([]);
    expect(fleet.alive()).toHaveLength(2);
  }, 240_000);
});

describe('a Redis without persistence, SIGKILLed and restarted mid-list', () => {
  it('listwash clean ends at once with one line (LIST_STATE_LOST), exit 1; the workers live on and take the next list', async () => {
    const { redis, fx, fleet } = await setUp({ aof: false, workers: 2 });
    const { input, output } = await fx.inputOf('lost', list.csv);
    const listId = fx.listId('lost');
    const clean = runCli(['clean', input, '--out', output, '--id', listId], fx.childEnv());
    await midProbing(fx, listId);
    await redis.stop();
    await redis.start();
    const lostAt = Date.now();

    const r = await clean.result;
    const tookMs = Date.now() - lostAt;
    // Progress lines aside (one per status change), one line says what happened.
    const said = r.stderr.split('\n').filter((l) => l !== '' && !/^\[(queued|splitting|probing|aggregating)\]/.test(l));
    expect(said).toEqual([
      `listwash: LIST_STATE_LOST: the state of list ${listId} is gone from Redis (deleted, expired, or Redis restarted without persistence); submit the list again`,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain('undefined');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // Bounded: seconds, not the default patience of a Redis outage (30 s) — the state is known to be gone.
    expect(tookMs).toBeLessThan(30_000);

    // The workers are still there, and work: the next list completes on them.
    expect(fleet.crashed()).toEqual([]);
    const next = await fx.submit('after', emailCsv(['u0@p00.test', 'u1@p00.test']));
    await fx.waitDone(next.listId, 60_000);
    const { rows } = await fx.result(next.listId, next.output);
    expect(rows.map((x) => x.reason)).toEqual(['accepted', 'mailbox_not_found']);
    expect(fleet.crashed()).toEqual([]);
    expect(fleet.alive()).toHaveLength(2);
  }, 240_000);
});

describe('CLIENT KILL TYPE normal of every connection, again and again, mid-list', () => {
  // A command whose reply is lost with its connection is resent by the client after reconnecting: every throttle
  // command must bear being run twice (an RCPT reservation made twice once held its host's sessions forever).
  it('is survived silently: the list completes correctly, the workers log no warning or error', async () => {
    const { redis, fx, fleet } = await setUp({ aof: false, workers: 2 });
    const { listId, output } = await fx.submit('kills', list.csv);
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const killed: number[] = [];
    try {
      await midProbing(fx, listId, 3);
      const state = fx.svc.state(listId);
      for (let i = 0; i < 4 && (await state.status()) === 'probing'; i++) {
        // Every connection but this one: the workers', and the test's own service's.
        killed.push(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal')));
        await new Promise((r) => setTimeout(r, 1500));
      }
    } finally {
      admin.disconnect();
    }

    await fx.waitDone(listId, 120_000);
    const { rows } = await fx.result(listId, output);
    expectEveryRowOnce(rows);
    expect(rows.filter((r) => r.status === 'unknown').map((r) => `${r.email}: ${r.reason} ${r.smtp_reply}`)).toEqual([]);
    const thr = await throttleCounters(redis.url);
    process.stderr.write(`CLIENT KILL: ${killed.join(', ')} connections killed; RCPT reservations resent ${thr.rcptRequestsRepeated}, RCPT answers lost ${thr.rcptAnswersLost}\n`);
    // The kills hit the workers' connections (each worker holds several).
    expect(killed.length).toBeGreaterThanOrEqual(2);
    expect(killed.every((n) => n >= 2 * fleet.procs.length)).toBe(true);
    expect(troubleIn(fleet.procs)).toEqual([]);
    expect(fleet.crashed()).toEqual([]);
  }, 240_000);
});
