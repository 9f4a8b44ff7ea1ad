/**
 * Check: is outbound port 25 open? Connect to a well-known MX (`LISTWASH_DOCTOR_PORT25_HOST`), read its
 * greeting, QUIT. The target must be inside the doctor's allowed targets, like every address the prober
 * contacts. The judgement ({@link judgePort25}) is pure.
 */
import { isIP } from 'node:net';
import { lookupAddresses } from '../dns/records.js';
import type { DnsQuerier } from '../dns/mail-route.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import type { TargetPolicy } from '../net/targets.js';
import { probeGreeting, type GreetingOutcome } from './greeting-probe.js';
import { result, type CheckResult, type DoctorIdentity } from './types.js';

export interface Port25Target {
  host: string;
  port: number;
}

/** `host`, `host:port`, `1.2.3.4:25`, `[::1]:25` or `::1` → host and port (default `defaultPort`). */
export function parsePort25Host(spec: string, defaultPort: number): Port25Target {
  const s = spec.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const hostPort = /^([^:]+):(\d+)$/.exec(s);
  const [host, portText] = bracketed ? [bracketed[1]!, bracketed[2]] : isIP(s) === 6 ? [s, undefined] : hostPort ? [hostPort[1]!, hostPort[2]] : [s, undefined];
  const port = portText === undefined ? defaultPort : Number(portText);
  if (host === '' || /[\s/]/.test(host) || !(port >= 1 && port <= 65535)) {
    throw new ListwashError(ErrorCodes.CONFIG_INVALID, `LISTWASH_DOCTOR_PORT25_HOST: not host or host:port: ${JSON.stringify(spec)}`, { setting: 'doctorPort25Host' });
  }
  return { host: host.toLowerCase(), port };
}

/** What the check needs to know. */
export interface Port25Settings {
  target: Port25Target;
  /** Which addresses the check may connect to. */
  policy: TargetPolicy;
  /** The setting that governs `policy`, named in messages. */
  policySetting: string;
  timeoutMs: number;
}

/** Where the check connects, or why it does not. */
export type Port25Address =
  | { kind: 'ok'; address: string }
  | { kind: 'unresolved'; detail: string }
  | { kind: 'not_allowed'; addresses: string[] }
  /** The target has no address of the bind address's family. */
  | { kind: 'no_family'; family: 4 | 6; addresses: string[] };

/** Resolve the target and pick the first allowed address (of `family`, when the identity binds one). */
export async function port25Address(dns: DnsQuerier, settings: Port25Settings, family: 4 | 6 | undefined): Promise<Port25Address> {
  const { host } = settings.target;
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    const found = await lookupAddresses(dns, host);
    if (found.kind === 'temporary') return { kind: 'unresolved', detail: found.detail };
    if (found.kind === 'none') return { kind: 'unresolved', detail: found.nxdomain ? 'NXDOMAIN' : 'no A/AAAA record' };
    addresses = found.values;
  }
  const allowed = addresses.filter((a) => settings.policy.allows(a));
  if (allowed.length === 0) return { kind: 'not_allowed', addresses };
  const usable = family === undefined ? allowed : allowed.filter((a) => isIP(a) === family);
  if (usable.length === 0) return { kind: 'no_family', family: family!, addresses: allowed };
  return { kind: 'ok', address: usable[0]! };
}

/** The check's result and the source address of its connection (the egress IP's first witness). */
export interface Port25Check {
  result: CheckResult;
  localAddress: string | null;
}

/** Run the check for one identity: resolve, connect from its `bind` address, greeting, QUIT. */
export async function checkPort25(dns: DnsQuerier, settings: Port25Settings, identity: DoctorIdentity): Promise<Port25Check> {
  const family = identity.bind ? (isIP(identity.bind) as 4 | 6) : undefined;
  const where = await port25Address(dns, settings, family);
  if (where.kind !== 'ok') return { result: judgeUnreachableTarget(settings, where), localAddress: null };
  const outcome = await probeGreeting({
    address: where.address,
    port: settings.target.port,
    timeoutMs: settings.timeoutMs,
    ...(identity.bind ? { localAddress: identity.bind } : {}),
  });
  const localAddress = 'localAddress' in outcome && outcome.localAddress !== '' ? outcome.localAddress : null;
  return { result: judgePort25(settings, where.address, outcome, identity.bind), localAddress };
}

const BLOCKED = 'every result will be unknown: outbound port 25 is blocked; ask your provider to open it or run the workers elsewhere';

/** The result when there is no address to connect to. Pure. */
export function judgeUnreachableTarget(settings: Port25Settings, where: Exclude<Port25Address, { kind: 'ok' }>): CheckResult {
  const { host } = settings.target;
  switch (where.kind) {
    case 'unresolved':
      return result('port25', 'warn', `not checked: ${host} (LISTWASH_DOCTOR_PORT25_HOST) does not resolve (${where.detail}); if DNS works, name another well-known MX there`, { host, detail: where.detail });
    case 'not_allowed':
      return result('port25', 'warn', `not checked: ${host} resolves to ${where.addresses.join(', ')}, outside ${settings.policySetting}; set LISTWASH_DOCTOR_TARGETS (e.g. public) to let the doctor connect there`, { host, addresses: where.addresses });
    case 'no_family':
      return result('port25', 'warn', `not checked: ${host} has no IPv${where.family} address to reach from this identity's bind address (it has ${where.addresses.join(', ')}); name an MX with IPv${where.family} in LISTWASH_DOCTOR_PORT25_HOST`, { host, addresses: where.addresses });
  }
}

/** The result of one connection attempt. Pure. */
export function judgePort25(settings: Port25Settings, address: string, outcome: GreetingOutcome, bind?: string): CheckResult {
  const { host, port } = settings.target;
  const to = `${host} [${address}]:${port}`;
  const details = { host, address, port, outcome: outcome.kind };
  switch (outcome.kind) {
    case 'greeting':
      return judgeGreeting(to, outcome.greeting.code, outcome.greeting.raw.split('\n')[0] ?? '', { ...details, greeting: outcome.greeting.raw, localAddress: outcome.localAddress });
    case 'refused':
      return result('port25', 'fail', `connecting to ${to} was refused (${outcome.detail}): ${BLOCKED}`, details);
    case 'connect_timeout':
      return result('port25', 'fail', `no connection to ${to} within ${settings.timeoutMs} ms: ${BLOCKED}`, details);
    case 'unreachable':
      if (bind && /EADDRNOTAVAIL|EINVAL/.test(outcome.detail)) {
        return result('port25', 'fail', `this identity's bind address ${bind} is not an address of this machine (${outcome.detail}): its probes cannot be sent; fix "bind"`, { ...details, bind });
      }
      return result('port25', 'fail', `${to} is unreachable (${outcome.detail}): ${BLOCKED}`, details);
    case 'no_greeting':
      return result('port25', 'fail', `connected to ${to} but no greeting came within ${settings.timeoutMs} ms: port 25 is intercepted or filtered on the way, so every result will be unknown; ask your provider to open it or run the workers elsewhere`, { ...details, localAddress: outcome.localAddress });
    case 'closed':
      return result('port25', 'fail', `connected to ${to} but it closed before any greeting (${outcome.detail}): port 25 is filtered on the way, so every result will be unknown; ask your provider to open it or run the workers elsewhere`, { ...details, localAddress: outcome.localAddress });
  }
}

function judgeGreeting(to: string, code: number, line: string, details: Record<string, unknown>): CheckResult {
  const quoted = JSON.stringify(line);
  if (code === 0) {
    return result('port25', 'fail', `${to} answered ${quoted}, which is not SMTP: something on the way intercepts port 25, so every result will be unknown; ask your provider to open it or run the workers elsewhere`, details);
  }
  if (code >= 200 && code < 300) return result('port25', 'ok', `outbound port 25 is open: ${to} greeted ${quoted}`, details);
  if (code >= 400 && code < 500) {
    return result('port25', 'warn', `port 25 is open, but ${to} greeted ${quoted}: it is busy or slowing this IP down; if this persists the IP's reputation is poor (see DNSBL)`, details);
  }
  return result('port25', 'fail', `${to} refused this client at connect with ${quoted}: big providers refuse this IP, so their addresses will end unknown/blocked; check the DNSBL line and the IP's reputation, or probe from another IP`, details);
}
