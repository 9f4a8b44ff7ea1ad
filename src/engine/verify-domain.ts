/**
 * The verification engine for one domain's addresses: mail route (DNS) → MX hosts in preference
 * order → SMTP sessions of at most `rcptPerSession` RCPTs each → one outcome per address.
 *
 * It never holds more than one session open per call, asks the gate before every session and
 * every RCPT, and reports what hosts say (rate limits, blocks) back to the gate.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForValue, type TtlCache } from '../dns/cache.js';
import type { MailResolver } from '../dns/resolver.js';
import type { TargetPolicy } from '../net/targets.js';
import { ProbeSession, type RcptRequest, type SessionFailure, type VerifyHooks } from '../smtp/probe-session.js';
import { classifyReply } from '../smtp/classify.js';
import type { SmtpReply } from '../smtp/reply.js';
import { verdict, type ReplyClassification } from '../verdict.js';
import { OPEN_GATE, type GateLease, type GateRefusal, type ProbeGate } from './gate.js';
import { isPermanentRefusal, outcomeFrom, type AddressOutcome } from './outcome.js';

/** How long a catch-all probe claim lasts, and how long other workers wait for its answer. */
const CATCH_ALL_CLAIM_SEC = 60;
const CATCH_ALL_WAIT_MS = 20_000;

export interface EngineSettings {
  smtpPort: number;
  heloName: string;
  mailFrom: string;
  startTls: boolean;
  tlsVerify: boolean;
  connectTimeoutMs: number;
  bannerTimeoutMs: number;
  commandTimeoutMs: number;
  sessionTimeoutMs: number;
  rcptPerSession: number;
  rcptPerTransaction: number;
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

export interface HostStats {
  sessions: number;
  rcpts: number;
  replies4xx: number;
  replies5xx: number;
  connectFailures: number;
  tls: number;
}

export interface DomainResult {
  /** One per request, same order. */
  outcomes: AddressOutcome[];
  /** The MX host that answered (the last one used), if any. */
  mxHost: string | null;
  /** Whether the domain accepts any local part; null when not known. */
  catchAll: boolean | null;
  hosts: Record<string, HostStats>;
}

/** A deterministic, random-looking local part for the catch-all probe: stable per domain, so a
 * greylisting server sees the same triplet again on retry. */
export function catchAllProbeLocal(domain: string): string {
  const h = createHash('sha256').update(`listwash-catch-all:${domain}`).digest('hex');
  return `x${h.slice(0, 15)}`;
}

export class DomainVerifier {
  private readonly gate: ProbeGate;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: EngineDeps,
  ) {
    this.gate = deps.gate ?? OPEN_GATE;
  }

  async verify(domain: string, requests: RcptRequest[], signal?: AbortSignal): Promise<DomainResult> {
    const hosts: Record<string, HostStats> = {};
    const result = (outcomes: AddressOutcome[], mxHost: string | null, catchAll: boolean | null): DomainResult => ({ outcomes, mxHost, catchAll, hosts });
    const all = (make: (address: string) => AddressOutcome) => requests.map((r) => make(r.address));

    const route = await this.deps.resolver.route(domain);
    switch (route.kind) {
      case 'no_domain':
        return result(all((a) => ({ address: a, kind: 'final', verdict: verdict('no_domain', { smtpReply: `DNS: ${domain} does not exist (NXDOMAIN)` }) })), null, null);
      case 'null_mx':
        return result(all((a) => ({ address: a, kind: 'final', verdict: verdict('no_mail_server', { smtpReply: `DNS: ${domain} publishes a null MX (RFC 7505)` }) })), null, null);
      case 'no_mail_server':
        return result(all((a) => ({ address: a, kind: 'final', verdict: verdict('no_mail_server', { smtpReply: `DNS: ${domain} has no MX and no A/AAAA record` }) })), null, null);
      case 'temporary':
        return result(all((a) => ({ address: a, kind: 'retry', retry: 'connection', verdict: verdict('temporary_failure', { smtpReply: `DNS: ${route.detail}` }) })), null, null);
      case 'mx':
        break;
    }

    // Candidate (host, ip) pairs in preference order.
    const candidates: { host: string; ip: string }[] = [];
    let dnsTemporary: string | null = null;
    let disallowed: string | null = null;
    for (const h of route.hosts) {
      const addrs = await this.deps.resolver.hostAddresses(h.name);
      if (addrs.kind === 'temporary') dnsTemporary = addrs.detail;
      if (addrs.kind !== 'ok') continue;
      for (const ip of addrs.addresses) {
        if (this.deps.targets.allows(ip)) candidates.push({ host: h.name, ip });
        else disallowed = `${h.name} [${ip}]`;
      }
    }
    if (candidates.length === 0) {
      if (dnsTemporary) {
        return result(all((a) => ({ address: a, kind: 'retry', retry: 'connection', verdict: verdict('temporary_failure', { smtpReply: `DNS: ${dnsTemporary}` }) })), null, null);
      }
      if (disallowed) {
        const msg = `MX ${disallowed} is outside LISTWASH_ALLOWED_TARGETS; not contacted`;
        return result(all((a) => ({ address: a, kind: 'final', verdict: verdict('connection_failed', { smtpReply: msg }) })), null, null);
      }
      return result(all((a) => ({ address: a, kind: 'final', verdict: verdict('no_mail_server', { smtpReply: `DNS: no MX host of ${domain} has an address` }) })), null, null);
    }

    // Catch-all: known from the cache, else probed first in the first session.
    const cacheKey = `catchall:${domain}`;
    let catchAll: boolean | null = null;
    const cached = this.deps.catchAllCache ? await this.deps.catchAllCache.get(cacheKey) : null;
    if (cached !== null) catchAll = cached === '1';
    const probeAddress = `${catchAllProbeLocal(domain)}@${domain}`;
    let needProbe = this.settings.catchAllProbe && catchAll === null;
    const cache = this.deps.catchAllCache;
    let claimed = false;
    if (needProbe && cache?.claim && !(claimed = await cache.claim(cacheKey, CATCH_ALL_CLAIM_SEC))) {
      // Another worker is probing this domain's catch-all right now: use its answer when it comes.
      const theirs = await waitForValue(cache, cacheKey, CATCH_ALL_WAIT_MS, 200);
      if (theirs !== null) {
        catchAll = theirs === '1';
        needProbe = false;
      }
    }
    const publishCatchAll = async (value: boolean) => {
      if (cache) await cache.set(cacheKey, value ? '1' : '0', this.settings.cacheTtlSec);
    };

    const outcomes = new Map<number, AddressOutcome>();
    let remaining = requests.map((_, i) => i);
    let lastHost: string | null = null;
    let candidateIdx = 0;
    let tlsAllowed = true;
    // Every address is sent at most once per candidate: failures move on to the next candidate.
    let attemptsOnCandidate = 0;
    let lastFailure: ReplyClassification = { status: 'unknown', reason: 'connection_failed' };
    let lastFailureText: string | null = null;
    // The first host that answered but refused the session, if no later host completed one.
    let refusal: { host: string; failure: SessionFailure } | null = null;
    // The first host the gate held back (cooldown) while a later one was tried.
    let cooledDown: GateRefusal | null = null;

    while (remaining.length > 0 && candidateIdx < candidates.length) {
      if (signal?.aborted) break;
      const cand = candidates[candidateIdx]!;
      const stats = (hosts[cand.host] ??= { sessions: 0, rcpts: 0, replies4xx: 0, replies5xx: 0, connectFailures: 0, tls: 0 });
      const lease = await this.gate.acquire(cand.host);
      if (!lease.granted && lease.why === 'cooldown' && candidateIdx + 1 < candidates.length) {
        // The host asked us to back off (421 greeting, slow down): the next MX address may take us.
        cooledDown ??= lease;
        candidateIdx++;
        continue;
      }
      if (!lease.granted) {
        for (const i of remaining) outcomes.set(i, deferredOutcome(requests[i]!.address, lease));
        remaining = [];
        break;
      }
      let opened: Awaited<ReturnType<typeof ProbeSession.open>>;
      try {
        opened = await ProbeSession.open({
          address: cand.ip,
          port: this.settings.smtpPort,
          serverName: cand.host,
          heloName: this.settings.heloName,
          mailFrom: this.settings.mailFrom,
          startTls: this.settings.startTls && tlsAllowed,
          tlsVerify: this.settings.tlsVerify,
          connectTimeoutMs: this.settings.connectTimeoutMs,
          bannerTimeoutMs: this.settings.bannerTimeoutMs,
          commandTimeoutMs: this.settings.commandTimeoutMs,
          sessionTimeoutMs: this.settings.sessionTimeoutMs,
          rcptPerTransaction: this.settings.rcptPerTransaction,
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        await lease.release();
        throw err;
      }
      stats.sessions++;
      if (!opened.ok) {
        await this.releaseAfterClose(lease);
        const f = opened.failure;
        if (f.stage === 'tls' && tlsAllowed) {
          tlsAllowed = false; // retry the same host in plain text, as MTAs do
          continue;
        }
        if (f.stage === 'connect' && f.reply === null) {
          // Refused, unreachable or silent (tarpit): fall through to the next MX address.
          stats.connectFailures++;
          if (f.errorKind === 'connect_failed' || f.errorKind === 'connect_timeout') await this.gate.report(cand.host, 'connect_failed');
          lastFailure = f.classification;
          lastFailureText = f.error;
          candidateIdx++;
          continue;
        }
        // The host answered but refuses this session (421 busy, 554 …): tell the gate, and go on to the
        // next MX address as MTAs do (RFC 5321 §3.8, §5.1). When none is left, the refusal stands.
        await this.reportRefusal(cand.host, f);
        refusal ??= { host: cand.host, failure: f };
        candidateIdx++;
        continue;
      }
      const session = opened.session;
      if (session.tls) stats.tls++;
      lastHost = cand.host;
      try {
        const take = remaining.slice(0, Math.max(1, this.settings.rcptPerSession - (needProbe ? 1 : 0)));
        const batch: RcptRequest[] = take.map((i) => requests[i]!);
        if (needProbe) batch.unshift({ address: probeAddress });
        const hooks: VerifyHooks = { ...this.paced(lease) };
        if (needProbe && cache) {
          // Publish the catch-all answer as soon as it arrives, for workers waiting on our claim.
          hooks.onReply = (address, reply) => {
            const answer = address === probeAddress ? catchAllAnswer(reply) : null;
            if (answer === null) return;
            publishCatchAll(answer).catch((err: unknown) => process.emitWarning(`listwash: publishing catch-all of ${domain}: ${String(err)}`));
          };
        }
        const results = await session.verify(batch, hooks);
        stats.rcpts += session.counters.rcpt;
        stats.replies4xx += session.counters.replies4xx;
        stats.replies5xx += session.counters.replies5xx;
        let offset = 0;
        if (needProbe) {
          offset = 1;
          const probe = results[0]!;
          if (probe.reply && probe.stage === 'rcpt') catchAll = catchAllAnswer(probe.reply);
          if (catchAll !== null) {
            needProbe = false;
            await publishCatchAll(catchAll);
          } else if (probe.reply) {
            needProbe = false; // a 4xx for the probe: undecided, do not spend another RCPT on it now
          }
        }
        // The reply that made us stop (rate limit or ban sign): it decides for the addresses not sent.
        let worst = null as { classification: ReplyClassification; reply: SmtpReply | null } | null;
        const unsent: number[] = [];
        take.forEach((reqIdx, k) => {
          const r = results[k + offset]!;
          if (r.reply === null && r.error !== null && (r.classification.reason === 'connection_failed' || r.classification.reason === 'timeout')) {
            unsent.push(reqIdx); // no answer at all: try it again on this or the next host
            lastFailure = r.classification;
            lastFailureText = r.error;
            return;
          }
          const o = outcomeFrom(r.address, r.classification, { mxHost: cand.host, reply: r.reply, error: r.error, catchAll });
          outcomes.set(reqIdx, o);
          if (r.classification.reason === 'rate_limited' || r.classification.reason === 'blocked') worst = { classification: r.classification, reply: r.reply };
        });
        remaining = [...unsent, ...remaining.slice(take.length)];
        if (worst) await this.report(cand.host, worst.classification, worst.reply);
        else await this.gate.report(cand.host, 'ok');
        if (unsent.length > 0) {
          attemptsOnCandidate++;
          if (attemptsOnCandidate >= 2) {
            candidateIdx++;
            attemptsOnCandidate = 0;
          }
        }
        if (worst) {
          // The host asked us to back off: the rest waits for the throttle, not for another session now.
          for (const i of remaining) {
            outcomes.set(i, outcomeFrom(requests[i]!.address, worst.classification, { mxHost: cand.host, reply: worst.reply, error: 'not attempted: host asked us to back off', catchAll }));
          }
          remaining = [];
        }
      } finally {
        await session.quit();
        await this.releaseAfterClose(lease);
      }
    }
    // We claimed the catch-all probe but got no definite answer (greylisted, connection lost): give
    // the claim back so the next attempt — ours or another worker's — probes instead of waiting.
    if (claimed && catchAll === null) await cache?.release?.(cacheKey);
    // Candidates exhausted (refused, silent, or dropping us) or aborted.
    if (cooledDown && !signal?.aborted) {
      const c = cooledDown;
      for (const i of remaining) outcomes.set(i, deferredOutcome(requests[i]!.address, c));
      remaining = [];
    }
    if (refusal && !signal?.aborted) {
      lastHost ??= refusal.host;
      for (const i of remaining) outcomes.set(i, sessionFailureOutcome(requests[i]!.address, refusal.failure, refusal.host));
      remaining = [];
    }
    for (const i of remaining) {
      const reason = signal?.aborted ? 'temporary_failure' : lastFailure.reason === 'timeout' ? 'timeout' : 'connection_failed';
      const text = signal?.aborted ? 'aborted' : `no MX host of ${domain} completed a session${lastFailureText ? ` (last: ${lastFailureText})` : ''}`;
      outcomes.set(i, { address: requests[i]!.address, kind: 'retry', retry: 'connection', verdict: verdict(reason, { mxHost: lastHost ?? undefined, smtpReply: text }) });
    }
    // Accepted answers given before the catch-all probe decided (or from cache) follow the domain's nature.
    if (catchAll === true) {
      for (const [i, o] of outcomes) {
        if (o.kind === 'final' && o.verdict.reason === 'accepted') outcomes.set(i, { ...o, verdict: { ...o.verdict, ...verdict('catch_all'), catchAll: true } });
      }
    }
    return result(
      requests.map((_, i) => outcomes.get(i)!),
      lastHost,
      catchAll,
    );
  }

  private async releaseAfterClose(lease: GateLease): Promise<void> {
    if (lease.beforeRcpt) await sleep(this.settings.slotReleaseDelayMs ?? SLOT_RELEASE_DELAY_MS);
    await lease.release();
  }

  private paced(lease: GateLease): { beforeRcpt?: () => Promise<void> } {
    return lease.beforeRcpt ? { beforeRcpt: lease.beforeRcpt } : {};
  }

  /**
   * A refused session: a 421 greeting refuses this session, not the prober — back off the host (rate
   * limit), unless its text names a ban of us (DNSBL …); other refusals report what they say.
   */
  private async reportRefusal(host: string, f: SessionFailure): Promise<void> {
    if (f.reply?.code === 421 && f.classification.reason !== 'blocked') await this.gate.report(host, 'rate_limited');
    else await this.report(host, f.classification, f.reply);
  }

  /** Rate limits and ban signs go to the gate; a permanent refusal with its reply, for the circuit to remember. */
  private async report(host: string, c: ReplyClassification, reply: SmtpReply | null): Promise<void> {
    if (c.reason === 'rate_limited') await this.gate.report(host, 'rate_limited');
    else if (isPermanentRefusal(c, reply)) await this.gate.report(host, 'blocked', { mxHost: host, reply: reply.raw });
    else if (c.reason === 'blocked') await this.gate.report(host, 'blocked');
  }
}

/**
 * What the reply to the catch-all probe (a local part nobody has) says about the domain: accepted →
 * catch-all; a mailbox refusal (not found, disabled, rejected) → not; anything else — greylisting,
 * rate limits, a refusal of the prober — says nothing.
 */
export function catchAllAnswer(reply: SmtpReply): boolean | null {
  const c = classifyReply('rcpt', reply);
  if (c.reason === 'accepted') return true;
  return c.status === 'undeliverable' ? false : null;
}

function deferredOutcome(address: string, r: GateRefusal): AddressOutcome {
  return { address, kind: 'deferred', retryInMs: r.retryInMs, why: r.why, group: r.group, ...(r.refusal ? { refusal: r.refusal } : {}) };
}

function sessionFailureOutcome(address: string, f: SessionFailure, host: string): AddressOutcome {
  return outcomeFrom(address, f.classification, { mxHost: host, reply: f.reply, error: f.error, catchAll: null });
}
