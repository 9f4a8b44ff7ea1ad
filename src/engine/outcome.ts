/**
 * Turning what a server said into a verdict, and deciding whether it is final. Pure.
 */
import type { SmtpReply } from '../smtp/reply.js';
import { verdict, type Reason, type ReplyClassification, type Verdict } from '../verdict.js';

/** Why a provisional answer should be asked again later. */
export type RetryKind =
  /** 4xx about the mailbox/greylisting: retried on the greylist schedule. */
  | 'greylist'
  /** The host asked us to slow down (421 / 4.7.x). */
  | 'rate_limited'
  /** A policy refusal of the prober (ban signs). */
  | 'blocked'
  /** Connection failure, timeout, DNS failure. */
  | 'connection';

export type AddressOutcome =
  | { address: string; kind: 'final'; verdict: Verdict }
  /** A provisional verdict: the pipeline retries per its schedule and keeps this one if retries run out. */
  | { address: string; kind: 'retry'; retry: RetryKind; verdict: Verdict }
  /** Not attempted: the gate refused a session slot. */
  | { address: string; kind: 'deferred'; retryInMs: number; why: 'busy' | 'cooldown' | 'open'; group: string };

export interface ReplyEvidence {
  mxHost: string | null;
  reply: SmtpReply | null;
  error: string | null;
  catchAll: boolean | null;
}

function toReason(c: ReplyClassification): Reason {
  if (c.reason === 'rate_limited' || c.reason === 'too_many_recipients') return 'temporary_failure';
  return c.reason;
}

/** Build the verdict for one classified reply, with its evidence. */
export function verdictFrom(c: ReplyClassification, ev: ReplyEvidence): Verdict {
  let reason = toReason(c);
  if (reason === 'accepted' && ev.catchAll === true) reason = 'catch_all';
  return verdict(reason, {
    mxHost: ev.mxHost ?? undefined,
    smtpCode: ev.reply?.code,
    enhancedCode: ev.reply?.enhanced ?? undefined,
    smtpReply: ev.reply?.raw ?? ev.error ?? undefined,
    catchAll: ev.catchAll ?? undefined,
  });
}

/** Final or retry? Mailbox facts are final; anything that says "not now" or "not you" is retried. */
export function outcomeFrom(address: string, c: ReplyClassification, ev: ReplyEvidence): AddressOutcome {
  const v = verdictFrom(c, ev);
  const retry = retryKindOf(c);
  return retry ? { address, kind: 'retry', retry, verdict: v } : { address, kind: 'final', verdict: v };
}

export function retryKindOf(c: ReplyClassification): RetryKind | null {
  switch (c.reason) {
    case 'greylisted':
    case 'temporary_failure':
    case 'too_many_recipients':
      return 'greylist';
    case 'rate_limited':
      return 'rate_limited';
    case 'blocked':
      return 'blocked';
    case 'timeout':
    case 'connection_failed':
      return 'connection';
    default:
      return null;
  }
}
