/**
 * The verification engine for one domain's addresses, in named steps (the shape of Reacher's
 * `check_smtp_with_retry`):
 * 1. candidate hosts — mail route (DNS) → (MX host, IP) pairs in preference order (`candidates.ts`);
 * 2. the catch-all probe — from the fleet's cache, or one RCPT in the first session (`catch-all.ts`);
 * 3. the loop over candidates — for each lane of addresses, ask the gate for a slot as one of the
 *    lane's egress identities (`identity-picker.ts`), run a session, move on when a host or an
 *    identity cannot answer;
 * 4. one session — open → verify a batch of ≤ `rcptPerSession` → classify → report (`host-session.ts`).
 *
 * It never holds more than one session open per call, asks the gate before every session and every
 * RCPT, and reports what hosts say (rate limits, blocks) back to the gate, per identity.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TtlCache } from '../dns/cache.js';
import type { MailResolver } from '../dns/resolver.js';
import { DEFAULT_IDENTITY, type EgressIdentity } from '../egress/identity.js';
import { EgressPool } from '../egress/pool.js';
import type { TargetPolicy } from '../net/targets.js';
import type { Verdict } from '../verdict.js';
import { CandidateCursor, deadEnd, findCandidates, type Candidate } from './candidates.js';
import { CatchAllProbe } from './catch-all.js';
import { DomainRun, type DomainResult, type Lane } from './domain-run.js';
import { OPEN_GATE, type GateLease, type GateRefusal, type ProbeGate } from './gate.js';
import { HostSession, type SessionEnd, type SessionSettings, type SessionTarget } from './host-session.js';
import { IdentityPicker } from './identity-picker.js';
import { outcomeFrom, type AddressOutcome } from './outcome.js';
import type { VerifyOptions, VerifyRequest } from './verify-request.js';

export { catchAllProbeLocal } from './catch-all.js';
export type { DomainResult } from './domain-run.js';
export type { HostStats } from './host-session.js';
export type { VerifyOptions, VerifyRequest } from './verify-request.js';

export interface EngineSettings extends SessionSettings {
  /** HELO name and MAIL FROM of the `default` identity (used when no pool is given). */
  heloName: string;
  mailFrom: string;
  startTls: boolean;
  rcptPerSession: number;
  catchAllProbe: boolean;
  /** Seconds a catch-all answer is cached. */
  cacheTtlSec: number;
  /** See {@link SLOT_RELEASE_DELAY_MS}. Default that. */
  slotReleaseDelayMs?: number;
}

/**
 * A host counts a connection until it has processed our close, a moment after we closed it (it runs
 * elsewhere: another process, another event-loop turn). A session slot of a pacing gate is given back
 * only this long after its connection closed, so that the next session — this call's or another
 * worker's — never overlaps the last one at the host (a strict host answers that with 421 and counts
 * it against us). The open gate has no slots and no such wait.
 */
export const SLOT_RELEASE_DELAY_MS = 50;

export interface EngineDeps {
  resolver: MailResolver;
  targets: TargetPolicy;
  /** Default: no limits. */
  gate?: ProbeGate;
  /** Where catch-all answers are shared. Default: none (probe every call). */
  catchAllCache?: TtlCache;
  /** Egress identities. Default: one, `default`, from the settings' HELO name and MAIL FROM. */
  egress?: EgressPool;
}

/** A session slot as one identity, or every refusal the gate gave. */
type Acquired = { granted: true; identity: EgressIdentity; lease: GateLease } | { granted: false; refusals: GateRefusal[] };

export class DomainVerifier {
  private readonly gate: ProbeGate;
  private readonly sessions: HostSession;
  private readonly egress: EgressPool;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: EngineDeps,
  ) {
    this.gate = deps.gate ?? OPEN_GATE;
    this.sessions = new HostSession(settings, this.gate);
    this.egress = deps.egress ?? new EgressPool([{ name: DEFAULT_IDENTITY, helo: settings.heloName, mailFrom: settings.mailFrom }]);
  }

  /**
   * When `domain` has no mail route at all (NXDOMAIN, null MX, neither MX nor address records): the final
   * verdict every one of its addresses gets — what `verify` would answer, found with one (cached) DNS
   * question and no SMTP. Null for a domain with MX hosts, or whose DNS failed (`verify` handles those).
   */
  async deadEnd(domain: string): Promise<Verdict | null> {
    return deadEnd(domain, this.deps.resolver);
  }

  async verify(domain: string, requests: VerifyRequest[], signal?: AbortSignal, opts: VerifyOptions = {}): Promise<DomainResult> {
    const found = await findCandidates(domain, this.deps.resolver, this.deps.targets);
    if (found.kind === 'none') return { outcomes: requests.map((r) => found.outcome(r.address)), mxHost: null, catchAll: null, hosts: {}, identities: {} };
    const probe = await CatchAllProbe.start(domain, { enabled: this.settings.catchAllProbe, ttlSec: this.settings.cacheTtlSec, ...(this.deps.catchAllCache ? { cache: this.deps.catchAllCache } : {}) });
    const run = new DomainRun(domain, requests);
    const probeIdentity = opts.catchAllIdentity !== undefined && this.egress.get(opts.catchAllIdentity) ? opts.catchAllIdentity : undefined;
    try {
      const lanes = run.lanes((name) => this.egress.get(name) !== undefined, probeIdentity);
      for (const [n, lane] of lanes.entries()) {
        const picker = new IdentityPicker(this.egress, run.bars, lane.pin, n === 0 ? probeIdentity : undefined);
        if (!signal?.aborted) await this.tryCandidates(found.candidates, run, lane, picker, probe, signal);
        lane.finish(signal?.aborted === true);
      }
    } finally {
      await probe.finish();
    }
    return run.result(probe);
  }

  /**
   * Sessions at the candidates in preference order until every address of the lane has an outcome.
   * At each candidate the lane's identities are tried in turn; an identity the host refused or banned
   * is not used there again in this call (its addresses move to another identity). A candidate is
   * left for the next one when no identity can use it: unreachable, every identity refused or barred,
   * held back by the gate after the host asked us to back off (cooldown), or losing the connection
   * twice. A busy gate or a rate limit in the middle of a conversation ends the lane: its open
   * addresses wait for the throttle.
   */
  private async tryCandidates(candidates: Candidate[], run: DomainRun, lane: Lane, picker: IdentityPicker, probe: CatchAllProbe, signal?: AbortSignal): Promise<void> {
    const cursor = new CandidateCursor(candidates, this.settings.startTls);
    for (let c = cursor.current; c && lane.open > 0 && !signal?.aborted; c = cursor.current) {
      const got = await this.acquire(c, picker, run);
      if (!got.granted) {
        if (!this.noSlot(got.refusals, lane, cursor)) return;
        continue;
      }
      const target: SessionTarget = { candidate: c, identity: got.identity, lease: got.lease, startTls: cursor.startTls };
      const end = await this.session(target, run, lane, probe, signal);
      if (!this.afterSession(end, target, run, lane, picker, probe, cursor)) return;
    }
  }

  /** A session slot at `c` as the first identity of the lane the gate grants. An identity whose circuit is open there is barred at `c`. */
  private async acquire(c: Candidate, picker: IdentityPicker, run: DomainRun): Promise<Acquired> {
    const refusals: GateRefusal[] = [];
    const tried = new Set<string>();
    for (let id = picker.at(c.host)[0]; id !== undefined; id = picker.at(c.host).find((i) => !tried.has(i.name))) {
      tried.add(id.name);
      const r = await this.gate.acquire(c.host, id.name);
      if (r.granted) return { granted: true, identity: id, lease: r };
      refusals.push(r);
      if (r.why === 'open') run.bars.bar(id.name, c.host); // banned here: another identity may take the addresses
    }
    return { granted: false, refusals };
  }

  /**
   * No identity got a slot at this candidate. A busy one (or a cooldown with no other MX left) is
   * waited for: the lane ends, its addresses deferred (false). Otherwise — every identity held back
   * (cooldown), banned (circuit open) or already barred — the next MX is tried (true).
   */
  private noSlot(refusals: GateRefusal[], lane: Lane, cursor: CandidateCursor): boolean {
    const busy = refusals.filter((r) => r.why === 'busy').sort((a, b) => a.retryInMs - b.retryInMs)[0];
    const cooling = refusals.find((r) => r.why === 'cooldown');
    const wait = busy ?? (cursor.hasNext ? undefined : cooling);
    if (wait) {
      lane.wait(wait);
      return false;
    }
    for (const r of refusals) {
      if (r.why === 'cooldown') lane.heldBack(r);
      else if (r.why === 'open') lane.circuitOpen(r);
    }
    cursor.next();
    return true;
  }

  /** One session with the lane's next batch of open addresses; the slot goes back after the connection closed. */
  private async session(t: SessionTarget, run: DomainRun, lane: Lane, probe: CatchAllProbe, signal?: AbortSignal): Promise<SessionEnd> {
    const batch = lane.take(this.settings.rcptPerSession - (probe.request() ? 1 : 0));
    const stats = { host: run.hostStats(t.candidate.host), identity: run.identityStats(t.identity.name) };
    try {
      const end = await this.sessions.run(t, batch, probe, stats, signal);
      if (end.kind !== 'talked') lane.putBack(batch.map((b) => b.index));
      return end;
    } catch (err) {
      lane.putBack(batch.map((b) => b.index));
      throw err;
    } finally {
      await this.releaseAfterClose(t.lease);
    }
  }

  /** Book a session's end. True: go on (same or next candidate, same or other identity); false: the lane is done. */
  private afterSession(end: SessionEnd, t: SessionTarget, run: DomainRun, lane: Lane, picker: IdentityPicker, probe: CatchAllProbe, cursor: CandidateCursor): boolean {
    const host = t.candidate.host;
    const identity = t.identity.name;
    switch (end.kind) {
      case 'tls_failed':
        if (cursor.dropTls()) return true; // the same host in plain text, as MTAs do
        lane.failed(end.failure.classification, end.failure.error);
        cursor.next();
        return true;
      case 'egress_failed':
        lane.failed(end.failure.classification, `egress ${identity}: ${end.failure.error ?? 'unusable'}`);
        run.bars.bar(identity); // this identity cannot reach anything now: the others go on
        return true;
      case 'unreachable':
        lane.failed(end.failure.classification, end.failure.error);
        cursor.next(); // the next MX address, as MTAs do (RFC 5321 §5.1)
        return true;
      case 'refused':
        lane.refused(host, end.failure, identity);
        run.bars.bar(identity, host); // a refused session, not a refused prober: another identity, else the next MX (RFC 5321 §3.8)
        return true;
      case 'talked':
        return this.afterConversation(end, t, run, lane, picker, probe, cursor);
    }
  }

  private afterConversation(end: Extract<SessionEnd, { kind: 'talked' }>, t: SessionTarget, run: DomainRun, lane: Lane, picker: IdentityPicker, probe: CatchAllProbe, cursor: CandidateCursor): boolean {
    const host = t.candidate.host;
    const identity = t.identity.name;
    run.lastHost = host;
    picker.stick(identity);
    lane.putBack(end.unsent);
    if (end.lost) lane.failed(end.lost.classification, end.lost.error);
    const stop = end.stop;
    const notSent = (a: string): AddressOutcome => outcomeFrom(a, stop!.classification, { mxHost: host, reply: stop!.reply, error: 'not attempted: host asked us to back off', catchAll: probe.catchAll, identity });
    if (stop?.classification.reason === 'blocked') {
      // This identity is refused here: its refusals stand only if no other identity (or MX) does better.
      const refusedOnes = new Map([...end.outcomes].filter(([, o]) => o.kind === 'retry' && o.retry === 'blocked'));
      lane.settle(new Map([...end.outcomes].filter(([i]) => !refusedOnes.has(i))));
      lane.holdProvisional(refusedOnes, notSent);
      run.bars.bar(identity, host);
      return true;
    }
    lane.settle(end.outcomes);
    if (stop) {
      // The host asked us to back off: the rest waits for the throttle.
      lane.settleRest(notSent);
      return false;
    }
    if (end.unsent.length > 0) cursor.connectionLost();
    return true;
  }

  private async releaseAfterClose(lease: GateLease): Promise<void> {
    if (lease.beforeRcpt) await sleep(this.settings.slotReleaseDelayMs ?? SLOT_RELEASE_DELAY_MS);
    await lease.release();
  }
}
