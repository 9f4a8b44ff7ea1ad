/**
 * Check: does the SPF policy of the MAIL FROM domain allow the egress IP? Servers that check SPF at
 * MAIL FROM refuse a probe that fails it, and distrust one that soft-fails.
 */
import type { DnsQuerier } from '../dns/mail-route.js';
import { checkSpf, type SpfVerdict } from './spf-eval.js';
import { result, type CheckResult, type DoctorIdentity } from './types.js';

/** The domain SPF is checked for: the MAIL FROM's, or the HELO name's for a null sender (RFC 7208 §2.4). */
export function spfDomainOf(identity: DoctorIdentity): { domain: string; sender: string } {
  const at = identity.mailFrom.lastIndexOf('@');
  if (at < 0) return { domain: identity.helo, sender: `postmaster@${identity.helo}` };
  return { domain: identity.mailFrom.slice(at + 1), sender: identity.mailFrom };
}

export async function checkSpfOf(dns: DnsQuerier, identity: DoctorIdentity, ip: string): Promise<CheckResult> {
  const { domain, sender } = spfDomainOf(identity);
  return judgeSpf(ip, domain, await checkSpf(dns, { ip, domain, sender, helo: identity.helo }));
}

/** Pure. */
export function judgeSpf(ip: string, domain: string, v: SpfVerdict): CheckResult {
  const details = { ip, domain, result: v.result, decidedBy: v.decidedBy ?? null, reason: v.reason ?? null, lookups: v.lookups };
  const mechanism = ip.includes(':') ? 'ip6' : 'ip4';
  const add = `add ${mechanism}:${ip} to the SPF record of ${domain} (TXT "v=spf1 … ${mechanism}:${ip} -all")`;
  const by = v.decidedBy ? ` ("${v.decidedBy}"${v.domain !== domain ? ` of ${v.domain}` : ''})` : '';
  switch (v.result) {
    case 'pass':
      return result('spf', 'ok', `SPF of ${domain} passes for ${ip}${by}`, details);
    case 'fail':
      return result('spf', 'fail', `SPF of ${domain} fails for ${ip}${by}: servers that check SPF at MAIL FROM refuse the probes, so results will be unknown/blocked; ${add}`, details);
    case 'softfail':
      return result('spf', 'warn', `SPF of ${domain} soft-fails for ${ip}${by}: receivers distrust the probes; ${add}`, details);
    case 'neutral':
      return result('spf', 'warn', `SPF of ${domain} is neutral about ${ip}${by || ` (${v.reason})`}: receivers give the probes no credit; ${add}`, details);
    case 'none':
      return result('spf', 'warn', `${v.reason ?? `${domain} publishes no SPF record`}: some receivers distrust the probes; publish TXT "v=spf1 ${mechanism}:${ip} -all" at ${domain}`, details);
    case 'permerror':
      return result('spf', 'fail', `SPF of ${domain} is broken (${v.reason}): receivers treat it as a failure, so results will be unknown/blocked; fix the record`, details);
    case 'temperror':
      return result('spf', 'warn', `could not evaluate the SPF of ${domain} (${v.reason}): not checked`, details);
  }
}
