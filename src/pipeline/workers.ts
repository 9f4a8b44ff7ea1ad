/**
 * The pipeline's BullMQ workers in one process: split (upload jobs), probe (batch jobs), aggregate,
 * webhook (signed callbacks of lists that ended).
 * Each processor is a thin wrapper: it runs its stage and decides what a failure means for the list
 * (retry, give up the batch, or fail the list), through the list's lifecycle.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { DomainVerifier } from '../engine/index.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { checkOutputWritable, isPermanentStorageError } from '../storage/index.js';
import { runAggregate } from './aggregate.js';
import type { FleetCounters } from './fleet-counters.js';
import { validateSplitJob, type AggregateJobData, type ProbeJobData, type SplitJobData } from './jobs.js';
import { LIST_ENDS, type WebhookDelivery } from '../webhooks/index.js';
import type { ListLifecycle, WebhookJobData } from './lifecycle.js';
import type { ListState } from './list-state.js';
import { LIST_ID_RE, QUEUES } from './names.js';
import { abandonBatch, runProbe } from './probe.js';
import { runSplit } from './split.js';
import type { ListStopWatch } from './stop-watch.js';
import type { VerdictCache } from '../verdict-cache/verdict-cache.js';
import type { RedisClient } from '../redis/connect.js';
import { isConnectionError } from '../redis/connection-watch.js';

export interface WorkerSelection {
  split?: boolean;
  probe?: boolean;
  aggregate?: boolean;
  /** Deliver the webhooks of lists that ended (queue `lw-webhook`). */
  webhook?: boolean;
  /** Probe jobs one process runs at once. Default: `LISTWASH_WORKER_CONCURRENCY`. */
  probeConcurrency?: number;
}

/** What the processors need from the service. */
export interface WorkerContext {
  cfg: Config;
  log: Logger;
  lifecycle: ListLifecycle;
  state(listId: string): ListState;
  settingsUsed(): Record<string, unknown>;
  probeQueue: Queue<ProbeJobData>;
  aggregateQueue: Queue<AggregateJobData>;
  /** A new connection for one worker (BullMQ blocks on it). */
  connection(): RedisClient;
  /** This process among the workers: `<hostname>:<pid>`. */
  workerName: string;
  stopWatch: ListStopWatch;
  /** The engine, made on first use (probe workers, and split workers: their DNS questions). */
  verifier(): Promise<DomainVerifier>;
  /** The fleet-wide verdict cache, or null when it is off. */
  verdictCache: VerdictCache | null;
  /** Fleet-wide throttle counters for summary.json. */
  throttleStats(): Promise<unknown>;
  /** Fleet-wide counters for `/metrics`. */
  counters: FleetCounters;
  /** The webhook delivery, made on first use (only webhook workers need it). */
  webhooks(): WebhookDelivery;
}

/** Times a job may stall (its worker died or lost the lock) and run again; one more and BullMQ fails it (see `endGivenUpJob`). */
export const MAX_STALLED = 3;

/** Webhook jobs one process runs at once (each is one HTTP request at most). */
const WEBHOOK_CONCURRENCY = 8;

/**
 * Errors that no retry can mend: the list fails at once. Bad input, and storage that refuses for good (read-only,
 * permission, no space left, no such bucket or file, a bad location).
 */
function isPermanent(err: unknown): boolean {
  if (!(err instanceof ListwashError)) return false;
  return err.code.startsWith('CSV_') || err.code === ErrorCodes.JOB_INVALID || isPermanentStorageError(err);
}

/** The list ended elsewhere or its state is gone: the job stops quietly (nothing to retry). */
function isStop(err: unknown): boolean {
  return err instanceof ListwashError && (err.code === ErrorCodes.LIST_ENDED || err.code === ErrorCodes.LIST_STATE_LOST);
}

const lastAttempt = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

export function startWorkers(ctx: WorkerContext, sel: WorkerSelection): Worker[] {
  const common = (concurrency: number) => ({
    connection: ctx.connection() as unknown as ConnectionOptions,
    prefix: ctx.cfg.queuePrefix,
    maxStalledCount: MAX_STALLED,
    stalledInterval: ctx.cfg.stalledIntervalMs,
    lockDuration: ctx.cfg.lockDurationMs,
    // Recorded on every job this process takes (BullMQ's `processedBy`) and names its Redis connections.
    name: ctx.workerName,
    concurrency,
  });
  const started: Worker[] = [];
  if (sel.split) started.push(new Worker<SplitJobData>(QUEUES.split, (job) => splitProcessor(ctx, job), common(2)));
  if (sel.probe) started.push(new Worker<ProbeJobData>(QUEUES.probe, (job, token) => probeProcessor(ctx, job, token), common(sel.probeConcurrency ?? ctx.cfg.workerConcurrency)));
  if (sel.aggregate) started.push(new Worker<AggregateJobData>(QUEUES.aggregate, (job) => aggregateProcessor(ctx, job), common(1)));
  if (sel.webhook) started.push(new Worker<WebhookJobData>(QUEUES.webhook, (job, token) => webhookProcessor(ctx, job, token), common(WEBHOOK_CONCURRENCY)));
  for (const w of started) {
    // A worker-level error is reported, not swallowed; a broken connection (the client reconnects by itself) is the
    // service's connection watch's to report when it stays broken.
    w.on('error', (err) => {
      if (isConnectionError(err)) ctx.log.debug({ queue: w.name }, `worker connection: ${err.message}`);
      else if (isLockLoss(err)) ctx.log.info({ queue: w.name }, `job lock lost, the job runs again on a worker that holds it (its writes are guarded): ${err.message}`);
      else ctx.log.error({ queue: w.name }, `worker error: ${err.message}`);
    });
    w.on('failed', (job, err) => {
      if (!job?.deferredFailure) return;
      endGivenUpJob(ctx, w.name, job, err).catch((e: unknown) => ctx.log.error({ queue: w.name, jobId: job.id }, `ending the work of job ${job.id} given up by BullMQ: ${errorMessage(e)}`));
    });
  }
  return started;
}

/**
 * BullMQ's word that this worker no longer holds a job it was running: its lock expired (a renewal lost with a
 * dropped connection, a stalled event loop) and the stalled-job check handed the job to another run, so this
 * run's renewals and its move to finished are refused. Not a failure: the job runs again, and every write of a
 * run is guarded (a batch's verdicts, completion, the aggregate's claim), so the two runs end as one.
 */
export function isLockLoss(err: Error): boolean {
  return /^(could not renew lock for job |Missing (key|lock) for job |Job \S+ is not in the active state)/.test(err.message);
}

/**
 * A job BullMQ failed without running it: its worker stopped holding it (killed, or its lock expired) more often
 * than `maxStalledCount` allows — a batch that crashes every worker that runs it must not take the fleet down, nor
 * leave its list waiting for ever. The processor never saw this run, so the job's end is recorded here: a batch is
 * given up (its addresses end unknown, the list completes), a split or an aggregate fails its list.
 */
async function endGivenUpJob(ctx: WorkerContext, queue: string, job: Job, err: Error): Promise<void> {
  const reason = new ListwashError(ErrorCodes.JOB_FAILED, `job ${job.id} given up: the worker running it stopped ${MAX_STALLED + 1} times (crashed or lost its lock): ${err.message}`, { jobId: job.id });
  const data = job.data as Partial<ProbeJobData> & Partial<SplitJobData> & Partial<AggregateJobData>;
  if (typeof data.listId !== 'string' || !LIST_ID_RE.test(data.listId)) return;
  const state = ctx.state(data.listId);
  try {
    if (queue === QUEUES.probe && typeof data.batchId === 'string') {
      ctx.log.error({ listId: data.listId, batchId: data.batchId }, `batch given up: ${reason.message}`);
      await abandonBatch({ listId: data.listId, batchId: data.batchId }, reason, { state, aggregateQueue: ctx.aggregateQueue });
    } else if (queue === QUEUES.split || queue === QUEUES.aggregate) {
      await ctx.lifecycle.fail(state, reason);
    }
  } catch (e) {
    if (!isStop(e)) throw e;
  }
}

/**
 * The list job of an upload job, checked against the job contract. A job that breaks it is refused at
 * once (no retry: `JOB_INVALID` naming the field); when it names a usable list id that has no list yet,
 * that list is recorded as failed, so the producer hears of it on the events stream.
 */
async function acceptListJob(ctx: WorkerContext, job: Job<SplitJobData>): Promise<SplitJobData> {
  try {
    const data = validateSplitJob(job.data);
    if (job.id !== data.listId) {
      throw new ListwashError(ErrorCodes.JOB_INVALID, `list job: jobId must equal listId (got jobId ${JSON.stringify(job.id)} for list ${data.listId})`, { field: 'jobId' });
    }
    return data;
  } catch (err) {
    job.discard();
    const raw: Partial<Record<string, unknown>> = typeof job.data === 'object' && job.data !== null ? (job.data as unknown as Record<string, unknown>) : {};
    ctx.log.warn({ jobId: job.id, field: err instanceof ListwashError ? err.details.field : undefined }, `list job refused: ${errorMessage(err)}`);
    if (typeof raw.listId === 'string' && LIST_ID_RE.test(raw.listId)) await failUnstartedList(ctx, raw.listId, raw, err);
    throw err;
  }
}

/** Record a refused list job as a failed list (a list that exists already is left as it is). */
async function failUnstartedList(ctx: WorkerContext, listId: string, raw: Partial<Record<string, unknown>>, err: unknown): Promise<void> {
  const state = ctx.state(listId);
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  if (!(await state.create({ input: text(raw.input), output: text(raw.output), settings: JSON.stringify(ctx.settingsUsed()) }))) return;
  await ctx.lifecycle.fail(state, err);
}

async function splitProcessor(ctx: WorkerContext, job: Job<SplitJobData>): Promise<unknown> {
  const data = await acceptListJob(ctx, job);
  const state = ctx.state(data.listId);
  // Enqueued by another service straight onto the queue (the job contract): the list starts here.
  if (!(await state.exists())) {
    await state.create({
      input: data.input,
      output: data.output,
      ...(data.emailColumn !== undefined ? { emailColumn: JSON.stringify(data.emailColumn) } : {}),
      ...(data.callbackUrl ? { callbackUrl: data.callbackUrl } : {}),
      ...(data.escapeFormulas ? { escapeFormulas: 'true' } : {}),
      ...(data.maxAge !== undefined ? { maxAge: String(data.maxAge) } : {}),
      settings: JSON.stringify(ctx.settingsUsed()),
    });
  }
  try {
    // Again here: the output may have changed since the submit, and hours of probing must not end in an unwritable output.
    await checkOutputWritable(data.output, ctx.cfg);
    const verifier = await ctx.verifier();
    const summary = await runSplit(
      data,
      { cfg: ctx.cfg, state, probeQueue: ctx.probeQueue, aggregateQueue: ctx.aggregateQueue, deadEnd: (domain) => verifier.deadEnd(domain), verdictCache: ctx.verdictCache, counters: ctx.counters },
      { batchSize: ctx.cfg.batchSize },
    );
    ctx.log.info({ listId: data.listId, rows: summary.rows, unique: summary.unique, batches: summary.batches }, 'list split');
    return summary;
  } catch (err) {
    if (isStop(err)) return { stopped: errorMessage(err) };
    // Bad input is final: say why on the list. Infrastructure errors are retried by BullMQ, and fail
    // the list when the attempts are used up (else it would say `splitting` forever).
    if (isPermanent(err)) {
      await ctx.lifecycle.fail(state, err);
      job.discard();
    } else if (lastAttempt(job)) {
      await ctx.lifecycle.fail(state, err);
    }
    throw err;
  }
}

async function probeProcessor(ctx: WorkerContext, job: Job<ProbeJobData>, token: string | undefined): Promise<unknown> {
  const { listId, batchId } = job.data;
  const deps = { cfg: ctx.cfg, verifier: await ctx.verifier(), state: ctx.state(listId), aggregateQueue: ctx.aggregateQueue, verdictCache: ctx.verdictCache, counters: ctx.counters };
  const running = ctx.stopWatch.track(listId);
  try {
    const r = await runProbe(job, token, deps, running.signal);
    if (r.done) ctx.log.info({ listId, batchId, domain: job.data.domain, final: r.final }, 'batch finished');
    return r;
  } catch (err) {
    if (err instanceof DelayedError) throw err;
    if (isStop(err)) return { stopped: errorMessage(err) };
    // A batch that keeps failing must not keep its list `probing` forever: on its last attempt it is
    // given up (its addresses end unknown) and the list completes.
    if (lastAttempt(job)) {
      ctx.log.error({ listId, batchId, domain: job.data.domain }, `batch given up: ${errorMessage(err)}`);
      await abandonBatch(job.data, err, deps);
    }
    throw err;
  } finally {
    running.done();
  }
}

async function aggregateProcessor(ctx: WorkerContext, job: Job<AggregateJobData>): Promise<unknown> {
  const state = ctx.state(job.data.listId);
  try {
    const meta = await state.meta();
    // A list checked through `POST /v1/verify` has no files: it ends here.
    if (meta?.kind === 'verify') {
      await state.transition('done', ['probing'], { finishedAt: Date.now() });
      return { verify: true };
    }
    // This run's claim: when the job runs twice at once (its lock lost by a worker that is still at work), the
    // later run writes the files and finishes the list, the earlier one stops quietly.
    const run = randomUUID();
    const summary = await runAggregate(job.data.listId, {
      cfg: ctx.cfg,
      state,
      run,
      summaryExtras: async () => ({ settings: JSON.parse((await state.meta())?.settings ?? '{}') as unknown, throttle: (await ctx.throttleStats()) ?? null }),
    });
    await ctx.lifecycle.done(state, { byStatus: summary.byStatus, byReason: summary.byReason, byBounceRisk: summary.byBounceRisk }, summary.rows, run);
    return { rows: summary.rows };
  } catch (err) {
    if (isStop(err)) return { stopped: errorMessage(err) };
    // The partial files are removed by now. Storage that refuses for good fails the list at once.
    if (isPermanent(err)) {
      await ctx.lifecycle.fail(state, err);
      job.discard();
    } else if (lastAttempt(job)) {
      await ctx.lifecycle.fail(state, err);
    }
    throw err;
  }
}

/**
 * One attempt at a list's webhook; a failed attempt within the retry window moves the job to delayed
 * until its next attempt (the job stays in Redis: a worker restart loses nothing). Refused and
 * given-up deliveries fail the job without BullMQ retries.
 */
async function webhookProcessor(ctx: WorkerContext, job: Job<WebhookJobData>, token: string | undefined): Promise<unknown> {
  const { listId, state } = job.data;
  if (typeof listId !== 'string' || !LIST_ENDS.includes(state)) throw new UnrecoverableError(`webhook job ${job.id}: payload must be { listId, state: done|failed|cancelled }`);
  let r;
  try {
    r = await ctx.webhooks().attempt(job.data);
  } catch (err) {
    if (isStop(err)) return { skipped: errorMessage(err) };
    throw err;
  }
  if (r.kind !== 'skipped') await ctx.counters.webhookAttempt(r.kind === 'delivered' ? 'delivered' : r.kind === 'refused' ? 'refused' : 'failed');
  if (r.kind === 'retry') {
    if (token === undefined) return r;
    await job.moveToDelayed(r.at, token);
    throw new DelayedError();
  }
  if (r.kind === 'refused' || r.kind === 'gave_up') throw new UnrecoverableError(`webhook of list ${listId} ${r.kind === 'refused' ? 'refused' : 'given up'} after attempt ${r.attempt} (see the list's status)`);
  return r;
}
