/**
 * A list's shared state in Redis: metadata, the dedup set of the split run, the results hash, the set
 * of finished batches, progress counters and per-MX counters. All keys carry the list's hash tag and
 * expire `ttlSec` after the list's last activity.
 *
 * Writes to the metadata never re-create it (`commands/update-1.lua`): a list whose state vanished
 * (deleted, expired, Redis restarted without persistence) is reported as `LIST_STATE_LOST` instead of
 * being half re-created and waited on forever. Status changes are guarded by the status the list is in,
 * so a cancelled or failed list is never moved back to work.
 */
import { ErrorCodes, ListwashError } from '../errors.js';
import { defineCommands, loadCommands } from '../redis/commands.js';
import { fleetKeys, listIndexKey, listKeys, ownerIndexKey, workingKeys, type ListKeys } from './names.js';
import type { RedisClient } from '../redis/connect.js';

/** The list's Lua commands (`src/pipeline/commands/*.lua`). */
const COMMANDS = loadCommands(new URL('./commands/', import.meta.url));

/** A batch the split ends itself: its domain has no mail route, so every address gets `verdict` (encoded). */
export interface DoneBatch {
  batchId: string;
  domain: string;
  verdict: string;
  progress: BatchProgress;
}

/**
 * The results-hash field of the one verdict of every address of a domain that has no mail route (`@` + the
 * domain: no address starts with `@`). Such addresses have no field of their own.
 */
export function domainVerdictField(domain: string): string {
  return `@${domain}`;
}

/**
 * The results-hash field that marks a domain as probed (`!` + the domain: no address field lacks an `@`): some batch
 * of it went to the probe queue, so its addresses may have verdicts of their own (see `commands/markProbed-2.lua`).
 */
export function probedDomainField(domain: string): string {
  return `!${domain}`;
}

/** What the aggregate knows of a domain: its domain verdict (if the split found it without a mail route) and whether it was probed. */
export interface DomainRecord {
  verdict: string | null;
  probed: boolean;
}

export type ListStatus = 'queued' | 'splitting' | 'probing' | 'aggregating' | 'done' | 'failed' | 'cancelled';

/** Statuses a list ends in. */
export const FINAL_STATUSES: readonly ListStatus[] = ['done', 'failed', 'cancelled'];
/** Statuses of a list that still has work to do. */
export const ACTIVE_STATUSES: readonly ListStatus[] = ['queued', 'splitting', 'probing', 'aggregating'];

export function isFinalStatus(s: string | null | undefined): boolean {
  return s === 'done' || s === 'failed' || s === 'cancelled';
}

export interface ListMeta {
  listId: string;
  status: ListStatus;
  input: string;
  output: string;
  [field: string]: string;
}

/** Final verdicts of one batch so far: how many, by status and by reason; and what the verdict cache answered. */
export interface BatchProgress {
  final: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  /** Addresses answered from the verdict cache. */
  cacheHits?: number;
  /** Addresses the verdict cache was asked about. */
  cacheLookups?: number;
}

interface ListCommands {
  lwDedup(key: string, chunk: string, ...args: string[]): Promise<number[]>;
  lwComplete(meta: string, done: string, held: string, waits: string, batchId: string, total: string, now: string): Promise<number>;
  lwUpdate(meta: string, mode: 'set' | 'nx', allowed: string, guardField: string, guardValue: string, ...pairs: string[]): Promise<[number, string?]>;
  lwRecordRun(meta: string, progress: string, results: string, mx: string, waits: string, held: string, ...args: (string | number)[]): Promise<number>;
  lwMarkProbed(meta: string, results: string, ttlSec: number, ...fields: string[]): Promise<number>;
}
type ScriptRedis = RedisClient & ListCommands;

export class ListState {
  readonly keys: ListKeys;
  private readonly redis: ScriptRedis;

  constructor(
    redis: RedisClient,
    private readonly keyPrefix: string,
    readonly listId: string,
    private readonly ttlSec: number,
  ) {
    this.keys = listKeys(keyPrefix, listId);
    defineCommands(redis, 'lw', COMMANDS);
    this.redis = redis as ScriptRedis;
  }

  /** The error for a list whose state is gone. */
  lostError(): ListwashError {
    return new ListwashError(
      ErrorCodes.LIST_STATE_LOST,
      `the state of list ${this.listId} is gone from Redis (deleted, expired, or Redis restarted without persistence); submit the list again`,
      { listId: this.listId },
    );
  }

  /**
   * Create the list's metadata and index it (newest-first listings, per owner). Returns false if the
   * list already exists (same id submitted twice).
   */
  async create(fields: Record<string, string>): Promise<boolean> {
    const created = await this.redis.hsetnx(this.keys.meta, 'listId', this.listId);
    if (created === 0) return false;
    const createdAt = Date.now();
    await this.redis.hset(this.keys.meta, { status: 'queued', createdAt: String(createdAt), ...fields });
    // A verify request (`kind: 'verify'`) is not a list anyone sees: no listing, no metrics.
    // Index keys live in other Redis Cluster slots than the list's: separate commands, not one pipeline.
    if (fields.kind !== 'verify') {
      await Promise.all([
        this.redis.zadd(listIndexKey(this.keyPrefix), createdAt, this.listId),
        ...(fields.owner ? [this.redis.zadd(ownerIndexKey(this.keyPrefix, fields.owner), createdAt, this.listId)] : []),
        this.redis.sadd(fleetKeys(this.keyPrefix).active, this.listId),
      ]);
    }
    await this.touch();
    return true;
  }

  async exists(): Promise<boolean> {
    return (await this.redis.exists(this.keys.meta)) === 1;
  }

  /** Batches finished so far. */
  async doneCount(): Promise<number> {
    return this.redis.scard(this.keys.done);
  }

  /** Ids of the batches finished so far. */
  async doneBatches(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.done));
  }

  async meta(): Promise<ListMeta | null> {
    const m = await this.redis.hgetall(this.keys.meta);
    return Object.keys(m).length === 0 ? null : (m as ListMeta);
  }

  /** The list's status, or null when it has no state (never submitted, or expired). */
  async status(): Promise<ListStatus | null> {
    return (await this.redis.hget(this.keys.meta, 'status')) as ListStatus | null;
  }

  /** Throws `LIST_STATE_LOST` when the list has no state, `LIST_ENDED` when it has ended. */
  async assertActive(): Promise<void> {
    const status = await this.status();
    if (status === null) throw this.lostError();
    if (isFinalStatus(status)) throw new ListwashError(ErrorCodes.LIST_ENDED, `list ${this.listId} is ${status}; its work stops here`, { listId: this.listId, status });
  }

  /** A batch failed for good: count it (`batchesFailed`) and keep the last error (`lastBatchError`), shown by `listwash status`. */
  async recordBatchFailure(batchId: string, message: string): Promise<void> {
    const batchesFailed = Number((await this.redis.hget(this.keys.meta, 'batchesFailed')) ?? 0) + 1;
    await this.set({ batchesFailed, lastBatchError: `${batchId}: ${message}` });
  }

  /** Set fields of an existing list. Throws `LIST_STATE_LOST` when the list has no state. */
  async set(fields: Record<string, string | number>): Promise<void> {
    await this.update('set', '', fields);
  }

  /**
   * Move the list to `to` (with `fields`) if its status is one of `from`. Throws `LIST_STATE_LOST`
   * when it has no state, and `LIST_ENDED` when it is in another status (cancelled, failed, or
   * already past this step): the caller stops its work.
   */
  async transition(to: ListStatus, from: readonly ListStatus[], fields: Record<string, string | number> = {}): Promise<void> {
    await this.update('set', from.join(','), { ...fields, status: to });
  }

  /** Record the first occurrence of a time field (e.g. `probeStartedAt`); later calls keep the first. */
  async mark(field: string, at = Date.now()): Promise<void> {
    await this.update('nx', '', { [field]: at });
  }

  /**
   * An aggregation run claims the list (moving it to `aggregating`): the last run to claim it is the one that may
   * publish its files and finish it. Runs overlap when a worker loses its job's lock while it still works (a stalled
   * job runs again elsewhere): the earlier run then stops (`assertAggregation`) instead of both writing the files.
   */
  async claimAggregation(run: string): Promise<void> {
    await this.transition('aggregating', ['probing', 'aggregating'], { aggregateRun: run });
  }

  /**
   * Throws `LIST_ENDED` when the list is no longer `aggregating` (cancelled, failed) or another aggregation run has
   * claimed it since `run` did; `LIST_STATE_LOST` when it has no state.
   */
  async assertAggregation(run: string): Promise<void> {
    await this.update('set', 'aggregating', {}, { field: 'aggregateRun', value: run });
  }

  /** Move the list from `aggregating` to `done` with `fields`, if the aggregation run `run` still holds it (else `LIST_ENDED`). */
  async finishAggregation(run: string, fields: Record<string, string | number>): Promise<void> {
    await this.update('set', 'aggregating', { ...fields, status: 'done' }, { field: 'aggregateRun', value: run });
  }

  private async update(mode: 'set' | 'nx', allowed: string, fields: Record<string, string | number>, guard?: { field: string; value: string }): Promise<void> {
    const pairs = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    const [r, current] = await this.redis.lwUpdate(this.keys.meta, mode, allowed, guard?.field ?? '', guard?.value ?? '', ...pairs);
    if (r === 0) throw this.lostError();
    if (r === 2) {
      throw new ListwashError(ErrorCodes.LIST_ENDED, `list ${this.listId} is ${current || 'in no status'}; its work stops here`, { listId: this.listId, status: current ?? null });
    }
    if (r === 3) {
      throw new ListwashError(ErrorCodes.LIST_ENDED, `list ${this.listId}: another run has taken over (${guard?.field} is ${current || 'unset'}); this one stops here`, {
        listId: this.listId,
        status: 'aggregating',
        takenOver: true,
      });
    }
  }

  /** A split run starts afresh (also after a crashed run): forget what the last run saw. */
  async startSplitRun(): Promise<void> {
    await this.redis.unlink(this.keys.seen);
  }

  /**
   * For each dedup key: true if this split run sees it for the first time. `chunk` numbers the call within the run:
   * asked again with the same number (a command resent after a broken connection), the answer is the same.
   */
  async dedup(keys: string[], chunk: number): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const r = await this.redis.lwDedup(this.keys.seen, String(chunk), ...keys);
    return r.map((x) => x === 1);
  }

  /** The split run is over: its dedup hash goes (UNLINK: freed in the background; a DEL of 500,000 fields holds Redis ≈ 0.25 s). */
  async endSplitRun(): Promise<void> {
    await this.redis.unlink(this.keys.seen);
  }

  /**
   * The split finished with `total` batches. True if the list is complete now: queue its aggregate (idempotent: the
   * job id). Also true again for a re-run (the first caller may have died before queueing it).
   */
  async splitFinished(total: number): Promise<boolean> {
    return this.complete('', String(total));
  }

  /** A batch is finished. True when the list is complete (every batch done): queue its aggregate, as for `splitFinished`. */
  async batchDone(batchId: string): Promise<boolean> {
    return this.complete(batchId, '');
  }

  /** `commands/complete-4.lua`: a finished batch (if any) stops waiting and counts as done; whether the list is complete now. */
  private async complete(batchId: string, total: string): Promise<boolean> {
    const k = this.keys;
    const r = await this.redis.lwComplete(k.meta, k.done, k.held, k.waits, batchId, total, String(Date.now()));
    if (r === -1) throw this.lostError();
    return r === 1;
  }

  /**
   * Record one probe run of a batch in one round trip (`commands/recordRun-6.lua`): its verdicts (final
   * and provisional), its per-MX counters, its final-verdict counts (idempotent per batch: they feed the
   * list's progress counters) and why it waits — a greylist retry at `retryAt`, or the throttle holding it
   * back at `group` (`busy`, `cooldown`, `open`, `held`), cleared when the batch is done. Throws
   * `LIST_STATE_LOST` (and writes nothing) when the list has no state.
   */
  async recordRun(run: {
    batchId: string;
    progress: BatchProgress;
    results: Map<string, string>;
    mx: Record<string, Record<string, number>>;
    wait?: { kind: 'greylist'; retryAt: number } | { kind: 'throttle'; group: string; why: string };
  }): Promise<void> {
    const results = [...run.results].flat();
    const mx = Object.entries(run.mx).flatMap(([host, counters]) => Object.entries(counters).flatMap(([k, v]) => (v ? [`${host}|${k}`, v] : [])));
    const wait = run.wait === undefined ? ['', ''] : run.wait.kind === 'greylist' ? ['greylist', run.wait.retryAt] : ['throttle', `${run.wait.group}|${run.wait.why}`];
    const k = this.keys;
    const recorded = await this.redis.lwRecordRun(k.meta, k.progress, k.results, k.mx, k.waits, k.held, run.batchId, progressRecord(run.progress), this.ttlSec, results.length / 2, mx.length / 2, ...wait, ...results, ...mx);
    if (recorded === 0) throw this.lostError();
  }

  /**
   * Record batches that end in one run — each one of a domain without any mail route: one verdict for all its
   * addresses, stored once for the domain (`domainVerdictField`), and its counts; no SMTP counters — and count
   * them as done, all in one round trip: per batch, the same guarded writes as {@link recordRun} then
   * {@link batchDone}. True if one of them completed the list. Throws `LIST_STATE_LOST` when the list has no state.
   */
  async recordDoneBatches(batches: readonly DoneBatch[]): Promise<boolean> {
    if (batches.length === 0) return false;
    const k = this.keys;
    const p = this.redis.pipeline() as unknown as ListCommands & { exec(): Promise<[Error | null, unknown][] | null> };
    const now = String(Date.now());
    for (const b of batches) {
      p.lwRecordRun(k.meta, k.progress, k.results, k.mx, k.waits, k.held, b.batchId, progressRecord(b.progress), this.ttlSec, 1, 0, '', '', domainVerdictField(b.domain), b.verdict);
      p.lwComplete(k.meta, k.done, k.held, k.waits, b.batchId, '', now);
    }
    const replies = (await p.exec()) ?? [];
    let complete = false;
    for (const [err] of replies) if (err) throw err;
    for (let i = 0; i < replies.length; i += 2) {
      if (replies[i]?.[1] === 0 || replies[i + 1]?.[1] === -1) throw this.lostError();
      if (replies[i + 1]?.[1] === 1) complete = true;
    }
    return complete;
  }

  /** The earliest pending greylist retry (ms epoch) and the throttle groups holding batches back. */
  async waits(): Promise<{ nextGreylistRetryAt: number | null; throttled: { group: string; why: string; batches: number }[] }> {
    const [first, held] = await Promise.all([this.redis.zrange(this.keys.waits, 0, 0, 'WITHSCORES'), this.redis.hvals(this.keys.held)]);
    const groups = new Map<string, { group: string; why: string; batches: number }>();
    for (const v of held) {
      const cut = v.lastIndexOf('|');
      const key = v;
      const g = groups.get(key) ?? { group: v.slice(0, cut), why: v.slice(cut + 1), batches: 0 };
      g.batches++;
      groups.set(key, g);
    }
    return { nextGreylistRetryAt: first[1] !== undefined ? Number(first[1]) : null, throttled: [...groups.values()] };
  }

  /**
   * Mark `domains` as probed (`commands/markProbed-2.lua`), before any of their batches goes to the probe queue.
   * Throws `LIST_STATE_LOST` when the list has no state.
   */
  async markProbed(domains: readonly string[]): Promise<void> {
    if (domains.length === 0) return;
    const r = await this.redis.lwMarkProbed(this.keys.meta, this.keys.results, this.ttlSec, ...domains.map(probedDomainField));
    if (r !== 1) throw this.lostError();
  }

  /**
   * The stored verdicts of `addresses`, in order: an address's own, else its domain's (a domain without a mail route
   * has one verdict for all its addresses), else null — in one round trip. `domains` holds what is known of each
   * domain (read here when missing, and kept for the next call): the addresses of a domain known to have a domain
   * verdict and never to have been probed (dead in every batch) are not looked up one by one — they have no verdict
   * of their own.
   */
  async verdictsOf(addresses: readonly { normalized: string; domain: string }[], domains: Map<string, DomainRecord>): Promise<(string | null)[]> {
    // This call's own view: `domains` may be cleared by the caller while this call waits.
    const known = new Map<string, DomainRecord | null>();
    const ask: string[] = [];
    /** Per address: whether its own field is read (always, unless its domain is known to be dead in every batch). */
    const own: boolean[] = [];
    const keys: string[] = [];
    for (const a of addresses) {
      let d = known.get(a.domain);
      if (d === undefined) {
        d = domains.get(a.domain) ?? null;
        known.set(a.domain, d);
        if (d === null) ask.push(a.domain);
      }
      const read = d === null || d.verdict === null || d.probed;
      own.push(read);
      if (read) keys.push(a.normalized);
    }
    for (const d of ask) keys.push(domainVerdictField(d), probedDomainField(d));
    const found = await this.results(keys);
    const first = keys.length - 2 * ask.length;
    ask.forEach((d, i) => {
      const record = { verdict: found[first + 2 * i] ?? null, probed: found[first + 2 * i + 1] !== null };
      known.set(d, record);
      domains.set(d, record);
    });
    let k = 0;
    return addresses.map((a, i) => {
      const domainVerdict = (known.get(a.domain) as DomainRecord).verdict;
      return own[i] ? (found[k++] ?? domainVerdict) : domainVerdict;
    });
  }

  async results(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return this.redis.hmget(this.keys.results, ...keys);
  }

  async mxStats(): Promise<Record<string, Record<string, number>>> {
    const raw = await this.redis.hgetall(this.keys.mx);
    const out: Record<string, Record<string, number>> = {};
    for (const [k, v] of Object.entries(raw)) {
      const cut = k.lastIndexOf('|');
      const host = k.slice(0, cut);
      (out[host] ??= {})[k.slice(cut + 1)] = Number(v);
    }
    return out;
  }

  /** Let every key expire `seconds` from now (an ephemeral list that is over). */
  async expireIn(seconds: number): Promise<void> {
    const p = this.redis.pipeline();
    for (const k of Object.values(this.keys)) p.expire(k, seconds);
    await p.exec();
  }

  /** Push every key's expiry `ttlSec` into the future. */
  async touch(): Promise<void> {
    const p = this.redis.pipeline();
    for (const k of Object.values(this.keys)) p.expire(k, this.ttlSec);
    await p.exec();
  }

  /**
   * The list's files are written: drop its per-address results and per-batch bookkeeping (UNLINK: large hashes are
   * freed in the background, without holding Redis). The metadata (status, counts, timings) stays until the TTL.
   */
  async releaseWorkingState(): Promise<void> {
    await this.redis.unlink(...workingKeys(this.keys));
  }

  /** Drop the list's state now (results included), and its index entries. */
  async destroy(owner?: string): Promise<void> {
    await Promise.all([
      this.redis.unlink(...Object.values(this.keys)),
      this.redis.zrem(listIndexKey(this.keyPrefix), this.listId),
      ...(owner ? [this.redis.zrem(ownerIndexKey(this.keyPrefix, owner), this.listId)] : []),
      this.redis.srem(fleetKeys(this.keyPrefix).active, this.listId),
    ]);
  }
}

/** A batch's record for `commands/recordRun-6.lua`: `name=n` pairs joined by ','. */
function progressRecord(p: BatchProgress): string {
  const parts = [`final=${p.final}`];
  if (p.cacheHits) parts.push(`cacheHits=${p.cacheHits}`);
  if (p.cacheLookups) parts.push(`cacheLookups=${p.cacheLookups}`);
  for (const [s, n] of Object.entries(p.byStatus)) if (n) parts.push(`s:${s}=${n}`);
  for (const [r, n] of Object.entries(p.byReason)) if (n) parts.push(`r:${r}=${n}`);
  return parts.join(',');
}
