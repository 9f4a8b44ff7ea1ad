/**
 * Where does mail for a domain go? RFC 5321 §5.1 with RFC 7505:
 * - MX records → their hosts in preference order (equal preferences shuffled);
 * - a single `0 .` MX (null MX) → the domain accepts no mail;
 * - no MX (NODATA) → the domain itself is the implicit MX if it has A/AAAA records, else no mail server;
 * - NXDOMAIN → the domain does not exist;
 * - SERVFAIL / REFUSED / timeout → temporary: never a reason to call an address invalid.
 */
import type { DnsResponse, QueryType } from './client.js';
import { ask, stripDot } from './records.js';

export interface MailHost {
  /** Host name (lower-case, no trailing dot). */
  name: string;
  preference: number;
}

export type MailRoute =
  | { kind: 'mx'; hosts: MailHost[]; implicit: boolean }
  | { kind: 'null_mx' }
  | { kind: 'no_domain' }
  | { kind: 'no_mail_server' }
  | { kind: 'temporary'; detail: string };

export type HostAddresses = { kind: 'ok'; addresses: string[] } | { kind: 'none' } | { kind: 'temporary'; detail: string };

/** Something that answers DNS questions (the real client, or a test double). */
export interface DnsQuerier {
  query(name: string, type: QueryType): Promise<DnsResponse>;
}

export interface Timed<T> {
  value: T;
  /** Seconds this answer may be cached. */
  ttl: number;
}

function minTtl(res: DnsResponse, fallback: number): number {
  if (res.answers.length === 0) return res.negativeTtl ?? fallback;
  return Math.min(...res.answers.map((a) => a.ttl));
}

/** Shuffle hosts of equal preference (RFC 5321 §5.1 load spreading), keep preference order. */
export function orderHosts(hosts: MailHost[], random: () => number = Math.random): MailHost[] {
  const byPref = new Map<number, MailHost[]>();
  for (const h of hosts) byPref.set(h.preference, [...(byPref.get(h.preference) ?? []), h]);
  const out: MailHost[] = [];
  for (const pref of [...byPref.keys()].sort((a, b) => a - b)) {
    const group = byPref.get(pref) ?? [];
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j] as MailHost, group[i] as MailHost];
    }
    out.push(...group);
  }
  return out;
}

/** Resolve the mail route of an ASCII (punycode) domain. */
export async function resolveMailRoute(dns: DnsQuerier, domain: string, negativeTtl: number): Promise<Timed<MailRoute>> {
  const mx = await ask(dns, domain, 'MX');
  if ('temporary' in mx) return { value: { kind: 'temporary', detail: mx.temporary }, ttl: 0 };
  if (mx.rcode === 'NXDOMAIN') return { value: { kind: 'no_domain' }, ttl: mx.negativeTtl ?? negativeTtl };
  const records = mx.answers
    .filter((a) => a.type === 'MX')
    .map((a) => a.data as { preference?: number; exchange?: string })
    .map((d) => ({ preference: d.preference ?? 0, name: stripDot(d.exchange ?? '') }));
  if (records.length > 0) {
    const ttl = minTtl(mx, negativeTtl);
    // RFC 7505: a null MX is a single record "0 ."; treat any "." exchange as "no mail here".
    const real = records.filter((r) => r.name !== '');
    if (real.length === 0) return { value: { kind: 'null_mx' }, ttl };
    return { value: { kind: 'mx', hosts: real.sort((a, b) => a.preference - b.preference), implicit: false }, ttl };
  }
  // NODATA for MX: implicit MX is the domain itself, if it has an address (RFC 5321 §5.1).
  const [a, aaaa] = await Promise.all([ask(dns, domain, 'A'), ask(dns, domain, 'AAAA')]);
  const hasA = !('temporary' in a) && a.answers.some((r) => r.type === 'A');
  const hasAaaa = !('temporary' in aaaa) && aaaa.answers.some((r) => r.type === 'AAAA');
  if (hasA || hasAaaa) {
    const ttls = [minTtl(mx, negativeTtl)];
    if (hasA && !('temporary' in a)) ttls.push(minTtl(a, negativeTtl));
    if (hasAaaa && !('temporary' in aaaa)) ttls.push(minTtl(aaaa, negativeTtl));
    return { value: { kind: 'mx', hosts: [{ name: domain.toLowerCase(), preference: 0 }], implicit: true }, ttl: Math.min(...ttls) };
  }
  if ('temporary' in a) return { value: { kind: 'temporary', detail: a.temporary }, ttl: 0 };
  if ('temporary' in aaaa) return { value: { kind: 'temporary', detail: aaaa.temporary }, ttl: 0 };
  if (a.rcode === 'NXDOMAIN') return { value: { kind: 'no_domain' }, ttl: a.negativeTtl ?? negativeTtl };
  return { value: { kind: 'no_mail_server' }, ttl: mx.negativeTtl ?? negativeTtl };
}

/** Resolve an MX host name to its addresses (IPv4 first, then IPv6). */
export async function resolveHostAddresses(dns: DnsQuerier, host: string, negativeTtl: number): Promise<Timed<HostAddresses>> {
  const [a, aaaa] = await Promise.all([ask(dns, host, 'A'), ask(dns, host, 'AAAA')]);
  const v4 = 'temporary' in a ? [] : a.answers.filter((r) => r.type === 'A');
  const v6 = 'temporary' in aaaa ? [] : aaaa.answers.filter((r) => r.type === 'AAAA');
  const all = [...v4, ...v6];
  if (all.length > 0) {
    return { value: { kind: 'ok', addresses: all.map((r) => String(r.data)) }, ttl: Math.min(...all.map((r) => r.ttl)) };
  }
  if ('temporary' in a) return { value: { kind: 'temporary', detail: a.temporary }, ttl: 0 };
  if ('temporary' in aaaa) return { value: { kind: 'temporary', detail: aaaa.temporary }, ttl: 0 };
  return { value: { kind: 'none' }, ttl: a.negativeTtl ?? negativeTtl };
}
