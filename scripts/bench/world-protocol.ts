/** IPC messages between a benchmark and its simulated-world child process (see world-child.ts). */
import type { PolitenessViolation, SimWorldEnv } from '../../src/world/index.js';

/** Counters of one simulated MX host, as the host itself saw them. */
export interface HostSnapshot {
  /** TCP connections accepted. */
  connections: number;
  peakConcurrentConnections: number;
  /** RCPT TO commands received (catch-all probes included). */
  rcptCount: number;
  /** Most RCPTs in any window of the requested length (default 1000 ms). */
  maxRcptInWindow: number;
  /** Arrival of the first / last RCPT (world process's `performance.now()`), null when none. */
  firstRcptMs: number | null;
  lastRcptMs: number | null;
  /** DATA + BDAT commands: must be 0. */
  dataCommands: number;
  commands: Record<string, number>;
  rateViolations: number;
  connectionLimitViolations: number;
  /** Connections refused at connect because the client was banned. */
  bannedConnections: number;
  /** RCPTs answered with the greylisting 450. */
  greylisted: number;
}

export interface PolitenessLimits {
  maxConnections: number;
  rcptPerSecond: number;
  windowMs?: number;
}

export type WorldRequest =
  | { type: 'start'; spec: unknown }
  | { type: 'stats'; id: number; limits?: PolitenessLimits }
  | { type: 'reset'; id: number }
  | { type: 'timeline'; id: number; hosts: string[] }
  | { type: 'stop' };

export type WorldReply =
  | { type: 'ready'; env: SimWorldEnv; hosts: string[] }
  | { type: 'stats'; id: number; hosts: Record<string, HostSnapshot>; violations: PolitenessViolation[] }
  | { type: 'ack'; id: number }
  | { type: 'timeline'; id: number; timeOrigin: number; rcptTimestamps: Record<string, number[]> }
  | { type: 'error'; message: string };
