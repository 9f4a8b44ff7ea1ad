/**
 * A list's shared state in Redis: metadata, the dedup set of the split run, the results hash, the set
 * of finished batches and per-MX counters. All keys carry the list's hash tag and expire `ttlSec`
 * after the list's last activity. The completion check (all batches done → enqueue aggregate once)
 * is one Lua command (`commands/complete-2.lua`), exact however many workers finish batches at once.
 */
import type { Redis } from 'ioredis';
import { defineCommands, loadCommands } from '../redis/commands.js';
import { listKeys, type ListKeys } from './names.js';

/** The list's Lua commands (`src/pipeline/commands/*.lua`). */
const COMMANDS = loadCommands(new URL('./commands/', import.meta.url));

export type ListStatus = 'queued' | 'splitting' | 'probing' | 'aggregating' | 'done' | 'failed';

export interface ListMeta {
  listId: string;
  status: ListStatus;
  input: string;
  output: string;
  [field: string]: string;
}

interface ScriptRedis extends Redis {
  lwDedup(key: string, ...args: string[]): Promise<number[]>;
  lwComplete(meta: string, done: string, batchId: string, total: string, now: string): Promise<number>;
}

export class ListState {
  readonly keys: ListKeys;
  private readonly redis: ScriptRedis;

  constructor(
    redis: Redis,
    keyPrefix: string,
    readonly listId: string,
    private readonly ttlSec: number,
  ) {
    this.keys = listKeys(keyPrefix, listId);
    defineCommands(redis, 'lw', COMMANDS);
    this.redis = redis as ScriptRedis;
  }

  /** Create the list's metadata. Returns false if the list already exists (same id submitted twice). */
  async create(fields: Record<string, string>): Promise<boolean> {
    const created = await this.redis.hsetnx(this.keys.meta, 'listId', this.listId);
    if (created === 0) return false;
    await this.redis.hset(this.keys.meta, { status: 'queued', createdAt: String(Date.now()), ...fields });
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

  async meta(): Promise<ListMeta | null> {
    const m = await this.redis.hgetall(this.keys.meta);
    return Object.keys(m).length === 0 ? null : (m as ListMeta);
  }

  /** The list's status, or null when it has no state (never submitted, or expired). */
  async status(): Promise<ListStatus | null> {
    return (await this.redis.hget(this.keys.meta, 'status')) as ListStatus | null;
  }

  /** A batch failed for good: count it (`batchesFailed`) and keep the last error (`lastBatchError`), shown by `listwash status`. */
  async recordBatchFailure(batchId: string, message: string): Promise<void> {
    await this.redis.pipeline().hincrby(this.keys.meta, 'batchesFailed', 1).hset(this.keys.meta, 'lastBatchError', `${batchId}: ${message}`).exec();
  }

  async set(fields: Record<string, string | number>): Promise<void> {
    await this.redis.hset(this.keys.meta, fields);
  }

  /** Record the first occurrence of a time field (e.g. `probeStartedAt`); later calls keep the first. */
  async mark(field: string, at = Date.now()): Promise<void> {
    await this.redis.hsetnx(this.keys.meta, field, String(at));
  }

  /** A split run starts afresh (also after a crashed run): forget what the last run saw. */
  async startSplitRun(): Promise<void> {
    await this.redis.del(this.keys.seen);
  }

  /** For each dedup key: true if this split run sees it for the first time. */
  async dedup(keys: string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const r = await this.redis.lwDedup(this.keys.seen, ...keys);
    return r.map((x) => x === 1);
  }

  async endSplitRun(): Promise<void> {
    await this.redis.del(this.keys.seen);
  }

  /** The split finished with `total` batches. True if the list is complete now (aggregate it). */
  async splitFinished(total: number): Promise<boolean> {
    return (await this.redis.lwComplete(this.keys.meta, this.keys.done, '', String(total), String(Date.now()))) === 1;
  }

  /** A batch is finished. True exactly once per list: when it completes the list. */
  async batchDone(batchId: string): Promise<boolean> {
    return (await this.redis.lwComplete(this.keys.meta, this.keys.done, batchId, '', String(Date.now()))) === 1;
  }

  async saveResults(entries: Map<string, string>): Promise<void> {
    if (entries.size === 0) return;
    await this.redis.hset(this.keys.results, entries);
  }

  async results(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return this.redis.hmget(this.keys.results, ...keys);
  }

  /** Add to per-MX counters: host → counter → increment, in one round trip. */
  async addMxStats(byHost: Record<string, Record<string, number>>): Promise<void> {
    const p = this.redis.pipeline();
    for (const [host, counters] of Object.entries(byHost)) {
      for (const [k, v] of Object.entries(counters)) if (v) p.hincrby(this.keys.mx, `${host}|${k}`, v);
    }
    if (p.length > 0) await p.exec();
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

  /** Push every key's expiry `ttlSec` into the future. */
  async touch(): Promise<void> {
    const p = this.redis.pipeline();
    for (const k of Object.values(this.keys)) p.expire(k, this.ttlSec);
    await p.exec();
  }

  /** Drop the list's state now (results included). */
  async destroy(): Promise<void> {
    await this.redis.del(...Object.values(this.keys));
  }
}
