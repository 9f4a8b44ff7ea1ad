/**
 * Fleet-wide counters in Redis, written by the stages as they work and read by `GET /metrics` at
 * scrape time (any API process sees the whole fleet, whichever worker did the work). Keys: see
 * `fleetKeys` in `names.ts`. Counters only ever grow (Prometheus counters), except the set of active
 * lists, which is a gauge's source.
 */
import type { RedisClient } from '../redis/connect.js';
import type { Verdict } from '../verdict.js';
import { fleetKeys, type FleetKeys } from './names.js';

/** SMTP counters of one probe run, summed over its MX hosts. */
export interface SmtpWork {
  sessions?: number;
  rcpts?: number;
  replies4xx?: number;
  replies5xx?: number;
  connectFailures?: number;
  tlsSessions?: number;
}

export type ListEnd = 'done' | 'failed' | 'cancelled';
/** A webhook attempt: delivered (2xx), failed (retried later or given up), refused (target not allowed, no secret). */
export type WebhookOutcome = 'delivered' | 'failed' | 'refused';

export class FleetCounters {
  readonly keys: FleetKeys;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
  ) {
    this.keys = fleetKeys(keyPrefix);
  }

  /** A list ended: it leaves the active set and counts as ended in its final state. */
  async listEnded(listId: string, state: ListEnd): Promise<void> {
    await Promise.all([this.redis.srem(this.keys.active, listId), this.redis.hincrby(this.keys.ended, state, 1)]);
  }

  /** A probe run's final verdicts and SMTP work, in one round trip. */
  async probeRun(finals: readonly Verdict[], smtp: SmtpWork): Promise<void> {
    const counts = new Map<Verdict, number>();
    for (const v of finals) counts.set(v, (counts.get(v) ?? 0) + 1);
    await this.finalVerdicts(counts, smtp);
  }

  /** Final verdicts given (each verdict with how many addresses got it) and SMTP work, in one round trip. */
  async finalVerdicts(counts: ReadonlyMap<Verdict, number>, smtp: SmtpWork = {}): Promise<void> {
    const byKey = new Map<string, number>();
    for (const [v, n] of counts) byKey.set(`${v.status}|${v.reason}`, (byKey.get(`${v.status}|${v.reason}`) ?? 0) + n);
    const ops: [string, string, number][] = [...byKey].map(([k, n]) => [this.keys.verdicts, k, n]);
    for (const [k, n] of Object.entries(smtp)) if (n) ops.push([this.keys.smtp, k, n]);
    // One increment (a domain's DNS answer for all its addresses) needs no pipeline.
    if (ops.length === 1) await this.redis.hincrby(...ops[0]!);
    else if (ops.length > 1) {
      const p = this.redis.pipeline();
      for (const op of ops) p.hincrby(...op);
      await p.exec();
    }
  }

  /** Report rows a finished list wrote, by status. */
  async rowsWritten(byStatus: Readonly<Record<string, number>>): Promise<void> {
    const p = this.redis.pipeline();
    for (const [status, n] of Object.entries(byStatus)) if (n) p.hincrby(this.keys.rows, status, n);
    if (p.length > 0) await p.exec();
  }

  /** A throttle group this process uses for the first time (so `/metrics` can find its counters). */
  async throttleGroupSeen(groupKey: string): Promise<void> {
    await this.redis.sadd(this.keys.groups, groupKey);
  }

  /** One webhook delivery attempt (counted by the webhook worker). */
  async webhookAttempt(outcome: WebhookOutcome): Promise<void> {
    await this.redis.hincrby(this.keys.webhooks, outcome, 1);
  }
}

/** Sum per-host SMTP counters into one record. */
export function sumSmtpWork(byHost: Readonly<Record<string, Readonly<Record<string, number>>>>): SmtpWork {
  const out: Record<string, number> = {};
  for (const counters of Object.values(byHost)) {
    for (const k of ['sessions', 'rcpts', 'replies4xx', 'replies5xx', 'connectFailures', 'tlsSessions'] as const) {
      const n = counters[k];
      if (n) out[k] = (out[k] ?? 0) + n;
    }
  }
  return out;
}
