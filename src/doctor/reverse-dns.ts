/**
 * Check: forward-confirmed reverse DNS (FCrDNS) of the egress IP, matching the HELO name. The PTR of the
 * IP names a host; that host's A/AAAA records include the IP; and it is the HELO name. Gmail, Outlook and
 * many others refuse or distrust a client without it.
 */
import { lookupAddresses, lookupPtr, type Lookup } from '../dns/records.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { sameAddress } from '../dns/reverse.js';
import { result, type CheckResult } from './types.js';

/** PTR names looked at (as RFC 7208 §5.5 does for SPF). */
const MAX_PTR_NAMES = 10;

/** The lookups behind the check. */
export interface ReverseDnsFacts {
  ip: string;
  helo: string;
  ptr: Lookup<string>;
  /** Forward (A/AAAA) lookups of the PTR names. */
  forward: Map<string, Lookup<string>>;
}

export async function checkReverseDns(dns: DnsQuerier, ip: string, helo: string): Promise<CheckResult> {
  const ptr = await lookupPtr(dns, ip);
  const names = ptr.kind === 'ok' ? ptr.values.slice(0, MAX_PTR_NAMES) : [];
  const forward = new Map(await Promise.all(names.map(async (n) => [n, await lookupAddresses(dns, n)] as const)));
  return judgeReverseDns({ ip, helo, ptr, forward });
}

/** Pure. */
export function judgeReverseDns(f: ReverseDnsFacts): CheckResult {
  const { ip, helo, ptr } = f;
  const heloName = helo.toLowerCase().replace(/\.$/, '');
  if (ptr.kind === 'temporary') return result('reverse-dns', 'warn', `could not look up the PTR of ${ip} (${ptr.detail}): not checked`, { ip, detail: ptr.detail });
  if (ptr.kind === 'none') {
    return result('reverse-dns', 'fail', `${ip} has no reverse DNS (PTR): many providers refuse or distrust such a client, so results will be unknown/blocked; ask the owner of ${ip} (your hosting provider) to set its PTR to ${helo}`, { ip });
  }
  const names = [...f.forward.keys()];
  const confirmed = names.filter((n) => {
    const fw = f.forward.get(n);
    return fw?.kind === 'ok' && fw.values.some((a) => sameAddress(a, ip));
  });
  const details = { ip, ptr: ptr.values, confirmed };
  if (confirmed.length === 0) {
    if (names.some((n) => f.forward.get(n)?.kind === 'temporary')) {
      return result('reverse-dns', 'warn', `could not resolve the PTR name(s) ${names.join(', ')} of ${ip}: not checked`, details);
    }
    return result('reverse-dns', 'fail', `the PTR of ${ip} is ${names.join(', ')}, which does not resolve back to ${ip}: receivers take the prober for a spoofed or dynamic host, so results will be unknown/blocked; publish an A record ${names[0]} → ${ip}, or set the PTR to ${helo} (with its A record)`, details);
  }
  if (!confirmed.includes(heloName)) {
    return result('reverse-dns', 'warn', `reverse DNS of ${ip} is ${confirmed[0]} (forward-confirmed), but the HELO name is ${helo}: receivers that compare them distrust the prober; set LISTWASH_HELO_NAME=${confirmed[0]} or change the PTR to ${helo}`, details);
  }
  return result('reverse-dns', 'ok', `${ip} has reverse DNS ${heloName}, which resolves back to it and is the HELO name`, details);
}
