/**
 * Turning what a server said into a verdict, and deciding whether it is final. Pure.
 */
import { parseReply, type SmtpReply } from '../smtp/reply.js';
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

/**
 * The deciding reply of a refusal that waiting cannot change (a 5xx policy refusal of the prober,
 * e.g. a DNSBL listing), as an open circuit remembers it for the addresses it then refuses.
 */
export interface PermanentRefusal {
  /** The MX host that refused. */
  mxHost: string;
  /** The reply as the server sent it. */
  reply: string;
}

export type AddressOutcome =
  /** `identity`: the egress identity whose session got the answer. */
  | { address: string; kind: 'final'; verdict: Verdict; identity?: string }
  /**
   * A provisional verdict: the pipeline retries per its schedule and keeps this one if retries run
   * out. `permanent`: a `blocked` verdict from a 5xx policy refusal of the prober — waiting will not
   * change it, so the pipeline ends it at once instead of holding it for the patience.
   */
  | { address: string; kind: 'retry'; retry: RetryKind; verdict: Verdict; permanent?: true; identity?: string }
  /**
   * Not attempted: the gate refused a session slot. `refusal`: the circuit (`open`) was opened by a
   * permanent refusal — the address can end at once with that reply.
   */
  | { address: string; kind: 'deferred'; retryInMs: number; why: 'busy' | 'cooldown' | 'open'; group: string; refusal?: PermanentRefusal };

export interface ReplyEvidence {
  mxHost: string | null;
  reply: SmtpReply | null;
  error: string | null;
  catchAll: boolean | null;
  /** The egress identity of the session. */
  identity?: string;
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

/**
 * Final or retry? Mailbox facts are final; anything that says "not now" or "not you" is retried. A
 * `blocked` answer with a 5xx reply is marked `permanent` (see {@link AddressOutcome}).
 */
export function outcomeFrom(address: string, c: ReplyClassification, ev: ReplyEvidence): AddressOutcome {
  const v = verdictFrom(c, ev);
  const retry = retryKindOf(c);
  const who = ev.identity !== undefined ? { identity: ev.identity } : {};
  if (!retry) return { address, kind: 'final', verdict: v, ...who };
  return isPermanentRefusal(c, ev.reply) ? { address, kind: 'retry', retry, verdict: v, permanent: true, ...who } : { address, kind: 'retry', retry, verdict: v, ...who };
}

/** A policy refusal of the prober with a permanent (5xx) code: waiting cannot change it. 4xx ban signs may pass. */
export function isPermanentRefusal(c: ReplyClassification, reply: SmtpReply | null): reply is SmtpReply {
  return c.reason === 'blocked' && reply !== null && reply.code >= 500 && reply.code < 600;
}

/** The `unknown/blocked` verdict an address gets from a permanent refusal an open circuit remembers. */
export function verdictOfRefusal(r: PermanentRefusal): Verdict {
  const reply = parseReply(r.reply);
  return verdict('blocked', { mxHost: r.mxHost, smtpCode: reply.code || undefined, enhancedCode: reply.enhanced ?? undefined, smtpReply: r.reply });
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
