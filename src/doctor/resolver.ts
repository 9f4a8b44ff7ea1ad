/**
 * Check: does the DNS resolver answer? Without it every address ends `unknown/temporary_failure`, and
 * the other checks can only say "could not check" — so this one says FAIL.
 */
import { ask } from '../dns/records.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { result, type CheckResult } from './types.js';

/** Ask `name` MX; NOERROR and NXDOMAIN are answers. `resolvers` describes the servers asked, for messages. */
export async function checkResolver(dns: DnsQuerier, resolvers: string, name: string): Promise<CheckResult> {
  const res = await ask(dns, name, 'MX');
  if ('temporary' in res) {
    return result('dns', 'fail', `${resolvers} did not answer (${res.temporary}): every address would end unknown/temporary_failure; point LISTWASH_DNS_SERVERS at a working resolver`, { resolvers, name, detail: res.temporary });
  }
  return result('dns', 'ok', `${resolvers} answers (MX ${name}: ${res.rcode})`, { resolvers, name, rcode: res.rcode });
}
