/**
 * Worker crashes, again and again: three `listwash worker` processes clean a 20,000-row list while one of
 * them is SIGKILLed every few seconds (and a replacement started each time). The list completes, every
 * input row appears exactly once in report.csv, in input order, and every row's verdict is the one an
 * undisturbed run of the same list against the same world gets. A worker killed while it writes the files
 * leaves hidden temp files that the re-run removes (issue 7, item 11). And a batch whose worker dies every
 * time it runs it is given up after BullMQ's stall limit: its list still completes.
 */
import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { batchJobId } from '../../src/pipeline/names.js';
import { MAX_STALLED } from '../../src/pipeline/workers.js';
import { PipelineFixture, emailCsv } from '../pipeline/pipeline-fixture.js';
import { waitFor } from '../pipeline/helpers.js';
import { WorkerFleet } from '../helpers/processes.js';
import { FAULT_ENV, faultList, faultWorldSpec, verdictsOf } from './fault-world.js';

const ROWS = 20_000;
const WORKERS = 3;
/** Between two kills. */
const KILL_EVERY_MS = 3000;

const list = faultList(ROWS);
const spec = faultWorldSpec(list.perDomain);

const fixtures: PipelineFixture[] = [];
const fleets: WorkerFleet[] = [];

afterEach(async () => {
  for (const f of fleets.splice(0)) await f.stop();
  for (const f of fixtures.splice(0)) await f.stop();
});

/** A world, a service that only submits and watches, and `workers` worker processes running `concurrency` batches each. */
async function setUp(world = spec, workers = WORKERS, concurrency = 16): Promise<{ fx: PipelineFixture; fleet: WorkerFleet }> {
  const fx = await new PipelineFixture().start(world, FAULT_ENV, 4, { workers: false });
  fixtures.push(fx);
  const fleet = new WorkerFleet(fx.childEnv(), ['--concurrency', String(concurrency)]);
  fleets.push(fleet);
  await fleet.start(workers);
  return { fx, fleet };
}

/**
 * How many probe jobs each worker (by name) has in hand right now, and whether killing it would be the death too
 * many for one of them: a job whose worker died `MAX_STALLED` times is given up at the next death (its addresses end
 * unknown, by design: a batch that kills every worker must not take the fleet down). This test is about deaths the
 * pipeline promises to survive, so it never kills a worker holding such a job (the poison test below covers those).
 */
async function probeJobsInHand(fx: PipelineFixture): Promise<Map<string, { jobs: number; atLimit: boolean }>> {
  const jobs = await fx.svc.probeQueue.getActive();
  const by = new Map<string, { jobs: number; atLimit: boolean }>();
  for (const j of jobs) {
    if (!j?.processedBy) continue;
    const w = by.get(j.processedBy) ?? { jobs: 0, atLimit: false };
    by.set(j.processedBy, { jobs: w.jobs + 1, atLimit: w.atLimit || j.stalledCounter >= MAX_STALLED });
  }
  return by;
}

/**
 * Clean the list on a fresh set-up, with `during` running beside it until the list has ended (its `ended()` says when
 * to stop); resolves with report.csv's rows, summary.json and the wall time.
 */
async function cleanOn(name: string, during?: (fx: PipelineFixture, fleet: WorkerFleet, listId: string, ended: () => boolean) => Promise<void>) {
  const { fx, fleet } = await setUp();
  const t0 = Date.now();
  const { listId, output } = await fx.submit(name, list.csv, {});
  let ended = false;
  const beside = during?.(fx, fleet, listId, () => ended);
  try {
    await fx.waitDone(listId, 150_000);
  } catch (err) {
    const errors = fleet.stderr().split('\n').filter((l) => /error|warn|unhandled/i.test(l));
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nworker errors (${errors.length}):\n${errors.slice(-30).join('\n')}`, { cause: err });
  } finally {
    ended = true;
    await beside;
  }
  const ms = Date.now() - t0;
  return { ms, fleet, ...(await fx.result(listId, output)) };
}

interface Kill {
  victim: string;
  /** Probe jobs the victim had in hand. */
  jobsInHand: number;
  /** ms since the submit. */
  at: number;
}

/**
 * Every `KILL_EVERY_MS` while the list is split or probed, once three workers run: SIGKILL the one with the most
 * probe jobs in hand (a kill lands mid-probing), unless one of its jobs has already seen `MAX_STALLED` deaths, and
 * start a replacement.
 */
async function killRepeatedly(fx: PipelineFixture, fleet: WorkerFleet, listId: string, ended: () => boolean, kills: Kill[]): Promise<void> {
  const t0 = Date.now();
  const state = fx.svc.state(listId);
  const replacements: Promise<unknown>[] = [];
  for (;;) {
    await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
    const status = await state.status();
    if (ended() || (status !== 'queued' && status !== 'splitting' && status !== 'probing')) break;
    const alive = fleet.alive();
    // One of three: the last replacement is up before the next kill.
    if (alive.length < WORKERS) continue;
    const inHand = await probeJobsInHand(fx);
    const [victim] = alive.filter((w) => (inHand.get(w.name)?.jobs ?? 0) > 0 && !inHand.get(w.name)!.atLimit).sort((a, b) => inHand.get(b.name)!.jobs - inHand.get(a.name)!.jobs);
    if (!victim) continue;
    await fleet.kill(victim);
    kills.push({ victim: victim.name, jobsInHand: inHand.get(victim.name)!.jobs, at: Date.now() - t0 });
    // The replacement starts while the next kill waits.
    replacements.push(fleet.start(1));
  }
  await Promise.all(replacements);
}

describe('three worker processes, one SIGKILLed every few seconds', () => {
  it(`completes a ${ROWS.toLocaleString('en')}-row list with every row once and the verdicts of an undisturbed run`, async () => {
    const kills: Kill[] = [];
    // The undisturbed run and the run with kills side by side, each with its own world (same spec), Redis keys and workers.
    const [calm, rough] = await Promise.all([cleanOn('calm'), cleanOn('kills', (fx, fleet, listId, ended) => killRepeatedly(fx, fleet, listId, ended, kills))]);

    // Every input row once, in input order, with its own fields.
    const { rows, summary } = rough;
    expect(rows.map((r) => r.id)).toEqual(list.emails.map((_, i) => String(i + 1)));
    expect(rows.map((r) => r.email)).toEqual(list.emails);
    expect(rows.map((r) => r.note)).toEqual(list.emails.map((_, i) => `row ${i + 1}`));
    expect(summary.rows).toBe(ROWS);
    // The verdicts of the undisturbed run, row by row; and that run's verdicts are the world's (no unknowns).
    expect(verdictsOf(rows)).toEqual(verdictsOf(calm.rows));
    expect(calm.rows.filter((r) => r.status === 'unknown')).toEqual([]);
    // Several kills landed while the list was being probed, each on a worker with batches in hand.
    expect(kills.length).toBeGreaterThanOrEqual(3);
    // Killed processes are the only ones that ended: no worker crashed.
    expect(calm.fleet.crashed()).toEqual([]);
    expect(rough.fleet.crashed()).toEqual([]);
    process.stderr.write(
      `worker kills: ${ROWS} rows, ${kills.length} SIGKILLs (at ${kills.map((k) => `${(k.at / 1000).toFixed(1)} s with ${k.jobsInHand} probe jobs in hand`).join(', ')}); undisturbed run ${(calm.ms / 1000).toFixed(1)} s, run with kills ${(rough.ms / 1000).toFixed(1)} s\n`,
    );
  }, 300_000);
});

describe('a batch whose worker dies every time it runs it', () => {
  it('is given up once BullMQ fails it for stalling too often: the list completes, that batch’s addresses unknown', async () => {
    const poison = { domains: { 'slow.test': { mx: [{ host: 'mx.slow.test', preference: 10 }] } }, hosts: { 'mx.slow.test': { mailboxes: ['a'], replyDelayMs: 2000 } } };
    const { fx, fleet } = await setUp(poison, 1, 1);
    const { listId, output } = await fx.submit('poison', emailCsv(['a@slow.test', 'b@slow.test']));
    const batch = batchJobId(listId, 0);
    const inHand = async (by: string) => (await fx.svc.probeQueue.getJob(batch))?.processedBy === by && (await fx.svc.probeQueue.getJobState(batch)) === 'active';
    // It has stalled three times already (what three earlier kills leave on the job), and its worker dies once more.
    const [first] = fleet.alive();
    await waitFor(() => inHand(first!.name), 30_000, 'the batch in hand');
    await fx.svc.redis.hset(fx.svc.probeQueue.toKey(batch), 'stc', '3');
    await fleet.kill(first!);
    await fleet.start(1);

    await fx.waitDone(listId, 60_000);
    expect((await fx.svc.probeQueue.getJob(batch))?.failedReason).toBe('job stalled more than allowable limit');
    const view = await fx.svc.view(listId);
    expect(view?.batches).toMatchObject({ total: 1, done: 1, failed: 1 });
    expect(view?.lastBatchError).toMatch(/given up: the worker running it stopped 4 times/);
    const { rows } = await fx.result(listId, output);
    expect(rows.map((r) => [r.email, r.status])).toEqual([
      ['a@slow.test', 'unknown'],
      ['b@slow.test', 'unknown'],
    ]);
    expect(fleet.crashed()).toEqual([]);
  }, 180_000);
});

describe('a worker SIGKILLed while it writes a list’s files', () => {
  it('leaves hidden temp files that the re-run of the aggregate removes; the files are complete (issue 7, item 11)', async () => {
    const small = { domains: { 'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] } }, hosts: { 'mx.ok.test': { mailboxes: ['u0', 'u2'] } } };
    const { fx, fleet } = await setUp(small, 1, 4);
    // Many rows, few addresses: probed at once, written for a while.
    const emails = Array.from({ length: 150_000 }, (_, i) => `u${i % 4}@ok.test`);
    const { listId, output } = await fx.submit('agg-kill', emailCsv(emails));
    const hidden = async () => {
      try {
        return (await readdir(output)).filter((n) => n.startsWith('.'));
      } catch (err) {
        // Not there before the aggregation makes it.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    };
    await waitFor(async () => (await hidden()).some((n) => n.startsWith('.report.csv.')), 60_000, 'the aggregation to write report.csv', 10);
    await fleet.kill(fleet.alive()[0]!);
    const left = await hidden();
    expect(left.filter((n) => /^\.report\.csv\.[0-9a-f]{12}\.tmp$/.test(n))).toHaveLength(1);
    expect(await fx.svc.state(listId).status()).toBe('aggregating');

    await fleet.start(1);
    await fx.waitDone(listId, 60_000);
    expect(await hidden()).toEqual([]);
    const { rows, summary } = await fx.result(listId, output);
    expect(rows.map((r) => r.email)).toEqual(emails);
    expect(summary.rows).toBe(emails.length);
    expect(fleet.crashed()).toEqual([]);
  }, 180_000);
});
