/**
 * One simulated world plus one in-process pipeline (split, probe and aggregate workers on real Redis)
 * for a test file: start it in `beforeAll`, clean lists from CSV text, stop it in `afterAll` (workers
 * closed, keys dropped, world stopped, temporary folder removed). With `workers: false` the service only
 * submits and watches lists, and worker processes started with `childEnv()` do the work.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { aggregateJobId, batchJobId } from '../../src/pipeline/names.js';
import { ListwashService, type SubmitOptions } from '../../src/pipeline/service.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, pipelineConfig, pipelineEnv, reportRows, testPrefix } from './helpers.js';

export interface CleanedList {
  listId: string;
  output: string;
  rows: Record<string, string>[];
  summary: Record<string, unknown>;
}

export class PipelineFixture {
  world!: SimWorld;
  cfg!: Config;
  svc!: ListwashService;
  private dir = '';
  private env: Record<string, string> = {};
  readonly prefix = testPrefix();
  private readonly run = `fx-${process.pid}-${Date.now()}`;

  /**
   * Start the world, then a service with every worker kind (none with `workers: false`); `env` overrides
   * the pipeline test settings (e.g. `REDIS_URL`).
   */
  async start(spec: SimWorldSpec, env: Record<string, string> = {}, probeConcurrency = 4, opts: { workers?: boolean } = {}): Promise<this> {
    this.world = await SimWorld.start(spec);
    this.dir = await mkdtemp(join(tmpdir(), 'lw-fx-'));
    this.env = env;
    this.cfg = pipelineConfig(this.world, this.prefix, null, env);
    this.svc = new ListwashService(this.cfg);
    if (opts.workers !== false) await this.svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency });
    return this;
  }

  /** The environment of a listwash process (worker, CLI) that works on this fixture's lists; `extra` wins. */
  childEnv(extra: Record<string, string> = {}): Record<string, string> {
    return pipelineEnv(this.world, this.prefix, null, { ...this.env, ...extra });
  }

  /** The fixture's id of a list named `name`. */
  listId(name: string): string {
    return `${this.run}-${name}`;
  }

  /** Write `csv` as the input of a list named `name`; its input path and output folder. */
  async inputOf(name: string, csv: string): Promise<{ input: string; output: string }> {
    const input = join(this.dir, `${name}.csv`);
    await writeFile(input, csv);
    return { input, output: join(this.dir, `${name}-out`) + '/' };
  }

  /** Submit a list given as CSV text (workers elsewhere may do the work); resolves with its id and output folder. */
  async submit(name: string, csv: string, options: Omit<SubmitOptions, 'input' | 'output' | 'listId'> = {}): Promise<{ listId: string; output: string }> {
    const { input, output } = await this.inputOf(name, csv);
    const { listId } = await this.svc.submit({ ...options, input, output, listId: this.listId(name) });
    return { listId, output };
  }

  /** report.csv's rows and summary.json of a list that is done. */
  async result(listId: string, output: string): Promise<CleanedList> {
    const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
    const summary = JSON.parse(await readFile(join(output, 'summary.json'), 'utf8')) as Record<string, unknown>;
    return { listId, output, rows, summary };
  }

  /**
   * Clean a list given as CSV text (with `options` of the submission, e.g. `maxAge`); resolves with
   * report.csv's rows and summary.json once the list is done.
   */
  async clean(name: string, csv: string, timeoutMs = 30_000, options: Omit<SubmitOptions, 'input' | 'output' | 'listId'> = {}): Promise<CleanedList> {
    const { listId, output } = await this.submit(name, csv, options);
    await this.svc.waitUntilDone(listId, { timeoutMs, pollMs: 100 });
    return this.result(listId, output);
  }

  /**
   * Wait until the list is done; when it is not done in time (or fails), the error says where it stands: its
   * status, and each unfinished batch's job state, attempts, stalls and failure.
   */
  async waitDone(listId: string, timeoutMs: number): Promise<void> {
    try {
      await this.svc.waitUntilDone(listId, { timeoutMs, pollMs: 250 });
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${await this.whereItStands(listId)}`, { cause: err });
    }
  }

  /** A list's status and its unfinished batches' jobs, for a failure message. */
  async whereItStands(listId: string): Promise<string> {
    const state = this.svc.state(listId);
    const meta = await state.meta();
    if (!meta) return `list ${listId}: no state`;
    const total = Number(meta.batches ?? 0);
    const done = await state.doneBatches();
    const lines = [`list ${listId}: ${meta.status}, ${done.size}/${meta.batches ?? '?'} batches done, error ${meta.error ?? '-'}`];
    for (let n = 0; n < total; n++) {
      const id = batchJobId(listId, n);
      if (done.has(id)) continue;
      const job = await this.svc.probeQueue.getJob(id);
      const st = job ? await job.getState() : 'missing';
      lines.push(`  ${id}: ${st}, attempts ${job?.attemptsMade ?? '-'}, stalled ${job?.stalledCounter ?? '-'}, by ${job?.processedBy ?? '-'}, failed ${job?.failedReason ?? '-'}`);
    }
    const agg = await this.svc.aggregateQueue.getJob(aggregateJobId(listId));
    lines.push(`  aggregate: ${agg ? await agg.getState() : 'missing'}${agg?.failedReason ? `, failed ${agg.failedReason}` : ''}`);
    return lines.join('\n');
  }

  /** TCP connections the world's hosts accepted so far (all hosts, or the given ones). */
  connections(hosts: readonly string[] = this.world.hostNames): number {
    return hosts.reduce((n, h) => n + this.world.host(h).stats.connections, 0);
  }

  async stop(): Promise<void> {
    await this.svc?.close();
    if (this.cfg) await dropKeys(this.cfg.redisUrl, this.prefix);
    await this.world?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** A CSV with an `email` header and one address per row. */
export function emailCsv(addresses: readonly string[]): string {
  return ['email', ...addresses].join('\n') + '\n';
}
