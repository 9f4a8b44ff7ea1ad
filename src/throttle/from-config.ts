/**
 * Throttle options from the validated configuration (`src/config.ts`).
 */
import type { Config } from '../config.js';
import type { MxThrottleOptions } from './mx-throttle.js';
import { loadProviderRules } from './providers-file.js';

/**
 * `MxThrottleOptions` from the settings `mxMaxConnections`, `mxRcptPerSecond`, `mxLeaseMs`,
 * `mxCooldownMs`, `providersFile` and `queuePrefix`. The braces of `queuePrefix` (`{listwash}`) are
 * dropped for the throttle's prefix (`listwash:`) so that each group's own `{…}` hash tag decides its
 * Redis Cluster slot. Reads `providersFile` (throws CONFIG_FILE / CONFIG_INVALID).
 */
export function mxThrottleOptionsFromConfig(cfg: Config, extra: MxThrottleOptions = {}): MxThrottleOptions {
  const base = cfg.queuePrefix.replace(/[{}]/g, '');
  return {
    prefix: base === '' ? 'listwash:' : base.endsWith(':') ? base : `${base}:`,
    leaseMs: cfg.mxLeaseMs,
    cooldownMs: cfg.mxCooldownMs,
    // A reply is waited for at most commandTimeoutMs after the RCPT is written (at its slot).
    answerTimeoutMs: cfg.commandTimeoutMs + 5_000,
    providers: loadProviderRules(cfg.providersFile),
    defaults: { maxConnections: cfg.mxMaxConnections, rcptPerSecond: cfg.mxRcptPerSecond },
    ...extra,
  };
}
