/**
 * The progress of one verify call. Its addresses travel in lanes — the ones free to use any egress
 * identity, and one lane per identity that greylisting pinned addresses to. A lane knows which of its
 * addresses are still open, the answers that another identity may still improve (provisional: a ban
 * of one identity), and what stood in the way of the open ones, so that when no MX and no identity is
 * left they end with the most useful outcome. The run holds the settled outcomes and the counters.
 * Pure bookkeeping, no I/O.
 */
import { emptyIdentityStats, type IdentityStats } from '../egress/stats.js';
import type { SessionFailure } from '../smtp/probe-session.js';
import { verdict, type ReplyClassification } from '../verdict.js';
import type { CatchAllProbe } from './catch-all.js';
import type { GateRefusal } from './gate.js';
import type { BatchEntry, HostStats } from './host-session.js';
import { EgressBars } from './identity-picker.js';
import { outcomeFrom, type AddressOutcome } from './outcome.js';
import type { VerifyRequest } from './verify-request.js';

export interface DomainResult {
  /** One per request, same order. */
  outcomes: AddressOutcome[];
  /** The MX host that answered (the last one used), if any. */
  mxHost: string | null;
  /** Whether the domain accepts any local part; null when not known. */
  catchAll: boolean | null;
  /** The egress identity whose catch-all probe was greylisted: the next attempt must probe from it. */
  catchAllIdentity?: string;
  hosts: Record<string, HostStats>;
  /** What each egress identity did in this call. */
  identities: Record<string, IdentityStats>;
}

/** A gate refusal as the outcome of an address that was not attempted. */
export function deferredOutcome(address: string, r: GateRefusal): AddressOutcome {
  return { address, kind: 'deferred', retryInMs: r.retryInMs, why: r.why, group: r.group, ...(r.refusal ? { refusal: r.refusal } : {}) };
}

/** A lane's addresses, and what happened to the open ones. */
export class Lane {
  private remaining: number[];
  /** Answers another identity may still improve (a ban of the identity that got them). */
  private readonly provisional = new Map<number, AddressOutcome>();
  /** The first refusal worth waiting for (busy, or a cooldown when no other MX was left). */
  private waitFor: GateRefusal | null = null;
  /** The first host the gate held back (cooldown) while a later MX was tried. */
  private cooled: GateRefusal | null = null;
  /** An open circuit met; one without a permanent refusal is kept over one with (waiting may help). */
  private circuit: GateRefusal | null = null;
  /** The first host that answered but refused the session. */
  private refusal: { host: string; failure: SessionFailure; identity: string } | null = null;
  /** The last transport failure (refused, timed out, connection lost, egress broken). */
  private lastFailure: { classification: ReplyClassification; error: string | null } | null = null;

  constructor(
    private readonly run: DomainRun,
    /** The identity the lane's addresses are pinned to, if any. */
    readonly pin: string | undefined,
    indices: number[],
  ) {
    this.remaining = indices;
  }

  /** Addresses still without an outcome. */
  get open(): number {
    return this.remaining.length;
  }

  /** Take up to `n` open addresses (at least one) for a session, first come first. */
  take(n: number): BatchEntry[] {
    return this.remaining.splice(0, Math.max(1, n)).map((index) => ({ index, request: this.run.requests[index]! }));
  }

  /** Addresses a session could not send: open again, first in line. */
  putBack(indices: readonly number[]): void {
    this.remaining.unshift(...indices);
  }

  settle(outcomes: ReadonlyMap<number, AddressOutcome>): void {
    for (const [i, o] of outcomes) {
      this.run.outcomes.set(i, o);
      this.provisional.delete(i);
    }
  }

  /** Every open address gets an outcome made from its address. */
  settleRest(make: (address: string) => AddressOutcome): void {
    for (const i of this.remaining.splice(0)) {
      this.run.outcomes.set(i, make(this.run.requests[i]!.address));
      this.provisional.delete(i);
    }
  }

  /**
   * An identity was refused (banned) mid-session: its answers to `answered` are kept as provisional and
   * those addresses are open again, first in line; every other open address without a provisional
   * answer gets one made by `rest`. Another identity (or MX) may still do better.
   */
  holdProvisional(answered: ReadonlyMap<number, AddressOutcome>, rest: (address: string) => AddressOutcome): void {
    for (const i of this.remaining) if (!this.provisional.has(i)) this.provisional.set(i, rest(this.run.requests[i]!.address));
    for (const [i, o] of answered) this.provisional.set(i, o);
    this.putBack([...answered.keys()]);
  }

  /** A refusal that is worth waiting for: the open addresses will be deferred. */
  wait(r: GateRefusal): void {
    this.waitFor ??= r;
  }

  /** The gate held a host back (cooldown) and a later MX is tried instead. */
  heldBack(r: GateRefusal): void {
    this.cooled ??= r;
  }

  /** An open circuit (ban signs) refused an identity. */
  circuitOpen(r: GateRefusal): void {
    if (this.circuit === null || (this.circuit.refusal !== undefined && r.refusal === undefined)) this.circuit = r;
  }

  /** A host answered but refused the session. */
  refused(host: string, failure: SessionFailure, identity: string): void {
    this.refusal ??= { host, failure, identity };
  }

  /** A transport failure (no answer at all). */
  failed(classification: ReplyClassification, error: string | null): void {
    this.lastFailure = { classification, error };
  }

  /**
   * End the addresses still open: aborted → a retry; a host worth waiting for → deferred; an answer of
   * their own from a banned identity → that answer; a refused session → its reply; an open circuit →
   * deferred (with its permanent refusal, if any); else a connection retry after the last failure.
   */
  finish(aborted: boolean): void {
    if (aborted) {
      this.settleRest((a) => ({ address: a, kind: 'retry', retry: 'connection', verdict: verdict('temporary_failure', { mxHost: this.run.lastHost ?? undefined, smtpReply: 'aborted' }) }));
      return;
    }
    const wait = this.waitFor ?? this.cooled;
    if (wait) this.settleRest((a) => deferredOutcome(a, wait));
    const provisional = this.provisional;
    const keep = new Map<number, AddressOutcome>();
    for (const i of this.remaining) {
      const p = provisional.get(i);
      if (p) keep.set(i, p);
    }
    this.remaining = this.remaining.filter((i) => !keep.has(i));
    this.settle(keep);
    const refusal = this.refusal;
    if (refusal) {
      this.run.lastHost ??= refusal.host;
      this.settleRest((a) => outcomeFrom(a, refusal.failure.classification, { mxHost: refusal.host, reply: refusal.failure.reply, error: refusal.failure.error, catchAll: null, identity: refusal.identity }));
    }
    const circuit = this.circuit;
    if (circuit) this.settleRest((a) => deferredOutcome(a, circuit));
    const last = this.lastFailure;
    const reason = last?.classification.reason === 'timeout' ? 'timeout' : 'connection_failed';
    const text = `no MX host of ${this.run.domain} completed a session${last?.error ? ` (last: ${last.error})` : ''}`;
    this.settleRest((a) => ({ address: a, kind: 'retry', retry: 'connection', verdict: verdict(reason, { mxHost: this.run.lastHost ?? undefined, smtpReply: text }) }));
  }
}

export class DomainRun {
  readonly outcomes = new Map<number, AddressOutcome>();
  readonly hosts: Record<string, HostStats> = {};
  readonly identities: Record<string, IdentityStats> = {};
  /** Identities barred at a host (refused, banned) or everywhere (egress broken) for the rest of the call. */
  readonly bars = new EgressBars();
  /** The last host a session talked to. */
  lastHost: string | null = null;

  constructor(
    readonly domain: string,
    readonly requests: readonly VerifyRequest[],
  ) {}

  /**
   * The call's lanes: one per pinned identity the pool has (`known`), and one for the rest. The lane
   * the catch-all probe should go with — pinned to `probeIdentity`, else the unpinned one — comes
   * first: the first session of the call sends the probe (a later lane's, if that lane gets none).
   */
  lanes(known: (identity: string) => boolean, probeIdentity?: string): Lane[] {
    const byPin = new Map<string | undefined, number[]>();
    this.requests.forEach((r, i) => {
      const pin = r.identity !== undefined && known(r.identity) ? r.identity : undefined;
      let list = byPin.get(pin);
      if (!list) byPin.set(pin, (list = []));
      list.push(i);
    });
    const lanes = [...byPin].map(([pin, indices]) => new Lane(this, pin, indices));
    const withProbe = lanes.findIndex((l) => l.pin === probeIdentity);
    const first = withProbe >= 0 ? withProbe : lanes.findIndex((l) => l.pin === undefined);
    if (first > 0) lanes.unshift(...lanes.splice(first, 1));
    return lanes;
  }

  /** The counters of `host` (created on first use). */
  hostStats(host: string): HostStats {
    return (this.hosts[host] ??= { sessions: 0, rcpts: 0, replies4xx: 0, replies5xx: 0, connectFailures: 0, tls: 0 });
  }

  /** The counters of egress identity `name` (created on first use). */
  identityStats(name: string): IdentityStats {
    return (this.identities[name] ??= emptyIdentityStats());
  }

  /** The outcomes, one per request (every lane finished), with the domain's catch-all nature applied. */
  result(probe: CatchAllProbe): DomainResult {
    return {
      outcomes: this.requests.map((_, i) => probe.apply(this.outcomes.get(i)!)),
      mxHost: this.lastHost,
      catchAll: probe.catchAll,
      ...(probe.undecidedOn !== null ? { catchAllIdentity: probe.undecidedOn } : {}),
      hosts: this.hosts,
      identities: this.identities,
    };
  }
}
