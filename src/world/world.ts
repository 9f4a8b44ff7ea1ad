/**
 * `SimWorld`: a whole simulated mail world from a declarative spec — one DNS server plus one SMTP server per
 * MX host, each on its own `127.A.B.C` address (A, B random per world, so parallel test processes do not
 * collide), all MX hosts on one shared SMTP port. Everything binds to loopback only.
 *
 * ```ts
 * const world = await SimWorld.start({
 *   domains: { 'acme.test': { mx: [{ host: 'mx.acme.test', preference: 10 }], expect: { bob: 'accepted' } } },
 *   hosts: { 'mx.acme.test': { mailboxes: ['bob'] } },
 * });
 * const env = world.env(); // LISTWASH_DNS_SERVERS, LISTWASH_SMTP_PORT, LISTWASH_ALLOWED_TARGETS
 * await world.stop();
 * ```
 */
import { isIP } from 'node:net';
import { reverseName, reversedLabels } from '../dns/reverse.js';
import { ErrorCodes, ListwashError, isListwashError } from '../errors.js';
import { REASON_STATUS, type Classification, type Reason } from '../verdict.js';
import { SimDnsServer } from './dns-server.js';
import { normalizeName, type SimZone } from './dns-zone.js';
import { assertLoopback, randomLoopbackSubnet } from './loopback.js';
import { SimMxHost } from './smtp-host.js';
import type { SimMxHostOptions } from './smtp-options.js';
import { maxInWindow } from './smtp-stats.js';

/** One domain of the world. */
export interface SimDomainSpec {
  /**
   * MX records: a list of hosts (names from {@link SimWorldSpec.hosts} get A records in the world; other names
   * are published as given and resolve to NXDOMAIN), `'null'` for an RFC 7505 null MX (`0 .`), or `'none'` for
   * no MX record (mail goes to the A record: implicit MX). Default `'none'`.
   */
  mx?: { host: string; preference: number }[] | 'null' | 'none';
  /** A records of the domain itself: IPv4 literals or names of world hosts (their address). Default none. */
  a?: string[];
  /** AAAA records of the domain itself (IPv6 literals). Default none. */
  aaaa?: string[];
  /** The domain does not exist (NXDOMAIN). Default false. */
  nxdomain?: boolean;
  /** Its DNS answers SERVFAIL. Default false. */
  servfail?: boolean;
  /** Its DNS answers arrive after this many ms (`Infinity`: never). Default 0. */
  dnsDelayMs?: number;
  /** Its UDP DNS answers are truncated (TC), forcing TCP. Default false. */
  truncate?: boolean;
  /** TTL of its records, seconds. Default 300. */
  ttl?: number;
  /** TXT records of the domain, e.g. its SPF policy `v=spf1 ip4:203.0.113.7 -all`. Default none. */
  txt?: (string | string[])[];
  /**
   * The truth: the verdict reason a correct prober should reach, by local part (status follows from the
   * reason). Assumes the prober waits out greylisting and respects the hosts' limits.
   */
  expect?: Record<string, Reason>;
}

/** One MX host of the world: its behaviour, and optionally a fixed loopback address. */
export type SimHostSpec = SimMxHostOptions & {
  /** Fixed address (127.0.0.0/8). Default: the next free `127.A.B.C` of the world. */
  ip?: string;
};

/**
 * A DNS name of the world that is not a mail domain: a prober's HELO name, an SPF `include:` target. Its
 * A/AAAA records may hold any address (the prober's public IP in a doctor test): they are DNS data only, the
 * world binds nothing there, and a prober pointed at the world (`LISTWASH_ALLOWED_TARGETS=loopback`) never
 * connects to a non-loopback address.
 */
export interface SimNameSpec {
  a?: string[];
  aaaa?: string[];
  txt?: (string | string[])[];
  mx?: { host: string; preference: number }[];
  /** The name does not exist (NXDOMAIN). Default false. */
  nxdomain?: boolean;
  /** Its DNS answers SERVFAIL. Default false. */
  servfail?: boolean;
  /** TTL of its records, seconds. Default 300. */
  ttl?: number;
}

/** A listed address of a simulated DNS blocklist: its `A` answer (default `127.0.0.2`) and TXT reason. */
export type SimDnsblListing = string | { code?: string; reason?: string };

/** One DNS blocklist zone served by the world (RFC 5782: `<reversed ip>.<zone>` A and TXT). */
export interface SimDnsblSpec {
  /** Listed addresses (IPv4 or IPv6), each with its answer code and reason. Other addresses: NXDOMAIN. */
  listed?: Record<string, SimDnsblListing>;
  /**
   * Answer every query under the zone with this `A` record (no TXT), whatever the address, e.g.
   * `127.255.255.254`: Spamhaus's "queries through a public resolver are refused". Default: off.
   */
  answerAll?: string;
  /** Every query under the zone is answered SERVFAIL (listings are not published). Default false. */
  servfail?: boolean;
}

/** The whole world. */
export interface SimWorldSpec {
  domains: Record<string, SimDomainSpec>;
  hosts?: Record<string, SimHostSpec>;
  /** Other DNS names (not mail domains), by name. See {@link SimNameSpec}. */
  names?: Record<string, SimNameSpec>;
  /** Reverse DNS: PTR name(s) by IP address (IPv4 or IPv6; DNS data only, nothing binds these addresses). */
  reverse?: Record<string, string | string[]>;
  /** DNS blocklists, by zone (e.g. `zen.dnsbl.test`). */
  dnsbls?: Record<string, SimDnsblSpec>;
}

export interface SimWorldOptions {
  /**
   * SMTP port shared by all hosts; 0 = one ephemeral port (bound by the first host, reused by the others).
   * Default 25 when running as root, else 2525; on EACCES/EADDRINUSE of the default, an ephemeral port. An
   * explicit port never falls back.
   */
  smtpPort?: number;
  /** DNS port. Default 0 (ephemeral). */
  dnsPort?: number;
  /** The `127.A.B` prefix to use, e.g. `[10, 20]`. Default: random A, B in 1..254. */
  subnet?: [number, number];
}

/** One politeness problem found on a host. */
export interface PolitenessViolation {
  host: string;
  /** The client address, for a per-client report. */
  client?: string;
  kind: 'concurrency' | 'rate' | 'data';
  /** What was observed (peak connections, most RCPTs in a window, DATA/BDAT count). */
  observed: number;
  /** The limit it broke (0 for `data`). */
  limit: number;
}

/** Environment for a listwash process that must use this world. */
export interface SimWorldEnv {
  LISTWASH_DNS_SERVERS: string;
  LISTWASH_SMTP_PORT: string;
  LISTWASH_ALLOWED_TARGETS: 'loopback';
  [key: string]: string;
}

/** The `A` answer of a DNSBL listing without an explicit code (RFC 5782 §2.1: 127.0.0.2 means "listed"). */
export const DEFAULT_DNSBL_CODE = '127.0.0.2';

/** Attempts with a fresh random subnet when an address is taken. */
const SUBNET_TRIES = 5;

function invalid(message: string, details: Record<string, unknown> = {}): ListwashError {
  return new ListwashError(ErrorCodes.SIM_WORLD, message, details);
}

function bindErrno(err: unknown): string | undefined {
  if (!isListwashError(err, ErrorCodes.SIM_WORLD)) return undefined;
  const e = err.details.errno;
  return typeof e === 'string' ? e : undefined;
}

/** The truth of a spec: every `expect`ed address with its status and reason. */
export function expectedVerdictsOf(spec: SimWorldSpec): Map<string, Classification> {
  const out = new Map<string, Classification>();
  for (const [domain, d] of Object.entries(spec.domains)) {
    for (const [local, reason] of Object.entries(d.expect ?? {})) {
      out.set(`${local}@${domain}`, { status: REASON_STATUS[reason], reason });
    }
  }
  return out;
}

/** Reject specs that reference unknown hosts or use non-loopback addresses, before anything binds. */
function validate(spec: SimWorldSpec): void {
  const hosts = spec.hosts ?? {};
  for (const [name, h] of Object.entries(hosts)) {
    if (h.ip !== undefined) assertLoopback(h.ip, `host ${name}`);
  }
  for (const [domain, d] of Object.entries(spec.domains)) {
    for (const a of d.a ?? []) {
      if (!(a in hosts)) assertLoopback(a, `A record of ${domain}`);
    }
    for (const ip of d.aaaa ?? []) assertLoopback(ip, `AAAA record of ${domain}`);
    if (Array.isArray(d.mx)) {
      for (const m of d.mx) {
        if (!Number.isInteger(m.preference) || m.preference < 0 || m.preference > 65535) {
          throw invalid(`MX preference of ${domain} must be 0..65535`, { domain, preference: m.preference });
        }
      }
    } else if (d.mx !== undefined && d.mx !== 'null' && d.mx !== 'none') {
      throw invalid(`mx of ${domain} must be a list, 'null' or 'none'`, { domain });
    }
  }
  validateDnsData(spec);
}

/** The names, reverse entries and DNSBL listings must hold IP addresses where addresses are due. */
function validateDnsData(spec: SimWorldSpec): void {
  const needIp = (ip: string, family: 0 | 4 | 6, what: string): void => {
    const f = isIP(ip);
    if (f === 0 || (family !== 0 && f !== family)) throw invalid(`${what}: ${JSON.stringify(ip)} is not an IPv${family || '4/6'} address`, { ip });
  };
  for (const [name, n] of Object.entries(spec.names ?? {})) {
    for (const ip of n.a ?? []) needIp(ip, 4, `A record of ${name}`);
    for (const ip of n.aaaa ?? []) needIp(ip, 6, `AAAA record of ${name}`);
  }
  for (const ip of Object.keys(spec.reverse ?? {})) needIp(ip, 0, 'reverse entry');
  for (const [zone, bl] of Object.entries(spec.dnsbls ?? {})) {
    for (const [ip, listing] of Object.entries(bl.listed ?? {})) {
      needIp(ip, 0, `listing on ${zone}`);
      needIp(typeof listing === 'string' ? listing : (listing.code ?? DEFAULT_DNSBL_CODE), 4, `answer code of ${ip} on ${zone}`);
    }
    if (bl.answerAll !== undefined) needIp(bl.answerAll, 4, `answerAll of ${zone}`);
  }
}

export class SimWorld {
  /** The world's DNS server (after {@link start}). */
  dns!: SimDnsServer;
  private readonly hosts = new Map<string, SimMxHost>();
  private smtpPortBound = 0;
  private prefix = '';
  private started = false;

  constructor(
    readonly spec: SimWorldSpec,
    private readonly options: SimWorldOptions = {},
  ) {
    validate(spec);
  }

  /** Build and start a world. */
  static async start(spec: SimWorldSpec, options: SimWorldOptions = {}): Promise<SimWorld> {
    const w = new SimWorld(spec, options);
    await w.start();
    return w;
  }

  /** The shared SMTP port of all hosts. */
  get smtpPort(): number {
    return this.smtpPortBound;
  }

  /** The world's `127.A.B` prefix. */
  get subnet(): string {
    return this.prefix;
  }

  /** Names of all MX hosts. */
  get hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** The host called `name` (case-insensitive). Throws `SIM_WORLD` for an unknown name. */
  host(name: string): SimMxHost {
    const h = this.hosts.get(normalizeName(name));
    if (!h) throw invalid(`no host ${JSON.stringify(name)} in this world`, { name });
    return h;
  }

  /** Environment that points listwash at this world. Throws `SIM_WORLD` before {@link start}. */
  env(): SimWorldEnv {
    if (!this.started) throw invalid('the world is not started');
    return {
      LISTWASH_DNS_SERVERS: this.dns.address,
      LISTWASH_SMTP_PORT: String(this.smtpPortBound),
      LISTWASH_ALLOWED_TARGETS: 'loopback',
    };
  }

  /** The truth per address (see {@link SimDomainSpec.expect}). */
  expectedVerdicts(): Map<string, Classification> {
    return expectedVerdictsOf(this.spec);
  }

  /** Bind DNS and all hosts. Retries on a fresh random subnet when an address is in use. */
  async start(): Promise<void> {
    if (this.started) return;
    const fixed = this.options.subnet;
    const tries = fixed ? 1 : SUBNET_TRIES;
    for (let i = 0; ; i++) {
      const [a, b] = fixed ?? randomLoopbackSubnet();
      try {
        await this.startOn(`127.${a}.${b}`);
        this.started = true;
        return;
      } catch (err) {
        await this.stopAll();
        if (bindErrno(err) !== 'EADDRINUSE' || i + 1 >= tries) throw err;
      }
    }
  }

  private async startOn(prefix: string): Promise<void> {
    this.prefix = prefix;
    const hostSpecs = Object.entries(this.spec.hosts ?? {});
    const ips = new Map<string, string>();
    let next = 2;
    for (const [name, h] of hostSpecs) {
      if (next > 254) throw invalid('more than 253 hosts in one world');
      ips.set(normalizeName(name), h.ip ?? `${prefix}.${next++}`);
    }
    this.dns = new SimDnsServer({ host: `${prefix}.1`, port: this.options.dnsPort ?? 0 });
    this.publishZones(ips);
    await this.dns.start();
    await this.startHosts(hostSpecs, ips);
  }

  /** Start every host on one port: the requested one, or the default with an ephemeral fallback. */
  private async startHosts(hostSpecs: [string, SimHostSpec][], ips: Map<string, string>): Promise<void> {
    const explicit = this.options.smtpPort;
    let port = explicit ?? (process.getuid?.() === 0 ? 25 : 2525);
    const make = (name: string, h: SimHostSpec, p: number): SimMxHost => {
      const key = normalizeName(name);
      const host = new SimMxHost({ hostname: key, ...h, ip: ips.get(key) as string, port: p });
      this.hosts.set(key, host);
      return host;
    };
    const listeners = hostSpecs.filter(([, h]) => !h.refuse);
    const first = listeners[0];
    if (first) {
      try {
        const h = make(first[0], first[1], port);
        await h.start();
        port = h.port; // differs from the request only for port 0: the others share the ephemeral port
      } catch (err) {
        const errno = bindErrno(err);
        if (explicit !== undefined || (errno !== 'EACCES' && errno !== 'EADDRINUSE')) throw err;
        this.hosts.clear();
        const h = make(first[0], first[1], 0);
        await h.start();
        port = h.port;
      }
    }
    this.smtpPortBound = port;
    for (const [name, h] of hostSpecs) {
      if (name === first?.[0]) continue;
      await make(name, h, port).start();
    }
  }

  /** DNS records for the domains and the MX host names. */
  private publishZones(ips: Map<string, string>): void {
    for (const [name, ip] of ips) this.dns.addZone(name, { a: [ip] });
    for (const [domain, d] of Object.entries(this.spec.domains)) {
      const zone: SimZone = {};
      if (d.ttl !== undefined) zone.ttl = d.ttl;
      if (d.nxdomain) zone.nxdomain = true;
      if (d.servfail) zone.servfail = true;
      if (d.dnsDelayMs !== undefined) zone.delayMs = d.dnsDelayMs;
      if (d.truncate) zone.truncate = true;
      if (d.mx === 'null') zone.mx = [{ preference: 0, exchange: '.' }];
      else if (Array.isArray(d.mx)) zone.mx = d.mx.map((m) => ({ preference: m.preference, exchange: normalizeName(m.host) }));
      if (d.a) zone.a = d.a.map((x) => ips.get(normalizeName(x)) ?? x);
      if (d.aaaa) zone.aaaa = [...d.aaaa];
      if (d.txt) zone.txt = [...d.txt];
      const existing = this.dns.zone(domain);
      // A domain that is also a host name keeps the host's A record unless it sets its own.
      this.dns.addZone(domain, existing && !zone.a ? { ...zone, a: existing.a ?? [] } : zone);
    }
    this.publishNames();
    this.publishReverse();
    this.publishDnsbls();
  }

  /** Records of the spec's other names (a name that is also a host keeps the host's A record unless it sets its own). */
  private publishNames(): void {
    for (const [name, n] of Object.entries(this.spec.names ?? {})) {
      const zone: SimZone = {};
      if (n.ttl !== undefined) zone.ttl = n.ttl;
      if (n.nxdomain) zone.nxdomain = true;
      if (n.servfail) zone.servfail = true;
      if (n.a) zone.a = [...n.a];
      if (n.aaaa) zone.aaaa = [...n.aaaa];
      if (n.txt) zone.txt = [...n.txt];
      if (n.mx) zone.mx = n.mx.map((m) => ({ preference: m.preference, exchange: normalizeName(m.host) }));
      const existing = this.dns.zone(name);
      this.dns.addZone(name, { ...existing, ...zone });
    }
  }

  /** PTR records under in-addr.arpa / ip6.arpa. */
  private publishReverse(): void {
    for (const [ip, names] of Object.entries(this.spec.reverse ?? {})) {
      this.dns.addZone(reverseName(ip), { ptr: (Array.isArray(names) ? names : [names]).map(normalizeName) });
    }
  }

  /** Each DNSBL: its apex (so unlisted addresses get NXDOMAIN), a name per listing, or a wildcard for `answerAll`. */
  private publishDnsbls(): void {
    for (const [zoneName, bl] of Object.entries(this.spec.dnsbls ?? {})) {
      if (bl.servfail) {
        this.dns.addZone(zoneName, { servfail: true });
        continue;
      }
      this.dns.addZone(zoneName, {});
      if (bl.answerAll !== undefined) this.dns.addZone(`*.${zoneName}`, { a: [bl.answerAll] });
      for (const [ip, listing] of Object.entries(bl.listed ?? {})) {
        const { code = DEFAULT_DNSBL_CODE, reason } = typeof listing === 'string' ? { code: listing } : listing;
        this.dns.addZone(`${reversedLabels(ip)}.${zoneName}`, { a: [code], ...(reason !== undefined ? { txt: [reason] } : {}) });
      }
    }
  }

  /**
   * Politeness check against fleet limits: per host, peak concurrent connections above `maxConnections`, more
   * than `rcptPerSecond` RCPTs in any `windowMs` window (default 1000; a caller may pass e.g. 950 to absorb
   * scheduling jitter), and any DATA/BDAT. Empty = polite.
   */
  politenessReport(limits: { maxConnections: number; rcptPerSecond: number; windowMs?: number; perClient?: boolean }): PolitenessViolation[] {
    if (limits.perClient) return this.perClientReport(limits);
    const out: PolitenessViolation[] = [];
    for (const [name, h] of this.hosts) {
      const s = h.stats;
      if (s.peakConcurrentConnections > limits.maxConnections) {
        out.push({ host: name, kind: 'concurrency', observed: s.peakConcurrentConnections, limit: limits.maxConnections });
      }
      const peakRate = s.maxRcptInWindow(limits.windowMs ?? 1000);
      if (peakRate > limits.rcptPerSecond) out.push({ host: name, kind: 'rate', observed: peakRate, limit: limits.rcptPerSecond });
      if (s.dataCommands > 0) out.push({ host: name, kind: 'data', observed: s.dataCommands, limit: 0 });
    }
    return out;
  }

  /**
   * The same check per (host, client address): the limits each egress identity of a prober must keep
   * at each host, since every identity is its own client to the host.
   */
  private perClientReport(limits: { maxConnections: number; rcptPerSecond: number; windowMs?: number }): PolitenessViolation[] {
    const out: PolitenessViolation[] = [];
    for (const [name, h] of this.hosts) {
      for (const [client, c] of h.stats.clients) {
        if (c.peakConcurrentConnections > limits.maxConnections) out.push({ host: name, client, kind: 'concurrency', observed: c.peakConcurrentConnections, limit: limits.maxConnections });
        const peakRate = maxInWindow(c.rcptTimestamps, limits.windowMs ?? 1000);
        if (peakRate > limits.rcptPerSecond) out.push({ host: name, client, kind: 'rate', observed: peakRate, limit: limits.rcptPerSecond });
      }
      if (h.stats.dataCommands > 0) out.push({ host: name, kind: 'data', observed: h.stats.dataCommands, limit: 0 });
    }
    return out;
  }

  /** Zero the stats of every host and the DNS query counts. */
  resetStats(): void {
    for (const h of this.hosts.values()) h.resetStats();
    this.dns.resetStats();
  }

  /** Stop DNS and every host. */
  async stop(): Promise<void> {
    this.started = false;
    await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    const hosts = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.all([...hosts.map((h) => h.stop()), this.dns?.stop()]);
  }
}
