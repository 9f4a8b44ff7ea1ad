/**
 * One SMTP session with one MX address as one egress identity, for a batch of one domain's addresses:
 * open → verify the batch (the catch-all probe first while it is still wanted) → classify every reply →
 * report to the gate what the host did. The gate's lease is taken and given back by the caller.
 */
import { ProbeSession, type RcptRequest, type SessionFailure, type VerifyHooks } from '../smtp/probe-session.js';
import type { SmtpReply } from '../smtp/reply.js';
import type { EgressIdentity } from '../egress/identity.js';
import type { IdentityStats } from '../egress/stats.js';
import type { ReplyClassification } from '../verdict.js';
import type { Candidate } from './candidates.js';
import type { CatchAllProbe } from './catch-all.js';
import type { GateLease, ProbeGate } from './gate.js';
import { isPermanentRefusal, outcomeFrom, type AddressOutcome } from './outcome.js';

/** The connection and conversation settings a session needs (see `EngineSettings`); HELO name and MAIL FROM come from the identity. */
export interface SessionSettings {
  smtpPort: number;
  tlsVerify: boolean;
  connectTimeoutMs: number;
  bannerTimeoutMs: number;
  commandTimeoutMs: number;
  sessionTimeoutMs: number;
  rcptPerTransaction: number;
}

/** Per-MX-host counters of a verify call (summary.json's `mxHosts`). */
export interface HostStats {
  sessions: number;
  rcpts: number;
  replies4xx: number;
  replies5xx: number;
  connectFailures: number;
  tls: number;
}

/** An address of the batch: its index in the verify call and its request. */
export interface BatchEntry {
  index: number;
  request: RcptRequest;
}

/** A reply that made the session stop short: the host asked us to back off, or refused us. */
export interface StopReply {
  classification: ReplyClassification;
  reply: SmtpReply | null;
}

/** Where and as whom a session runs. */
export interface SessionTarget {
  candidate: Candidate;
  identity: EgressIdentity;
  lease: GateLease;
  startTls: boolean;
}

/** The counters a session adds to. */
export interface SessionStats {
  host: HostStats;
  identity: IdentityStats;
}

export type SessionEnd =
  /** The STARTTLS handshake failed: the host may be tried again in plain text. */
  | { kind: 'tls_failed'; failure: SessionFailure }
  /** The connection could not leave through the identity (source address, SOCKS5 proxy): another identity may. */
  | { kind: 'egress_failed'; failure: SessionFailure }
  /** No SMTP conversation at all: TCP refused, timed out, or no greeting (tarpit). */
  | { kind: 'unreachable'; failure: SessionFailure }
  /** The host answered but refused this session (421, 554, a 5xx to EHLO). Reported to the gate. */
  | { kind: 'refused'; failure: SessionFailure }
  /**
   * A conversation. `outcomes`: the addresses answered; `unsent`: those that got no answer at all
   * (the connection was lost; `lost` says how); `stop`: a rate limit or refusal of the prober that
   * the rest of the domain's addresses must not be sent after (reported to the gate).
   */
  | { kind: 'talked'; outcomes: Map<number, AddressOutcome>; unsent: number[]; lost: { classification: ReplyClassification; error: string } | null; stop: StopReply | null };

export class HostSession {
  constructor(
    private readonly settings: SessionSettings,
    private readonly gate: ProbeGate,
  ) {}

  /** Run one session. Throws only for programming errors, never for what a server, proxy or network does. */
  async run(t: SessionTarget, batch: BatchEntry[], probe: CatchAllProbe, stats: SessionStats, signal?: AbortSignal): Promise<SessionEnd> {
    const s = this.settings;
    const { candidate, identity } = t;
    const opened = await ProbeSession.open({
      address: candidate.ip,
      port: s.smtpPort,
      serverName: candidate.host,
      heloName: identity.helo,
      mailFrom: identity.mailFrom,
      ...(identity.bind !== undefined ? { localAddress: identity.bind } : {}),
      ...(identity.socks !== undefined ? { socks: identity.socks } : {}),
      startTls: t.startTls,
      tlsVerify: s.tlsVerify,
      connectTimeoutMs: s.connectTimeoutMs,
      bannerTimeoutMs: s.bannerTimeoutMs,
      commandTimeoutMs: s.commandTimeoutMs,
      sessionTimeoutMs: s.sessionTimeoutMs,
      rcptPerTransaction: s.rcptPerTransaction,
      ...(signal ? { signal } : {}),
    });
    stats.host.sessions++;
    stats.identity.sessions++;
    if (!opened.ok) return this.notStarted(t, opened.failure, stats);
    const session = opened.session;
    if (session.tls) stats.host.tls++;
    try {
      return await this.converse(session, t, batch, probe, stats);
    } finally {
      await session.quit();
    }
  }

  private async notStarted(t: SessionTarget, f: SessionFailure, stats: SessionStats): Promise<SessionEnd> {
    const host = t.candidate.host;
    if (f.stage === 'tls') return { kind: 'tls_failed', failure: f };
    if (f.errorKind === 'egress') {
      stats.identity.egressFailures++;
      return { kind: 'egress_failed', failure: f };
    }
    if (f.stage === 'connect' && f.reply === null) {
      stats.host.connectFailures++;
      if (f.errorKind === 'connect_failed' || f.errorKind === 'connect_timeout') await this.gate.report(host, 'connect_failed', { identity: t.identity.name });
      return { kind: 'unreachable', failure: f };
    }
    await this.reportRefusal(t, f, stats.identity);
    return { kind: 'refused', failure: f };
  }

  /** RCPT TO for the batch (after the catch-all probe if wanted), then one outcome per answered address. */
  private async converse(session: ProbeSession, t: SessionTarget, batch: BatchEntry[], probe: CatchAllProbe, stats: SessionStats): Promise<SessionEnd> {
    const host = t.candidate.host;
    const identity = t.identity.name;
    const lease = t.lease;
    const probeRequest = probe.request();
    const sent: RcptRequest[] = batch.map((b) => b.request);
    if (probeRequest) sent.unshift(probeRequest);
    const hooks: VerifyHooks = {
      ...(lease.beforeRcpt ? { beforeRcpt: lease.beforeRcpt } : {}),
      ...(probeRequest ? { onReply: probe.onReply } : {}),
    };
    const results = await session.verify(sent, hooks);
    stats.host.rcpts += session.counters.rcpt;
    stats.host.replies4xx += session.counters.replies4xx;
    stats.host.replies5xx += session.counters.replies5xx;
    stats.identity.rcpts += session.counters.rcpt;
    if (probeRequest) await probe.settle(results[0]!, identity);
    const offset = probeRequest ? 1 : 0;

    const outcomes = new Map<number, AddressOutcome>();
    const unsent: number[] = [];
    let lost = null as { classification: ReplyClassification; error: string } | null;
    let stop = null as StopReply | null;
    batch.forEach((entry, k) => {
      const r = results[k + offset]!;
      if (r.reply === null && r.error !== null && (r.classification.reason === 'connection_failed' || r.classification.reason === 'timeout')) {
        unsent.push(entry.index); // no answer at all: try it again on this or the next host
        lost = { classification: r.classification, error: r.error };
        return;
      }
      outcomes.set(entry.index, outcomeFrom(r.address, r.classification, { mxHost: host, reply: r.reply, error: r.error, catchAll: probe.catchAll, identity }));
      if (r.classification.reason === 'rate_limited' || r.classification.reason === 'blocked') stop = { classification: r.classification, reply: r.reply };
    });
    if (stop) await this.report(t, stop, stats.identity);
    else await this.gate.report(host, 'ok', { identity });
    return { kind: 'talked', outcomes, unsent, lost, stop };
  }

  /**
   * A refused session: a 421 greeting refuses this session, not the prober — back off the host (rate
   * limit), unless its text names a ban of us (DNSBL …); other refusals report what they say.
   */
  private async reportRefusal(t: SessionTarget, f: SessionFailure, stats: IdentityStats): Promise<void> {
    if (f.reply?.code === 421 && f.classification.reason !== 'blocked') {
      stats.rateLimited++;
      await this.gate.report(t.candidate.host, 'rate_limited', { identity: t.identity.name });
    } else {
      await this.report(t, { classification: f.classification, reply: f.reply }, stats);
    }
  }

  /** Rate limits and ban signs go to the gate; a permanent refusal with its reply, for the circuit to remember. */
  private async report(t: SessionTarget, { classification: c, reply }: StopReply, stats: IdentityStats): Promise<void> {
    const host = t.candidate.host;
    const identity = t.identity.name;
    if (c.reason === 'rate_limited') {
      stats.rateLimited++;
      await this.gate.report(host, 'rate_limited', { identity });
    } else if (c.reason === 'blocked') {
      stats.refusals++;
      await this.gate.report(host, 'blocked', isPermanentRefusal(c, reply) ? { identity, refusal: { mxHost: host, reply: reply.raw } } : { identity });
    }
  }
}
