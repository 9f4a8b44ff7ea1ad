/** Parse `LISTWASH_DNS_SERVERS` entries (`ip`, `ip:port`, `[v6]:port`) into endpoints. Pure. */
import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import { ErrorCodes, ListwashError } from '../errors.js';

export interface DnsEndpoint {
  host: string;
  port: number;
  family: 4 | 6;
}

export function parseDnsServer(spec: string): DnsEndpoint {
  const s = spec.trim();
  let host = s;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1] ?? '';
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (isIP(s) === 0) {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (m) {
      host = m[1] ?? '';
      port = Number(m[2]);
    }
  }
  const family = isIP(host);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ListwashError(ErrorCodes.CONFIG_INVALID, `LISTWASH_DNS_SERVERS: not ip[:port]: ${JSON.stringify(spec)}`, { setting: 'dnsServers' });
  }
  return { host, port, family: family as 4 | 6 };
}

/** The configured servers, or the system's (from /etc/resolv.conf via Node) when none are configured. */
export function dnsEndpoints(configured: readonly string[]): DnsEndpoint[] {
  const specs = configured.length > 0 ? configured : getServers();
  if (specs.length === 0) {
    throw new ListwashError(ErrorCodes.DNS_FAILURE, 'no DNS servers configured and none found in the system configuration');
  }
  return specs.map(parseDnsServer);
}
