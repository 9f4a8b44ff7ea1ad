/**
 * Typed single-type lookups over a {@link DnsQuerier}: addresses, PTR, TXT, MX. Each answer is one of
 * three kinds, so callers never confuse "no such record" with "could not ask":
 * - `ok`: the records (never empty);
 * - `none`: the name has no such records (`nxdomain` tells NXDOMAIN from NODATA);
 * - `temporary`: SERVFAIL, REFUSED or no answer in time.
 */
import type { DnsResponse, QueryType } from './client.js';
import { DnsTimeoutError } from './client.js';
import type { DnsQuerier } from './mail-route.js';
import { reverseName } from './reverse.js';

export type Lookup<T> = { kind: 'ok'; values: T[] } | { kind: 'none'; nxdomain: boolean } | { kind: 'temporary'; detail: string };

/** One MX record (exchange lower-case, without the trailing dot; `''` for a null MX). */
export interface MxRecord {
  preference: number;
  exchange: string;
}

/** Lower-case, without the trailing dot. */
export function stripDot(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/**
 * Ask one question. NOERROR and NXDOMAIN are answers; SERVFAIL, REFUSED (after the client's tries) and
 * timeouts are `{ temporary }`. Other errors (a programming error, a socket failure) propagate.
 */
export async function ask(dns: DnsQuerier, name: string, type: QueryType): Promise<DnsResponse | { temporary: string }> {
  try {
    const res = await dns.query(name, type);
    if (res.rcode === 'NOERROR' || res.rcode === 'NXDOMAIN') return res;
    return { temporary: `${type} ${name}: ${res.rcode}` };
  } catch (err) {
    if (err instanceof DnsTimeoutError) return { temporary: err.message };
    throw err;
  }
}

/** Query `type` at `name` and map each answer record of that type through `read`. */
async function lookup<T>(dns: DnsQuerier, name: string, type: QueryType, read: (data: unknown) => T): Promise<Lookup<T>> {
  const res = await ask(dns, name, type);
  if ('temporary' in res) return { kind: 'temporary', detail: res.temporary };
  const values = res.answers.filter((a) => a.type === type).map((a) => read(a.data));
  if (values.length > 0) return { kind: 'ok', values };
  return { kind: 'none', nxdomain: res.rcode === 'NXDOMAIN' };
}

/** TXT record data (chunks of ≤ 255 bytes) joined into one string, as SPF and DNSBL reasons read it (RFC 7208 §3.3). */
export function txtString(data: unknown): string {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('');
}

export function lookupA(dns: DnsQuerier, name: string): Promise<Lookup<string>> {
  return lookup(dns, name, 'A', String);
}

export function lookupAaaa(dns: DnsQuerier, name: string): Promise<Lookup<string>> {
  return lookup(dns, name, 'AAAA', String);
}

/** TXT records of `name`, each joined into one string. */
export function lookupTxt(dns: DnsQuerier, name: string): Promise<Lookup<string>> {
  return lookup(dns, name, 'TXT', txtString);
}

/** MX records of `name`. */
export function lookupMx(dns: DnsQuerier, name: string): Promise<Lookup<MxRecord>> {
  return lookup(dns, name, 'MX', (d) => {
    const mx = d as { preference?: number; exchange?: string };
    return { preference: mx.preference ?? 0, exchange: stripDot(mx.exchange ?? '') };
  });
}

/** PTR names of an IP address (lower-case, no trailing dot). */
export function lookupPtr(dns: DnsQuerier, ip: string): Promise<Lookup<string>> {
  return lookup(dns, reverseName(ip), 'PTR', (d) => stripDot(String(d)));
}

/**
 * A and AAAA records of `name` together. `ok` when either has records; otherwise `temporary` when either
 * question failed; otherwise `none` (NXDOMAIN when the A question said so).
 */
export async function lookupAddresses(dns: DnsQuerier, name: string): Promise<Lookup<string>> {
  const [a, aaaa] = await Promise.all([lookupA(dns, name), lookupAaaa(dns, name)]);
  const values = [...(a.kind === 'ok' ? a.values : []), ...(aaaa.kind === 'ok' ? aaaa.values : [])];
  if (values.length > 0) return { kind: 'ok', values };
  if (a.kind === 'temporary') return a;
  if (aaaa.kind === 'temporary') return aaaa;
  return { kind: 'none', nxdomain: a.kind === 'none' && a.nxdomain };
}
