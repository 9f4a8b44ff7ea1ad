/**
 * The verification engine for one domain's addresses, in named steps (the shape of Reacher's
 * `check_smtp_with_retry`):
 * 1. candidate hosts — mail route (DNS) → (MX host, IP) pairs in preference order (`candidates.ts`);
 * 2. the catch-all probe — from the fleet's cache, or one RCPT in the first session (`catch-all.ts`);
 * 3. the loop over candidates — ask the gate, run a session, move on when a host cannot answer;
 * 4. one session — open → verify a batch of ≤ `rcptPerSession` → classify → report (`host-session.ts`).
 *
 * It never holds more than one session open per call, asks the gate before every session and every
 * RCPT, and reports what hosts say (rate limits, blocks) back to the gate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TtlCache } from '../dns/cache.js';
import type { MailResolver } from '../dns/resolver.js';
import type { TargetPolicy } from '../net/targets.js';
import type { RcptRequest } from '../smtp/probe-session.js';
import { CandidateCursor, findCandidates, type Candidate } from './candidates.js';
import { CatchAllProbe } from './catch-all.js';
import { DomainRun, deferredOutcome, type DomainResult } from './domain-run.js';
import { OPEN_GATE, type GateLease, type GateRefusal, type ProbeGate } from './gate.js';
import { HostSession, type SessionEnd, type SessionSettings } from './host-session.js';
import { outcomeFrom } from './outcome.js';

export { catchAllProbeLocal } from './catch-all.js';
export type { DomainResult } from './domain-run.js';
export type { HostStats } from './host-session.js';

export interface EngineSettings extends SessionSettings {
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
}

export class DomainVerifier {
  private readonly gate: ProbeGate;
  private readonly sessions: HostSession;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: EngineDeps,
  ) {
    this.gate = deps.gate ?? OPEN_GATE;
    this.sessions = new HostSession(settings, this.gate);
  }

  async verify(domain: string, requests: RcptRequest[], signal?: AbortSignal): Promise<DomainResult> {
    const found = await findCandidates(domain, this.deps.resolver, this.deps.targets);
    if (found.kind === 'none') return { outcomes: requests.map((r) => found.outcome(r.address)), mxHost: null, catchAll: null, hosts: {} };
    const probe = await CatchAllProbe.start(domain, { enabled: this.settings.catchAllProbe, ttlSec: this.settings.cacheTtlSec, ...(this.deps.catchAllCache ? { cache: this.deps.catchAllCache } : {}) });
    const run = new DomainRun(domain, requests);
    try {
      await this.tryCandidates(found.candidates, run, probe, signal);
    } finally {
      await probe.finish();
    }
    return run.result(probe, signal?.aborted === true);
  }

  /**
   * Sessions at the candidates in preference order until every address has an outcome. A candidate
   * is left for the next one when it cannot answer: unreachable, refusing the session (421 greeting,
   * 554), held back by the gate after it asked us to back off (cooldown), or losing the connection
   * twice. A busy gate, a rate limit or a refusal in the middle of a conversation ends the call: the
   * open addresses wait for the throttle or end with that reply.
   */
  private async tryCandidates(candidates: Candidate[], run: DomainRun, probe: CatchAllProbe, signal?: AbortSignal): Promise<void> {
    const cursor = new CandidateCursor(candidates, this.settings.startTls);
    for (let c = cursor.current; c && run.open > 0 && !signal?.aborted; c = cursor.current) {
      const lease = await this.gate.acquire(c.host);
      if (!lease.granted) {
        if (!this.holdBack(lease, run, cursor)) return;
        continue;
      }
      const end = await this.session(c, lease, run, probe, cursor.startTls, signal);
      if (!this.afterSession(end, c, run, probe, cursor)) return;
    }
  }

  /** The gate refused a slot. A host that asked us to back off is skipped for the next MX (true); otherwise the open addresses wait for the gate (false: stop). */
  private holdBack(refusal: GateRefusal, run: DomainRun, cursor: CandidateCursor): boolean {
    if (refusal.why === 'cooldown' && cursor.hasNext) {
      run.heldBack(refusal);
      cursor.next();
      return true;
    }
    run.settleRest((a) => deferredOutcome(a, refusal));
    return false;
  }

  /** One session with the next batch of open addresses; the slot goes back after the connection closed. */
  private async session(c: Candidate, lease: GateLease, run: DomainRun, probe: CatchAllProbe, startTls: boolean, signal?: AbortSignal): Promise<SessionEnd> {
    const batch = run.take(this.settings.rcptPerSession - (probe.request() ? 1 : 0));
    try {
      const end = await this.sessions.run(c, lease, batch, probe, run.stats(c.host), startTls, signal);
      if (end.kind !== 'talked') run.putBack(batch.map((b) => b.index));
      return end;
    } catch (err) {
      run.putBack(batch.map((b) => b.index));
      throw err;
    } finally {
      await this.releaseAfterClose(lease);
    }
  }

  /** Book a session's end. True: go on (same or next candidate); false: the call is over. */
  private afterSession(end: SessionEnd, c: Candidate, run: DomainRun, probe: CatchAllProbe, cursor: CandidateCursor): boolean {
    switch (end.kind) {
      case 'tls_failed':
        if (cursor.dropTls()) return true;
        run.failed(end.failure.classification, end.failure.error);
        cursor.next();
        return true;
      case 'unreachable':
        run.failed(end.failure.classification, end.failure.error);
        cursor.next(); // the next MX address, as MTAs do (RFC 5321 §5.1)
        return true;
      case 'refused':
        run.refused(c.host, end.failure);
        cursor.next(); // a refused session, not a refused prober: the next MX address (RFC 5321 §3.8)
        return true;
      case 'talked': {
        run.lastHost = c.host;
        run.settle(end.outcomes);
        run.putBack(end.unsent);
        if (end.lost) run.failed(end.lost.classification, end.lost.error);
        const stop = end.stop;
        if (stop) {
          // The host asked us to back off or refused us: the rest waits for the throttle, or ends with that reply.
          run.settleRest((a) => outcomeFrom(a, stop.classification, { mxHost: c.host, reply: stop.reply, error: 'not attempted: host asked us to back off', catchAll: probe.catchAll }));
          return false;
        }
        if (end.unsent.length > 0) cursor.connectionLost();
        return true;
      }
    }
  }

  private async releaseAfterClose(lease: GateLease): Promise<void> {
    if (lease.beforeRcpt) await sleep(this.settings.slotReleaseDelayMs ?? SLOT_RELEASE_DELAY_MS);
    await lease.release();
  }
}
