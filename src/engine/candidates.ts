/**
 * Step 1 of verifying a domain: its mail route (DNS) → the (MX host, IP address) pairs to try, in
 * preference order — or, when there is nothing to try, the one outcome every address of the domain
 * gets (no such domain, null MX, no mail server, a DNS failure to retry, MX outside the allowed targets).
 */
import type { MailResolver } from '../dns/resolver.js';
import type { TargetPolicy } from '../net/targets.js';
import { verdict, type Verdict } from '../verdict.js';
import type { AddressOutcome } from './outcome.js';

/** One address of one MX host. */
export interface Candidate {
  host: string;
  ip: string;
}

export type CandidateList =
  | { kind: 'candidates'; candidates: Candidate[] }
  /** Nothing to connect to: every address ends (or is retried) with this outcome. */
  | { kind: 'none'; outcome: (address: string) => AddressOutcome };

function final(reason: 'no_domain' | 'no_mail_server' | 'connection_failed', smtpReply: string): CandidateList & { kind: 'none'; verdict: Verdict } {
  // One verdict for every address (verdicts are never changed after they are made).
  const v = verdict(reason, { smtpReply });
  return { kind: 'none', verdict: v, outcome: (address) => ({ address, kind: 'final', verdict: v }) };
}

/**
 * A domain with no mail route at all — it does not exist (NXDOMAIN), publishes a null MX, or has neither MX
 * nor address records — gives every address the same final verdict, with no SMTP and no other lookup:
 * that verdict. Null for any other route (MX hosts to try, or a DNS failure to retry).
 */
export async function deadEnd(domain: string, resolver: MailResolver): Promise<Verdict | null> {
  const route = await resolver.route(domain);
  switch (route.kind) {
    case 'no_domain':
    case 'null_mx':
    case 'no_mail_server':
      return routeOutcome(domain, route.kind).verdict;
    default:
      return null;
  }
}

function routeOutcome(domain: string, kind: 'no_domain' | 'null_mx' | 'no_mail_server'): CandidateList & { kind: 'none'; verdict: Verdict } {
  switch (kind) {
    case 'no_domain':
      return final('no_domain', `DNS: ${domain} does not exist (NXDOMAIN)`);
    case 'null_mx':
      return final('no_mail_server', `DNS: ${domain} publishes a null MX (RFC 7505)`);
    case 'no_mail_server':
      return final('no_mail_server', `DNS: ${domain} has no MX and no A/AAAA record`);
  }
}

function retryDns(detail: string): CandidateList {
  return { kind: 'none', outcome: (address) => ({ address, kind: 'retry', retry: 'connection', verdict: verdict('temporary_failure', { smtpReply: `DNS: ${detail}` }) }) };
}

/** The candidates of `domain`: every allowed address of every MX host, hosts in preference order. */
export async function findCandidates(domain: string, resolver: MailResolver, targets: TargetPolicy): Promise<CandidateList> {
  const route = await resolver.route(domain);
  switch (route.kind) {
    case 'no_domain':
    case 'null_mx':
    case 'no_mail_server':
      return routeOutcome(domain, route.kind);
    case 'temporary':
      return retryDns(route.detail);
    case 'mx':
      break;
  }
  const candidates: Candidate[] = [];
  let dnsTemporary: string | null = null;
  let disallowed: string | null = null;
  for (const h of route.hosts) {
    const addrs = await resolver.hostAddresses(h.name);
    if (addrs.kind === 'temporary') dnsTemporary = addrs.detail;
    if (addrs.kind !== 'ok') continue;
    for (const ip of addrs.addresses) {
      if (targets.allows(ip)) candidates.push({ host: h.name, ip });
      else disallowed = `${h.name} [${ip}]`;
    }
  }
  if (candidates.length > 0) return { kind: 'candidates', candidates };
  if (dnsTemporary !== null) return retryDns(dnsTemporary);
  if (disallowed !== null) return final('connection_failed', `MX ${disallowed} is outside LISTWASH_ALLOWED_TARGETS; not contacted`);
  return final('no_mail_server', `DNS: no MX host of ${domain} has an address`);
}

/** A session whose connection is lost before every address was answered is retried on the same MX address this often, then the next one. */
export const LOST_SESSIONS_PER_CANDIDATE = 2;

/** Where the loop over candidates stands: the current MX address, and whether it still talks TLS. */
export class CandidateCursor {
  private k = 0;
  private lost = 0;

  constructor(
    private readonly list: readonly Candidate[],
    /** Offer STARTTLS; dropped for the rest of the call once a handshake failed. */
    public startTls: boolean,
  ) {}

  /** The candidate to try now; undefined when all were tried. */
  get current(): Candidate | undefined {
    return this.list[this.k];
  }

  get hasNext(): boolean {
    return this.k + 1 < this.list.length;
  }

  /** Go on to the next MX address. */
  next(): void {
    this.k++;
    this.lost = 0;
  }

  /** A session lost its connection with addresses unanswered: the same address is tried again, up to {@link LOST_SESSIONS_PER_CANDIDATE} times. */
  connectionLost(): void {
    if (++this.lost >= LOST_SESSIONS_PER_CANDIDATE) this.next();
  }

  /** A STARTTLS handshake failed: true when the same host is now to be tried in plain text (as MTAs do), false when it already was. */
  dropTls(): boolean {
    if (!this.startTls) return false;
    this.startTls = false;
    return true;
  }
}
