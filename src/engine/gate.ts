/**
 * The engine asks a gate before it talks to an MX host: may I open a session, may I send the next
 * RCPT, and here is what the host just told us. The pipeline's gate is the fleet-wide Redis throttle
 * (src/throttle); the default gate lets everything through (single-process use, benchmarks).
 *
 * Budgets and circuits are per (egress identity, MX host): the receiving host sees each identity as a
 * client of its own. The identity is named in every call (`default` when there is one).
 */

import type { RcptFate } from '../smtp/probe-session.js';
import type { PermanentRefusal } from './outcome.js';

/** Something the host did that the throttle should know about. */
export type HostSignal =
  /** 421 / 4.7.x "slow down / too many connections". */
  | 'rate_limited'
  /** A policy refusal of us (554 banner, 5.7.x blocklist texts): signs of a ban. */
  | 'blocked'
  /** TCP connection refused or timed out. */
  | 'connect_failed'
  /** A session went through without complaint. */
  | 'ok';

export interface GateLease {
  granted: true;
  /** The throttle group the host belongs to (provider or host name). */
  group: string;
  /**
   * Wait for the fleet-wide RCPT budget before one RCPT TO; may return a function to tell what became
   * of it (answered, unanswered, unsent), called exactly once. Absent: no pacing (RCPTs are pipelined
   * in one write).
   */
  beforeRcpt?: () => Promise<((fate: RcptFate) => void) | void>;
  /** Give the session slot back. Idempotent. */
  release(): Promise<void>;
}

export interface GateRefusal {
  granted: false;
  /** When to try again. */
  retryInMs: number;
  /** `busy`: all slots taken; `cooldown`: the host asked us to slow down; `open`: circuit open (ban signs). */
  why: 'busy' | 'cooldown' | 'open';
  group: string;
  /** `open` only: the circuit was opened by this permanent refusal (reported with `blocked`). */
  refusal?: PermanentRefusal;
}

/** Details of a report. */
export interface ReportDetail {
  /** The egress identity the host dealt with. Default `default`. */
  identity?: string;
  /**
   * With `blocked` only: the sign is a permanent refusal (a 5xx policy refusal of the prober) — the
   * gate's circuit remembers it and hands it out with its `open` refusals.
   */
  refusal?: PermanentRefusal;
}

export interface ProbeGate {
  /** A session slot at `mxHost` for egress identity `identity` (default `default`). */
  acquire(mxHost: string, identity?: string): Promise<GateLease | GateRefusal>;
  /** What the host did to the session of `detail.identity`. */
  report(mxHost: string, signal: HostSignal, detail?: ReportDetail): Promise<void>;
}

/** A gate without limits. */
export const OPEN_GATE: ProbeGate = {
  async acquire(mxHost: string): Promise<GateLease> {
    return { granted: true, group: mxHost, release: async () => undefined };
  },
  async report(): Promise<void> {
    return undefined;
  },
};
