/**
 * Failures that must end a list instead of leaving it waiting forever: storage that stays unreachable
 * (the split's attempts run out), a batch that keeps failing (given up, its addresses end unknown),
 * and a CSV that breaks after batches were queued (those batches are not probed).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import type { ProbeJobData } from '../../src/pipeline/jobs.js';
import { batchJobId } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, pipelineConfig, reportRows, testPrefix, useS3rverCredentials, waitFor } from './helpers.js';
import { rejection } from '../helpers/rejection.js';

const spec: SimWorldSpec = {
  domains: {
    'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] },
    'many.test': { mx: [{ host: 'mx.many.test', preference: 10 }] },
  },
  hosts: {
    'mx.ok.test': { mailboxes: ['ann', 'ben', 'cid', 'dan'] },
    'mx.many.test': { mailboxes: ['u1'] },
  },
};

let world: SimWorld;
let cfg: Config;
let svc: ListwashService;
let dir: string;
const prefix = testPrefix();
const run = `fail-${process.pid}-${Date.now()}`;

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

beforeAll(async () => {
  useS3rverCredentials();
  world = await SimWorld.start(spec);
  dir = await mkdtemp(join(tmpdir(), 'lw-fail-'));
  cfg = pipelineConfig(world, prefix, null, { S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`, LISTWASH_CATCH_ALL_PROBE: 'false' });
  svc = new ListwashService(cfg);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
});

afterAll(async () => {
  await svc?.close();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});


describe('failures end the list', () => {
  it('unreachable storage: the split is retried, then the list fails (not `splitting` forever)', async () => {
    const { listId } = await svc.submit({ input: 's3://lw-test/nowhere/input.csv', output: join(dir, 'unreachable-out') + '/', listId: `${run}-s3down` });
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 45_000, pollMs: 200 }));
    expect(err.code).toBe(ErrorCodes.JOB_FAILED);
    expect(err.message).toMatch(/failed:/);
    expect((await svc.view(listId))?.state).toBe('failed');
  });

  it('a batch that fails on every attempt is given up: the list completes, its addresses end unknown', async () => {
    const listId = `${run}-poison`;
    // Take the first batch's job id before the split does, with data that makes every run throw.
    const poison = { listId, batchId: batchJobId(listId, 0), domain: 'ok.test', addresses: 'not-a-list' } as unknown as ProbeJobData;
    await svc.probeQueue.add('probe', poison, { jobId: batchJobId(listId, 0), delay: 1000, attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    const input = join(dir, 'poison.csv');
    await writeFile(input, 'email\nann@ok.test\nben@ok.test\ncid@ok.test\nzed@ok.test\n');
    const output = join(dir, 'poison-out') + '/';
    await svc.submit({ input, output, listId });
    const meta = await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(meta.batches.failed).toBe(1);
    expect(meta.lastBatchError).toMatch(/\.b0: /);
    const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
    expect(rows.map((r) => [r.email, r.status, r.reason])).toEqual([
      ['ann@ok.test', 'unknown', 'temporary_failure'],
      ['ben@ok.test', 'unknown', 'temporary_failure'],
      ['cid@ok.test', 'unknown', 'temporary_failure'],
      ['zed@ok.test', 'undeliverable', 'mailbox_not_found'],
    ]);
  });

  it('a list that failed after batches were queued: those batches are not probed', async () => {
    const host = world.host('mx.many.test');
    const listId = `${run}-late`;
    // A batch queued by the split before the CSV broke further down (a big file breaks late; the split
    // queues batches as it goes). It becomes due after the list has failed.
    const batch: ProbeJobData = { listId, batchId: batchJobId(listId, 0), domain: 'many.test', addresses: ['u1@many.test', 'u2@many.test'] };
    await svc.probeQueue.add('probe', batch, { jobId: batch.batchId, delay: 1000 });
    const input = join(dir, 'late-break.csv');
    await writeFile(input, 'email\nu1@many.test\n"u2@many.test\nu3@many.test\n');
    await svc.submit({ input, output: join(dir, 'late-break-out') + '/', listId });
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 }));
    expect(err.details.cause).toBe(ErrorCodes.CSV_UNTERMINATED_QUOTE);
    await waitFor(async () => (await svc.probeQueue.getJobState(batch.batchId)) === 'unknown', 15_000, 'the batch to run and be removed');
    expect(host.stats.connections).toBe(0);
    expect((await svc.view(listId))?.state).toBe('failed');
  });
});
