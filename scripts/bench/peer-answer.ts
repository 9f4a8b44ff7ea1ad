/**
 * deep-email-validator's answer in listwash's verdict vocabulary, for bench:peers.
 *
 * The peer answers `{ valid, reason: level, validators: { [level]: { valid, reason: text } } }`: the level
 * that failed first (`regex`, `typo`, `disposable`, `mx`, `smtp`) and a text. For `smtp` the text is the
 * reply's fixed explanation from its table of reply codes (one text per code: 550 → "Mailbox not found.",
 * 450 → "…mailbox … is busy…"), or a socket error, or "Timeout". Its vocabulary is coarser than ours, so an
 * answer maps to the SET of our reasons it cannot tell apart, and the bench counts it right when the truth is
 * in that set (the benefit of the doubt: e.g. its "MX record not found" counts as right for both NXDOMAIN and
 * a null MX). Its status is the status of those reasons (they share one, except where noted below).
 *
 * | peer answer | our reasons |
 * | --- | --- |
 * | `valid: true` | accepted |
 * | `regex` | invalid_syntax |
 * | `typo` (mailcheck suggests another domain) | invalid_syntax |
 * | `disposable` | disposable |
 * | `mx` "MX record not found" (NXDOMAIN, null MX, no MX, SERVFAIL alike) | no_domain, no_mail_server |
 * | `smtp` 550 "Mailbox not found." | mailbox_not_found, mailbox_disabled, rejected |
 * | `smtp` 552, 452 (storage) | mailbox_full |
 * | `smtp` 450, 451 | greylisted, temporary_failure |
 * | `smtp` 421 | temporary_failure, blocked |
 * | `smtp` 554 | blocked, rejected (status: the truth's if it is one of them) |
 * | `smtp` 553, other 5xx texts | rejected |
 * | `smtp` "Timeout" | timeout |
 * | `smtp` socket error, connection closed | connection_failed |
 * | anything else | none (always wrong) |
 */
import { REASON_STATUS, type Reason, type Status } from '../../src/verdict.js';

/** What the peer returned for one address (the fields the mapping reads). */
export interface PeerOutput {
  valid: boolean;
  reason?: string | undefined;
  validators: Partial<Record<string, { valid: boolean; reason?: string | undefined }>>;
}

export interface MappedAnswer {
  /** Our reasons the answer stands for (empty: no mapping, counted wrong). */
  reasons: readonly Reason[];
  /** A short label for the answer, for the report's table of answers. */
  label: string;
}

/** The start of the peer's fixed text per SMTP reply code (deep-email-validator 0.1.27, src/smtp/errorCodes.ts). */
const SMTP_TEXTS: readonly [code: number, start: string][] = [
  [421, 'SMTP Error: The mail server will be shut down.'],
  [450, 'SMTP Error: The mailbox that you are trying to reach is busy.'],
  [451, 'SMTP Error: The requested action was not done. Some error'],
  [452, 'SMTP Error: The requested action was not done. The mail server ran out of system storage.'],
  [552, 'SMTP Error: The mailbox that you are trying to reach has run out of space.'],
  [553, 'SMTP Error: The mail address that you specified was not syntactically correct.'],
  [554, 'SMTP Error: The mail transaction has failed for unknown causes.'],
  [500, 'SMTP Error: The last command contained a syntax error'],
  [501, 'SMTP Error: The parameters or arguments in the last command contained a syntax error.'],
  [502, 'SMTP Error: The mail server has not implemented the last command.'],
  [503, 'SMTP Error: The last command was sent out of sequence.'],
  [504, 'SMTP Error: One of the parameters of the last command has not been implemented by the server.'],
  [551, 'SMTP Error: The specified user is not local;'],
];

function smtpCode(text: string): number | null {
  for (const [code, start] of SMTP_TEXTS) if (text.startsWith(start)) return code;
  return null;
}

function smtpReasons(text: string): MappedAnswer {
  if (text === 'Mailbox not found.') return { reasons: ['mailbox_not_found', 'mailbox_disabled', 'rejected'], label: 'smtp 550' };
  if (text === 'Timeout') return { reasons: ['timeout'], label: 'smtp timeout' };
  if (/^Mail server closed connection|^SMTP communication unexpectedly closed|^Error: /.test(text)) {
    return { reasons: ['connection_failed'], label: 'smtp connection error' };
  }
  const code = smtpCode(text);
  if (code === null) return { reasons: [], label: `smtp ${JSON.stringify(text.slice(0, 40))}` };
  const label = `smtp ${code}`;
  if (code === 552 || code === 452) return { reasons: ['mailbox_full'], label };
  if (code === 450 || code === 451) return { reasons: ['greylisted', 'temporary_failure'], label };
  if (code === 421) return { reasons: ['temporary_failure', 'blocked'], label };
  if (code === 554) return { reasons: ['blocked', 'rejected'], label };
  return { reasons: ['rejected'], label };
}

/** Map one answer of the peer (see the table above). */
export function mapPeerAnswer(out: PeerOutput): MappedAnswer {
  if (out.valid) return { reasons: ['accepted'], label: 'valid' };
  const level = out.reason ?? '';
  const text = out.validators[level]?.reason ?? '';
  switch (level) {
    case 'regex':
      return { reasons: ['invalid_syntax'], label: 'regex' };
    case 'typo':
      return { reasons: ['invalid_syntax'], label: 'typo' };
    case 'disposable':
      return { reasons: ['disposable'], label: 'disposable' };
    case 'mx':
      return { reasons: ['no_domain', 'no_mail_server'], label: 'mx not found' };
    case 'smtp':
      return smtpReasons(text);
    default:
      return { reasons: [], label: `unknown level ${JSON.stringify(level)}` };
  }
}

/** Whether a mapped answer is right for `truth`: reason and status (the status of the truth when in the set). */
export function judge(answer: MappedAnswer, truth: Reason): { reason: boolean; status: boolean } {
  if (answer.reasons.includes(truth)) return { reason: true, status: true };
  const statuses = new Set<Status>(answer.reasons.map((r) => REASON_STATUS[r]));
  return { reason: false, status: statuses.has(REASON_STATUS[truth]) };
}
