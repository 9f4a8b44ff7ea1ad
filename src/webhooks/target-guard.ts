/**
 * SSRF guard of webhook connections: the addresses a callback may reach (`LISTWASH_WEBHOOK_ALLOWED_TARGETS`),
 * checked on the address actually connected to — a `lookup` for the HTTP request that hands the socket only
 * allowed addresses (no gap between a check and a second DNS answer: there is one lookup, and it is the
 * one the socket uses), a check of literal IP hosts before any connection, and a last check of the
 * socket's remote address before a byte is written.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { ErrorCodes, ListwashError } from '../errors.js';
import type { TargetPolicy } from '../net/targets.js';

/** `dns.lookup` with `all: true` (replaceable in tests). */
export type ResolveAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolveAll: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, options, callback);

export function targetRefused(host: string, addresses: readonly string[]): ListwashError {
  const list = addresses.length ? addresses.join(', ') : 'no address';
  return new ListwashError(
    ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED,
    `callback host ${host} is ${list}: not allowed by LISTWASH_WEBHOOK_ALLOWED_TARGETS (loopback, private, link-local and metadata addresses are refused unless allowed)`,
    { host, addresses },
  );
}

/** `[::1]` → `::1`: the host of a URL as an address, when it is one. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : null;
}

/** Refuse a URL whose host is an IP address outside the policy (such hosts bypass `lookup`). */
export function checkLiteralHost(hostname: string, policy: TargetPolicy): void {
  const ip = literalAddress(hostname);
  if (ip !== null && !policy.allows(ip)) throw targetRefused(hostname, [ip]);
}

/**
 * A `lookup` for `http.request` that resolves like `dns.lookup` and passes on only the addresses the
 * policy allows; when none is allowed the connection fails with `WEBHOOK_TARGET_NOT_ALLOWED`.
 */
export function guardedLookup(policy: TargetPolicy, resolveAll: ResolveAll = systemResolveAll): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolveAll(hostname, { family: options.family ?? 0, hints: options.hints ?? 0, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => policy.allows(a.address));
      const first = allowed[0];
      if (!first) return callback(targetRefused(hostname, addresses.map((a) => a.address)) as unknown as NodeJS.ErrnoException, []);
      if (options.all) return callback(null, allowed);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Destroy the socket, before anything is written, if it connected to an address outside the policy
 * (defence in depth behind `guardedLookup`).
 */
export function guardSocket(socket: Socket, policy: TargetPolicy, host: string, onRefused: (err: ListwashError) => void): void {
  socket.prependOnceListener('connect', () => {
    const remote = socket.remoteAddress;
    if (remote !== undefined && policy.allows(remote)) return;
    const err = targetRefused(host, remote ? [remote] : []);
    onRefused(err);
    socket.destroy(err);
  });
}
