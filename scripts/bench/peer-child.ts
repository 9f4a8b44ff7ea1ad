/**
 * deep-email-validator (the peer of bench:peers) in a process of its own, pointed at the simulated world:
 * its globals (the default DNS resolver, `net.createConnection`) are changed here, never in listwash's process.
 *
 * How the peer reaches the network (0.1.27, read in node_modules/deep-email-validator/dist/index.js):
 * - DNS: `dns.resolveMx(domain)` on the default resolver, lowest preference first; any error → "MX record
 *   not found". Here `dns.setServers([world DNS])` points it at the world's DNS server.
 * - SMTP: `net.createConnection(25, mx.exchange)`: port 25 fixed, the MX name resolved by the system resolver
 *   (getaddrinfo, which does not know the world's names). Here `net.createConnection` is wrapped: port 25 goes
 *   to the world's SMTP port and the name is resolved by the world's DNS only; a name that resolves to nothing
 *   or to a non-loopback address is refused, so nothing ever leaves loopback. A null MX (`0 .`) gives the peer
 *   the exchange `''`, which Node connects to `localhost`: answered here as a machine without a local MTA would
 *   (ECONNREFUSED).
 * - One connection per address: `HELO <mx name>`, `MAIL FROM`, `RCPT TO`, then the socket is destroyed (no
 *   QUIT). Socket idle timeout 10 s, fixed. No retries, no throttle, no backup MX.
 *
 * Forked by bench-peers.ts: `{ addresses, dnsServer, smtpPort, concurrency, sender, tlds }` over IPC; answers
 * `{ ok: true, ms, outputs }` (one output per address, in order) or `{ ok: false, error }`, then exits.
 */
import dns from 'node:dns';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { isLoopback } from '../../src/world/loopback.js';
import { mapLimit } from './common.js';
import type { PeerOutput } from './peer-answer.js';

export interface PeerRequest {
  addresses: string[];
  /** The world's DNS server, `ip:port`. */
  dnsServer: string;
  /** The world's SMTP port (the peer always dials 25). */
  smtpPort: number;
  /** validate() calls in flight at once. */
  concurrency: number;
  /** MAIL FROM (the peer's `sender` option). */
  sender: string;
  /** Extra TLDs for its typo check (the peer's `additionalTopLevelDomains` option). */
  tlds: string[];
}

export type PeerReply = { ok: true; ms: number; outputs: PeerOutput[] } | { ok: false; error: string };

function lookupError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** A `lookup` for sockets that asks the world's DNS only and admits loopback addresses only. */
function worldLookup(resolver: dns.Resolver): net.LookupFunction {
  return (hostname, options, callback) => {
    const done = (err: NodeJS.ErrnoException | null, ip: string) => {
      if (err) return callback(err, options.all ? [] : '', 4);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, [{ address: ip, family: 4 }]);
      return callback(null, ip, 4);
    };
    if (hostname === '' || hostname === 'localhost') return done(lookupError(`connect ECONNREFUSED ${hostname || 'localhost'}:25 (no local MTA)`, 'ECONNREFUSED'), '');
    resolver.resolve4(hostname, (err, ips) => {
      const ip = ips?.[0];
      if (err || ip === undefined) return done(err ?? lookupError(`getaddrinfo ENOTFOUND ${hostname}`, 'ENOTFOUND'), '');
      if (!isLoopback(ip)) return done(lookupError(`${hostname} resolves to ${ip}, not loopback: refused`, 'EACCES'), '');
      done(null, ip);
    });
  };
}

/** Point the peer's DNS and SMTP at the world (see the module comment). */
function pointAtWorld(dnsServer: string, smtpPort: number): void {
  dns.setServers([dnsServer]);
  const resolver = new dns.Resolver();
  resolver.setServers([dnsServer]);
  const lookup = worldLookup(resolver);
  const original = net.createConnection.bind(net);
  const redirected = (port: unknown, host: unknown): net.Socket => {
    if (port !== 25 || typeof host !== 'string') throw new Error(`peer bench: unexpected connection to ${String(host)}:${String(port)}`);
    return original({ port: smtpPort, host: host === '' ? 'localhost' : host, lookup });
  };
  (net as { createConnection: unknown }).createConnection = redirected;
}

async function run(req: PeerRequest): Promise<PeerReply> {
  pointAtWorld(req.dnsServer, req.smtpPort);
  // Imported after the hooks are in place (it reads `net.createConnection` at call time either way).
  const { validate } = await import('deep-email-validator');
  const t0 = performance.now();
  const outputs = await mapLimit(req.addresses, req.concurrency, async (email) => {
    const o = await validate({ email, sender: req.sender, additionalTopLevelDomains: req.tlds });
    return { valid: o.valid, reason: o.reason, validators: o.validators } satisfies PeerOutput;
  });
  return { ok: true, ms: performance.now() - t0, outputs };
}

process.once('message', (req: PeerRequest) => {
  run(req).then(
    (reply) => process.send?.(reply, undefined, {}, () => process.exit(0)),
    (err: unknown) => {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.send?.({ ok: false, error } satisfies PeerReply, undefined, {}, () => process.exit(1));
    },
  );
});
