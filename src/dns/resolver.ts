/**
 * The engine's DNS front: mail routes and host addresses, cached by TTL (bounded by config), with
 * concurrent lookups of the same name coalesced into one query.
 */
import type { Config } from '../config.js';
import { MemoryTtlCache, waitForValue, type TtlCache } from './cache.js';
import { DnsClient } from './client.js';
import { resolveHostAddresses, resolveMailRoute, type DnsQuerier, type HostAddresses, type MailRoute, type Timed } from './mail-route.js';
import { dnsEndpoints } from './servers.js';

export interface MailResolverOptions {
  dns: DnsQuerier;
  /** Shared answer cache. Default: a process-local memory cache. */
  cache?: TtlCache;
  /** Upper bound on cache lifetime, seconds. Default 3600. */
  maxTtlSec?: number;
  /** Negative-answer lifetime when the server gives none, seconds. Default 300. */
  negativeTtlSec?: number;
  /** Key prefix in the cache. Default `dns:`. */
  keyPrefix?: string;
  /** How long a process waits for another process's lookup of the same name (fleet-wide singleflight). Default 7,000 ms. */
  waitForOthersMs?: number;
}

export class MailResolver {
  private readonly dns: DnsQuerier;
  private readonly cache: TtlCache;
  private readonly maxTtl: number;
  private readonly negTtl: number;
  private readonly prefix: string;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly waitMs: number;
  /** DNS queries made (cache misses), for stats. */
  lookups = 0;

  constructor(opts: MailResolverOptions) {
    this.dns = opts.dns;
    this.cache = opts.cache ?? new MemoryTtlCache();
    this.maxTtl = opts.maxTtlSec ?? 3600;
    this.negTtl = opts.negativeTtlSec ?? 300;
    this.prefix = opts.keyPrefix ?? 'dns:';
    this.waitMs = opts.waitForOthersMs ?? 7_000;
  }

  static fromConfig(cfg: Config, cache?: TtlCache): MailResolver {
    const client = new DnsClient({ servers: dnsEndpoints(cfg.dnsServers), timeoutMs: cfg.dnsTimeoutMs, tries: cfg.dnsTries });
    return new MailResolver({
      dns: client,
      ...(cache ? { cache } : {}),
      maxTtlSec: cfg.dnsCacheMaxTtlSec,
      negativeTtlSec: cfg.dnsNegativeTtlSec,
      waitForOthersMs: cfg.dnsTimeoutMs * cfg.dnsTries * 3 + 1000,
    });
  }

  route(domain: string): Promise<MailRoute> {
    return this.cached(`route:${domain}`, () => resolveMailRoute(this.dns, domain, this.negTtl));
  }

  hostAddresses(host: string): Promise<HostAddresses> {
    return this.cached(`host:${host}`, () => resolveHostAddresses(this.dns, host, this.negTtl));
  }

  private async cached<T>(key: string, fetch: () => Promise<Timed<T>>): Promise<T> {
    const full = this.prefix + key;
    const hit = await this.cache.get(full);
    if (hit !== null) return JSON.parse(hit) as T;
    const running = this.inflight.get(full) as Promise<T> | undefined;
    if (running) return running;
    const p = (async () => {
      // Fleet-wide: if another process is looking this name up right now, wait for its answer.
      if (this.cache.claim && !(await this.cache.claim(full, Math.ceil(this.waitMs / 1000)))) {
        const theirs = await waitForValue(this.cache, full, this.waitMs);
        if (theirs !== null) return JSON.parse(theirs) as T;
      }
      this.lookups++;
      const { value, ttl } = await fetch();
      // A temporary failure is not cached, except briefly for processes waiting on our claim.
      const keep = ttl > 0 ? Math.min(ttl, this.maxTtl) : this.cache.claim ? 2 : 0;
      await this.cache.set(full, JSON.stringify(value), keep);
      return value;
    })();
    this.inflight.set(full, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(full);
    }
  }
}
