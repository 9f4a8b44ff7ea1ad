/**
 * What `/metrics` reports, read from Redis at scrape time: the fleet-wide counters the stages keep
 * (`src/pipeline/fleet-counters.ts`), the throttle's per-group counters, and the queues' job counts.
 * Any API process sees the whole fleet.
 */
import type { Queue } from 'bullmq';
import type { RedisClient } from '../redis/connect.js';
import type { Config } from '../config.js';
import { listKeys, fleetKeys } from '../pipeline/names.js';
import { isFinalStatus } from '../pipeline/list-state.js';
import { COUNTER_NAMES, MxThrottle, mxThrottleOptionsFromConfig, type ThrottleCounters } from '../throttle/index.js';

/** Job states reported per queue. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'failed', 'completed'] as const;

/** Throttle groups reported one by one; the rest are summed as `_other` (bounded label cardinality). */
export const TOP_GROUPS = 50;
export const OTHER_GROUP = '_other';

export interface FleetSnapshot {
  /** Lists at work, by state. */
  active: Record<string, number>;
  /** Lists ended, by final state. */
  ended: Record<string, number>;
  /** Final verdicts by `status|reason`. */
  verdicts: Record<string, number>;
  rows: Record<string, number>;
  smtp: Record<string, number>;
  webhooks: Record<string, number>;
  queues: { queue: string; state: string; jobs: number }[];
  groups: { group: string; counters: ThrottleCounters }[];
}

function numbers(h: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(h)) if (Number.isFinite(Number(v))) out[k] = Number(v);
  return out;
}

/** The `n` busiest groups (by sessions granted), the others summed into one. Pure. */
export function topGroups(groups: { group: string; counters: ThrottleCounters }[], n: number): { group: string; counters: ThrottleCounters }[] {
  if (groups.length <= n) return groups;
  const sorted = [...groups].sort((a, b) => b.counters.acquired - a.counters.acquired || a.group.localeCompare(b.group));
  const other = Object.fromEntries(COUNTER_NAMES.map((c) => [c, 0])) as ThrottleCounters;
  for (const g of sorted.slice(n)) for (const c of COUNTER_NAMES) other[c] += g.counters[c];
  return [...sorted.slice(0, n), { group: OTHER_GROUP, counters: other }];
}

export class FleetReader {
  private readonly keys;
  private readonly throttle: MxThrottle;

  constructor(
    private readonly redis: RedisClient,
    private readonly cfg: Config,
    private readonly queues: readonly Queue[],
  ) {
    this.keys = fleetKeys(cfg.queuePrefix);
    this.throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(cfg));
  }

  async read(): Promise<FleetSnapshot> {
    const [active, ended, verdicts, rows, smtp, webhooks, queues, groups] = await Promise.all([
      this.activeByState(),
      this.redis.hgetall(this.keys.ended).then(numbers),
      this.redis.hgetall(this.keys.verdicts).then(numbers),
      this.redis.hgetall(this.keys.rows).then(numbers),
      this.redis.hgetall(this.keys.smtp).then(numbers),
      this.redis.hgetall(this.keys.webhooks).then(numbers),
      this.queueCounts(),
      this.groupCounters(),
    ]);
    return { active, ended, verdicts, rows, smtp, webhooks, queues, groups: topGroups(groups, TOP_GROUPS) };
  }

  /** Lists at work by state; ids whose list has ended or expired leave the set on the way. */
  private async activeByState(): Promise<Record<string, number>> {
    const ids = await this.redis.smembers(this.keys.active);
    if (ids.length === 0) return {};
    // Each list's meta hash has its own hash tag: one command per key, sent together (a pipeline would
    // have to stay within one slot on a Redis Cluster).
    const statuses = await Promise.all(ids.map((id) => this.redis.hget(listKeys(this.cfg.queuePrefix, id).meta, 'status')));
    const out: Record<string, number> = {};
    const gone: string[] = [];
    statuses.forEach((status, i) => {
      if (typeof status !== 'string' || isFinalStatus(status)) gone.push(ids[i]!);
      else out[status] = (out[status] ?? 0) + 1;
    });
    if (gone.length > 0) await this.redis.srem(this.keys.active, ...gone);
    return out;
  }

  private async queueCounts(): Promise<FleetSnapshot['queues']> {
    const per = await Promise.all(
      this.queues.map(async (q) => {
        const counts = await q.getJobCounts(...QUEUE_STATES);
        return QUEUE_STATES.map((state) => ({ queue: q.name, state, jobs: counts[state] ?? 0 }));
      }),
    );
    return per.flat();
  }

  /** Counters of every throttle group the fleet has used; groups whose counters expired leave the set. */
  private async groupCounters(): Promise<{ group: string; counters: ThrottleCounters }[]> {
    const names = await this.redis.smembers(this.keys.groups);
    if (names.length === 0) return [];
    // Each group's stats hash has its own hash tag: one command per key, sent together.
    const stats = await Promise.all(names.map((group) => this.redis.hgetall(this.throttle.keys({ key: group, maxConnections: 1, rcptPerSecond: 1 }).stats)));
    const out: { group: string; counters: ThrottleCounters }[] = [];
    const gone: string[] = [];
    stats.forEach((h, i) => {
      if (Object.keys(h).length === 0) {
        gone.push(names[i]!);
        return;
      }
      const counters = Object.fromEntries(COUNTER_NAMES.map((c) => [c, Number(h[c] ?? 0) || 0])) as ThrottleCounters;
      out.push({ group: names[i]!, counters });
    });
    if (gone.length > 0) await this.redis.srem(this.keys.groups, ...gone);
    return out;
  }
}
