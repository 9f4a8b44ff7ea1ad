/**
 * The engine asks a gate before it talks to an MX host: may I open a session, may I send the next
 * RCPT, and here is what the host just told us. The pipeline's gate is the fleet-wide Redis throttle
 * (src/throttle); the default gate lets everything through (single-process use, benchmarks).
 */

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
  /** Wait for the fleet-wide RCPT budget before one RCPT TO. Absent: no pacing (RCPTs are pipelined in one write). */
  beforeRcpt?: () => Promise<void>;
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

export interface ProbeGate {
  acquire(mxHost: string): Promise<GateLease | GateRefusal>;
  /**
   * What the host did. `refusal`, with `blocked` only: the sign is a permanent refusal (a 5xx policy
   * refusal of the prober) — the gate's circuit remembers it and hands it out with its `open` refusals.
   */
  report(mxHost: string, signal: HostSignal, refusal?: PermanentRefusal): Promise<void>;
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
