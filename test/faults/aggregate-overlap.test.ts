/**
 * Two aggregation runs of one list at once: what happens when a worker loses its aggregate job's lock
 * (its event loop held up on a loaded machine) while it still works, and the job runs again elsewhere as
 * a stalled job. The later run writes the files and finishes the list; the earlier one stops with
 * `LIST_ENDED` (never failing the list), removing only its own temporary files. Found by the worker-kill
 * test: the later run's clean-up removed the earlier run's temp files, whose rename then failed with
 * ENOENT, and the list failed with STORAGE_NOT_FOUND.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { runAggregate } from '../../src/pipeline/aggregate.js';
import { aggregateJobId } from '../../src/pipeline/names.js';
import { PipelineFixture, emailCsv } from '../pipeline/pipeline-fixture.js';
import { waitFor } from '../pipeline/helpers.js';

const ADDRESSES = Array.from({ length: 4000 }, (_, i) => `u${i % 40}@ok.test`);

const fx = new PipelineFixture();

beforeAll(async () => {
  await fx.start({ domains: { 'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] } }, hosts: { 'mx.ok.test': { mailboxes: ['u0', 'u2', 'u4'] } } }, { LISTWASH_BATCH_SIZE: '20', LISTWASH_MX_RCPT_PER_SECOND: '200' }, 4, {
    workers: false,
  });
  // Split and probe here; the aggregation is run by the test.
  await fx.svc.startWorkers({ split: true, probe: true, probeConcurrency: 4 });
});

afterAll(async () => {
  await fx.stop();
});

/** A run of the aggregation that stops, files half written, until released. */
function heldRun(listId: string, run: string) {
  let reached!: () => void;
  let release!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  const gate = new Promise<void>((r) => (release = r));
  const state = fx.svc.state(listId);
  const done = (async () => {
    // Its summary is built after every row is written to the temp files: it waits there.
    const summary = await runAggregate(listId, { cfg: fx.cfg, state, run, summaryExtras: async () => (reached(), await gate, {}) });
    await fx.svc.lifecycle.done(state, { byStatus: summary.byStatus, byReason: summary.byReason, byBounceRisk: summary.byBounceRisk }, summary.rows, run);
  })();
  done.catch(() => undefined);
  return { atGate, release, done };
}

describe('two aggregation runs of one list at once', () => {
  it('the later run finishes the list with complete files; the earlier stops with LIST_ENDED and leaves no temp file', async () => {
    const { listId, output } = await fx.submit('overlap', emailCsv(ADDRESSES));
    await waitFor(async () => (await fx.svc.aggregateQueue.getJobState(aggregateJobId(listId))) === 'waiting', 30_000, 'the aggregate job');

    // The first run has written its temp files when the second one starts (and cleans up what it takes for left-overs).
    const first = heldRun(listId, 'run-1');
    await first.atGate;
    const second = heldRun(listId, 'run-2');
    await second.atGate;
    first.release();
    const err = await first.done.then(
      () => null,
      (e: unknown) => e,
    );
    second.release();
    await second.done;

    expect(err).toBeInstanceOf(ListwashError);
    expect(err).toMatchObject({ code: ErrorCodes.LIST_ENDED, details: { takenOver: true } });
    expect((await fx.svc.view(listId))?.state).toBe('done');
    const { rows, summary } = await fx.result(listId, output);
    expect(rows.map((r) => r.email)).toEqual(ADDRESSES);
    expect(rows.filter((r) => r.status === 'unknown')).toEqual([]);
    expect(summary.rows).toBe(ADDRESSES.length);
    expect((await readdir(output)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
