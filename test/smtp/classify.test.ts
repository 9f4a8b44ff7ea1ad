import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyReply, explainReply, REPLY_RULES, type SmtpStage } from '../../src/smtp/classify.js';
import { parseReply } from '../../src/smtp/reply.js';
import { REASON_STATUS, type ReplyClassification, type Status } from '../../src/verdict.js';

interface CorpusRow {
  n: number;
  stage: SmtpStage;
  reply: string;
  provider: string;
  status: ReplyClassification['status'];
  reason: ReplyClassification['reason'];
  note?: string;
}

const corpus: CorpusRow[] = readFileSync(new URL('../fixtures/smtp-replies.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l, i) => ({ n: i + 1, ...(JSON.parse(l) as Omit<CorpusRow, 'n'>) }));

const oneLine = (s: string, max = 90): string => {
  const flat = s.replace(/\n/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};

describe('classifyReply: the corpus of real replies (test/fixtures/smtp-replies.jsonl)', () => {
  it('has the 279 lines it is documented to have', () => {
    expect(corpus).toHaveLength(279);
  });

  it.each(corpus.map((row) => [`line ${row.n} ${row.provider} @${row.stage}: ${oneLine(row.reply)}`, row] as const))(
    '%s',
    (_title, row) => {
      const explained = explainReply(row.stage, row.reply);
      expect(classifyReply(row.stage, row.reply), `decided by rule ${explained.rule}`).toEqual({ status: row.status, reason: row.reason });
    },
  );
});

/**
 * Replies outside the corpus: the corners of the table (junk, protocol violations, codes the corpus
 * lacks) and near-misses of the corpus wordings. Each names the rule expected to decide.
 */
const EXTRA: readonly (readonly [SmtpStage, string, Status, ReplyClassification['reason'], string])[] = [
  ['connect', '220 mx.example.com ESMTP Postfix', 'deliverable', 'accepted', 'positive'],
  ['ehlo', '250-mx.example.com\n250-PIPELINING\n250 8BITMIME', 'deliverable', 'accepted', 'positive'],
  ['mail', '250 2.1.0 Ok', 'deliverable', 'accepted', 'positive'],
  ['rcpt', '251 2.1.5 User not local; will forward', 'deliverable', 'accepted', 'positive'],
  ['connect', 'SSH-2.0-OpenSSH_9.6', 'unknown', 'connection_failed', 'not-smtp'],
  ['connect', 'HTTP/1.1 400 Bad Request', 'unknown', 'connection_failed', 'not-smtp'],
  ['rcpt', '354 End data with <CR><LF>.<CR><LF>', 'unknown', 'connection_failed', 'not-smtp'],
  ['rcpt', '550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in relay recipient table', 'undeliverable', 'mailbox_not_found', 'mailbox-not-found-code'],
  ['rcpt', '550 No such mailbox here', 'undeliverable', 'mailbox_not_found', 'mailbox-not-found-text'],
  // "relay=[ip]" is sendmail's annotation, not a relay refusal: the 5.2.1 code decides.
  ['rcpt', '550 5.2.1 <a@example.com>... Mailbox temporarily not accepting mail, relay=[192.0.2.1]', 'undeliverable', 'mailbox_disabled', 'mailbox-disabled-code'],
  ['rcpt', '550 5.7.13 Sorry, no', 'undeliverable', 'mailbox_disabled', 'mailbox-disabled-code'],
  ['rcpt', '550 5.7.0 Message refused', 'unknown', 'blocked', 'policy-code-5.7'],
  ['rcpt', '550 5.7.1 Message rejected as spam', 'unknown', 'blocked', 'prober-blocked-text'],
  ['rcpt', '554 <probe@example.net>: Sender address rejected: Access denied', 'unknown', 'blocked', 'sender-refused-text'],
  ['mail', '553 5.1.7 The sender address is invalid', 'unknown', 'blocked', 'sender-refused-code'],
  ['rcpt', '450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]', 'unknown', 'blocked', 'prober-identity-refused'],
  ['rcpt', '451 4.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 'unknown', 'blocked', 'prober-identity-refused'],
  ['connect', '554 Service unavailable; you are blocked', 'unknown', 'blocked', 'prober-blocked-text'],
  ['connect', '554 mx.example.com', 'unknown', 'blocked', 'permanent-before-rcpt'],
  ['ehlo', '502 5.5.2 Error: command not recognized', 'unknown', 'blocked', 'permanent-before-rcpt'],
  ['ehlo', '450 Please try later', 'unknown', 'temporary_failure', 'transient'],
  ['rcpt', '421 mx.example.com Service not available, closing transmission channel', 'unknown', 'temporary_failure', 'service-unavailable-421'],
  ['rcpt', '421 mx.example.com Service not available, try again later', 'unknown', 'rate_limited', '421'],
  ['rcpt', '421 4.7.0 Closing connection', 'unknown', 'rate_limited', '421'],
  // Postfix when its policy service is unreachable: not a refusal of the prober.
  ['rcpt', '450 4.7.1 <a@example.com>: Recipient address rejected: Service is unavailable', 'unknown', 'temporary_failure', 'transient'],
  ['rcpt', '450 4.7.1 <a@example.com>: Recipient address rejected: Access denied', 'unknown', 'blocked', 'policy-refusal-4.7'],
  ['rcpt', '451 4.7.1 Please try again later', 'unknown', 'greylisted', 'greylisting-bare-4.7.1'],
  ['rcpt', '451 4.7.1 Please try again later, you are sending too fast', 'unknown', 'rate_limited', 'throttle-4.7-try-later'],
  ['rcpt', '451 4.3.0 Requested action aborted: local error in processing', 'unknown', 'temporary_failure', 'server-error'],
  ['rcpt', '450 4.2.1 Mailbox disabled, not accepting messages', 'unknown', 'temporary_failure', 'transient'],
  ['rcpt', '450 4.1.1 <a@example.com>: Recipient address rejected: User unknown', 'unknown', 'temporary_failure', 'transient'],
  ['rcpt', '452 4.2.2 Mailbox full', 'risky', 'mailbox_full', 'mailbox-full-code'],
  ['rcpt', '452 Quota exceeded for this mailbox', 'risky', 'mailbox_full', 'mailbox-full-text'],
  ['rcpt', '452 4.3.1 Quota exceeded on the spool', 'unknown', 'temporary_failure', 'transient'],
  ['rcpt', '553 5.1.3 Bad recipient address syntax', 'undeliverable', 'rejected', 'address-syntax-code'],
  ['rcpt', '550 5.5.0 Message rejected', 'undeliverable', 'rejected', 'permanent-at-rcpt'],
  ['rcpt', '452 4.5.3 Error: too many recipients', 'unknown', 'too_many_recipients', 'too-many-recipients-code'],
  ['rcpt', '450 4.7.1 Error: too many recipients from 192.0.2.1', 'unknown', 'rate_limited', 'rate-limit-text'],
  ['connect', '451 Temporary timeout, closing connection', 'unknown', 'timeout', 'timeout'],
];

describe('classifyReply: beyond the corpus', () => {
  it.each(EXTRA.map((c) => [`@${c[0]}: ${oneLine(c[1])} → ${c[2]}/${c[3]} by ${c[4]}`, c] as const))('%s', (_title, c) => {
    const [stage, reply, status, reason, rule] = c;
    const explained = explainReply(stage, reply);
    expect({ status: explained.status, reason: explained.reason, rule: explained.rule }).toEqual({ status, reason, rule });
  });

  it('accepts a parsed reply as well as a string, and returns exactly status and reason', () => {
    const raw = '550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 Learn more';
    expect(classifyReply('rcpt', parseReply(raw))).toStrictEqual({ status: 'undeliverable', reason: 'mailbox_not_found' });
    expect(classifyReply('rcpt', raw)).toStrictEqual({ status: 'undeliverable', reason: 'mailbox_not_found' });
  });

  it('depends on the stage: the same 550 refuses the mailbox at RCPT and the prober at MAIL FROM', () => {
    expect(classifyReply('rcpt', '550 5.1.0 Address rejected')).toEqual({ status: 'undeliverable', reason: 'mailbox_not_found' });
    expect(classifyReply('mail', '550 5.1.0 Address rejected')).toEqual({ status: 'unknown', reason: 'blocked' });
  });

  it('explains its decision with the rule and its reason', () => {
    const e = explainReply('rcpt', '452 4.5.3 Too many recipients');
    expect(e.rule).toBe('too-many-recipients-code');
    expect(e.why).toMatch(/new transaction/);
    expect(e.reply.code).toBe(452);
  });
});

describe('REPLY_RULES', () => {
  it('has unique ids', () => {
    const ids = REPLY_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('only yields status/reason pairs of the vocabulary (connection signals are unknown)', () => {
    for (const r of REPLY_RULES) {
      const { status, reason } = r.then;
      const expected = reason === 'rate_limited' || reason === 'too_many_recipients' ? 'unknown' : REASON_STATUS[reason];
      expect(status, r.id).toBe(expected);
    }
  });

  it('has no dead rule: each one decides at least one corpus or extra reply', () => {
    const rulesUsed = new Set([...corpus.map((r) => explainReply(r.stage, r.reply).rule), ...EXTRA.map((c) => explainReply(c[0], c[1]).rule)]);
    const unused = REPLY_RULES.map((r) => r.id).filter((id) => !rulesUsed.has(id));
    expect(unused).toEqual([]);
  });
});
