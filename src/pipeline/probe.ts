/**
 * Probe: run the engine on one batch, store each address's verdict, and decide what happens to the
 * addresses still open:
 * - greylisting / temporary 4xx / connection trouble → retried after the next delay of the greylist
 *   schedule; when the schedule is used up, the last answer stands (e.g. `unknown/greylisted`);
 * - the throttle refused a session slot (`busy`, `cooldown`) → the job is moved to delayed with jitter:
 *   the worker never sleeps holding a slot and the queue is never paused;
 * - a permanent refusal of the prober (a 5xx policy refusal such as a DNSBL listing, or a circuit
 *   opened by one) → ends `unknown/blocked` at once, with the server's reply: waiting cannot change it;
 * - signs that may pass (4xx ban signs, circuit `open` without a permanent refusal, rate limits) → held
 *   back, and after `blockedPatienceSec` they end `unknown/blocked` (or their last answer) instead of
 *   waiting forever.
 * Greylisting keys on the client address: a greylisted address is pinned to the egress identity that
 * got the 4xx (`pendingIdentity` in the job data), and so is the domain's catch-all probe
 * (`catchAllIdentity`), so that their retries come from the same address.
 */
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Config } from '../config.js';
import { verdictOfRefusal, type AddressOutcome, type DomainResult, type DomainVerifier } from '../engine/index.js';
import { egressStatsKey } from '../egress/stats.js';
import type { VerdictCache } from '../verdict-cache/verdict-cache.js';
import { verdict, type Verdict } from '../verdict.js';
import { sumSmtpWork, type FleetCounters } from './fleet-counters.js';
import type { AggregateJobData, ProbeJobData } from './jobs.js';
import { isFinalStatus, type BatchProgress, type ListState } from './list-state.js';
import { decodeVerdict, encodeVerdict } from './result-codec.js';
import { enqueueAggregate } from './split.js';

export interface ProbeDeps {
  cfg: Pick<Config, 'greylistRetryDelays' | 'blockedPatienceSec' | 'mxCooldownMs'>;
  verifier: DomainVerifier;
  state: ListState;
  aggregateQueue: Queue<AggregateJobData>;
  /** The fleet-wide verdict cache: asked before any SMTP, told the final verdicts found. None: every address is probed. */
  verdictCache?: VerdictCache | null;
  /** Fleet-wide counters for `/metrics` (verdicts, SMTP sessions and RCPTs). */
  counters?: FleetCounters;
  /** Clock, for tests. */
  now?: () => number;
  random?: () => number;
}

export type ProbeRunResult =
  | { done: true; final: number }
  | { done: false; pending: number; delayMs: number; why: string };

/** What to do with the addresses a run left open. Pure. */
export function planNextRun(
  outcomes: AddressOutcome[],
  data: Pick<ProbeJobData, 'attempt' | 'heldSince' | 'pendingIdentity' | 'greylisted'>,
  cfg: ProbeDeps['cfg'],
  now: number,
  random: () => number,
): { finalize: AddressOutcome[]; pending: string[]; identities: Record<string, string>; greylisted: string[]; delayMs: number; attempt: number; heldSince: number | undefined; why: string } {
  const attempt = data.attempt ?? 0;
  const delays = cfg.greylistRetryDelays;
  const retry = outcomes.filter((o) => o.kind === 'retry');
  const deferred = outcomes.filter((o) => o.kind === 'deferred');
  const greylist = retry.filter((o) => o.kind === 'retry' && (o.retry === 'greylist' || o.retry === 'connection'));
  const refused = retry.filter((o) => o.kind === 'retry' && o.permanent === true);
  const held = retry.filter((o) => o.kind === 'retry' && (o.retry === 'rate_limited' || o.retry === 'blocked') && o.permanent !== true);
  const refusedByCircuit = deferred.filter((o) => o.kind === 'deferred' && o.why === 'open' && o.refusal !== undefined);
  const open = deferred.filter((o) => o.kind === 'deferred' && o.why === 'open' && o.refusal === undefined);
  const waiting = deferred.filter((o) => o.kind === 'deferred' && o.why !== 'open');

  const finalize: AddressOutcome[] = [];
  const pending: string[] = [];
  let delayMs = 0;
  let why = '';
  let nextAttempt = attempt;
  let heldSince = data.heldSince;

  // Permanent refusals end now, with the deciding reply (the server's own, or the one the circuit keeps).
  finalize.push(...refused);
  for (const o of refusedByCircuit) {
    if (o.kind === 'deferred' && o.refusal) finalize.push({ address: o.address, kind: 'final', verdict: verdictOfRefusal(o.refusal) });
  }

  const greylistedBefore = new Set(data.greylisted ?? []);
  if (greylist.length > 0) {
    if (attempt < delays.length) {
      pending.push(...greylist.map((o) => o.address));
      delayMs = Math.max(delayMs, (delays[attempt] ?? 0) * 1000);
      nextAttempt = attempt + 1;
      why = 'greylist';
    } else {
      // The schedule is used up: the last answer stands — except for an address greylisted now for the first
      // time (its earlier runs broke before its RCPT), which gets the one retry greylisting asks for.
      const firstTime = greylist.filter((o) => o.kind === 'retry' && o.retry === 'greylist' && !greylistedBefore.has(o.address));
      finalize.push(...greylist.filter((o) => !firstTime.includes(o)));
      if (firstTime.length > 0) {
        pending.push(...firstTime.map((o) => o.address));
        delayMs = Math.max(delayMs, (delays[delays.length - 1] ?? 0) * 1000);
        why = 'greylist';
      }
    }
  }
  if (held.length > 0 || open.length > 0) {
    heldSince ??= now;
    if (now - heldSince >= cfg.blockedPatienceSec * 1000) {
      finalize.push(...held);
      for (const o of open) {
        if (o.kind !== 'deferred') continue;
        finalize.push({ address: o.address, kind: 'final', verdict: verdict('blocked', { mxHost: o.group, smtpReply: `not probed: ${o.group} shows ban signs (circuit open) for longer than LISTWASH_BLOCKED_PATIENCE_SEC` }) });
      }
    } else {
      pending.push(...held.map((o) => o.address), ...open.map((o) => o.address));
      const openWait = Math.max(0, ...open.map((o) => (o.kind === 'deferred' ? o.retryInMs : 0)));
      // An open circuit can stay open far longer than the patience (the throttle's open time): wake
      // up when the patience runs out at the latest, so these addresses end when they should.
      const patienceLeft = heldSince + cfg.blockedPatienceSec * 1000 - now;
      delayMs = Math.max(delayMs, Math.min(patienceLeft, Math.max(held.length > 0 ? cfg.mxCooldownMs : 0, openWait)));
      why = why || 'held';
    }
  }
  if (waiting.length > 0) {
    pending.push(...waiting.map((o) => o.address));
    delayMs = Math.max(delayMs, ...waiting.map((o) => (o.kind === 'deferred' ? o.retryInMs : 0)));
    why = why || 'throttled';
  }
  if (pending.length > 0) delayMs = Math.round(delayMs + 50 + random() * Math.min(1000, 0.2 * delayMs + 100));
  const greylistedNow = new Set(outcomes.flatMap((o) => (o.kind === 'retry' && o.retry === 'greylist' ? [o.address] : [])));
  const greylisted = pending.filter((a) => greylistedBefore.has(a) || greylistedNow.has(a));
  return { finalize, pending, identities: pinsOf(pending, outcomes, data.pendingIdentity ?? {}), greylisted, delayMs, attempt: nextAttempt, heldSince, why };
}

/** The egress identity each pending address must be retried from: the one that got its greylisting 4xx now, else the one it was pinned to before. */
function pinsOf(pending: string[], outcomes: AddressOutcome[], before: Record<string, string>): Record<string, string> {
  const greylistedOn = new Map<string, string>();
  for (const o of outcomes) if (o.kind === 'retry' && o.retry === 'greylist' && o.identity !== undefined) greylistedOn.set(o.address, o.identity);
  const pins: Record<string, string> = {};
  for (const a of pending) {
    const pin = greylistedOn.get(a) ?? before[a];
    if (pin !== undefined) pins[a] = pin;
  }
  return pins;
}

/** The SMTP work of a run, per MX host. */
function hostCounters(r: DomainResult): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [host, h] of Object.entries(r.hosts)) {
    out[host] = { sessions: h.sessions, rcpts: h.rcpts, replies4xx: h.replies4xx, replies5xx: h.replies5xx, connectFailures: h.connectFailures, tlsSessions: h.tls };
  }
  return out;
}

/** The run's per-MX counters for summary.json (a throttle refusal counts as a wait at its group). */
function mxCounters(r: DomainResult): Record<string, Record<string, number>> {
  const out = hostCounters(r);
  const throttled = r.outcomes.find((o) => o.kind === 'deferred');
  if (throttled?.kind === 'deferred') (out[throttled.group] ??= {}).throttleWaits = 1;
  for (const [identity, c] of Object.entries(r.identities)) out[egressStatsKey(identity)] = { ...c };
  return out;
}

/**
 * A batch job failed for good (its last attempt threw): count it on the list and mark the batch done
 * anyway, so the list still completes. Its addresses without a stored result end
 * `unknown/temporary_failure` in the report. Returns true if this completed the list.
 */
export async function abandonBatch(data: Pick<ProbeJobData, 'listId' | 'batchId'>, err: unknown, deps: Pick<ProbeDeps, 'state' | 'aggregateQueue'>): Promise<boolean> {
  const { state } = deps;
  await state.recordBatchFailure(data.batchId, err instanceof Error ? err.message : String(err));
  const complete = await state.batchDone(data.batchId);
  if (complete) await enqueueAggregate(deps.aggregateQueue, data.listId);
  return complete;
}

/** Final verdicts of a run: how many, by status and reason, and what the verdict cache answered (added to the batch's counts so far). */
function addProgress(before: BatchProgress | undefined, finals: AddressOutcome[], cache: CacheAnswer): BatchProgress {
  const p: BatchProgress = {
    final: before?.final ?? 0,
    byStatus: { ...before?.byStatus },
    byReason: { ...before?.byReason },
    cacheHits: (before?.cacheHits ?? 0) + cache.hits.size,
    cacheLookups: (before?.cacheLookups ?? 0) + cache.lookups,
  };
  for (const o of finals) {
    if (o.kind === 'deferred') continue;
    p.final++;
    p.byStatus[o.verdict.status] = (p.byStatus[o.verdict.status] ?? 0) + 1;
    p.byReason[o.verdict.reason] = (p.byReason[o.verdict.reason] ?? 0) + 1;
  }
  return p;
}

/** What the verdict cache said for a batch: stored verdicts by address, and how many addresses were asked about. */
interface CacheAnswer {
  hits: Map<string, string>;
  lookups: number;
}

/**
 * A batch's first run asks the verdict cache before any SMTP: addresses verified recently enough (for
 * their class, and for the list's `maxAge`) are answered from it. Later runs (greylist retries) probe
 * what is left.
 */
async function askVerdictCache(data: ProbeJobData, deps: ProbeDeps, now: number): Promise<CacheAnswer> {
  if (data.pending !== undefined || !deps.verdictCache || data.maxAge === 0) return { hits: new Map(), lookups: 0 };
  return { hits: await deps.verdictCache.lookup(data.addresses, now, data.maxAge), lookups: data.addresses.length };
}

/** Tell the verdict cache the final verdicts of a run (it keeps the classes it keeps). */
async function rememberVerdicts(deps: ProbeDeps, finals: AddressOutcome[], verifiedAt: number): Promise<void> {
  if (!deps.verdictCache) return;
  const verdicts = finals.flatMap((o) => (o.kind === 'deferred' ? [] : [{ address: o.address, verdict: o.verdict, verifiedAt }]));
  await deps.verdictCache.store(verdicts, verifiedAt);
}

/** The verdicts answered from the cache, as final outcomes of this run. */
function cachedOutcomes(hits: Map<string, string>): AddressOutcome[] {
  return [...hits].map(([address, stored]) => ({ address, kind: 'final', verdict: decodeVerdict(stored) }));
}

/** No verdict cache asked. */
const NO_CACHE_ANSWER: CacheAnswer = Object.freeze({ hits: new Map<string, string>(), lookups: 0 });

/** A run with nothing left to probe (the cache answered every address). */
const NOTHING_PROBED: DomainResult = Object.freeze({ outcomes: [], mxHost: null, catchAll: null, hosts: {}, identities: {} });

/**
 * Run one batch job. Throws `DelayedError` after moving the job to delayed when addresses remain.
 * `signal` aborts the run (the list was cancelled or failed elsewhere, or the worker is stopping).
 */
export async function runProbe(job: Job<ProbeJobData>, token: string | undefined, deps: ProbeDeps, signal?: AbortSignal): Promise<ProbeRunResult> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const data = job.data;
  const { state } = deps;
  // A list that ended (failed, cancelled) or has no state any more is not probed.
  if (!isActive(await state.status())) return { done: true, final: 0 };
  await markProbeStarted(state, data.listId);

  // A domain without any mail route ends every address with its DNS answer, as it is now: no verdict
  // cache (a mailbox verdict of a domain that has gone is stale), no SMTP machinery.
  const dead = data.pending === undefined ? await deps.verifier.deadEnd(data.domain) : null;
  const cache = dead ? NO_CACHE_ANSWER : await askVerdictCache(data, deps, now());
  const pendingList = (data.pending ?? data.addresses).filter((a) => !cache.hits.has(a));
  const utf8 = new Set((data.utf8 ?? []).map((i) => data.addresses[i]));
  const pins = data.pendingIdentity ?? {};
  const result = dead
    ? { ...NOTHING_PROBED, outcomes: pendingList.map((address): AddressOutcome => ({ address, kind: 'final', verdict: dead })) }
    : pendingList.length === 0
      ? NOTHING_PROBED
      : await deps.verifier.verify(
          data.domain,
          pendingList.map((address) => ({ address, smtputf8: utf8.has(address), ...(pins[address] !== undefined ? { identity: pins[address] } : {}) })),
          signal,
          data.catchAllIdentity !== undefined ? { catchAllIdentity: data.catchAllIdentity } : {},
        );
  // Stopped from outside: what was learnt is kept, but the batch neither goes on nor completes the list.
  if (signal?.aborted) return { done: true, final: 0 };

  const verifiedAt = now();
  const plan = planNextRun(result.outcomes, data, deps.cfg, verifiedAt, random);
  // Verdicts from the cache keep the time they were verified at.
  const entries = new Map<string, string>(cache.hits);
  const encode = encoderAt(verifiedAt);
  for (const o of result.outcomes) {
    // Final answers, and provisional ones (kept in case the retries run out); never overwrite with "nothing".
    if (o.kind === 'final' || o.kind === 'retry') entries.set(o.address, encode(o.verdict));
  }
  for (const o of plan.finalize) if (o.kind === 'final' || o.kind === 'retry') entries.set(o.address, encode(o.verdict));
  const finals = [...result.outcomes.filter((o) => o.kind === 'final'), ...plan.finalize];
  const progress = addProgress(data.progress, [...cachedOutcomes(cache.hits), ...finals], cache);
  const waiting = plan.pending.length > 0;
  const throttled = result.outcomes.find((o) => o.kind === 'deferred');
  const retryAt = now() + plan.delayMs;
  await Promise.all([
    state.recordRun({
      batchId: data.batchId,
      progress,
      results: entries,
      mx: mxCounters(result),
      ...(!waiting
        ? {}
        : plan.why === 'greylist'
          ? { wait: { kind: 'greylist' as const, retryAt } }
          : { wait: { kind: 'throttle' as const, group: throttled?.kind === 'deferred' ? throttled.group : (result.mxHost ?? data.domain), why: throttled?.kind === 'deferred' ? throttled.why : plan.why } }),
    }),
    rememberVerdicts(deps, finals, verifiedAt),
    deps.counters?.probeRun(
      finals.flatMap((o) => (o.kind === 'deferred' ? [] : [o.verdict])),
      sumSmtpWork(hostCounters(result)),
    ),
  ]);

  if (!waiting) {
    if (await state.batchDone(data.batchId)) await enqueueAggregate(deps.aggregateQueue, data.listId);
    await touchNowAndThen(state, data.listId, now());
    return { done: true, final: progress.final - (data.progress?.final ?? 0) };
  }
  const { pendingIdentity: _pins, catchAllIdentity: _probe, greylisted: _greylisted, ...rest } = data;
  await job.updateData({
    ...rest,
    pending: plan.pending,
    attempt: plan.attempt,
    ...(plan.greylisted.length > 0 ? { greylisted: plan.greylisted } : {}),
    progress,
    ...(plan.heldSince !== undefined ? { heldSince: plan.heldSince } : {}),
    ...(Object.keys(plan.identities).length > 0 ? { pendingIdentity: plan.identities } : {}),
    ...(result.catchAllIdentity !== undefined ? { catchAllIdentity: result.catchAllIdentity } : {}),
  });
  await touchNowAndThen(state, data.listId, now());
  if (token === undefined) {
    // Called outside a worker (tests): report instead of moving.
    return { done: false, pending: plan.pending.length, delayMs: plan.delayMs, why: plan.why };
  }
  await job.moveToDelayed(retryAt, token);
  throw new DelayedError();
}

/** Encode verdicts stored at `at`; a verdict object shared by many addresses (a domain's DNS answer) is encoded once. */
function encoderAt(at: number): (v: Verdict) => string {
  const memo = new Map<Verdict, string>();
  return (v) => {
    let e = memo.get(v);
    if (e === undefined) memo.set(v, (e = encodeVerdict(v, at)));
    return e;
  };
}

/** Lists whose `probeStartedAt` this process has set (it keeps the first time: setting it again changes nothing). */
const probeMarked = new Set<string>();

async function markProbeStarted(state: ListState, listId: string): Promise<void> {
  if (probeMarked.has(listId)) return;
  await state.mark('probeStartedAt');
  if (probeMarked.size >= 10_000) probeMarked.clear();
  probeMarked.add(listId);
}

/**
 * A list's keys live `jobTtlSec` past its last activity: after a batch, their expiry is pushed out — by this
 * process at most every {@link TOUCH_EVERY_MS} per list (the keys a run writes get their expiry with the write).
 */
const TOUCH_EVERY_MS = 30_000;
const lastTouched = new Map<string, number>();

async function touchNowAndThen(state: ListState, listId: string, now: number): Promise<void> {
  const last = lastTouched.get(listId);
  if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
  await state.touch();
  if (lastTouched.size >= 10_000) lastTouched.clear();
  lastTouched.set(listId, now);
}

function isActive(status: string | null): boolean {
  return status !== null && !isFinalStatus(status);
}
