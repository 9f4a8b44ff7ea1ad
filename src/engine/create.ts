/** Build a DomainVerifier from the validated configuration. */
import type { Config } from '../config.js';
import type { TtlCache } from '../dns/cache.js';
import { MailResolver } from '../dns/resolver.js';
import { loadEgressIdentities } from '../egress/identity.js';
import { EgressPool } from '../egress/pool.js';
import { TargetPolicy } from '../net/targets.js';
import type { ProbeGate } from './gate.js';
import { DomainVerifier, type EngineSettings } from './verify-domain.js';

export function engineSettings(cfg: Config): EngineSettings {
  return {
    smtpPort: cfg.smtpPort,
    heloName: cfg.heloName,
    mailFrom: cfg.mailFrom,
    startTls: cfg.startTls,
    tlsVerify: cfg.tlsVerify,
    connectTimeoutMs: cfg.connectTimeoutMs,
    bannerTimeoutMs: cfg.bannerTimeoutMs,
    commandTimeoutMs: cfg.commandTimeoutMs,
    sessionTimeoutMs: cfg.sessionTimeoutMs,
    rcptPerSession: cfg.rcptPerSession,
    rcptPerTransaction: cfg.rcptPerTransaction,
    catchAllProbe: cfg.catchAllProbe,
    cacheTtlSec: cfg.cacheTtlSec,
  };
}

export interface CreateVerifierOptions {
  /** Shared cache for DNS answers and catch-all results. Default: process memory. */
  cache?: TtlCache;
  gate?: ProbeGate;
  resolver?: MailResolver;
  /** Egress identities. Default: from `LISTWASH_EGRESS_FILE`, else the one `default` identity. */
  egress?: EgressPool;
}

export function createVerifier(cfg: Config, opts: CreateVerifierOptions = {}): { verifier: DomainVerifier; resolver: MailResolver } {
  const resolver = opts.resolver ?? MailResolver.fromConfig(cfg, opts.cache);
  const verifier = new DomainVerifier(engineSettings(cfg), {
    resolver,
    targets: new TargetPolicy(cfg.allowedTargets),
    ...(opts.gate ? { gate: opts.gate } : {}),
    ...(opts.cache ? { catchAllCache: opts.cache } : {}),
    egress: opts.egress ?? new EgressPool(loadEgressIdentities(cfg)),
  });
  return { verifier, resolver };
}
