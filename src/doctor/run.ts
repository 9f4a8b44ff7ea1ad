/**
 * The doctor: the machine's DNS resolver, then every check for every egress identity, in order — port 25
 * (the connection also tells the egress IP), egress IP, HELO name, reverse DNS, SPF, DNSBLs.
 */
import type { Config } from '../config.js';
import { loadEgressIdentities } from '../egress/identity.js';
import { DnsClient } from '../dns/client.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { dnsEndpoints, type DnsEndpoint } from '../dns/servers.js';
import { TargetPolicy } from '../net/targets.js';
import { checkDnsbls } from './dnsbl.js';
import { decideEgressIp } from './egress-ip.js';
import { checkHelo } from './helo.js';
import { checkPort25, parsePort25Host, type Port25Check, type Port25Settings } from './port25.js';
import { checkReverseDns } from './reverse-dns.js';
import { checkResolver } from './resolver.js';
import { checkSpfOf, spfDomainOf } from './spf-check.js';
import { needsEgressIp, result, type CheckLevel, type DoctorIdentity, type DoctorReport, type IdentityReport } from './types.js';

/** What the checks need besides the identities. */
export interface DoctorContext {
  dns: DnsQuerier;
  /** The resolvers `dns` asks, as messages name them. */
  resolvers: string;
  port25: Port25Settings;
  dnsblZones: readonly string[];
  /** Skip the port-25 check (no connection at all). */
  offline: boolean;
  /** The public egress IP as the operator gave it (`--ip`, `LISTWASH_DOCTOR_IP`). */
  ip?: string | undefined;
}

/** Options of one run, as the command line gives them. */
export interface DoctorOptions {
  offline?: boolean;
  /** The public egress IP (`--ip`); wins over `LISTWASH_DOCTOR_IP`. */
  ip?: string;
}

/**
 * The identities to check: the egress pool (`LISTWASH_EGRESS_FILE`), or the one identity of
 * `LISTWASH_HELO_NAME` / `LISTWASH_MAIL_FROM` without it.
 */
export function identitiesFromConfig(cfg: Config): DoctorIdentity[] {
  return loadEgressIdentities(cfg).map((e) => ({
    name: e.name,
    helo: e.helo,
    mailFrom: e.mailFrom,
    ...(e.bind ? { bind: e.bind } : {}),
    ...(e.socks ? { socks: `${e.socks.host}:${e.socks.port}` } : {}),
  }));
}

/** The port-25 target and its policy: `LISTWASH_DOCTOR_TARGETS`, else `LISTWASH_ALLOWED_TARGETS`. */
export function port25SettingsFromConfig(cfg: Config): Port25Settings {
  const own = cfg.doctorTargets.length > 0;
  return {
    target: parsePort25Host(cfg.doctorPort25Host, cfg.smtpPort),
    policy: new TargetPolicy(own ? cfg.doctorTargets : cfg.allowedTargets),
    policySetting: own ? 'LISTWASH_DOCTOR_TARGETS' : 'LISTWASH_ALLOWED_TARGETS',
    timeoutMs: cfg.doctorTimeoutMs,
  };
}

/** A context from the configuration, with its own DNS client (`LISTWASH_DNS_SERVERS`); `close()` it after use. */
export function doctorContextFromConfig(cfg: Config, opts: DoctorOptions = {}): DoctorContext & { close(): void } {
  const port25 = port25SettingsFromConfig(cfg);
  const servers = dnsEndpoints(cfg.dnsServers);
  const list = servers.map(endpointText).join(', ');
  const client = new DnsClient({ servers, timeoutMs: cfg.dnsTimeoutMs, tries: cfg.dnsTries });
  return {
    dns: client,
    resolvers: cfg.dnsServers.length > 0 ? `the DNS resolver (LISTWASH_DNS_SERVERS=${list})` : `the system's DNS resolver (${list})`,
    port25,
    dnsblZones: cfg.dnsblZones,
    offline: opts.offline ?? false,
    ip: opts.ip ?? (cfg.doctorIp || undefined),
    close: () => client.close(),
  };
}

/**
 * Run the machine's checks, then every check for every identity (identities one after another, their
 * DNS checks in parallel).
 */
export async function runChecks(ctx: DoctorContext, identities: readonly DoctorIdentity[]): Promise<DoctorReport> {
  const first = identities[0];
  const machine = [await checkResolver(ctx.dns, ctx.resolvers, first ? spfDomainOf(first).domain : 'example.org')];
  const reports: IdentityReport[] = [];
  for (const identity of identities) reports.push(await checkIdentity(ctx, identity));
  const all = [...machine, ...reports.flatMap((r) => r.checks)];
  const count = (level: CheckLevel): number => all.filter((c) => c.level === level).length;
  return { machine, identities: reports, fails: count('fail'), warnings: count('warn'), skipped: count('skip') };
}

async function checkIdentity(ctx: DoctorContext, identity: DoctorIdentity): Promise<IdentityReport> {
  const port25: Port25Check = ctx.offline
    ? { result: result('port25', 'skip', 'not checked (--offline)'), localAddress: null }
    : identity.socks
      ? { result: result('port25', 'skip', `not checked: this identity's probes leave through the SOCKS5 proxy ${identity.socks}, whose machine must reach port 25 (check there)`, { socks: identity.socks }), localAddress: null }
      : await checkPort25(ctx.dns, ctx.port25, identity);
  // Through a proxy the local socket says nothing about the public address: only --ip does.
  const egress = decideEgressIp({ bind: identity.bind, given: ctx.ip, socketLocal: identity.socks ? null : port25.localAddress, offline: ctx.offline });
  const ip = egress.ip;
  const [helo, reverse, spf, dnsbl] = await Promise.all([
    checkHelo(ctx.dns, identity.helo, ip),
    ip ? checkReverseDns(ctx.dns, ip, identity.helo) : needsEgressIp('reverse-dns'),
    ip ? checkSpfOf(ctx.dns, identity, ip) : needsEgressIp('spf'),
    ip ? checkDnsbls(ctx.dns, ip, ctx.dnsblZones) : needsEgressIp('dnsbl'),
  ]);
  return { identity, egressIp: ip, checks: [port25.result, egress.result, helo, reverse, spf, dnsbl] };
}

/** `1.1.1.1`, `127.0.0.1:5353`, `[::1]:5353`: a resolver as messages name it. */
function endpointText(e: DnsEndpoint): string {
  if (e.port === 53) return e.host;
  return e.family === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
