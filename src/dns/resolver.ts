/**
 * The engine's DNS front: mail routes and host addresses, cached by TTL (bounded by config), with
 * concurrent lookups of the same name coalesced into one query.
 */
import type { Config } from '../config.js';
import { MemoryTtlCache, type TtlCache } from './cache.js';
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
}

export class MailResolver {
  private readonly dns: DnsQuerier;
  private readonly cache: TtlCache;
  private readonly maxTtl: number;
  private readonly negTtl: number;
  private readonly prefix: string;
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** DNS queries made (cache misses), for stats. */
  lookups = 0;

  constructor(opts: MailResolverOptions) {
    this.dns = opts.dns;
    this.cache = opts.cache ?? new MemoryTtlCache();
    this.maxTtl = opts.maxTtlSec ?? 3600;
    this.negTtl = opts.negativeTtlSec ?? 300;
    this.prefix = opts.keyPrefix ?? 'dns:';
  }

  static fromConfig(cfg: Config, cache?: TtlCache): MailResolver {
    const client = new DnsClient({ servers: dnsEndpoints(cfg.dnsServers), timeoutMs: cfg.dnsTimeoutMs, tries: cfg.dnsTries });
    return new MailResolver({ dns: client, ...(cache ? { cache } : {}), maxTtlSec: cfg.dnsCacheMaxTtlSec, negativeTtlSec: cfg.dnsNegativeTtlSec });
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
      this.lookups++;
      const { value, ttl } = await fetch();
      await this.cache.set(full, JSON.stringify(value), Math.min(ttl, this.maxTtl));
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
