/**
 * One pipeline stage (split or aggregate) in a process of its own, so its time and peak RSS are its own.
 * Forked by bench-pipeline.ts with `{ stage, env, listId, input, output }` over IPC; answers
 * `{ ok: true, ms, peakRss, summary }` or `{ ok: false, error }`, then exits.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { loadConfig } from '../../src/config.js';
import { runAggregate } from '../../src/pipeline/aggregate.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { runSplit } from '../../src/pipeline/split.js';
import { rssSampler } from './common.js';

export interface StageRequest {
  /** `bare`: csv-parse → csv-stringify from `input` to the file `output`, the baseline. */
  stage: 'bare' | 'split' | 'aggregate';
  env: Record<string, string>;
  listId: string;
  input: string;
  output: string;
}

/** `ms`: wall time of the stage; `cpuMs`: this process's CPU time (user + system) during it. */
export type StageReply = { ok: true; ms: number; cpuMs: number; peakRss: number; summary: Record<string, unknown> } | { ok: false; error: string };

async function run(req: StageRequest): Promise<StageReply> {
  const rss = rssSampler(25);
  if (req.stage === 'bare') {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await pipeline(createReadStream(req.input), parse(), stringify(), createWriteStream(req.output));
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { ok: true, ms, cpuMs: (c.user + c.system) / 1000, peakRss: rss.stop(), summary: {} };
  }
  const cfg = loadConfig({ ...process.env, ...req.env });
  const svc = new ListwashService(cfg);
  try {
    const state = svc.state(req.listId);
    if (req.stage === 'split') {
      if (!(await state.create({ input: req.input, output: req.output, settings: JSON.stringify(svc.settingsUsed()) }))) {
        throw new Error(`list ${req.listId} exists already`);
      }
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const summary = await runSplit({ version: 1, listId: req.listId, input: req.input, output: req.output }, { cfg, state, probeQueue: svc.probeQueue, aggregateQueue: svc.aggregateQueue }, { batchSize: cfg.batchSize });
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      return { ok: true, ms, cpuMs: (c.user + c.system) / 1000, peakRss: rss.stop(), summary: { ...summary } };
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const summary = await runAggregate(req.listId, { cfg, state });
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const { rows, byStatus, byReason } = summary;
    return { ok: true, ms, cpuMs: (c.user + c.system) / 1000, peakRss: rss.stop(), summary: { rows, byStatus, byReason } };
  } finally {
    await svc.close();
  }
}

process.once('message', (req: StageRequest) => {
  run(req).then(
    (reply) => {
      process.send?.(reply, undefined, {}, () => process.exit(0));
    },
    (err: unknown) => {
      process.send?.({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies StageReply, undefined, {}, () => process.exit(1));
    },
  );
});
