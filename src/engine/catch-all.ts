/**
 * The catch-all probe of one domain (the shape of Reacher's `smtp_is_catch_all`): one RCPT TO for a
 * local part nobody has, sent first in the domain's first session. Accepted → the domain accepts any
 * local part (its "accepted" answers become `risky/catch_all`); a mailbox refusal → it does not.
 *
 * Across the fleet one worker probes a domain while the others wait for its answer: the prober
 * `claim`s the domain in the shared cache, publishes the answer as soon as the reply arrives, and
 * releases the claim when it got no definite answer (greylisted, refused, connection lost) so that
 * the next attempt probes instead of waiting.
 */
import { createHash } from 'node:crypto';
import { waitForValue, type TtlCache } from '../dns/cache.js';
import { classifyReply } from '../smtp/classify.js';
import type { RcptOutcome, RcptRequest } from '../smtp/probe-session.js';
import type { SmtpReply } from '../smtp/reply.js';
import { verdict } from '../verdict.js';
import type { AddressOutcome } from './outcome.js';

/** How long a catch-all probe claim lasts, and how long other workers wait for its answer. */
export const CATCH_ALL_CLAIM_SEC = 60;
export const CATCH_ALL_WAIT_MS = 20_000;

export interface CatchAllOptions {
  /** Probe at all (`LISTWASH_CATCH_ALL_PROBE`). */
  enabled: boolean;
  /** Where answers (and claims) are shared. Absent: probe in every call, share nothing. */
  cache?: TtlCache;
  /** Seconds an answer is cached. */
  ttlSec: number;
}

/** A deterministic, random-looking local part for the catch-all probe: stable per domain, so a
 * greylisting server sees the same triplet again on retry. */
export function catchAllProbeLocal(domain: string): string {
  const h = createHash('sha256').update(`listwash-catch-all:${domain}`).digest('hex');
  return `x${h.slice(0, 15)}`;
}

/**
 * What the reply to the catch-all probe says about the domain: accepted → catch-all; a mailbox
 * refusal (not found, disabled, rejected) → not; anything else — greylisting, rate limits, a refusal
 * of the prober — says nothing.
 */
export function catchAllAnswer(reply: SmtpReply): boolean | null {
  const c = classifyReply('rcpt', reply);
  if (c.reason === 'accepted') return true;
  return c.status === 'undeliverable' ? false : null;
}

export class CatchAllProbe {
  /** The probe address (`<stable local part>@<domain>`). */
  readonly address: string;
  private readonly key: string;
  private published = false;
  /**
   * The egress identity whose session got a reply that decided nothing (greylisting): the next
   * attempt must probe from the same identity, or the greylisting triplet never clears.
   */
  undecidedOn: string | null = null;

  private constructor(
    readonly domain: string,
    private readonly opts: CatchAllOptions,
    private known: boolean | null,
    /** The probe RCPT still has to be sent. */
    private wanted: boolean,
    private readonly claimed: boolean,
  ) {
    this.address = `${catchAllProbeLocal(domain)}@${domain}`;
    this.key = `catchall:${domain}`;
  }

  /** The domain's answer from the cache, or the fleet's (waiting for another worker's claim), or a probe still to send. */
  static async start(domain: string, opts: CatchAllOptions): Promise<CatchAllProbe> {
    const key = `catchall:${domain}`;
    const cache = opts.cache;
    const cached = cache ? await cache.get(key) : null;
    if (cached !== null) return new CatchAllProbe(domain, opts, cached === '1', false, false);
    if (!opts.enabled) return new CatchAllProbe(domain, opts, null, false, false);
    if (!cache?.claim) return new CatchAllProbe(domain, opts, null, true, false);
    if (await cache.claim(key, CATCH_ALL_CLAIM_SEC)) return new CatchAllProbe(domain, opts, null, true, true);
    // Another worker is probing this domain right now: use its answer when it comes, else probe ourselves.
    const theirs = await waitForValue(cache, key, CATCH_ALL_WAIT_MS, 200);
    return theirs !== null ? new CatchAllProbe(domain, opts, theirs === '1', false, false) : new CatchAllProbe(domain, opts, null, true, false);
  }

  /** Whether the domain accepts any local part; null while unknown. */
  get catchAll(): boolean | null {
    return this.known;
  }

  /** The probe RCPT to send first in the next session, or null when it is not (or no longer) needed. */
  request(): RcptRequest | null {
    return this.wanted ? { address: this.address } : null;
  }

  /** Session hook: publish the answer the moment the probe's reply arrives, for workers waiting on our claim. */
  readonly onReply = (address: string, reply: SmtpReply): void => {
    const answer = address === this.address ? catchAllAnswer(reply) : null;
    if (answer !== null) this.publish(answer).catch((err: unknown) => process.emitWarning(`listwash: publishing catch-all of ${this.domain}: ${String(err)}`));
  };

  /**
   * The probe's outcome from a session of egress identity `identity`. A definite answer is kept and
   * published. A reply that says nothing (greylisting, other 4xx) ends probing for this call — no
   * further RCPT is spent on it now — and remembers the identity (see {@link undecidedOn}). A refusal
   * of the prober leaves the probe to the call's next session (another identity or MX).
   */
  async settle(r: RcptOutcome, identity?: string): Promise<void> {
    if (r.reply && r.stage === 'rcpt') this.known = catchAllAnswer(r.reply);
    if (this.known !== null) {
      this.wanted = false;
      this.undecidedOn = null;
      await this.publish(this.known);
    } else if (r.reply && classifyReply(r.stage, r.reply).reason !== 'blocked') {
      this.wanted = false;
      this.undecidedOn = identity ?? null;
    }
  }

  /** Done with the domain: a claim without a definite answer is given back, so the next attempt probes instead of waiting. */
  async finish(): Promise<void> {
    if (this.claimed && this.known === null) await this.opts.cache?.release?.(this.key);
  }

  /** An outcome as the domain's nature makes it: on a catch-all domain, "accepted" means `risky/catch_all`. */
  apply(o: AddressOutcome): AddressOutcome {
    if (this.known !== true || o.kind !== 'final' || o.verdict.reason !== 'accepted') return o;
    return { ...o, verdict: { ...o.verdict, ...verdict('catch_all'), catchAll: true } };
  }

  private async publish(value: boolean): Promise<void> {
    if (this.published || !this.opts.cache) return;
    await this.opts.cache.set(this.key, value ? '1' : '0', this.opts.ttlSec);
    this.published = true;
  }
}
