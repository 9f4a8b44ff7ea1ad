/**
 * The verdict vocabulary. Other services and the output files depend on these exact strings:
 * never rename a value, only add.
 */

/** Top-level outcome for one address. */
export type Status = 'deliverable' | 'undeliverable' | 'risky' | 'unknown';

/** Why an address got its status. Each reason belongs to exactly one status (see {@link REASON_STATUS}). */
export type Reason =
  // deliverable
  | 'accepted'
  // undeliverable
  | 'invalid_syntax'
  | 'no_domain'
  | 'no_mail_server'
  | 'mailbox_not_found'
  | 'mailbox_disabled'
  | 'rejected'
  // risky
  | 'catch_all'
  | 'mailbox_full'
  | 'role_account'
  | 'disposable'
  // unknown
  | 'greylisted'
  | 'temporary_failure'
  | 'timeout'
  | 'connection_failed'
  | 'blocked';

/**
 * Connection-level signals: not verdicts about a mailbox but about our conversation with the host.
 * - `rate_limited`: 421 / 4.7.x "slow down / too many connections" — back off the host.
 * - `too_many_recipients`: 452 4.5.3 style per-transaction limit — open a new transaction.
 */
export type ConnectionSignal = 'rate_limited' | 'too_many_recipients';

/** Bounce-risk category written for every row. */
export type BounceRisk = 'low' | 'medium' | 'high' | 'unknown';

/** The status each reason belongs to. */
export const REASON_STATUS: Readonly<Record<Reason, Status>> = Object.freeze({
  accepted: 'deliverable',
  invalid_syntax: 'undeliverable',
  no_domain: 'undeliverable',
  no_mail_server: 'undeliverable',
  mailbox_not_found: 'undeliverable',
  mailbox_disabled: 'undeliverable',
  rejected: 'undeliverable',
  catch_all: 'risky',
  mailbox_full: 'risky',
  role_account: 'risky',
  disposable: 'risky',
  greylisted: 'unknown',
  temporary_failure: 'unknown',
  timeout: 'unknown',
  connection_failed: 'unknown',
  blocked: 'unknown',
});

export const STATUSES: readonly Status[] = ['deliverable', 'undeliverable', 'risky', 'unknown'];
export const REASONS: readonly Reason[] = Object.keys(REASON_STATUS) as Reason[];
export const BOUNCE_RISKS: readonly BounceRisk[] = ['low', 'medium', 'high', 'unknown'];

/**
 * Bounce risk for a final verdict:
 * - `low`: the mailbox server accepted this exact address (and the domain is not catch-all).
 * - `medium`: accepted, but we cannot be sure it reaches a person (catch-all domain, role account).
 * - `high`: mail will bounce (undeliverable) or very likely soon will (full mailbox, disposable domain).
 * - `unknown`: we could not get an answer (greylisting, timeouts, blocks).
 */
export function bounceRiskFor(reason: Reason): BounceRisk {
  switch (reason) {
    case 'accepted':
      return 'low';
    case 'catch_all':
    case 'role_account':
      return 'medium';
    case 'mailbox_full':
    case 'disposable':
      return 'high';
    default:
      return REASON_STATUS[reason] === 'undeliverable' ? 'high' : 'unknown';
  }
}

/** A status + reason pair, the unit every classifier returns. */
export interface Classification {
  status: Status;
  reason: Reason;
}

/** What a reply classifier may return: a verdict, or a connection signal (status `unknown`). */
export interface ReplyClassification {
  status: Status;
  reason: Reason | ConnectionSignal;
}

/** The full verdict for one address. */
export interface Verdict extends Classification {
  bounceRisk: BounceRisk;
  /** The MX host that gave the answer, when one did. */
  mxHost?: string | undefined;
  /** SMTP reply code of the deciding reply. */
  smtpCode?: number | undefined;
  /** RFC 3463 enhanced status code of the deciding reply (e.g. `5.1.1`). */
  enhancedCode?: string | undefined;
  /** The raw deciding reply (multi-line joined with `\n`). */
  smtpReply?: string | undefined;
  /** Whether the domain accepted a random local part. */
  catchAll?: boolean | undefined;
}

/** Build a verdict from a reason, deriving status and bounce risk. */
export function verdict(reason: Reason, extra: Omit<Verdict, 'status' | 'reason' | 'bounceRisk'> = {}): Verdict {
  return { status: REASON_STATUS[reason], reason, bounceRisk: bounceRiskFor(reason), ...extra };
}

/** Flags of an address that can turn an accepted verdict risky. */
export interface RiskFlags {
  role: boolean;
  disposable: boolean;
}

/**
 * Apply address flags to an SMTP verdict. Only an accepted (or catch-all) answer is downgraded:
 * an undeliverable or unknown verdict stays as it is, since the flag says nothing new there.
 * Precedence: disposable > catch_all > role_account.
 */
export function applyFlags(v: Verdict, flags: RiskFlags): Verdict {
  if (v.reason !== 'accepted' && v.reason !== 'catch_all') return v;
  if (flags.disposable) return { ...v, ...verdict('disposable') };
  if (v.reason === 'accepted' && flags.role) return { ...v, ...verdict('role_account') };
  return v;
}
