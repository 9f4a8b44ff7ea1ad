/**
 * The list-cleaning service on BullMQ: queues, workers and the calls users make (submit a list, read
 * its status, wait for it). Redis and the storage are the only shared state: run as many worker
 * processes on as many machines as needed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createVerifier } from '../engine/index.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import { checkOutputWritable, isPermanentStorageError, parseLocation } from '../storage/index.js';
import { runAggregate, type Summary } from './aggregate.js';
import { validateSplitJob, type AggregateJobData, type ProbeJobData, type SplitJobData } from './jobs.js';
import { ListState, type ListMeta } from './list-state.js';
import { cacheKeyPrefix, LIST_ID_RE, QUEUES } from './names.js';
import { abandonBatch, runProbe } from './probe.js';
import { RedisTtlCache } from './redis-cache.js';
import { runSplit } from './split.js';
import { createThrottleGate, type ThrottleGate } from './throttle-gate.js';

export interface SubmitOptions {
  /** The job id: submitting the same id again does not process the list twice. Default: a new UUID. */
  listId?: string;
  input: string;
  output: string;
  emailColumn?: string | number;
  /** Escape spreadsheet formulas in every output CSV (OWASP's rule). Default: values as read. */
  escapeFormulas?: boolean;
}

export interface WorkerSelection {
  split?: boolean;
  probe?: boolean;
  aggregate?: boolean;
  /** Probe jobs one process runs at once. Default: `LISTWASH_WORKER_CONCURRENCY`. */
  probeConcurrency?: number;
}

const PROBE_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** The split job of a list, rebuilt from its recorded metadata. */
function splitJobFromMeta(m: ListMeta): SplitJobData {
  return validateSplitJob({
    listId: m.listId,
    input: m.input,
    output: m.output,
    ...(m.emailColumn !== undefined ? { emailColumn: JSON.parse(m.emailColumn) as unknown } : {}),
    ...(m.escapeFormulas === 'true' ? { escapeFormulas: true } : {}),
  });
}

/** The list options recorded in its metadata (strings), from a split job. */
function optionFields(data: SplitJobData): Record<string, string> {
  return {
    ...(data.emailColumn !== undefined ? { emailColumn: JSON.stringify(data.emailColumn) } : {}),
    ...(data.escapeFormulas ? { escapeFormulas: 'true' } : {}),
  };
}

/** A failure retrying cannot fix: bad input, or storage that refuses for good (read-only, denied, full, missing). */
function isFinal(err: unknown): boolean {
  return (err instanceof ListwashError && err.code.startsWith('CSV_')) || isPermanentStorageError(err);
}

export class ListwashService {
  readonly redis: Redis;
  readonly splitQueue: Queue<SplitJobData>;
  readonly probeQueue: Queue<ProbeJobData>;
  readonly aggregateQueue: Queue<AggregateJobData>;
  private readonly workers: Worker[] = [];
  private readonly extraRedis: Redis[] = [];
  private gate: ThrottleGate | null = null;
  private readonly ownsRedis: boolean;
  /** This process among the workers: `<hostname>:<pid>`. Also the throttle's lease holder id. */
  readonly workerName = `${hostname()}:${process.pid}`;

  constructor(
    readonly cfg: Config,
    opts: { redis?: Redis } = {},
  ) {
    this.ownsRedis = !opts.redis;
    this.redis = opts.redis ?? new Redis(cfg.redisUrl, { maxRetriesPerRequest: null });
    const connection = this.redis as unknown as ConnectionOptions;
    const common = { connection, prefix: cfg.queuePrefix };
    this.splitQueue = new Queue<SplitJobData>(QUEUES.split, { ...common, defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: cfg.jobTtlSec }, removeOnFail: { age: cfg.jobTtlSec } } });
    this.probeQueue = new Queue<ProbeJobData>(QUEUES.probe, { ...common, defaultJobOptions: PROBE_JOB_OPTIONS });
    this.aggregateQueue = new Queue<AggregateJobData>(QUEUES.aggregate, { ...common, defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: cfg.jobTtlSec }, removeOnFail: { age: cfg.jobTtlSec } } });
  }

  state(listId: string): ListState {
    return new ListState(this.redis, this.cfg.queuePrefix, listId, this.cfg.jobTtlSec);
  }

  /**
   * Enqueue a list. Validates the locations first, and that the output takes a file (a typo or a read-only
   * output fails here, with its `STORAGE_*` code, not after the probing). Submitting
   * an id that exists returns `created: false` and changes nothing — except for a list still
   * `queued` whose split job is missing (its submitter died in between): that job is queued again,
   * from the list's recorded input, output and email column.
   */
  async submit(opts: SubmitOptions): Promise<{ listId: string; created: boolean }> {
    const listId = opts.listId ?? randomUUID();
    if (!LIST_ID_RE.test(listId)) throw new ListwashError(ErrorCodes.JOB_INVALID, `list id must match ${LIST_ID_RE}: ${JSON.stringify(listId)}`);
    parseLocation(opts.input);
    parseLocation(opts.output);
    const data = validateSplitJob({
      listId,
      input: opts.input,
      output: opts.output,
      ...(opts.emailColumn !== undefined ? { emailColumn: opts.emailColumn } : {}),
      ...(opts.escapeFormulas !== undefined ? { escapeFormulas: opts.escapeFormulas } : {}),
    });
    const state = this.state(listId);
    if (!(await state.exists())) await checkOutputWritable(data.output, this.cfg);
    const created = await state.create({ input: data.input, output: data.output, ...optionFields(data), settings: JSON.stringify(this.settingsUsed()) });
    if (!created) {
      const m = await state.meta();
      // Same job id: adding is a no-op while the split job exists.
      if (m?.status === 'queued') await this.splitQueue.add('split', splitJobFromMeta(m), { jobId: listId });
      return { listId, created: false };
    }
    await this.splitQueue.add('split', data, { jobId: listId });
    return { listId, created: true };
  }

  /** The list's metadata, with `batchesDone` (how many batches have finished) for progress displays. */
  async status(listId: string): Promise<ListMeta | null> {
    const state = this.state(listId);
    const m = await state.meta();
    return m ? { ...m, batchesDone: String(await state.doneCount()) } : null;
  }

  /**
   * Resolve when the list is done, polling its status. A failed list rejects with `JOB_FAILED`: the
   * message carries the list's error, `details.cause` its error code (e.g. `CSV_UNTERMINATED_QUOTE`).
   */
  async waitUntilDone(listId: string, opts: { timeoutMs?: number; pollMs?: number; onProgress?: (m: ListMeta) => void } = {}): Promise<ListMeta> {
    const deadline = Date.now() + (opts.timeoutMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const m = await this.status(listId);
      if (!m) throw new ListwashError(ErrorCodes.JOB_NOT_FOUND, `no list with id ${listId}`);
      opts.onProgress?.(m);
      if (m.status === 'done') return m;
      if (m.status === 'failed') {
        throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} failed: ${m.error ?? 'unknown error'}`, { listId, ...(m.errorCode ? { cause: m.errorCode } : {}) });
      }
      if (Date.now() > deadline) throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} not done within the timeout (status ${m.status})`, { listId });
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    }
  }

  /** The settings that shape results, recorded in summary.json. */
  settingsUsed(): Record<string, unknown> {
    const c = this.cfg;
    return {
      heloName: c.heloName,
      mailFrom: c.mailFrom,
      smtpPort: c.smtpPort,
      startTls: c.startTls,
      catchAllProbe: c.catchAllProbe,
      rcptPerSession: c.rcptPerSession,
      mxMaxConnections: c.mxMaxConnections,
      mxRcptPerSecond: c.mxRcptPerSecond,
      greylistRetryDelays: c.greylistRetryDelays,
      blockedPatienceSec: c.blockedPatienceSec,
      batchSize: c.batchSize,
    };
  }

  /** Start workers in this process. */
  async startWorkers(sel: WorkerSelection = { split: true, probe: true, aggregate: true }): Promise<Worker[]> {
    const started: Worker[] = [];
    const workerConnection = () => {
      const r = new Redis(this.cfg.redisUrl, { maxRetriesPerRequest: null });
      this.extraRedis.push(r);
      return r as unknown as ConnectionOptions;
    };
    // `name` is recorded on every job this process takes (BullMQ's `processedBy`) and names its Redis connections.
    const common = { prefix: this.cfg.queuePrefix, maxStalledCount: 3, stalledInterval: this.cfg.stalledIntervalMs, lockDuration: this.cfg.lockDurationMs, name: this.workerName };
    const lastAttempt = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const failList = async (listId: string, err: unknown) => {
      await this.state(listId).set({ status: 'failed', error: err instanceof Error ? err.message : String(err), ...(err instanceof ListwashError ? { errorCode: err.code } : {}) });
    };
    if (sel.split) {
      started.push(
        new Worker<SplitJobData>(
          QUEUES.split,
          async (job: Job<SplitJobData>) => {
            const data = validateSplitJob(job.data);
            const state = this.state(data.listId);
            if (!(await state.exists())) await state.create({ input: data.input, output: data.output, ...optionFields(data), settings: JSON.stringify(this.settingsUsed()) });
            try {
              // Again here: the output may have changed since the submit, and hours of probing must not end in an unwritable output.
              await checkOutputWritable(data.output, this.cfg);
              return await runSplit(data, { cfg: this.cfg, state, probeQueue: this.probeQueue, aggregateQueue: this.aggregateQueue }, { batchSize: this.cfg.batchSize });
            } catch (err) {
              // Bad input is final: say why on the list. Infrastructure errors are retried by BullMQ,
              // and fail the list when the attempts are used up (else it would say `splitting` forever).
              if (isFinal(err)) {
                await failList(data.listId, err);
                job.discard();
              } else if (lastAttempt(job)) {
                await failList(data.listId, err);
              }
              throw err;
            }
          },
          { ...common, connection: workerConnection(), concurrency: 2 },
        ),
      );
    }
    if (sel.probe) {
      const cache = new RedisTtlCache(this.redis, cacheKeyPrefix(this.cfg.queuePrefix));
      this.gate ??= await createThrottleGate(this.cfg, this.redis, this.workerName);
      const { verifier } = createVerifier(this.cfg, { cache, gate: this.gate });
      started.push(
        new Worker<ProbeJobData>(
          QUEUES.probe,
          async (job, token) => {
            const deps = { cfg: this.cfg, verifier, state: this.state(job.data.listId), aggregateQueue: this.aggregateQueue };
            try {
              return await runProbe(job, token, deps);
            } catch (err) {
              // A batch that keeps failing must not keep its list `probing` forever: on its last
              // attempt it is given up (its addresses end unknown) and the list completes.
              if (!(err instanceof DelayedError) && lastAttempt(job)) await abandonBatch(job.data, err, deps);
              throw err;
            }
          },
          { ...common, connection: workerConnection(), concurrency: sel.probeConcurrency ?? this.cfg.workerConcurrency },
        ),
      );
    }
    if (sel.aggregate) {
      started.push(
        new Worker<AggregateJobData>(
          QUEUES.aggregate,
          async (job) => {
            const state = this.state(job.data.listId);
            try {
              return await runAggregate(job.data.listId, {
                cfg: this.cfg,
                state,
                summaryExtras: async () => ({ settings: JSON.parse((await state.meta())?.settings ?? '{}') as unknown, throttle: (await this.gate?.stats()) ?? null }),
              });
            } catch (err) {
              // The partial files are removed by now. Storage that refuses for good fails the list at once; other
              // failures are retried by BullMQ and fail the list when the attempts are used up.
              if (isFinal(err)) {
                await failList(job.data.listId, err);
                job.discard();
              } else if (lastAttempt(job)) {
                await failList(job.data.listId, err);
              }
              throw err;
            }
          },
          { ...common, connection: workerConnection(), concurrency: 1 },
        ),
      );
    }
    for (const w of started) {
      // A worker-level error (lost Redis connection, …) is reported, not swallowed.
      w.on('error', (err) => process.emitWarning(`listwash worker ${w.name}: ${err.message}`));
    }
    this.workers.push(...started);
    return started;
  }

  /** Graceful stop: workers finish or hand back their current jobs, leases are released. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.gate?.close();
    await Promise.all([this.splitQueue.close(), this.probeQueue.close(), this.aggregateQueue.close()]);
    for (const r of this.extraRedis) r.disconnect();
    if (this.ownsRedis) this.redis.disconnect();
  }
}

export type { Summary };
