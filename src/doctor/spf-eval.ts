/**
 * SPF evaluation, `check_host()` of RFC 7208 §4: is `ip` allowed to send for `domain`? Supports every
 * mechanism (`all`, `include`, `a`, `mx`, `ptr`, `ip4`, `ip6`, `exists`), `redirect=`, macros, and the
 * limits of §4.6.4: at most 10 DNS-querying terms, at most 2 void lookups, at most 10 MX / PTR names
 * per term. The DNS answers come from the caller's {@link DnsQuerier}.
 */
import { BlockList, isIP } from 'node:net';
import { lookupA, lookupAaaa, lookupMx, lookupPtr, lookupTxt, type Lookup } from '../dns/records.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { sameAddress } from '../dns/reverse.js';
import { expandMacros, type MacroContext } from './spf-macro.js';
import { isSpfRecord, parseSpf, type Directive, type Mechanism, type Qualifier } from './spf-record.js';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export interface SpfQuery {
  /** The client's IP address (an IPv4-mapped IPv6 address is evaluated as IPv4). */
  ip: string;
  /** The domain whose policy decides: the MAIL FROM domain. */
  domain: string;
  /** The MAIL FROM address. */
  sender: string;
  /** The HELO name (for `%{h}`). */
  helo: string;
}

export interface SpfVerdict {
  result: SpfResult;
  /** The domain whose record decided (differs from the query's after `redirect=`). */
  domain: string;
  /** The deciding directive as written (`-all`, `ip4:…`), or `redirect=…`, if one decided. */
  decidedBy?: string;
  /** Why the result is `none`, `permerror` or `temperror`, or which default applied. */
  reason?: string;
  /** DNS-querying terms evaluated (the RFC 7208 limit is 10). */
  lookups: number;
}

/** RFC 7208 §4.6.4. */
export const SPF_LOOKUP_LIMIT = 10;
export const SPF_VOID_LOOKUP_LIMIT = 2;
/** MX hosts of one `mx` term, and PTR names of one `ptr` term, that are looked at. */
const PER_TERM_NAME_LIMIT = 10;

const QUALIFIER_RESULT: Record<Qualifier, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** Ends an evaluation early with a `permerror` or `temperror`. Internal to this module. */
class SpfStop extends Error {
  constructor(
    readonly result: 'permerror' | 'temperror',
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A domain name check_host() will accept: labels of 1..63 characters, at least two, at most 253 characters. */
export function isSpfDomain(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.replace(/\.$/, '').split('.');
  return labels.length >= 2 && labels.every((l) => l.length > 0 && l.length <= 63);
}

/** Evaluate the SPF policy of `query.domain` for `query.ip`. */
export async function checkSpf(dns: DnsQuerier, query: SpfQuery): Promise<SpfVerdict> {
  return new SpfEvaluation(dns, query).run();
}

/** One evaluation: the counters of §4.6.4 span the whole recursion (includes and redirects). */
class SpfEvaluation {
  private lookups = 0;
  private voidLookups = 0;
  private readonly ip: string;
  private readonly family: 4 | 6;

  constructor(
    private readonly dns: DnsQuerier,
    private readonly query: SpfQuery,
  ) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(query.ip);
    this.ip = mapped ? mapped[1]! : query.ip;
    this.family = isIP(this.ip) === 6 ? 6 : 4;
  }

  async run(): Promise<SpfVerdict> {
    try {
      return { ...(await this.checkHost(this.query.domain.toLowerCase())), lookups: this.lookups };
    } catch (err) {
      if (!(err instanceof SpfStop)) throw err;
      return { result: err.result, domain: this.query.domain.toLowerCase(), reason: err.reason, lookups: this.lookups };
    }
  }

  private async checkHost(domain: string): Promise<Omit<SpfVerdict, 'lookups'>> {
    if (!isSpfDomain(domain)) return { result: 'none', domain, reason: `"${domain}" is not a domain name` };
    const found = await this.policyText(domain);
    if (typeof found !== 'string') return { domain, ...found };
    const parsed = parseSpf(found);
    if (!parsed.ok) throw new SpfStop('permerror', `the SPF record of ${domain} is invalid: ${parsed.error}`);
    const { directives, redirect } = parsed.record;
    for (const d of directives) {
      if (await this.matches(d, domain)) return { result: QUALIFIER_RESULT[d.qualifier], domain, decidedBy: d.text };
    }
    // RFC 7208 §6.1: redirect= applies when nothing matched, and is ignored when the record has "all".
    if (redirect !== undefined && !directives.some((d) => d.mechanism.type === 'all')) {
      this.count();
      const target = this.expand(redirect, domain);
      const r = await this.checkHost(target);
      if (r.result === 'none') throw new SpfStop('permerror', `redirect=${target}: ${target} has no SPF record`);
      return r;
    }
    return { result: 'neutral', domain, reason: 'no mechanism matched and the record has no "all" (the default is neutral)' };
  }

  /** The single SPF record of `domain`, or the result when there is none or it cannot be read. */
  private async policyText(domain: string): Promise<string | { result: SpfResult; reason: string }> {
    const txt = await lookupTxt(this.dns, domain);
    if (txt.kind === 'temporary') throw new SpfStop('temperror', `TXT ${domain}: ${txt.detail}`);
    const records = txt.kind === 'ok' ? txt.values.filter(isSpfRecord) : [];
    if (records.length === 0) return { result: 'none', reason: `${domain} publishes no SPF record${txt.kind === 'none' && txt.nxdomain ? ' (the domain does not exist)' : ''}` };
    if (records.length > 1) throw new SpfStop('permerror', `${domain} publishes ${records.length} SPF records (one is allowed)`);
    return records[0]!;
  }

  private async matches(d: Directive, domain: string): Promise<boolean> {
    const m: Mechanism = d.mechanism;
    switch (m.type) {
      case 'all':
        return true;
      case 'ip4':
      case 'ip6':
        return m.type === `ip${this.family}` && inNetwork(this.ip, m.network, m.prefix);
      case 'a':
        this.count();
        return this.addressMatch(await this.addresses(this.expand(m.domain ?? domain, domain)), m.cidr4, m.cidr6);
      case 'mx':
        this.count();
        return this.mxMatch(this.expand(m.domain ?? domain, domain), m.cidr4, m.cidr6);
      case 'ptr':
        this.count();
        return this.ptrMatch(this.expand(m.domain ?? domain, domain));
      case 'exists': {
        this.count();
        const target = this.expand(m.domain, domain);
        return this.nonVoid(await lookupA(this.dns, target), `A ${target}`).length > 0;
      }
      case 'include':
        this.count();
        return this.includeMatch(this.expand(m.domain, domain));
    }
  }

  /** RFC 7208 §5.2: pass matches; fail, softfail, neutral do not; none and permerror are a permerror. */
  private async includeMatch(target: string): Promise<boolean> {
    const r = await this.checkHost(target);
    if (r.result === 'pass') return true;
    if (r.result === 'none') throw new SpfStop('permerror', `include:${target}: ${target} has no SPF record`);
    return false;
  }

  private async mxMatch(target: string, cidr4: number, cidr6: number): Promise<boolean> {
    const hosts = this.nonVoid(await lookupMx(this.dns, target), `MX ${target}`).filter((mx) => mx.exchange !== '');
    if (hosts.length > PER_TERM_NAME_LIMIT) throw new SpfStop('permerror', `mx:${target} has ${hosts.length} MX hosts (more than ${PER_TERM_NAME_LIMIT})`);
    for (const mx of hosts) {
      const addrs = await this.addresses(mx.exchange, false);
      if (this.addressMatch(addrs, cidr4, cidr6)) return true;
    }
    return false;
  }

  /** RFC 7208 §5.5: a PTR name of the client that resolves back to it and equals or ends in `target`. DNS errors: no match. */
  private async ptrMatch(target: string): Promise<boolean> {
    const ptr = await lookupPtr(this.dns, this.ip);
    if (ptr.kind !== 'ok') {
      if (ptr.kind === 'none') this.countVoid(`PTR of ${this.ip}`);
      return false;
    }
    for (const name of ptr.values.slice(0, PER_TERM_NAME_LIMIT)) {
      if (name !== target && !name.endsWith(`.${target}`)) continue;
      const back = this.family === 4 ? await lookupA(this.dns, name) : await lookupAaaa(this.dns, name);
      if (back.kind === 'ok' && back.values.some((a) => sameAddress(a, this.ip))) return true;
    }
    return false;
  }

  /** The A (IPv4 client) or AAAA (IPv6 client) records of `name`. */
  private async addresses(name: string, countVoid = true): Promise<string[]> {
    const res = this.family === 4 ? await lookupA(this.dns, name) : await lookupAaaa(this.dns, name);
    if (!countVoid && res.kind === 'none') return [];
    return this.nonVoid(res, `${this.family === 4 ? 'A' : 'AAAA'} ${name}`);
  }

  private addressMatch(addresses: string[], cidr4: number, cidr6: number): boolean {
    return addresses.some((a) => isIP(a) === this.family && inNetwork(this.ip, a, this.family === 4 ? cidr4 : cidr6));
  }

  /** The values of a lookup; a temporary failure stops with temperror, an empty answer counts as a void lookup. */
  private nonVoid<T>(res: Lookup<T>, what: string): T[] {
    if (res.kind === 'temporary') throw new SpfStop('temperror', `${what}: ${res.detail}`);
    if (res.kind === 'none') {
      this.countVoid(what);
      return [];
    }
    return res.values;
  }

  private count(): void {
    this.lookups++;
    if (this.lookups > SPF_LOOKUP_LIMIT) throw new SpfStop('permerror', `more than ${SPF_LOOKUP_LIMIT} DNS lookups (include, a, mx, ptr, exists, redirect)`);
  }

  private countVoid(what: string): void {
    this.voidLookups++;
    if (this.voidLookups > SPF_VOID_LOOKUP_LIMIT) throw new SpfStop('permerror', `more than ${SPF_VOID_LOOKUP_LIMIT} lookups found nothing (last: ${what})`);
  }

  private expand(spec: string, domain: string): string {
    const ctx: MacroContext = { ip: this.ip, sender: this.query.sender, domain, helo: this.query.helo };
    const e = expandMacros(spec, ctx);
    if (!e.ok) throw new SpfStop('permerror', `"${spec}": ${e.error}`);
    let name = e.value.toLowerCase().replace(/\.$/, '');
    // RFC 7208 §7.3: an expansion longer than 253 characters loses labels on the left.
    while (name.length > 253 && name.includes('.')) name = name.slice(name.indexOf('.') + 1);
    if (!isSpfDomain(name)) throw new SpfStop('permerror', `"${spec}" is not a domain name`);
    return name;
  }
}

/** Whether `ip` lies in `network/prefix` (same family). */
export function inNetwork(ip: string, network: string, prefix: number): boolean {
  const family = isIP(ip);
  if (family === 0 || family !== isIP(network)) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return list.check(ip, type);
}
