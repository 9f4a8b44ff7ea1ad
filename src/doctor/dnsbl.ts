/**
 * Check: is the egress IP on a DNS blocklist (RFC 5782)? For each zone, `A <reversed ip>.<zone>`:
 * NXDOMAIN = not listed; an answer in 127.0.0.0/8 = listed (the TXT record says why); 127.255.255.x =
 * the list refused to answer (Spamhaus: public resolver, over quota, typo), i.e. "could not check".
 */
import { lookupA, lookupTxt, type Lookup } from '../dns/records.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { reversedLabels } from '../dns/reverse.js';
import { result, type CheckResult } from './types.js';

export type ZoneOutcome =
  | { zone: string; kind: 'clear' }
  | { zone: string; kind: 'listed'; codes: string[]; reason: string | null }
  | { zone: string; kind: 'unchecked'; why: string };

/** Refusal codes in 127.255.255.0/24, as Spamhaus documents them (other lists answer NXDOMAIN or a 127.0.0.x code). */
const REFUSALS: Record<string, string> = {
  '127.255.255.252': 'the list says the zone name is mistyped',
  '127.255.255.254': 'the list refuses queries through public/open resolvers: use your own resolver (LISTWASH_DNS_SERVERS) or a Spamhaus DQS key',
  '127.255.255.255': 'the list says this resolver sent too many queries',
};

/** Pure: what an A answer means. */
export function classifyDnsblAnswer(zone: string, a: Lookup<string>): ZoneOutcome {
  if (a.kind === 'temporary') return { zone, kind: 'unchecked', why: a.detail };
  if (a.kind === 'none') return { zone, kind: 'clear' };
  const refusal = a.values.find((c) => c.startsWith('127.255.255.'));
  if (refusal) return { zone, kind: 'unchecked', why: `${refusal}: ${REFUSALS[refusal] ?? 'the list refused the query'}` };
  const codes = a.values.filter((c) => c.startsWith('127.'));
  if (codes.length === 0) return { zone, kind: 'unchecked', why: `answer ${a.values.join(', ')} is not a blocklist code (a resolver that rewrites NXDOMAIN?)` };
  return { zone, kind: 'listed', codes, reason: null };
}

/** Look `ip` up on one zone (and read the TXT reason when listed). */
export async function lookupDnsbl(dns: DnsQuerier, ip: string, zone: string): Promise<ZoneOutcome> {
  const name = `${reversedLabels(ip)}.${zone}`;
  const outcome = classifyDnsblAnswer(zone, await lookupA(dns, name));
  if (outcome.kind !== 'listed') return outcome;
  const txt = await lookupTxt(dns, name);
  return { ...outcome, reason: txt.kind === 'ok' ? txt.values.join(' / ') : null };
}

export async function checkDnsbls(dns: DnsQuerier, ip: string, zones: readonly string[]): Promise<CheckResult> {
  return judgeDnsbls(ip, await Promise.all(zones.map((z) => lookupDnsbl(dns, ip, z))));
}

/** Pure. */
export function judgeDnsbls(ip: string, outcomes: ZoneOutcome[]): CheckResult {
  const details = { ip, zones: outcomes };
  if (outcomes.length === 0) return result('dnsbl', 'skip', 'not checked: no blocklists configured (LISTWASH_DNSBL_ZONES)', details);
  const listed = outcomes.filter((o) => o.kind === 'listed');
  const unchecked = outcomes.filter((o) => o.kind === 'unchecked');
  const notChecked = unchecked.map((o) => `could not check ${o.zone} (${o.why})`).join('; ');
  if (listed.length > 0) {
    const on = listed.map((o) => `${o.zone} (${o.codes.join(', ')}${o.reason ? `: ${o.reason}` : ''})`).join(', ');
    const also = unchecked.length > 0 ? `; ${notChecked}` : '';
    return result('dnsbl', 'fail', `${ip} is listed on ${on}: servers using these lists refuse the prober, so their results will be unknown/blocked; request delisting (the reason says how) or probe from another IP${also}`, details);
  }
  if (unchecked.length > 0) {
    const clear = outcomes.length - unchecked.length;
    return result('dnsbl', 'warn', `${notChecked}${clear > 0 ? `; not listed on the other ${clear}` : ''}`, details);
  }
  return result('dnsbl', 'ok', `${ip} is not listed on any of ${outcomes.length} blocklists (${outcomes.map((o) => o.zone).join(', ')})`, details);
}
