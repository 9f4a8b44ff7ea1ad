/** The doctor's vocabulary: identities in, one result per check out. */

/**
 * One egress identity the checks run for: where its connections leave from (`bind`), and the names it
 * gives receivers (HELO, MAIL FROM). The same shape as an entry of `LISTWASH_EGRESS_FILE` without `socks`.
 */
export interface DoctorIdentity {
  name: string;
  /** Local source address of its connections; default: whatever the OS picks. */
  bind?: string;
  /** Its connections go through this SOCKS5 proxy (`host:port`, never credentials): the proxy's machine reaches port 25, not this one. */
  socks?: string;
  helo: string;
  mailFrom: string;
}

/** `fail` = something will make results unreliable (the exit code says so); `skip` = not checked. */
export type CheckLevel = 'ok' | 'warn' | 'fail' | 'skip';

export type CheckId = 'dns' | 'port25' | 'egress-ip' | 'helo' | 'reverse-dns' | 'spf' | 'dnsbl';

/** Short names of the checks, as printed. */
export const CHECK_LABELS: Record<CheckId, string> = {
  dns: 'DNS',
  port25: 'port 25',
  'egress-ip': 'egress IP',
  helo: 'HELO name',
  'reverse-dns': 'reverse DNS',
  spf: 'SPF',
  dnsbl: 'DNSBL',
};

export interface CheckResult {
  check: CheckId;
  level: CheckLevel;
  /** One plain-language line: what was found, what will go wrong, and how to fix it. */
  message: string;
  /** Facts behind the message (addresses, names, codes), for `--json`. */
  details: Record<string, unknown>;
}

export interface IdentityReport {
  identity: DoctorIdentity;
  /** The public address its probes leave from, when it could be determined. */
  egressIp: string | null;
  checks: CheckResult[];
}

export interface DoctorReport {
  /** Checks of the machine, whatever the identity (the DNS resolver). */
  machine: CheckResult[];
  identities: IdentityReport[];
  /** Checks that failed, over the machine and all identities. */
  fails: number;
  warnings: number;
  /** Checks that could not run (`skip`). */
  skipped: number;
}

/** A result of `check` at `level`. */
export function result(check: CheckId, level: CheckLevel, message: string, details: Record<string, unknown> = {}): CheckResult {
  return { check, level, message, details };
}

/** The result of a check that needs the egress IP when there is none. */
export function needsEgressIp(check: CheckId): CheckResult {
  return result(check, 'skip', 'not checked: needs the public egress IP (pass --ip)');
}
