/**
 * The progress of one verify call: which addresses are still open, the outcome of each settled one,
 * per-host counters, and what stood in the way of the open ones — so that when no MX is left to try
 * they end with the most useful outcome. Pure bookkeeping, no I/O.
 */
import type { RcptRequest, SessionFailure } from '../smtp/probe-session.js';
import { verdict, type ReplyClassification } from '../verdict.js';
import type { CatchAllProbe } from './catch-all.js';
import type { GateRefusal } from './gate.js';
import type { HostStats } from './host-session.js';
import { outcomeFrom, type AddressOutcome } from './outcome.js';

export interface DomainResult {
  /** One per request, same order. */
  outcomes: AddressOutcome[];
  /** The MX host that answered (the last one used), if any. */
  mxHost: string | null;
  /** Whether the domain accepts any local part; null when not known. */
  catchAll: boolean | null;
  hosts: Record<string, HostStats>;
}

/** An `unknown` address whose candidates ran out: a retry after the last transport failure. */
function connectionRetry(address: string, domain: string, mxHost: string | null, last: { classification: ReplyClassification; error: string | null } | null): AddressOutcome {
  const reason = last?.classification.reason === 'timeout' ? 'timeout' : 'connection_failed';
  const text = `no MX host of ${domain} completed a session${last?.error ? ` (last: ${last.error})` : ''}`;
  return { address, kind: 'retry', retry: 'connection', verdict: verdict(reason, { mxHost: mxHost ?? undefined, smtpReply: text }) };
}

/** A gate refusal as the outcome of an address that was not attempted. */
export function deferredOutcome(address: string, r: GateRefusal): AddressOutcome {
  return { address, kind: 'deferred', retryInMs: r.retryInMs, why: r.why, group: r.group, ...(r.refusal ? { refusal: r.refusal } : {}) };
}

export class DomainRun {
  private readonly outcomes = new Map<number, AddressOutcome>();
  private remaining: number[];
  readonly hosts: Record<string, HostStats> = {};
  /** The last host a session talked to. */
  lastHost: string | null = null;
  /** The first host the gate held back (cooldown) while a later MX was tried: worth waiting for. */
  private waitFor: GateRefusal | null = null;
  /** The first host that answered but refused the session. */
  private refusal: { host: string; failure: SessionFailure } | null = null;
  /** The last transport failure (refused, timed out, connection lost). */
  private lastFailure: { classification: ReplyClassification; error: string | null } | null = null;

  constructor(
    readonly domain: string,
    readonly requests: readonly RcptRequest[],
  ) {
    this.remaining = requests.map((_, i) => i);
  }

  /** Addresses still without an outcome. */
  get open(): number {
    return this.remaining.length;
  }

  /** The counters of `host` (created on first use). */
  stats(host: string): HostStats {
    return (this.hosts[host] ??= { sessions: 0, rcpts: 0, replies4xx: 0, replies5xx: 0, connectFailures: 0, tls: 0 });
  }

  /** Take up to `n` open addresses (at least one) for a session, first come first. */
  take(n: number): { index: number; request: RcptRequest }[] {
    return this.remaining.splice(0, Math.max(1, n)).map((index) => ({ index, request: this.requests[index]! }));
  }

  /** Addresses a session could not send: open again, first in line. */
  putBack(indices: readonly number[]): void {
    this.remaining.unshift(...indices);
  }

  settle(outcomes: ReadonlyMap<number, AddressOutcome>): void {
    for (const [i, o] of outcomes) this.outcomes.set(i, o);
  }

  /** Every open address gets an outcome made from its address. */
  settleRest(make: (address: string) => AddressOutcome): void {
    for (const i of this.remaining.splice(0)) this.outcomes.set(i, make(this.requests[i]!.address));
  }

  /** The gate held a host back (cooldown) and a later MX is tried instead. */
  heldBack(r: GateRefusal): void {
    this.waitFor ??= r;
  }

  /** A host answered but refused the session. */
  refused(host: string, failure: SessionFailure): void {
    this.refusal ??= { host, failure };
  }

  /** A transport failure (no answer at all). */
  failed(classification: ReplyClassification, error: string | null): void {
    this.lastFailure = { classification, error };
  }

  /**
   * The outcomes, one per request. Addresses still open (every MX tried, or aborted) end as the
   * obstacles say: a host worth waiting for → deferred; a refusal → its reply; else a connection retry.
   */
  result(probe: CatchAllProbe, aborted: boolean): DomainResult {
    if (aborted) {
      this.settleRest((a) => ({ address: a, kind: 'retry', retry: 'connection', verdict: verdict('temporary_failure', { mxHost: this.lastHost ?? undefined, smtpReply: 'aborted' }) }));
    }
    const wait = this.waitFor;
    if (wait) this.settleRest((a) => deferredOutcome(a, wait));
    const refusal = this.refusal;
    if (refusal) {
      this.lastHost ??= refusal.host;
      this.settleRest((a) => outcomeFrom(a, refusal.failure.classification, { mxHost: refusal.host, reply: refusal.failure.reply, error: refusal.failure.error, catchAll: null }));
    }
    this.settleRest((a) => connectionRetry(a, this.domain, this.lastHost, this.lastFailure));
    return {
      outcomes: this.requests.map((_, i) => probe.apply(this.outcomes.get(i)!)),
      mxHost: this.lastHost,
      catchAll: probe.catchAll,
      hosts: this.hosts,
    };
  }
}
