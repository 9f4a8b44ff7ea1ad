/**
 * Writes to a list's state that may happen twice, answered the same way both times:
 * - a worker killed between completing a list's last batch and queueing its aggregate: the batch runs again
 *   (a stalled job) and its re-run must queue the aggregate — the completion is answered again, not only the
 *   first time (it used to be answered once, leaving such a list `probing` for ever);
 * - a dedup round trip of the split whose connection broke after Redis ran it (`CLIENT KILL`, a proxy): the
 *   client sends it again, and the second answer must be the first one (it used to say "seen before" for
 *   every address of the chunk, which the list then took for duplicates of addresses no batch probes).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ListState } from '../../src/pipeline/list-state.js';
import { createRedis } from '../../src/redis/connect.js';
import { dropKeys, testPrefix } from '../pipeline/helpers.js';

const prefix = testPrefix();
const cfg = loadConfig({ ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}), LISTWASH_QUEUE_PREFIX: prefix });
const redis = createRedis(cfg);

afterAll(async () => {
  redis.disconnect();
  await dropKeys(cfg.redisUrl, prefix);
});

describe('the completion of a list', () => {
  it('is answered to the batch that completes it, and again to that batch’s re-run', async () => {
    const state = new ListState(redis, prefix, 'complete-1', 600);
    await state.create({ input: 'in.csv', output: 'out/' });
    expect(await state.batchDone('complete-1.b0')).toBe(false);
    expect(await state.splitFinished(2)).toBe(false);
    expect(await state.batchDone('complete-1.b1')).toBe(true);
    // Its worker died before queueing the aggregate; the re-run of the batch finishes it again.
    expect(await state.batchDone('complete-1.b1')).toBe(true);
    expect(await state.doneCount()).toBe(2);
  });

  it('is answered to a split that finishes after its batches, and again to the split’s re-run', async () => {
    const state = new ListState(redis, prefix, 'complete-2', 600);
    await state.create({ input: 'in.csv', output: 'out/' });
    expect(await state.batchDone('complete-2.b0')).toBe(false);
    expect(await state.splitFinished(1)).toBe(true);
    expect(await state.splitFinished(1)).toBe(true);
  });

  it('is not answered while a batch is missing', async () => {
    const state = new ListState(redis, prefix, 'complete-3', 600);
    await state.create({ input: 'in.csv', output: 'out/' });
    expect(await state.splitFinished(2)).toBe(false);
    expect(await state.batchDone('complete-3.b0')).toBe(false);
    expect(await state.batchDone('complete-3.b0')).toBe(false);
  });
});

describe('a dedup round trip of the split', () => {
  it('asked again (resent after a broken connection) gets the same answer', async () => {
    const state = new ListState(redis, prefix, 'dedup-1', 600);
    await state.create({ input: 'in.csv', output: 'out/' });
    await state.startSplitRun();
    expect(await state.dedup(['a@x.test', 'b@x.test', 'a@x.test'], 0)).toEqual([true, true, false]);
    expect(await state.dedup(['a@x.test', 'b@x.test', 'a@x.test'], 0)).toEqual([true, true, false]);
  });

  it('a later chunk sees the addresses of earlier ones as duplicates, also when it is asked again', async () => {
    const state = new ListState(redis, prefix, 'dedup-2', 600);
    await state.create({ input: 'in.csv', output: 'out/' });
    await state.startSplitRun();
    expect(await state.dedup(['a@x.test', 'b@x.test'], 0)).toEqual([true, true]);
    expect(await state.dedup(['b@x.test', 'c@x.test', 'c@x.test'], 1)).toEqual([false, true, false]);
    expect(await state.dedup(['b@x.test', 'c@x.test', 'c@x.test'], 1)).toEqual([false, true, false]);
    expect(await state.dedup(['c@x.test', 'a@x.test'], 2)).toEqual([false, false]);
  });

  it('a new split run starts afresh', async () => {
    const state = new ListState(redis, prefix, 'dedup-3', 600);
    await state.create({ input: 'in.csv', output: 'out/' });
    await state.startSplitRun();
    expect(await state.dedup(['a@x.test'], 0)).toEqual([true]);
    await state.startSplitRun();
    expect(await state.dedup(['a@x.test'], 5)).toEqual([true]);
  });
});
