/**
 * How a list ends: `done`, `failed` or `cancelled`. One place records the end on the list, announces
 * it on the completion channel (the events stream, see `eventsKey`), queues its webhook, and tidies up
 * (a finished list's per-address results leave Redis; a failed list gets `error.json` beside where its
 * results would have been).
 */
import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { storeFor } from '../storage/index.js';
import { FleetCounters } from './fleet-counters.js';
import { ERROR_FILE, ListFiles } from './list-files.js';
import { ACTIVE_STATUSES, type ListState, type ListStatus } from './list-state.js';
import { eventsKey } from './names.js';
import type { RedisClient } from '../redis/connect.js';

/** Most entries kept in the events stream (approximate trimming). */
export const EVENTS_MAXLEN = 10_000;

export interface WebhookJobData {
  listId: string;
  /** The state the callback announces. */
  state: 'done' | 'failed' | 'cancelled';
}

/** What a list's end looks like on the completion channel and in callbacks. */
export interface ListEndEvent {
  listId: string;
  state: 'done' | 'failed' | 'cancelled';
  /** ms since the epoch. */
  at: number;
  output: string;
  owner: string | null;
  counts: { byStatus: Record<string, number>; byReason: Record<string, number>; byBounceRisk: Record<string, number> } | null;
  error: { code: string; message: string } | null;
}

/** Counts as recorded from summary.json. */
export interface FinalCounts {
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  byBounceRisk: Record<string, number>;
}

function codeOf(err: unknown): string {
  return err instanceof ListwashError ? err.code : ErrorCodes.JOB_FAILED;
}

export class ListLifecycle {
  private readonly counters: FleetCounters;

  /** Told of each list this process ends. */
  private readonly endListeners = new Set<(listId: string) => void>();

  constructor(
    private readonly redis: RedisClient,
    private readonly cfg: Config,
    private readonly webhookQueue: Queue<WebhookJobData>,
    private readonly log: Logger,
  ) {
    this.counters = new FleetCounters(redis, cfg.queuePrefix);
  }

  /**
   * Call `listener` with the id of each list this process ends (done, failed or cancelled), once its end is
   * announced — so that a waiter in the same process (`listwash clean`) need not wait for its next poll. Returns
   * the function that stops it. Lists ended by other processes are seen by polling only.
   */
  onEnd(listener: (listId: string) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /**
   * The files are written: record the counts, drop per-address results, announce. With the aggregation run's
   * claim (`run`), only while that run still holds the list (else `LIST_ENDED`: a newer run finishes it).
   */
  async done(state: ListState, counts: FinalCounts, rowsWritten: number, run?: string): Promise<void> {
    const finishedAt = Date.now();
    const fields = { finishedAt, rowsWritten, counts: JSON.stringify(counts) };
    await (run !== undefined ? state.finishAggregation(run, fields) : state.transition('done', ['aggregating'], fields));
    await state.releaseWorkingState();
    await state.touch();
    await this.counters.rowsWritten(counts.byStatus);
    await this.announce(state, 'done', finishedAt, counts, null);
  }

  /**
   * Fail a list that is still active (a list already done, failed or cancelled stays as it is): the
   * error's code and message go on the list, `error.json` under its output (when writable), the end is
   * announced. Never throws for a list whose state is gone (returns false).
   */
  async fail(state: ListState, err: unknown): Promise<boolean> {
    const finishedAt = Date.now();
    const error = { code: codeOf(err), message: errorMessage(err) };
    const stopped = (e: unknown) => e instanceof ListwashError && (e.code === ErrorCodes.LIST_ENDED || e.code === ErrorCodes.LIST_STATE_LOST);
    try {
      // error.json first: whoever sees the list `failed` finds the file.
      await state.assertActive();
      await this.writeErrorFile(state, error, finishedAt);
      await state.transition('failed', ACTIVE_STATUSES, { finishedAt, error: error.message, errorCode: error.code });
    } catch (e) {
      if (stopped(e)) return false;
      throw e;
    }
    this.log.warn({ listId: state.listId, code: error.code }, `list failed: ${error.message}`);
    await state.touch();
    await this.announce(state, 'failed', finishedAt, null, error);
    return true;
  }

  /** Cancel an active list. False when it had already ended (or has no state). */
  async cancel(state: ListState): Promise<boolean> {
    const finishedAt = Date.now();
    try {
      await state.transition('cancelled', ACTIVE_STATUSES, { finishedAt, cancelledAt: finishedAt });
    } catch (e) {
      if (e instanceof ListwashError && (e.code === ErrorCodes.LIST_ENDED || e.code === ErrorCodes.LIST_STATE_LOST)) return false;
      throw e;
    }
    this.log.info({ listId: state.listId }, 'list cancelled');
    await state.touch();
    await this.announce(state, 'cancelled', finishedAt, null, null);
    return true;
  }

  private async writeErrorFile(state: ListState, error: { code: string; message: string }, at: number): Promise<void> {
    const meta = await state.meta();
    if (!meta?.output) return;
    try {
      const location = new ListFiles(this.cfg, meta.output).location(ERROR_FILE);
      const handle = await storeFor(location, this.cfg).openWrite(location, { contentType: 'application/json' });
      handle.stream.end(JSON.stringify({ id: state.listId, state: 'failed', error, at: new Date(at).toISOString() }, null, 2) + '\n');
      await handle.done;
    } catch (e) {
      // The output itself may be what failed (read-only, no such bucket): the list records the error either way.
      this.log.warn({ listId: state.listId, code: codeOf(e) }, `could not write ${ERROR_FILE}: ${errorMessage(e)}`);
    }
  }

  private async announce(state: ListState, status: ListEndEvent['state'], at: number, counts: FinalCounts | null, error: ListEndEvent['error']): Promise<void> {
    const meta = await state.meta();
    const event: ListEndEvent = { listId: state.listId, state: status, at, output: meta?.output ?? '', owner: meta?.owner ?? null, counts, error };
    await this.redis.xadd(
      eventsKey(this.cfg.queuePrefix),
      'MAXLEN',
      '~',
      EVENTS_MAXLEN,
      '*',
      'listId',
      event.listId,
      'state',
      event.state,
      'at',
      String(at),
      'output',
      event.output,
      'owner',
      event.owner ?? '',
      'counts',
      counts ? JSON.stringify(counts) : '',
      'error',
      error ? JSON.stringify(error) : '',
    );
    if (meta?.kind !== 'verify') await this.counters.listEnded(state.listId, status);
    this.log.info({ listId: state.listId, state: status, ...(error ? { code: error.code } : {}) }, `list ${status}`);
    if (meta?.callbackUrl && meta.kind !== 'verify') {
      await this.webhookQueue.add('deliver', { listId: state.listId, state: status }, { jobId: `${state.listId}.webhook` });
    }
    for (const listener of this.endListeners) listener(state.listId);
  }
}

export type { ListStatus };
