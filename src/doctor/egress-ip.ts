/**
 * Check: which address do the probes leave from? Receivers judge the prober by it (reverse DNS, SPF,
 * DNSBLs), so every later check needs its public form. Pure.
 *
 * Order: the identity's `bind` address when public; else the address the operator gave (`--ip`,
 * `LISTWASH_DOCTOR_IP`); else the source address of the port-25 check's connection when public. A
 * private source (NAT) or no connection at all leaves it undetermined.
 */
import { TargetPolicy } from '../net/targets.js';
import { result, type CheckResult } from './types.js';

const PUBLIC = new TargetPolicy(['public']);

/** Whether `ip` is a global unicast address (not private, loopback, link-local, CGNAT, documentation, …). */
export function isPublicIp(ip: string): boolean {
  return PUBLIC.allows(ip);
}

export interface EgressInput {
  /** The identity's bind address. */
  bind?: string | undefined;
  /** `--ip` / `LISTWASH_DOCTOR_IP`. */
  given?: string | undefined;
  /** Source address of the port-25 check's connection, if it connected. */
  socketLocal?: string | null | undefined;
  /** The port-25 check did not run (`--offline`). */
  offline: boolean;
}

export interface EgressDecision {
  ip: string | null;
  result: CheckResult;
}

const HOW = 'pass --ip <public IP> (or set LISTWASH_DOCTOR_IP) to check reverse DNS, SPF and DNSBLs';

export function decideEgressIp(input: EgressInput): EgressDecision {
  const { bind, given, socketLocal } = input;
  if (bind && isPublicIp(bind)) return found(bind, "this identity's bind address", 'bind');
  if (given) {
    if (isPublicIp(given)) return found(given, 'given by --ip / LISTWASH_DOCTOR_IP', 'given');
    return unknown(`${given} (given by --ip / LISTWASH_DOCTOR_IP) is not a public address, so the public IP could not be determined; ${HOW}`, { given });
  }
  if (socketLocal && isPublicIp(socketLocal)) return found(socketLocal, "the source address of the port-25 check's connection", 'connection');
  const local = socketLocal ?? bind;
  if (local) {
    return unknown(`connections leave from ${local}, which is not a public address (NAT or a private network): the public IP could not be determined; ${HOW}`, { localAddress: local });
  }
  const why = input.offline ? 'no connection was made (--offline)' : 'the port-25 check made no connection';
  return unknown(`the public IP could not be determined: ${why}; ${HOW}`, {});
}

function found(ip: string, from: string, source: string): EgressDecision {
  return { ip, result: result('egress-ip', 'ok', `probes leave from ${ip} (${from})`, { ip, source }) };
}

function unknown(message: string, details: Record<string, unknown>): EgressDecision {
  return { ip: null, result: result('egress-ip', 'warn', message, details) };
}
