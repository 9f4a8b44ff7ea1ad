/**
 * Check: is the HELO name a fully qualified name that resolves (A/AAAA), ideally to the egress IP?
 * Receivers such as Postfix (`reject_non_fqdn_helo_hostname`, `reject_unknown_helo_hostname`) refuse a
 * client whose HELO name does not.
 */
import { isIP } from 'node:net';
import { lookupAddresses, type Lookup } from '../dns/records.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { sameAddress } from '../dns/reverse.js';
import { result, type CheckResult } from './types.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A name of at least two labels of letters, digits and inner hyphens, whose last label is not numeric. */
export function isFqdn(name: string): boolean {
  if (isIP(name) !== 0 || name.length > 253) return false;
  const labels = name.replace(/\.$/, '').split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

export async function checkHelo(dns: DnsQuerier, helo: string, egressIp: string | null): Promise<CheckResult> {
  if (!isFqdn(helo)) return judgeHelo(helo, null, egressIp);
  return judgeHelo(helo, await lookupAddresses(dns, helo), egressIp);
}

/** Pure: the result from the name's addresses (`null` when the name is not looked up: it is not an FQDN). */
export function judgeHelo(helo: string, addresses: Lookup<string> | null, egressIp: string | null): CheckResult {
  const target = egressIp ?? 'the egress IP';
  if (addresses === null) {
    return result('helo', 'fail', `HELO name "${helo}" is not a fully qualified domain name: many servers refuse such a client, so results will be unknown/blocked; set LISTWASH_HELO_NAME to a name of yours (e.g. verify.example.org) with an A record for ${target}`, { helo });
  }
  if (addresses.kind === 'temporary') return result('helo', 'warn', `could not resolve the HELO name ${helo} (${addresses.detail}): not checked`, { helo, detail: addresses.detail });
  if (addresses.kind === 'none') {
    const what = addresses.nxdomain ? 'does not exist (NXDOMAIN)' : 'has no A/AAAA record';
    return result('helo', 'fail', `HELO name ${helo} ${what}: servers that check it refuse the prober, so results will be unknown/blocked; publish an A record ${helo} → ${target}`, { helo, nxdomain: addresses.nxdomain });
  }
  const list = addresses.values.join(', ');
  if (egressIp !== null && !addresses.values.some((a) => sameAddress(a, egressIp))) {
    return result('helo', 'warn', `HELO name ${helo} resolves to ${list}, not to the egress IP ${egressIp}: receivers that compare them distrust the prober; point its A record at ${egressIp}`, { helo, addresses: addresses.values });
  }
  return result('helo', 'ok', `HELO name ${helo} resolves to ${list}`, { helo, addresses: addresses.values });
}
