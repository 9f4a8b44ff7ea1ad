/**
 * The list-cleaning service on BullMQ: the calls every door makes (command line, HTTP API, bucket
 * watcher, a Node service importing the package) — submit a list, look at it, list, wait for, cancel
 * or delete lists, read their files — and the workers. Redis and the storage are the only shared
 * state: run as many worker processes on as many machines as needed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { Queue, type ConnectionOptions, type Worker } from 'bullmq';
import type { Config } from '../config.js';
import { loadEgressIdentities } from '../egress/identity.js';
import { LayeredTtlCache, MemoryTtlCache } from '../dns/cache.js';
import { MailResolver } from '../dns/resolver.js';
import { createVerifier, type DomainVerifier } from '../engine/index.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { createRedis, type RedisClient } from '../redis/connect.js';
import { ConnectionWatch, isConnectionError } from '../redis/connection-watch.js';
import { checkOutputWritable, parseLocation } from '../storage/index.js';
import type { Summary } from './aggregate.js';
import { FleetCounters } from './fleet-counters.js';
import { LIST_JOB_VERSION } from '../contract/list-job-check.js';
import { FileLinks, WebhookDelivery } from '../webhooks/index.js';
import { validateSplitJob, type AggregateJobData, type ProbeJobData, type SplitJobData } from './jobs.js';
import { ListLifecycle, type WebhookJobData } from './lifecycle.js';
import { contentTypeOf, ERROR_FILE, ListFiles, RESULT_FILES, type ListFile } from './list-files.js';
import { isFinalStatus, ListState, type ListMeta } from './list-state.js';
import { listView, type ListView } from './list-view.js';
import { aggregateJobId, batchJobId, cacheKeyPrefix, LIST_ID_RE, listIndexKey, ownerIndexKey, QUEUES, verdictCacheKeyPrefix } from './names.js';
import { RedisTtlCache } from './redis-cache.js';
import { ListStopWatch } from './stop-watch.js';
import { createThrottleGate, type ThrottleGate } from './throttle-gate.js';

/** DNS answers a worker process keeps a copy of, and for how long at most (seconds). */
const LOCAL_DNS_ENTRIES = 20_000;
const LOCAL_DNS_TTL_SEC = 30;
import { VerifyNow, type VerifyNowAnswer, type VerifyNowOptions } from './verify-now.js';
import { startWorkers, type WorkerSelection } from './workers.js';
import { verdictCacheFromConfig, type VerdictCache } from '../verdict-cache/index.js';

export type { WorkerSelection, VerifyNowAnswer, VerifyNowOptions };

export interface SubmitOptions {
  /** The list id: submitting the same id again does not process the list twice. Default: a new UUID. */
  listId?: string;
  input: string;
  output: string;
  emailColumn?: string | number;
  /** Where to POST the signed callback when the list ends. */
  callbackUrl?: string;
  /** Who submitted it (an API key's name): only that owner sees, downloads, cancels or deletes it. */
  owner?: string;
  /** Escape spreadsheet formulas in every output CSV (OWASP's rule). Default: values as read. */
  escapeFormulas?: boolean;
  /**
   * Seconds: verdicts of the fleet-wide verdict cache older than this are probed again for this list; 0
   * probes every address. Default: each verdict class's maximum age (`LISTWASH_VERDICT_CACHE_MAX_AGE`).
   */
  maxAge?: number;
}

/** Who asks: an API key's name sees only its own lists; no owner (the operator) sees every list. */
export interface Asker {
  owner?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  onProgress?: (v: ListView) => void;
  /** How long Redis may stop answering (a restart) before the wait fails with `REDIS_UNAVAILABLE`. Default 30 s. */
  redisOutageMs?: number;
}

const PROBE_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** The split job of a list, rebuilt from its recorded metadata. */
function splitJobFromMeta(m: ListMeta): SplitJobData {
  return validateSplitJob({
    version: LIST_JOB_VERSION,
    listId: m.listId,
    input: m.input,
    output: m.output,
    ...(m.emailColumn !== undefined ? { emailColumn: JSON.parse(m.emailColumn) as unknown } : {}),
    ...(m.callbackUrl ? { callbackUrl: m.callbackUrl } : {}),
    ...(m.escapeFormulas === 'true' ? { escapeFormulas: true } : {}),
    ...(m.maxAge !== undefined ? { maxAge: Number(m.maxAge) } : {}),
  });
}

function notFound(listId: string): ListwashError {
  return new ListwashError(ErrorCodes.JOB_NOT_FOUND, `no list with id ${listId}`, { listId });
}

/** `score:id` of a listing position, opaque to callers. */
function encodeCursor(score: number, id: string): string {
  return Buffer.from(`${score}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { score: number; id: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  const cut = text.indexOf(':');
  const score = Number(text.slice(0, cut));
  if (cut < 1 || !Number.isFinite(score)) return null;
  return { score, id: text.slice(cut + 1) };
}

/** Resolve with `p`, or with `onTimeout()` after `ms` (the late settlement of `p` is observed, never unhandled). */
async function within<T, U>(p: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<U>((resolve) => (timer = setTimeout(() => resolve(onTimeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class ListwashService {
  readonly redis: RedisClient;
  readonly splitQueue: Queue<SplitJobData>;
  readonly probeQueue: Queue<ProbeJobData>;
  readonly aggregateQueue: Queue<AggregateJobData>;
  readonly webhookQueue: Queue<WebhookJobData>;
  readonly lifecycle: ListLifecycle;
  /** The fleet-wide verdict cache; null when it is off (`LISTWASH_VERDICT_CACHE_MAX_ENTRIES=0` or no class kept). */
  readonly verdictCache: VerdictCache | null;
  /** Fleet-wide counters for `/metrics`. */
  readonly counters: FleetCounters;
  readonly log: Logger;
  private readonly workers: Worker[] = [];
  private readonly extraRedis: RedisClient[] = [];
  private readonly stopWatch: ListStopWatch;
  private readonly verifyRequests: VerifyNow;
  private gate: ThrottleGate | null = null;
  private webhookDelivery: { delivery: WebhookDelivery; links: FileLinks } | null = null;
  private verifier: Promise<DomainVerifier> | null = null;
  private readonly ownsRedis: boolean;
  /** Says when a Redis connection stays lost (and when it is back). */
  private readonly connections: ConnectionWatch;
  /** This process among the workers: `<hostname>:<pid>`. Also the throttle's lease holder id. */
  readonly workerName = `${hostname()}:${process.pid}`;

  constructor(
    readonly cfg: Config,
    opts: { redis?: RedisClient; logger?: Logger } = {},
  ) {
    this.ownsRedis = !opts.redis;
    this.log = opts.logger ?? silentLogger;
    this.redis = opts.redis ?? createRedis(cfg, { name: `listwash:${this.workerName}` });
    const connection = this.redis as unknown as ConnectionOptions;
    const common = { connection, prefix: cfg.queuePrefix };
    const kept = { removeOnComplete: { age: cfg.jobTtlSec }, removeOnFail: { age: cfg.jobTtlSec } };
    this.splitQueue = new Queue<SplitJobData>(QUEUES.split, { ...common, defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, ...kept } });
    this.probeQueue = new Queue<ProbeJobData>(QUEUES.probe, { ...common, defaultJobOptions: PROBE_JOB_OPTIONS });
    this.aggregateQueue = new Queue<AggregateJobData>(QUEUES.aggregate, { ...common, defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, ...kept } });
    this.webhookQueue = new Queue<WebhookJobData>(QUEUES.webhook, { ...common, defaultJobOptions: { attempts: 12, backoff: { type: 'exponential', delay: 5000 }, ...kept } });
    this.connections = new ConnectionWatch(this.log);
    this.connections.watch(this.redis, 'main');
    for (const q of [this.splitQueue, this.probeQueue, this.aggregateQueue, this.webhookQueue]) {
      // Reported, not thrown (an 'error' event without a listener would crash the process). A broken connection is
      // the connection watch's to report, once and only when it stays broken.
      q.on('error', (err) => (isConnectionError(err) ? this.log.debug({ queue: q.name }, `queue connection: ${err.message}`) : this.log.warn({ queue: q.name }, `queue error: ${err.message}`)));
    }
    this.lifecycle = new ListLifecycle(this.redis, cfg, this.webhookQueue, this.log);
    this.verdictCache = verdictCacheFromConfig(cfg, this.redis, verdictCacheKeyPrefix(cfg.queuePrefix));
    this.counters = new FleetCounters(this.redis, cfg.queuePrefix);
    this.verifyRequests = new VerifyNow({
      cfg,
      probeQueue: this.probeQueue,
      aggregateQueue: this.aggregateQueue,
      state: (id) => this.state(id),
      probeJobOptions: PROBE_JOB_OPTIONS,
      log: this.log,
    });
    this.stopWatch = new ListStopWatch(this.redis, cfg.queuePrefix, 1000, (err) => this.log.warn(`checking running lists: ${String(err)}`));
  }

  state(listId: string): ListState {
    return new ListState(this.redis, this.cfg.queuePrefix, listId, this.cfg.jobTtlSec);
  }

  /**
   * Enqueue a list. Validates the locations first, and that the output takes a file (a typo or a
   * read-only output fails here, with its `STORAGE_*` code, not after the probing). Submitting
   * an id that exists returns `created: false` and changes nothing — except for a list still
   * `queued` whose split job is missing (its submitter died in between): that job is queued again,
   * from the list's recorded input, output and email column. An id taken by another owner is
   * `JOB_EXISTS`.
   */
  async submit(opts: SubmitOptions): Promise<{ listId: string; created: boolean }> {
    const listId = opts.listId ?? randomUUID();
    if (!LIST_ID_RE.test(listId)) throw new ListwashError(ErrorCodes.JOB_INVALID, `list id must match ${LIST_ID_RE}: ${JSON.stringify(listId)}`);
    parseLocation(opts.input);
    parseLocation(opts.output);
    if (opts.callbackUrl !== undefined && this.cfg.webhookSecret.length === 0) {
      throw new ListwashError(ErrorCodes.WEBHOOK_SECRET_MISSING, 'a list with a callbackUrl needs LISTWASH_WEBHOOK_SECRET: webhooks are always signed', { field: 'callbackUrl' });
    }
    const data = validateSplitJob({
      version: LIST_JOB_VERSION,
      listId,
      input: opts.input,
      output: opts.output,
      ...(opts.emailColumn !== undefined ? { emailColumn: opts.emailColumn } : {}),
      ...(opts.callbackUrl !== undefined ? { callbackUrl: opts.callbackUrl } : {}),
      ...(opts.escapeFormulas !== undefined ? { escapeFormulas: opts.escapeFormulas } : {}),
      ...(opts.maxAge !== undefined ? { maxAge: opts.maxAge } : {}),
    });
    const state = this.state(listId);
    if (!(await state.exists())) await checkOutputWritable(data.output, this.cfg);
    const created = await state.create({
      input: data.input,
      output: data.output,
      ...(data.emailColumn !== undefined ? { emailColumn: JSON.stringify(data.emailColumn) } : {}),
      ...(data.callbackUrl ? { callbackUrl: data.callbackUrl } : {}),
      ...(data.escapeFormulas ? { escapeFormulas: 'true' } : {}),
      ...(opts.owner ? { owner: opts.owner } : {}),
      ...(data.maxAge !== undefined ? { maxAge: String(data.maxAge) } : {}),
      settings: JSON.stringify(this.settingsUsed()),
    });
    if (!created) {
      const m = await state.meta();
      if (m && (m.owner ?? '') !== (opts.owner ?? '')) throw new ListwashError(ErrorCodes.JOB_EXISTS, `list id ${listId} is taken`, { listId });
      // Same job id: adding is a no-op while the split job exists.
      if (m?.status === 'queued') await this.splitQueue.add('split', splitJobFromMeta(m), { jobId: listId });
      return { listId, created: false };
    }
    await this.splitQueue.add('split', data, { jobId: listId });
    this.log.info({ listId, input: data.input, output: data.output }, 'list submitted');
    return { listId, created: true };
  }

  /** The metadata of a list the asker may see, or null. */
  private async metaFor(listId: string, asker: Asker): Promise<ListMeta | null> {
    if (!LIST_ID_RE.test(listId)) return null;
    const m = await this.state(listId).meta();
    if (!m || m.kind === 'verify') return null;
    return asker.owner === undefined || m.owner === asker.owner ? m : null;
  }

  /** A list's status as users see it (typed), or null when there is no such list for the asker. */
  async view(listId: string, asker: Asker = {}): Promise<ListView | null> {
    const m = await this.metaFor(listId, asker);
    return m ? this.viewOf(m) : null;
  }

  private async viewOf(m: ListMeta): Promise<ListView> {
    const state = this.state(m.listId);
    const running = !isFinalStatus(m.status);
    const [batchesDone, waits] = await Promise.all([state.doneCount(), running ? state.waits() : { nextGreylistRetryAt: null, throttled: [] }]);
    return listView(m, { batchesDone, ...waits });
  }

  /**
   * Lists newest first, `limit` at a time; `nextCursor` continues the listing (null at the end).
   * Entries whose state has expired are dropped from the index on the way.
   */
  async lists(asker: Asker = {}, opts: { cursor?: string; limit?: number } = {}): Promise<{ lists: ListView[]; nextCursor: string | null }> {
    const limit = Math.max(1, Math.min(500, opts.limit ?? 50));
    const key = asker.owner === undefined ? listIndexKey(this.cfg.queuePrefix) : ownerIndexKey(this.cfg.queuePrefix, asker.owner);
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    if (opts.cursor && !after) throw new ListwashError(ErrorCodes.JOB_INVALID, 'cursor is not one this API returned', { field: 'cursor' });
    // Continue after the cursor's entry (by its rank now; by its time if it has been removed since).
    let start = 0;
    if (after) {
      const rank = await this.redis.zrevrank(key, after.id);
      start = rank !== null ? rank + 1 : await this.redis.zcount(key, after.score, '+inf');
    }
    const out: ListView[] = [];
    let last: string | null = null;
    while (out.length < limit) {
      const ids = await this.redis.zrevrange(key, start, start + limit - out.length + 9);
      if (ids.length === 0) break;
      let removed = 0;
      for (const id of ids) {
        if (out.length === limit) break;
        const m = await this.metaFor(id, asker);
        if (m) {
          out.push(await this.viewOf(m));
          last = id;
        } else if ((await this.redis.zrem(key, id)) === 1) removed++;
      }
      start += ids.length - removed;
    }
    const score = last !== null ? await this.redis.zscore(key, last) : null;
    return { lists: out, nextCursor: out.length === limit && last !== null && score !== null ? encodeCursor(Number(score), last) : null };
  }

  /**
   * Cancel a list: it stops where it is (running sessions QUIT and give their throttle slots back
   * within about a second), its queued batches are removed, and its files are not written. A list
   * that has already ended is returned as it is (`cancelled: false`).
   */
  async cancel(listId: string, asker: Asker = {}): Promise<{ cancelled: boolean; view: ListView }> {
    if (!(await this.metaFor(listId, asker))) throw notFound(listId);
    const state = this.state(listId);
    const cancelled = await this.lifecycle.cancel(state);
    if (cancelled) await this.removeJobs(listId, { keepFinished: true });
    const view = await this.view(listId, asker);
    if (!view) throw notFound(listId);
    return { cancelled, view };
  }

  /**
   * Delete a list's state from Redis (a running list is cancelled first); with `files`, its output
   * files too (only the names listwash writes). Returns the names of the files deleted.
   */
  async delete(listId: string, asker: Asker = {}, opts: { files?: boolean } = {}): Promise<{ files: string[] }> {
    const m = await this.metaFor(listId, asker);
    if (!m) throw notFound(listId);
    const state = this.state(listId);
    if (!isFinalStatus(m.status)) await this.lifecycle.cancel(state);
    await this.removeJobs(listId, { keepFinished: false });
    const files = opts.files ? await new ListFiles(this.cfg, m.output).deleteAll() : [];
    await state.destroy(m.owner);
    this.log.info({ listId, files }, 'list deleted');
    return { files };
  }

  /** Remove a list's jobs from the queues (jobs running right now stop by themselves: see `ListStopWatch`). */
  private async removeJobs(listId: string, opts: { keepFinished: boolean }): Promise<void> {
    const meta = await this.state(listId).meta();
    const batches = Number(meta?.batches ?? 0);
    const removals: (() => Promise<unknown>)[] = [];
    if (!opts.keepFinished) {
      removals.push(() => this.splitQueue.remove(listId), () => this.aggregateQueue.remove(aggregateJobId(listId)), () => this.webhookQueue.remove(`${listId}.webhook`));
    } else {
      removals.push(async () => ((await this.splitQueue.getJobState(listId)) === 'completed' ? 0 : this.splitQueue.remove(listId)));
    }
    for (let n = 0; n < batches; n++) removals.push(() => this.probeQueue.remove(batchJobId(listId, n)));
    for (let i = 0; i < removals.length; i += 32) await Promise.all(removals.slice(i, i + 32).map((f) => f()));
  }

  /**
   * The files of a list: a finished list's result files, a failed list's `error.json`. A list still
   * running has none yet (`LIST_NOT_DONE`).
   */
  async files(listId: string, asker: Asker = {}): Promise<ListFile[]> {
    const m = await this.metaFor(listId, asker);
    if (!m) throw notFound(listId);
    const files = new ListFiles(this.cfg, m.output);
    if (m.status === 'done') return files.existing(RESULT_FILES);
    if (m.status === 'failed') return files.existing([ERROR_FILE]);
    throw new ListwashError(ErrorCodes.LIST_NOT_DONE, `list ${listId} is ${m.status}: its files are written when it is done`, { listId, state: m.status });
  }

  /** Stream one of a list's files (a name from `files()`). */
  async openFile(listId: string, name: string, asker: Asker = {}): Promise<{ stream: Readable; size: number; contentType: string }> {
    const file = (await this.files(listId, asker)).find((f) => f.name === name);
    if (!file) throw new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `list ${listId} has no file ${JSON.stringify(name)}`, { listId, name });
    const m = await this.metaFor(listId, asker);
    return { stream: await new ListFiles(this.cfg, m!.output).open(name), size: file.size, contentType: contentTypeOf(name) };
  }

  /**
   * Resolve when the list is done, polling its status (every `pollMs`; a list that this process ends wakes the wait
   * at once). A failed list rejects with `JOB_FAILED` (the
   * message carries the list's error, `details.cause` its code, e.g. `CSV_UNTERMINATED_QUOTE`); a
   * cancelled one with `LIST_ENDED`; a list whose state vanished from Redis while it ran with
   * `LIST_STATE_LOST`; a Redis that stops answering for longer than `redisOutageMs` with
   * `REDIS_UNAVAILABLE`. Never waits forever unless asked to (`timeoutMs`).
   */
  async waitUntilDone(listId: string, opts: WaitOptions = {}): Promise<ListView> {
    const deadline = Date.now() + (opts.timeoutMs ?? Number.POSITIVE_INFINITY);
    const outageMs = opts.redisOutageMs ?? 30_000;
    const pollMs = opts.pollMs ?? 250;
    let seen = false;
    let silentSince: number | null = null;
    for (;;) {
      const v = await within(this.view(listId), Math.min(5000, outageMs), () => undefined);
      if (v === undefined) {
        silentSince ??= Date.now();
        if (Date.now() - silentSince >= outageMs) {
          throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `Redis stopped answering while list ${listId} ran (for ${Math.round(outageMs / 1000)} s)`, { listId });
        }
        continue;
      }
      silentSince = null;
      if (!v) {
        if (seen) throw this.state(listId).lostError();
        throw notFound(listId);
      }
      seen = true;
      opts.onProgress?.(v);
      if (v.state === 'done') return v;
      if (v.state === 'failed') {
        throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} failed: ${v.error?.message ?? 'unknown error'}`, { listId, ...(v.error ? { cause: v.error.code } : {}) });
      }
      if (v.state === 'cancelled') throw new ListwashError(ErrorCodes.LIST_ENDED, `list ${listId} was cancelled`, { listId, state: 'cancelled' });
      if (Date.now() > deadline) throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} not done within the timeout (state ${v.state})`, { listId });
      await this.untilEndedOr(listId, pollMs);
    }
  }

  /** Wait `ms`, or less when this process ends list `listId` meanwhile (see `ListLifecycle.onEnd`). */
  private untilEndedOr(listId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const stop = this.lifecycle.onEnd((ended) => {
        if (ended === listId) finish();
      });
      const timer = setTimeout(() => finish(), ms);
      function finish(): void {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  }

  /**
   * Verify a few addresses now, through the workers and the fleet-wide throttle (see
   * `verify-now.ts`): final verdicts, and `unknown` with a note for addresses still open when
   * `deadlineMs` has passed. Needs running probe workers somewhere in the fleet; this process probes
   * nothing itself.
   */
  async verifyNow(addresses: readonly string[], opts: VerifyNowOptions): Promise<VerifyNowAnswer> {
    return this.verifyRequests.run(addresses, opts);
  }

  /** The settings that shape results, recorded in summary.json. */
  settingsUsed(): Record<string, unknown> {
    const c = this.cfg;
    return {
      heloName: c.heloName,
      mailFrom: c.mailFrom,
      // The pool's names and greeting names (never proxy credentials).
      egressIdentities: loadEgressIdentities(c).map((e) => ({ name: e.name, helo: e.helo, ...(e.bind ? { bind: e.bind } : {}), ...(e.socks ? { socks: `${e.socks.host}:${e.socks.port}` } : {}) })),
      smtpPort: c.smtpPort,
      startTls: c.startTls,
      catchAllProbe: c.catchAllProbe,
      rcptPerSession: c.rcptPerSession,
      mxMaxConnections: c.mxMaxConnections,
      mxRcptPerSecond: c.mxRcptPerSecond,
      greylistRetryDelays: c.greylistRetryDelays,
      blockedPatienceSec: c.blockedPatienceSec,
      batchSize: c.batchSize,
      verdictCacheMaxAge: this.verdictCache ? c.verdictCacheMaxAge : [],
    };
  }

  /** The engine behind the fleet-wide throttle, made once per process. */
  private engine(): Promise<DomainVerifier> {
    this.verifier ??= (async () => {
      const cache = new RedisTtlCache(this.redis, cacheKeyPrefix(this.cfg.queuePrefix));
      // DNS answers: fleet-wide in Redis, with a short-lived copy in this process (every batch of a domain asks).
      const dnsCache = new LayeredTtlCache(new MemoryTtlCache({ maxEntries: LOCAL_DNS_ENTRIES }), cache, LOCAL_DNS_TTL_SEC);
      this.gate ??= await createThrottleGate(this.cfg, this.redis, this.workerName, { onGroupSeen: (key) => this.counters.throttleGroupSeen(key), log: this.log });
      return createVerifier(this.cfg, { cache, gate: this.gate, resolver: MailResolver.fromConfig(this.cfg, dnsCache) }).verifier;
    })();
    return this.verifier;
  }

  /** The webhook delivery, made once per process. */
  private webhooks(): WebhookDelivery {
    if (!this.webhookDelivery) {
      const links = new FileLinks(this.cfg);
      this.webhookDelivery = { links, delivery: new WebhookDelivery({ cfg: this.cfg, log: this.log, state: (id) => this.state(id), links }) };
    }
    return this.webhookDelivery.delivery;
  }

  /** Start workers in this process. */
  async startWorkers(sel: WorkerSelection = { split: true, probe: true, aggregate: true, webhook: true }): Promise<Worker[]> {
    if (sel.probe) await this.engine();
    const started = startWorkers(
      {
        cfg: this.cfg,
        log: this.log,
        lifecycle: this.lifecycle,
        state: (id) => this.state(id),
        settingsUsed: () => this.settingsUsed(),
        probeQueue: this.probeQueue,
        aggregateQueue: this.aggregateQueue,
        connection: () => this.own(createRedis(this.cfg, { name: `listwash:${this.workerName}:worker` }), 'worker'),
        workerName: this.workerName,
        stopWatch: this.stopWatch,
        verifier: () => this.engine(),
        verdictCache: this.verdictCache,
        throttleStats: async () => (await this.gate?.stats()) ?? null,
        counters: this.counters,
        webhooks: () => this.webhooks(),
      },
      sel,
    );
    this.workers.push(...started);
    return started;
  }

  /**
   * A connection of this service's: watched, and disconnected by `close()` — and so is every duplicate made of it
   * (a BullMQ worker's blocking connection), which BullMQ leaves reconnecting, unheard, when it closes it while Redis
   * is gone.
   */
  private own(client: RedisClient, name: string): RedisClient {
    this.extraRedis.push(client);
    this.connections.watch(client, name);
    const duplicate = client.duplicate.bind(client) as (...args: unknown[]) => RedisClient;
    client.duplicate = ((...args: unknown[]) => this.own(duplicate(...args), `${name} (blocking)`)) as typeof client.duplicate;
    return client;
  }

  /** Graceful stop: workers finish or hand back their current jobs, leases are released. */
  async close(): Promise<void> {
    const queues = [this.splitQueue, this.probeQueue, this.aggregateQueue, this.webhookQueue];
    // Every BullMQ connection set-up (it asks Redis its version) must settle before the connections it
    // shares with this service go away: closing a queue or worker drops its error listeners, and a
    // set-up cut short by the disconnect below would then crash the process (an 'error' event without
    // a listener) or reject unhandled — a worker stopped right after it started, a service closed right
    // after a refused submit. Bounded, for a Redis that does not answer.
    await Promise.all([...this.workers, ...queues].map((q) => within(q.waitUntilReady(), 2000, () => undefined)));
    this.connections.close();
    await Promise.all(this.workers.map((w) => w.close()));
    this.stopWatch.close();
    await this.verifyRequests.close();
    await this.gate?.close();
    this.webhookDelivery?.links.close();
    await Promise.all(queues.map((q) => q.close()));
    for (const r of this.extraRedis) r.disconnect();
    if (this.ownsRedis) this.redis.disconnect();
  }
}

export type { Summary, ListView };
