/**
 * Fleet-wide per-MX-host throttle in Redis: a semaphore of expiring leases (concurrent SMTP
 * sessions) and a GCRA limiter with burst tolerance 0 (RCPT TO commands: never more than
 * `rcptPerSecond` in any sliding second, even at start), with adaptive back-off (421 / 4.7.x) and a
 * circuit breaker (ban signs). All state lives in Redis and every operation is one atomic script
 * that takes its time from Redis (`TIME`), so worker clocks never matter.
 *
 * Keys of one group: `${prefix}thr:{${groupKey}}:leases|state|stats`. The `{groupKey}` hash tag
 * keeps a group's keys in one Redis Cluster slot while spreading groups over the cluster. (A `{…}`
 * inside `prefix` would become the hash tag of every group instead — still correct, one slot.)
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { defineCommands, loadCommands } from '../redis/commands.js';
import { BUILTIN_PROVIDERS, identityGroup, resolveThrottleGroup, type ProviderRule, type ThrottleGroup, type ThrottleLimits } from './providers.js';

export interface MxThrottleOptions {
  /** Prefix of every key. Default `listwash:`. */
  prefix?: string;
  /** A lease (session slot) expires this long after it was granted or last renewed. Default 60,000 (config `mxLeaseMs`). */
  leaseMs?: number;
  /** After a rate-limit signal, `acquire` refuses (why `cooldown`) for this long. Default 30,000 (config `mxCooldownMs`). */
  cooldownMs?: number;
  /** `reportBlocked` opens the circuit for this long (why `open`). Default 300,000 (5 min). */
  openMs?: number;
  /** Recovery: one step (+1 connection, rate ×1.25) per this long without a rate-limit signal. Default 60,000. */
  recoveryStepMs?: number;
  /** Halving never takes the rate below this (RCPT/s). Default 0.2. */
  minRcptPerSecond?: number;
  /** Upper bound of `retryInMs` when refused as `busy` (a slot usually frees before its lease expires). Default 1,000. */
  busyRetryMs?: number;
  /**
   * An RCPT of the answered window whose fate is not reported this long after its slot counts as lost
   * (answered now): a session waits at most its SMTP command timeout for a reply, so a report later
   * than that will not come. Default 35,000 (config: `commandTimeoutMs` + 5 s).
   */
  answerTimeoutMs?: number;
  /** Keys of a group expire after this long without writes. Default 86,400,000 (1 day); raised to exceed lease, cooldown and open times. */
  idleTtlMs?: number;
  /** Provider rules, user rules first (see `loadProviderRules`). Default: the built-ins. */
  providers?: readonly ProviderRule[];
  /** Limits of hosts without a provider rule. Default 2 connections, 2 RCPT/s (config `mxMaxConnections`, `mxRcptPerSecond`). */
  defaults?: ThrottleLimits;
  /** Identifies this process in lease ids. Default `<hostname>:<pid>`. */
  holderId?: string;
  /** Errors that are reported rather than thrown (a failed release at the end of `withLease`). Default: `process.emitWarning`. */
  onError?: (err: unknown, context: string) => void;
}

type ResolvedOptions = Required<MxThrottleOptions>;

export const MX_THROTTLE_DEFAULTS: Readonly<Omit<ResolvedOptions, 'onError' | 'holderId'>> = Object.freeze({
  prefix: 'listwash:',
  leaseMs: 60_000,
  cooldownMs: 30_000,
  openMs: 300_000,
  recoveryStepMs: 60_000,
  minRcptPerSecond: 0.2,
  busyRetryMs: 1_000,
  answerTimeoutMs: 35_000,
  idleTtlMs: 86_400_000,
  providers: BUILTIN_PROVIDERS,
  defaults: Object.freeze({ maxConnections: 2, rcptPerSecond: 2 }),
});

export type RefusalReason = 'busy' | 'cooldown' | 'open';
export interface AcquireRefused {
  granted: false;
  /** Suggested delay before trying again (ms, ≥ 1). */
  retryInMs: number;
  why: RefusalReason;
  /** Why `open`: the evidence of the permanent refusal that opened the circuit (see `reportBlocked`), if it was one. */
  permanentRefusal?: string;
}
export type AcquireResult = { granted: true; leaseId: string } | AcquireRefused;

export interface HeldLease {
  readonly group: ThrottleGroup;
  readonly leaseId: string;
  /** Aborted (reason: ListwashError THROTTLE_LEASE_LOST) when the lease was lost; the session should QUIT. */
  readonly signal: AbortSignal;
}
export type LeaseRun<T> = { granted: true; value: T } | AcquireRefused;

export interface CircuitState {
  /** Acquire is refused fleet-wide (why `open`). */
  open: boolean;
  /** When the circuit first opened in this episode (ms, Redis clock); cleared by `reportSuccess` once closed. */
  openedAt: number | null;
  /** When the circuit closes (ms, Redis clock), if open. */
  until: number | null;
  /** Redis time of this answer (ms), to compare `openedAt` without worker clocks. */
  now: number;
  /**
   * The evidence given to `reportBlocked` with the permanent refusal that opened (or, while open,
   * first hardened) this circuit; null when the circuit was opened by signs that may pass.
   */
  permanentRefusal: string | null;
}

export interface RateLimitOutcome {
  /** False when the signal arrived inside the cooldown of a previous halving (not halved again). */
  halved: boolean;
  maxConnections: number;
  rcptPerSecond: number;
  cooldownUntil: number;
}

export interface RecoveryOutcome {
  /** Recovery steps applied by this call. */
  steps: number;
  maxConnections: number;
  rcptPerSecond: number;
}

export interface ThrottleState {
  /** Effective limits now (configured ones unless reduced by rate-limit signals). */
  maxConnections: number;
  rcptPerSecond: number;
  /** Emission interval of the effective rate (ms). */
  emissionIntervalMs: number;
  activeLeases: number;
  cooldownUntil: number | null;
  circuit: CircuitState;
  now: number;
}

export const COUNTER_NAMES = [
  'acquired',
  'busyRefusals',
  'cooldownRefusals',
  'openRefusals',
  'renewed',
  'released',
  'leasesLost',
  'leasesReclaimed',
  'rcptTaken',
  'rcptWaits',
  'rcptLeaseLost',
  'rcptAnswerWaits',
  'rcptAnswersLost',
  'rcptRequestsRepeated',
  'rateLimitedSignals',
  'rateLimitHalvings',
  'recoverySteps',
  'successes',
  'blockedSignals',
  'permanentRefusals',
] as const;
export type ThrottleCounters = Record<(typeof COUNTER_NAMES)[number], number>;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** The throttle's Lua commands (`src/throttle/commands/*-3.lua`: every one takes the three keys of one group). */
const COMMANDS = loadCommands(new URL('./commands/', import.meta.url));
type ScriptName = 'acquire' | 'renew' | 'release' | 'takeRcpt' | 'ackRcpt' | 'rateLimited' | 'success' | 'blocked' | 'circuit' | 'state';

/** The window a host's RCPT rate is counted over (ms): `rcptPerSecond` in any sliding second. */
export const RATE_WINDOW_MS = 1000;

/** How long a caller waits before asking again when an answer of the answered window is outstanding (ms). */
const ANSWER_POLL_MS = 5;

/** What became of a paced RCPT (see `paceRcpt`). */
export type RcptFate = 'answered' | 'unanswered' | 'unsent';

/** RCPTs a host of the group allows per window: the configured rate, whole (at least 1). */
export function perWindow(group: ThrottleGroup): number {
  return Math.max(1, Math.floor(group.rcptPerSecond * (RATE_WINDOW_MS / 1000) + 1e-9));
}

/** Emission interval in µs for a rate: strictly more than 1e6/rate, so even a CLOSED one-second window holds at most `rate` grants. */
export function emissionIntervalUs(rcptPerSecond: number): number {
  return Math.floor(1_000_000 / rcptPerSecond) + 1;
}

/** Whether a circuit has kept its host's addresses waiting longer than `patienceMs` (end them `unknown/blocked`). */
export function blockedPastPatience(circuit: CircuitState, patienceMs: number): boolean {
  return circuit.open && circuit.openedAt !== null && circuit.now - circuit.openedAt >= patienceMs;
}

function encodeKeyPart(key: string): string {
  return key.replace(/[^a-z0-9._:-]/g, (c) =>
    Array.from(Buffer.from(c, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

function unexpected(op: string, reply: unknown): never {
  throw new Error(`mx-throttle ${op}: unexpected script reply ${JSON.stringify(reply)}`);
}
function arr(op: string, reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : unexpected(op, reply);
}
function num(op: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : unexpected(op, v);
}
/** µs string ('' = none) → ms. */
function msOrNull(op: string, v: unknown): number | null {
  return v === '' || v === null ? null : num(op, v) / 1000;
}

/** A script's evidence field ('' = none). */
function evidenceOrNull(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function positive(name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`MxThrottle: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
  return v;
}

export class MxThrottle {
  readonly options: Readonly<ResolvedOptions>;
  private readonly ttlMs: number;
  private readonly maxIntervalUs: number;
  private readonly commands: Record<string, string>;

  constructor(
    private readonly redis: Redis | Cluster,
    options: MxThrottleOptions = {},
  ) {
    const d = MX_THROTTLE_DEFAULTS;
    const o: ResolvedOptions = {
      prefix: options.prefix ?? d.prefix,
      leaseMs: options.leaseMs ?? d.leaseMs,
      cooldownMs: options.cooldownMs ?? d.cooldownMs,
      openMs: options.openMs ?? d.openMs,
      recoveryStepMs: options.recoveryStepMs ?? d.recoveryStepMs,
      minRcptPerSecond: options.minRcptPerSecond ?? d.minRcptPerSecond,
      busyRetryMs: options.busyRetryMs ?? d.busyRetryMs,
      answerTimeoutMs: options.answerTimeoutMs ?? d.answerTimeoutMs,
      idleTtlMs: options.idleTtlMs ?? d.idleTtlMs,
      providers: options.providers ?? d.providers,
      defaults: options.defaults ?? d.defaults,
      holderId: options.holderId ?? `${hostname()}:${process.pid}`,
      onError: options.onError ?? ((err, context) => process.emitWarning(`mx-throttle ${context}: ${errorMessage(err)}`)),
    };
    positive('leaseMs', o.leaseMs, true);
    positive('openMs', o.openMs, true);
    positive('recoveryStepMs', o.recoveryStepMs, true);
    positive('minRcptPerSecond', o.minRcptPerSecond);
    positive('busyRetryMs', o.busyRetryMs, true);
    positive('answerTimeoutMs', o.answerTimeoutMs, true);
    positive('idleTtlMs', o.idleTtlMs, true);
    if (!Number.isInteger(o.cooldownMs) || o.cooldownMs < 0) throw new RangeError(`MxThrottle: cooldownMs must be an integer ≥ 0, got ${o.cooldownMs}`);
    this.options = Object.freeze(o);
    this.ttlMs = Math.max(o.idleTtlMs, o.leaseMs, o.cooldownMs, o.openMs, o.recoveryStepMs) + 1_000;
    this.maxIntervalUs = emissionIntervalUs(o.minRcptPerSecond);
    this.commands = defineCommands(redis, 'lwThr', COMMANDS);
  }

  /**
   * The group (key + limits) of an MX host under this instance's provider rules and defaults, as
   * egress identity `identity` uses it (see `identityGroup`; default: the plain group).
   */
  groupFor(mxHost: string, identity?: string): ThrottleGroup {
    return identityGroup(resolveThrottleGroup(mxHost, this.options.providers, this.options.defaults), identity);
  }

  /** The three Redis keys of a group (same hash tag). */
  keys(group: ThrottleGroup): { leases: string; state: string; stats: string } {
    const base = `${this.options.prefix}thr:{${encodeKeyPart(group.key)}}:`;
    return { leases: `${base}leases`, state: `${base}state`, stats: `${base}stats` };
  }

  /**
   * Take a session slot without waiting. Refused while the circuit is open, during a cooldown, or
   * when the group's effective `maxConnections` leases are live (expired leases are dropped first).
   */
  async acquire(group: ThrottleGroup, holderId: string = this.options.holderId, leaseMs: number = this.options.leaseMs): Promise<AcquireResult> {
    positive('leaseMs', leaseMs, true);
    const leaseId = `${holderId}:${randomUUID()}`;
    const r = arr('acquire', await this.run('acquire', group, leaseId, leaseMs, this.conn(group), this.options.busyRetryMs, this.ttlMs));
    if (r[0] === 1) return { granted: true, leaseId: typeof r[1] === 'string' ? r[1] : unexpected('acquire', r) };
    const why = r[1];
    if (why !== 'busy' && why !== 'cooldown' && why !== 'open') return unexpected('acquire', r);
    const evidence = typeof r[3] === 'string' && r[3] !== '' ? r[3] : null;
    return { granted: false, why, retryInMs: num('acquire', r[2]), ...(evidence !== null ? { permanentRefusal: evidence } : {}) };
  }

  /** Extend a lease to `leaseMs` from now. False when it had expired (and was reclaimed) or was released. */
  async renew(group: ThrottleGroup, leaseId: string, leaseMs: number = this.options.leaseMs): Promise<boolean> {
    positive('leaseMs', leaseMs, true);
    return num('renew', await this.run('renew', group, leaseId, leaseMs, this.ttlMs)) === 1;
  }

  /** Give a slot back. False when it was not held any more (expired and reclaimed). */
  async release(group: ThrottleGroup, leaseId: string): Promise<boolean> {
    return num('release', await this.run('release', group, leaseId, this.ttlMs)) === 1;
  }

  /**
   * Ask to send one RCPT TO now. 0: go (the RCPT is counted). > 0: not allowed yet, nothing
   * consumed — wait that many ms and ask again. `leaseId` (optional) only feeds the `rcptLeaseLost` counter.
   */
  async takeRcpt(group: ThrottleGroup, leaseId?: string): Promise<number> {
    const r = await this.slot(group, 'take', leaseId ?? '', false, '');
    return r.granted ? 0 : Math.max(1, Math.ceil(r.waitUs / 1000));
  }

  /**
   * Reserve the group's next RCPT slot, however far ahead (see takeRcpt-3.lua): slots follow an exact
   * GCRA schedule, so waiting callers lose no time to polling and a new session's first RCPT lands on
   * the next free slot. With `reportAnswer` (a lease is needed) the slot joins the answered window: the
   * caller must report with `rcptFate` what became of the RCPT — until then (or until its lease is
   * gone, or `answerTimeoutMs` has passed) the slot `R` places later waits. Not granted (an answer `R`
   * places back is outstanding): nothing reserved, ask again after `waitMs`. `requestId` names this
   * reservation: asked for again with the same id (a call resent after its reply was lost), the answer
   * is the first reservation, not a second one.
   */
  async reserveRcpt(
    group: ThrottleGroup,
    leaseId?: string,
    reportAnswer = false,
    requestId: string = randomUUID(),
  ): Promise<{ granted: true; waitMs: number; slotMs: number; seq: number } | { granted: false; waitMs: number }> {
    const r = await this.slot(group, 'reserve', leaseId ?? '', reportAnswer && leaseId !== undefined, requestId);
    if (!r.granted) return { granted: false, waitMs: Math.max(1, Math.ceil(r.waitUs / 1000)) };
    return { granted: true, waitMs: r.waitUs / 1000, slotMs: (r.nowUs + r.waitUs) / 1000, seq: r.seq };
  }

  /** Report what became of RCPT `seq` reserved with `reportAnswer` (see ackRcpt-3.lua). False: it was resolved already. */
  async rcptFate(group: ThrottleGroup, seq: number, fate: RcptFate): Promise<boolean> {
    return num('rcptFate', await this.run('ackRcpt', group, seq, fate, RATE_WINDOW_MS * 1000, this.ttlMs)) === 1;
  }

  /**
   * Wait for a reserved RCPT slot (`reserveRcpt` + sleep until it). Resolves with the slot's Redis
   * time (ms). Rejects with `signal.reason` when aborted (a slot reserved by then is not used).
   */
  async waitRcpt(group: ThrottleGroup, signal?: AbortSignal, leaseId?: string): Promise<number> {
    return (await this.paced(group, signal, leaseId, false)).slotMs;
  }

  /**
   * Like `waitRcpt`, in the answered window: resolves when the RCPT may be sent, with `fate` to call
   * once what became of it is known (answered, unanswered, unsent). `fate` is owed: an RCPT without
   * one holds the group's slot `R` places later until the lease ends. Aborted while waiting: the
   * slot is reported unsent and the call rejects with `signal.reason`.
   */
  async paceRcpt(group: ThrottleGroup, leaseId: string, signal?: AbortSignal): Promise<{ slotMs: number; fate: (fate: RcptFate) => Promise<boolean> }> {
    const r = await this.paced(group, signal, leaseId, true);
    return { slotMs: r.slotMs, fate: (f) => this.rcptFate(group, r.seq, f) };
  }

  private async paced(group: ThrottleGroup, signal: AbortSignal | undefined, leaseId: string | undefined, reportAnswer: boolean): Promise<{ slotMs: number; seq: number }> {
    for (;;) {
      signal?.throwIfAborted();
      const r = await this.reserveRcpt(group, leaseId, reportAnswer);
      try {
        if (r.waitMs > 0) await sleep(Math.ceil(r.waitMs), undefined, signal ? { signal } : undefined);
      } catch (err) {
        if (r.granted && reportAnswer) await this.rcptFate(group, r.seq, 'unsent');
        if (signal?.aborted) throw signal.reason;
        throw err;
      }
      if (r.granted) return { slotMs: r.slotMs, seq: r.seq };
    }
  }

  /**
   * The host said 421 / 4.7.x "slow down": effective connections and rate halve (floors: 1
   * connection, `minRcptPerSecond`) — once per cooldown window — and a cooldown starts.
   */
  async reportRateLimited(group: ThrottleGroup): Promise<RateLimitOutcome> {
    const op = 'reportRateLimited';
    const r = arr(op, await this.run('rateLimited', group, this.conn(group), this.intervalUs(group), this.maxIntervalUs, this.options.cooldownMs, this.ttlMs));
    return { halved: num(op, r[0]) === 1, maxConnections: num(op, r[1]), rcptPerSecond: 1e6 / num(op, r[2]), cooldownUntil: num(op, r[3]) / 1000 };
  }

  /** A session went fine: recover one step per full `recoveryStepMs` since the last signal or step; ends a closed "blocked" episode. */
  async reportSuccess(group: ThrottleGroup): Promise<RecoveryOutcome> {
    const op = 'reportSuccess';
    const r = arr(op, await this.run('success', group, this.conn(group), this.intervalUs(group), this.options.recoveryStepMs, this.ttlMs));
    return { steps: num(op, r[0]), maxConnections: num(op, r[1]), rcptPerSecond: 1e6 / num(op, r[2]) };
  }

  /**
   * Ban signs: open the circuit for `openMs` fleet-wide (extends an open one; keeps the first opening
   * time). `permanentRefusal`: evidence (any string, e.g. the deciding reply) when the sign is a
   * refusal that waiting cannot change (a 5xx policy refusal of the prober); the circuit keeps it
   * while open and hands it out with every `open` refusal, so callers can end addresses at once.
   */
  async reportBlocked(group: ThrottleGroup, permanentRefusal = ''): Promise<CircuitState> {
    const op = 'reportBlocked';
    const r = arr(op, await this.run('blocked', group, this.options.openMs, this.ttlMs, permanentRefusal));
    return { open: true, openedAt: num(op, r[1]) / 1000, until: num(op, r[2]) / 1000, now: num(op, r[3]) / 1000, permanentRefusal: evidenceOrNull(r[4]) };
  }

  async circuitState(group: ThrottleGroup): Promise<CircuitState> {
    const op = 'circuitState';
    const r = arr(op, await this.run('circuit', group));
    const open = num(op, r[0]) === 1;
    return { open, openedAt: msOrNull(op, r[1]), until: open ? msOrNull(op, r[2]) : null, now: num(op, r[3]) / 1000, permanentRefusal: open ? evidenceOrNull(r[4]) : null };
  }

  /** Effective limits, live leases, cooldown and circuit of a group (for reports and tests). */
  async state(group: ThrottleGroup): Promise<ThrottleState> {
    const op = 'state';
    const r = arr(op, await this.run('state', group, this.conn(group), this.intervalUs(group)));
    const ivUs = num(op, r[1]);
    const now = num(op, r[6]) / 1000;
    const openUntil = msOrNull(op, r[3]);
    const cooldownUntil = msOrNull(op, r[2]);
    const open = openUntil !== null && now < openUntil;
    return {
      maxConnections: num(op, r[0]),
      rcptPerSecond: 1e6 / ivUs,
      emissionIntervalMs: ivUs / 1000,
      activeLeases: num(op, r[5]),
      cooldownUntil: cooldownUntil !== null && cooldownUntil > now ? cooldownUntil : null,
      circuit: { open, openedAt: msOrNull(op, r[4]), until: open ? openUntil : null, now, permanentRefusal: open ? evidenceOrNull(r[7]) : null },
      now,
    };
  }

  /** Counters of a group (all zero for an unknown group). */
  async stats(group: ThrottleGroup): Promise<ThrottleCounters> {
    const raw = await this.redis.hgetall(this.keys(group).stats);
    const out = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as ThrottleCounters;
    for (const n of COUNTER_NAMES) if (raw[n] !== undefined) out[n] = num('stats', raw[n]);
    return out;
  }

  /** Delete all state of a group (operator action; leases held elsewhere are forgotten). */
  async reset(group: ThrottleGroup): Promise<void> {
    const k = this.keys(group);
    await this.redis.del(k.leases, k.state, k.stats);
  }

  /**
   * Run `fn` holding a session slot; `null` at once when no slot is granted (never waits — move the
   * job to delayed with jitter). See `tryWithLease` for the refusal details.
   */
  async withLease<T>(group: ThrottleGroup, fn: (lease: HeldLease) => Promise<T>, opts: { holderId?: string; leaseMs?: number } = {}): Promise<T | null> {
    const run = await this.tryWithLease(group, fn, opts);
    return run.granted ? run.value : null;
  }

  /**
   * Like `withLease` but returns the refusal (`why`, `retryInMs`). While `fn` runs the lease is
   * renewed every `leaseMs / 3`; if it is lost (renewal refused or failing) `lease.signal` aborts with
   * ListwashError THROTTLE_LEASE_LOST. The lease is released when `fn` settles (a failed release goes
   * to `onError`; the lease then expires by itself).
   */
  async tryWithLease<T>(group: ThrottleGroup, fn: (lease: HeldLease) => Promise<T>, opts: { holderId?: string; leaseMs?: number } = {}): Promise<LeaseRun<T>> {
    const leaseMs = opts.leaseMs ?? this.options.leaseMs;
    const got = await this.acquire(group, opts.holderId ?? this.options.holderId, leaseMs);
    if (!got.granted) return got;
    const { leaseId } = got;
    const ctl = new AbortController();
    const lost = (message: string, cause?: unknown): void => {
      if (!ctl.signal.aborted) {
        ctl.abort(new ListwashError(ErrorCodes.THROTTLE_LEASE_LOST, message, { group: group.key, leaseId }, cause === undefined ? undefined : { cause }));
      }
    };
    let renewing: Promise<void> | null = null;
    const timer = setInterval(() => {
      if (renewing !== null || ctl.signal.aborted) return;
      renewing = this.renew(group, leaseId, leaseMs)
        .then(
          (ok) => {
            if (!ok) lost(`lease of ${group.key} expired before it was renewed`);
          },
          (err: unknown) => lost(`lease of ${group.key} could not be renewed: ${errorMessage(err)}`, err),
        )
        .finally(() => {
          renewing = null;
        });
    }, Math.max(1, Math.floor(leaseMs / 3)));
    // A failed release is reported to onError, not thrown: the work is done (or its own error wins),
    // and the slot frees itself when the lease expires.
    const finish = async (): Promise<void> => {
      clearInterval(timer);
      if (renewing !== null) await renewing;
      await this.release(group, leaseId).catch((err: unknown) => this.options.onError(err, `release of ${group.key} (${leaseId})`));
    };
    try {
      return { granted: true, value: await fn({ group, leaseId, signal: ctl.signal }) };
    } finally {
      await finish();
    }
  }

  private async slot(
    group: ThrottleGroup,
    mode: 'take' | 'reserve',
    leaseId: string,
    reportAnswer: boolean,
    requestId: string,
  ): Promise<{ granted: boolean; waitUs: number; nowUs: number; seq: number }> {
    const op = 'takeRcpt';
    const args = [this.intervalUs(group), this.ttlMs, leaseId, mode, perWindow(group), RATE_WINDOW_MS * 1000, reportAnswer ? '1' : '0', ANSWER_POLL_MS * 1000];
    const r = arr(op, await this.run('takeRcpt', group, ...args, requestId, this.options.answerTimeoutMs * 1000));
    return { granted: num(op, r[0]) === 1, waitUs: num(op, r[1]), nowUs: num(op, r[2]), seq: num(op, r[3]) };
  }

  private conn(group: ThrottleGroup): number {
    return positive(`maxConnections of ${group.key}`, group.maxConnections, true);
  }

  private intervalUs(group: ThrottleGroup): number {
    return emissionIntervalUs(positive(`rcptPerSecond of ${group.key}`, group.rcptPerSecond));
  }

  private run(name: ScriptName, group: ThrottleGroup, ...args: (string | number)[]): Promise<unknown> {
    const k = this.keys(group);
    const fn = (this.redis as unknown as Record<string, ScriptFn>)[this.commands[name]!]!;
    return fn.call(this.redis, k.leases, k.state, k.stats, ...args);
  }
}
