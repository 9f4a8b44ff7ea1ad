/**
 * The engine's gate on top of the fleet-wide MX throttle: session slots are Redis leases (renewed
 * while a session runs, expiring if the worker dies), every RCPT waits for the group's GCRA budget,
 * and what hosts say feeds the adaptive limits and the circuit breaker — all per (egress identity,
 * MX group): each identity has the full budget and its own circuit at every host.
 */
import type { Config } from '../config.js';
import type { GateLease, GateRefusal, HostSignal, ProbeGate, ReportDetail } from '../engine/gate.js';
import type { PermanentRefusal } from '../engine/outcome.js';
import { MxThrottle, mxThrottleOptionsFromConfig, type ThrottleCounters, type ThrottleGroup } from '../throttle/index.js';
import type { RedisClient } from '../redis/connect.js';
import { silentLogger, type Logger } from '../log.js';

export interface ThrottleGate extends ProbeGate {
  readonly throttle: MxThrottle;
  /** Counters of every group this process used, for summary.json. */
  stats(): Promise<Record<string, ThrottleCounters>>;
  close(): Promise<void>;
}

/** Longest reply a circuit keeps as the evidence of a permanent refusal. */
const MAX_REFUSAL_REPLY = 500;

/** A permanent refusal as the circuit stores it: the host, a line break, the reply (host names hold no line break). */
export function encodeRefusal(r: PermanentRefusal): string {
  return `${r.mxHost}\n${r.reply.slice(0, MAX_REFUSAL_REPLY)}`;
}

/** The inverse of {@link encodeRefusal}; null for evidence this version did not write. */
export function decodeRefusal(evidence: string): PermanentRefusal | null {
  const cut = evidence.indexOf('\n');
  return cut > 0 ? { mxHost: evidence.slice(0, cut), reply: evidence.slice(cut + 1) } : null;
}

/** A connection failure this soon after a good session at the same group is read as a ban sign. */
const REFUSED_AFTER_SUCCESS_MS = 10 * 60_000;

export interface ThrottleGateOptions {
  /** Called once per group this process uses (awaited before its first session). */
  onGroupSeen?: (groupKey: string) => Promise<void>;
  /**
   * Where throttle signals go, one line each with the MX host, its group and the egress identity: rate
   * limited (new limits, cool-down), circuit opened (until when, permanent or not), limits recovered.
   * Default: nowhere.
   */
  log?: Logger;
}

export async function createThrottleGate(cfg: Config, redis: RedisClient, holderId: string, opts: ThrottleGateOptions = {}): Promise<ThrottleGate> {
  const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(cfg, { holderId }));
  const seen = new Map<string, ThrottleGroup>();
  const lastOk = new Map<string, number>();
  const renewers = new Set<NodeJS.Timeout>();
  const log = opts.log ?? silentLogger;

  return {
    throttle,
    async acquire(mxHost: string, identity?: string): Promise<GateLease | GateRefusal> {
      const group = throttle.groupFor(mxHost, identity);
      if (!seen.has(group.key)) {
        await opts.onGroupSeen?.(group.key);
        seen.set(group.key, group);
      }
      const r = await throttle.acquire(group, holderId);
      if (!r.granted) {
        const refusal = r.permanentRefusal !== undefined ? decodeRefusal(r.permanentRefusal) : null;
        return { granted: false, retryInMs: r.retryInMs, why: r.why, group: group.key, ...(refusal ? { refusal } : {}) };
      }
      const leaseId = r.leaseId;
      const renew = setInterval(() => {
        throttle.renew(group, leaseId).catch((err: unknown) => log.warn({ group: group.key }, `renewing a session lease failed: ${String(err)}`));
      }, Math.max(500, Math.floor(throttle.options.leaseMs / 3)));
      renew.unref();
      renewers.add(renew);
      let released = false;
      return {
        granted: true,
        group: group.key,
        // RCPTs in the answered window: each one's answer is reported, so that no host ever counts more
        // than its rate in a second, however late RCPTs travel (see takeRcpt-3.lua).
        beforeRcpt: async () => {
          const { fate } = await throttle.paceRcpt(group, leaseId);
          return (f) => {
            fate(f).catch((err: unknown) => log.warn({ group: group.key, fate: f }, `reporting an RCPT's fate failed: ${String(err)}`));
          };
        },
        release: async () => {
          if (released) return;
          released = true;
          clearInterval(renew);
          renewers.delete(renew);
          await throttle.release(group, leaseId);
        },
      };
    },
    async report(mxHost: string, signal: HostSignal, detail: ReportDetail = {}): Promise<void> {
      const group = throttle.groupFor(mxHost, detail.identity);
      const refusal = detail.refusal;
      const about = { mxHost, group: group.key, identity: detail.identity ?? 'default' };
      switch (signal) {
        case 'rate_limited': {
          const r = await throttle.reportRateLimited(group);
          log.warn({ ...about, halved: r.halved, maxConnections: r.maxConnections, rcptPerSecond: Number(r.rcptPerSecond.toFixed(2)), cooldownUntil: new Date(r.cooldownUntil).toISOString() }, 'throttle: rate limited by the host');
          return;
        }
        case 'blocked': {
          const c = await throttle.reportBlocked(group, refusal ? encodeRefusal(refusal) : '');
          log.warn({ ...about, until: c.until !== null ? new Date(c.until).toISOString() : null, permanent: refusal !== undefined, ...(refusal ? { reply: refusal.reply } : {}) }, 'throttle: circuit opened (ban signs)');
          return;
        }
        case 'ok': {
          lastOk.set(group.key, Date.now());
          const r = await throttle.reportSuccess(group);
          if (r.steps > 0) log.info({ ...about, maxConnections: r.maxConnections, rcptPerSecond: Number(r.rcptPerSecond.toFixed(2)) }, 'throttle: limits recovering');
          return;
        }
        case 'connect_failed': {
          const ok = lastOk.get(group.key);
          if (ok !== undefined && Date.now() - ok < REFUSED_AFTER_SUCCESS_MS) {
            const c = await throttle.reportBlocked(group);
            log.warn({ ...about, until: c.until !== null ? new Date(c.until).toISOString() : null, permanent: false }, 'throttle: circuit opened (connections refused after a good session)');
          }
          return;
        }
      }
    },
    async stats(): Promise<Record<string, ThrottleCounters>> {
      const out: Record<string, ThrottleCounters> = {};
      for (const [key, group] of seen) out[key] = await throttle.stats(group);
      return out;
    },
    async close(): Promise<void> {
      for (const t of renewers) clearInterval(t);
      renewers.clear();
    },
  };
}
