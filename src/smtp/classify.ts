/**
 * The SMTP reply classifier: one server reply at one stage of the conversation → listwash's
 * vocabulary (`src/verdict.ts`), or one of the connection signals `rate_limited` /
 * `too_many_recipients`.
 *
 * It is an ordered rule table ({@link REPLY_RULES}); the first rule that matches decides. A rule
 * keys on the stage and the reply code (class or exact code) first, then on the RFC 3463 enhanced
 * code, and on the text only where real servers make the codes unreliable. The table reads top
 * down:
 *
 * 1. 2xx → go on / accepted; no code at all → not an SMTP peer.
 * 2. Texts that overrule any code because they name a cause precisely (receive-rate deferrals
 *    proving the mailbox exists, greylisting, timeouts, rate limits, recipient-count limits,
 *    refusals of *our* sender, DNSBL / reverse-DNS / TLS requirements).
 * 3. Transient replies (4xx): server errors, policy refusals (4.7.x + rejected/denied), 4.7.x
 *    "come back later" throttles, the meaning of a bare 421.
 * 4. Replies about the mailbox at RCPT: X.2.2 full, then the wordings that overrule a loosely used
 *    enhanced code (5.1.1 "over quota" / "inactive" / "recipient preferences", 5.2.1 "User
 *    Unknown", 5.7.1 "No such user"), then 5.1.x not found, the not-found and prober-block
 *    wordings, and last the 5.2.1 / 5.7.x codes themselves.
 * 5. Stage defaults: a 5xx before RCPT (or a greeting other than 220/421/554) refuses us
 *    (blocked), a 5xx at RCPT refuses the address (rejected), any other 4xx is a temporary failure.
 *
 * The table was derived from 279 real replies of 55 providers (`test/fixtures/smtp-replies.jsonl`);
 * the test asserts every one of them and that every rule is used.
 */
import type { ReplyClassification } from '../verdict.js';
import { parseReply, type SmtpReply } from './reply.js';

/** The command a reply answers: the greeting, EHLO/HELO, MAIL FROM or RCPT TO. */
export type SmtpStage = 'connect' | 'ehlo' | 'mail' | 'rcpt';

/** The facts a rule looks at, computed once per reply. */
interface ReplyFacts {
  stage: SmtpStage;
  code: number;
  /** First digit of the code (2, 4, 5; anything else is not a valid reply to our commands). */
  cls: number;
  /** Enhanced code or `''`. */
  enhanced: string;
  /** Lowercased text of all lines, whitespace collapsed, the repeated enhanced code of continuation lines removed. */
  text: string;
}

/** Conditions of a rule; all given ones must hold. */
interface Conditions {
  stages?: readonly SmtpStage[];
  /** First digit of the reply code. */
  classes?: readonly number[];
  codes?: readonly number[];
  /** Tested against the enhanced code (`''` when there is none). */
  enhanced?: RegExp;
  /** Tested against the normalised text (lowercase). */
  text?: RegExp;
}

/** One row of the classifier table. */
export interface ReplyRule {
  /** Stable short name (logs, tests). */
  id: string;
  when: Conditions;
  /** The rule does not apply when any of these holds. */
  unless?: Pick<Conditions, 'enhanced' | 'text'>;
  then: ReplyClassification;
  /** Why replies like this mean that. */
  why: string;
}

/** A classification together with the rule that decided it. */
export interface ReplyExplanation extends ReplyClassification {
  rule: string;
  why: string;
  reply: SmtpReply;
}

// --- outcomes ------------------------------------------------------------------------------------

const ACCEPTED: ReplyClassification = { status: 'deliverable', reason: 'accepted' };
const NOT_FOUND: ReplyClassification = { status: 'undeliverable', reason: 'mailbox_not_found' };
const DISABLED: ReplyClassification = { status: 'undeliverable', reason: 'mailbox_disabled' };
const REJECTED: ReplyClassification = { status: 'undeliverable', reason: 'rejected' };
const FULL: ReplyClassification = { status: 'risky', reason: 'mailbox_full' };
const GREYLISTED: ReplyClassification = { status: 'unknown', reason: 'greylisted' };
const TEMPORARY: ReplyClassification = { status: 'unknown', reason: 'temporary_failure' };
const TIMEOUT: ReplyClassification = { status: 'unknown', reason: 'timeout' };
const CONNECTION_FAILED: ReplyClassification = { status: 'unknown', reason: 'connection_failed' };
const BLOCKED: ReplyClassification = { status: 'unknown', reason: 'blocked' };
const RATE_LIMITED: ReplyClassification = { status: 'unknown', reason: 'rate_limited' };
const TOO_MANY_RECIPIENTS: ReplyClassification = { status: 'unknown', reason: 'too_many_recipients' };

// --- shared conditions ---------------------------------------------------------------------------

const RCPT: readonly SmtpStage[] = ['rcpt'];
const BEFORE_RCPT: readonly SmtpStage[] = ['connect', 'ehlo', 'mail'];
const TRANSIENT = [4];
const PERMANENT = [5];
const FAILURE = [4, 5];

/** One regex matching any of the given patterns (regexes or regex sources). */
function anyOf(...parts: readonly (RegExp | string)[]): RegExp {
  return new RegExp(parts.map((p) => (typeof p === 'string' ? p : p.source)).join('|'));
}

/** "Come back later" wording, or a busy server. */
const TRY_LATER_OR_BUSY = anyOf(String.raw`\btry (?:again )?later\b`, String.raw`\bcome back later\b`, String.raw`\bbusy\b`);

/**
 * Text naming the recipient mailbox as unknown. Subjects × predicates cover "user unknown",
 * "recipient not found", "mailbox unavailable", "address does not exist", …
 */
const NOT_FOUND_TEXT = anyOf(
  String.raw`\b(?:user|recipient|addressee|address|mailbox|account|e-?mail)s? (?:(?:is|was) )?(?:unknown|not found|could not be found|does not exist|doesn't exist|not exist|unallocated|unavailable|no longer (?:valid|exists?|on server))\b`,
  String.raw`\bunknown (?:user|recipient|addressee|address|mailbox|account)\b`,
  String.raw`\bno such (?:user|recipient|mailbox|address|account)\b`,
  String.raw`\bdoes(?: not|n't) exist\b`,
  String.raw`\binvalid[- ](?:recipient|mailbox|address|user)\b`,
  String.raw`\b(?:not|is not) a valid (?:e-?mail )?(?:address|mailbox|recipient|user)\b`,
  String.raw`\bmarked as invalid\b`,
  String.raw`\bis no longer valid\b`,
  String.raw`\bnot in (?:the )?recipient list\b`,
  String.raw`\bnot our customer\b`,
  String.raw`\bno mailbox here\b`,
  String.raw`\bdoes(?: not|n't) have an? \S+ account\b`,
  String.raw`\brecip(?:ient)?notfound\b`,
  // Postfix check_recipient_access REJECT / Microsoft DBEB: the recipient itself is refused.
  String.raw`\brecipient address(?:es)? rejected ?:? access denied\b`,
  // A bare "Recipient address rejected." with no reason given.
  String.raw`\brecipient address rejected\W*$`,
);

/**
 * Words of a refusal aimed at the prober (its IP, host, reputation, relaying through this host,
 * authentication), not at a mailbox. `relay` not followed by `=`: sendmail's "relay=[ip]" annotation
 * is not a relay refusal.
 */
const PROBER_BLOCK_TEXT = anyOf(
  String.raw`\bblock|\bspam|\breputation\b|\bbanned\b|\bnot allowed\b`,
  String.raw`\brelay(?!=)`,
  String.raw`\baccess denied\b|\bdenied by policy\b|\b(?:local|security) policy\b|\bpolicy reasons\b|\badministrative prohibition\b`,
  String.raw`\bnot authenticated\b|\bunauthenticated\b|\bauthentication required\b`,
);

/** "Service (temporarily) not available / unavailable". */
const SERVICE_UNAVAILABLE = /\bservice (?:is )?(?:(?:temporarily|currently) )?(?:not available|unavailable)\b/;

/**
 * Ordered classifier table: the first matching rule decides. Keep rules general (a family of
 * wordings), put a specific rule before the general one it overrides, and give the reason.
 */
export const REPLY_RULES: readonly ReplyRule[] = Object.freeze([
  // --- 1. success, junk ------------------------------------------------------------------------
  {
    id: 'positive',
    when: { classes: [2] },
    then: ACCEPTED,
    why: 'A 2xx: the greeting / EHLO / MAIL FROM succeeded (go on), or RCPT TO accepted the address.',
  },
  {
    id: 'not-smtp',
    when: { classes: [0, 1, 3, 6, 7, 8, 9] },
    then: CONNECTION_FAILED,
    why: 'No reply code, or one that is not a valid answer to our commands: the peer does not speak SMTP (or is out of sync).',
  },

  // --- 2. texts that name the cause precisely, whatever the code ---------------------------------
  {
    id: 'recipient-receive-rate',
    when: {
      stages: RCPT,
      classes: FAILURE,
      text: /\breceiving mail (?:at a rate|too (?:quickly|fast))\b|\brecipient has exceeded (?:\w+ ){0,2}(?:message rate|limit for the number of messages)\b|\btoo many recent messages\b/,
    },
    then: ACCEPTED,
    why: 'The recipient receives too much mail (Gmail 4.2.1/5.2.1 ReceivingRate, Microsoft 5.2.122, Yandex, Comcast): only an existing mailbox has a receive rate.',
  },
  {
    id: 'greylisting',
    when: { classes: TRANSIENT, text: /\bgr[ae]y-?list|\binternal resource temporarily unavailable\b/ },
    then: GREYLISTED,
    why: 'Greylisting says so (postgrey, milter-greylist, Barracuda, Stalwart even with a 4.2.2 code); Mimecast greylists with "Internal resource temporarily unavailable".',
  },
  {
    id: 'greylisting-bare-4.7.1',
    when: { stages: ['mail', 'rcpt'], classes: TRANSIENT, enhanced: /^4\.7\.1$/, text: /^4\.7\.1 (?:please )?try (?:again )?later\W*$/ },
    then: GREYLISTED,
    why: 'A bare "4.7.1 (Please) try again later" with nothing else is the default wording of greylisting filters (rspamd, sqlgrey-style); a throttle or an outage says more.',
  },
  {
    id: 'timeout',
    when: { classes: TRANSIENT, text: /\btime-?out\b|\btimed out\b|\bconnection expired\b/ },
    then: TIMEOUT,
    why: 'The server gave up waiting for us (idle timeout, expired connection): retry on a new connection.',
  },
  {
    id: 'rate-limit-text',
    when: {
      classes: FAILURE,
      text: /\brate[- ]limit|\bconnection rate\b|\bfrequency limit|\btoo many (?:connections|concurrent|simultaneous)\b|\bconcurrent (?:smtp )?connections\b|\btoo many recipients (?:from|this|per|in the last)\b|\bsent to too many recipients\b|\bexcessive (?:unknown recipients|volume)\b|\bunexpected volume\b|\bmax(?:imum)? (?:number of )?(?:messages? per connection|concurrent|connections)\b/,
    },
    then: RATE_LIMITED,
    why: 'The text says we send too much or too fast (connections, recipients per hour, frequency, volume) — even under a 5xx or a 5.1.1 code (GoDaddy, Tencent, QQ): back off, the mailbox was not judged.',
  },
  {
    id: 'too-many-recipients-code',
    when: { classes: FAILURE, enhanced: /^[45]\.5\.3$/ },
    then: TOO_MANY_RECIPIENTS,
    why: 'X.5.3 "too many recipients" (RFC 3463): a per-transaction cap; start a new transaction for this address.',
  },
  {
    id: 'too-many-recipients-text',
    when: { classes: FAILURE, text: /\btoo many recipients\b/ },
    then: TOO_MANY_RECIPIENTS,
    why: 'The same limit without the enhanced code (RFC 5321 4.5.3.1.10: a 552 to RCPT is treated as 452).',
  },
  {
    id: 'sender-refused-code',
    when: { classes: FAILURE, enhanced: /^[45]\.1\.[78]$/ },
    then: BLOCKED,
    why: 'X.1.7 / X.1.8 bad sender address or sender domain (RFC 3463): our MAIL FROM is refused, also when reported at RCPT (Postfix smtpd_delay_reject). Fix the prober; no verdict on the recipient.',
  },
  {
    id: 'sender-refused-text',
    when: { classes: FAILURE, text: /\bsender address rejected\b|\bdomain of sender address\b|\bsender (?:domain|address) (?:rejected|denied|invalid|not found)\b/ },
    then: BLOCKED,
    why: 'The same refusal of our sender, said in words.',
  },
  {
    id: 'prober-identity-refused',
    when: {
      classes: FAILURE,
      text: /spamhaus|\bdnsbl\b|\brbl\b|\bblocked using\b|\bblock ?list|\bblack ?list|\bclient host rejected\b|\breverse dns\b|\bptr\b|\brdns\b|\btls required\b|\bstarttls (?:required|first)\b|\bmust issue a starttls\b|\bnot in (?:the )?(?:white|allow) ?list\b/,
    },
    then: BLOCKED,
    why: 'Our IP or host is refused — DNS blocklist, missing reverse DNS, client restriction, TLS required, not on an allow-list — even with a 4xx or 421 (retrying alone will not help).',
  },

  // --- 3. transient replies ---------------------------------------------------------------------
  {
    id: 'server-error',
    when: {
      classes: TRANSIENT,
      text: /\b(?:server|system|upstream|local) (?:error|problem|failure)\b|\bunverified address\b|\bverification in progress\b/,
    },
    then: TEMPORARY,
    why: 'The server (or the one behind it) has a problem, or is still verifying the address: retry later. Precedes the 4.7.x and 421 throttle rules (Exchange Online "451 4.7.0 Temporary server error … PRXn").',
  },
  {
    id: 'service-unavailable-at-greeting',
    when: { stages: ['connect', 'ehlo'], classes: FAILURE, text: SERVICE_UNAVAILABLE },
    unless: { text: anyOf(TRY_LATER_OR_BUSY, PROBER_BLOCK_TEXT) },
    then: CONNECTION_FAILED,
    why: 'A greeting of "Service not available" with no reason and no "try later": no SMTP service here right now (RFC 5321 3.1, 554/421 greeting).',
  },
  {
    id: 'service-unavailable-421',
    when: { stages: ['mail', 'rcpt'], codes: [421], text: SERVICE_UNAVAILABLE },
    unless: { text: TRY_LATER_OR_BUSY },
    then: TEMPORARY,
    why: 'RFC 5321\'s "421 Service not available, closing transmission channel" mid-session: the server shuts down, no throttle signal.',
  },
  {
    id: 'policy-refusal-4.7',
    when: { classes: TRANSIENT, enhanced: /^4\.7\.\d+$/, text: /\breject|\bden(?:y|ied)\b|\babuse\b|\bnot allowed\b|\bblock/ },
    unless: { text: anyOf(TRY_LATER_OR_BUSY, String.raw`\bunavailable\b|\btemporar`) },
    then: BLOCKED,
    why: 'A 4.7.x (security/policy) that says rejected/denied: a policy refusal of the prober, retrying alone will not help.',
  },
  {
    id: 'throttle-4.7-try-later',
    when: { classes: TRANSIENT, enhanced: /^4\.7\.\d+$/, text: TRY_LATER_OR_BUSY },
    then: RATE_LIMITED,
    why: 'A 4.7.x policy deferral with "try again later" / "busy" (Apple, Yandex, Microsoft 4.7.500): the host slows us down.',
  },
  {
    id: '421',
    when: { codes: [421] },
    then: RATE_LIMITED,
    why: 'Any other 421 closes the connection because of us or load (try again later, busy, too many errors, max messages per connection, unexpected volume): back off the host.',
  },

  // --- 4. permanent replies at RCPT (and transient ones about the mailbox) ------------------------
  {
    id: 'mailbox-full-code',
    when: { stages: RCPT, classes: FAILURE, enhanced: /^[45]\.2\.2$/ },
    then: FULL,
    why: 'X.2.2 "mailbox full" (RFC 3463), whatever the wording (Gmail OverQuotaTemp/Perm).',
  },
  {
    id: 'mailbox-full-text',
    when: {
      stages: RCPT,
      classes: FAILURE,
      text: /\bquota\b|\bover ?quota\b|\bmailbox (?:is )?full\b|\bmailbox size limit\b|\bstorage (?:space|allocation)\b|\binbox is full\b|\btoo many messages (?:on the server|in (?:the |this )?mailbox)\b|\bboite (?:du destinataire )?pleine\b/,
    },
    unless: { enhanced: /^\d\.[347]\./ },
    then: FULL,
    why: 'Storage / quota wording, also under a 5.1.1, 550 or 552 code (Comcast, Orange, GMX, web.de) — unless the enhanced code blames the mail system, network or policy (Microsoft "4.7.3 Organization queue quota").',
  },
  {
    id: 'mailbox-disabled-text',
    when: {
      stages: RCPT,
      classes: PERMANENT,
      text: /\b(?:disabled|deactivated|inactive|inactivity|suspended|frozen|discontinued|(?:temporar(?:il)?y )?locked)\b|\b(?:recipient|mailbox|account|user)(?: address| account)?(?: rejected ?:| is| has been)? blocked\b/,
    },
    then: DISABLED,
    why: 'The account exists but is disabled / inactive / suspended / locked — or "the recipient (account) is blocked", where "blocked" is about the mailbox, not the prober (Rambler, La Poste).',
  },
  {
    id: 'address-syntax-code',
    when: { stages: RCPT, classes: PERMANENT, enhanced: /^5\.1\.[23]$/ },
    then: REJECTED,
    why: '5.1.2 bad destination system / 5.1.3 bad mailbox address syntax: the address as written is refused (precedes "not a valid address" wording).',
  },
  {
    id: 'address-syntax-text',
    when: { stages: RCPT, classes: PERMANENT, text: /\bsyntax\b/ },
    then: REJECTED,
    why: 'A syntax refusal of the recipient ("Bad address syntax", "Syntax error in parameters or arguments").',
  },
  {
    id: 'refused-for-recipient',
    when: {
      stages: RCPT,
      classes: PERMANENT,
      text: /\bnot local\b|\brecipient(?:'s)? (?:preferences|settings)\b|\bblock[- ]?(?:rcpt|recipient)\b|\bno[- ]domain\b|\bdomain not found\b|\bno such domain\b|\b(?:target|mailbox)\b[^.]*\bpolic(?:y|ies)\b|\bpolic(?:y|ies)\b[^.]*\b(?:target|mailbox)\b/,
    },
    then: REJECTED,
    why: 'A refusal of this recipient that says nothing about existence: user not local, recipient preferences, a per-recipient block or policy, recipient domain not served here.',
  },
  {
    id: 'mailbox-not-found-code',
    when: { stages: RCPT, classes: PERMANENT, enhanced: /^5\.1\.(?:0|1|6|10)$/ },
    then: NOT_FOUND,
    why: '5.1.1 bad destination mailbox, 5.1.0 address status, 5.1.6 mailbox moved with no forward, 5.1.10 recipient address has null MX / Microsoft RecipientNotFound.',
  },
  {
    id: 'mailbox-not-found-text',
    when: { stages: RCPT, classes: PERMANENT, text: NOT_FOUND_TEXT },
    then: NOT_FOUND,
    why: 'The text says the mailbox does not exist — trusted over odd enhanced codes (5.2.1 "User Unknown", 5.7.1 "No such user", 5.5.0 "Invalid recipient").',
  },
  {
    id: 'prober-blocked-text',
    when: { classes: PERMANENT, text: PROBER_BLOCK_TEXT },
    then: BLOCKED,
    why: 'A refusal of us, not of the mailbox: block, spam, reputation, banned IP, relaying denied (this host does not take mail for the domain from us), access denied, policy, authentication.',
  },
  {
    id: 'mailbox-disabled-code',
    when: { stages: RCPT, classes: PERMANENT, enhanced: /^5\.(?:2\.1|7\.13)$/ },
    then: DISABLED,
    why: '5.2.1 mailbox disabled (RFC 3463), 5.7.13 user account disabled (RFC 5248).',
  },
  {
    id: 'user-not-local-551',
    when: { stages: RCPT, codes: [551] },
    then: REJECTED,
    why: 'RFC 5321 551 "User not local": this host will not take the recipient; nothing says it does not exist.',
  },
  {
    id: 'policy-code-5.7',
    when: { classes: PERMANENT, enhanced: /^5\.7\.\d+$/ },
    then: BLOCKED,
    why: '5.7.x security/policy with no recipient-specific text: a policy refusal of the prober.',
  },

  // --- 5. stage defaults -------------------------------------------------------------------------
  {
    id: 'permanent-before-rcpt',
    when: { stages: BEFORE_RCPT, classes: PERMANENT },
    then: BLOCKED,
    why: 'A 5xx to the greeting, EHLO or MAIL FROM refuses the prober (its IP, name or sender), never a mailbox.',
  },
  {
    id: 'transient-greeting',
    when: { stages: ['connect'], classes: TRANSIENT },
    then: BLOCKED,
    why: 'A greeting other than 220, 421 or 554 is a refusal of the connection by policy (Symantec "450 Requested action aborted").',
  },
  {
    id: 'permanent-at-rcpt',
    when: { stages: RCPT, classes: PERMANENT },
    then: REJECTED,
    why: 'Any other permanent refusal of the recipient (no reason given).',
  },
  {
    id: 'transient',
    when: { classes: TRANSIENT },
    then: TEMPORARY,
    why: 'Any other 4xx: a temporary failure; retry later.',
  },
] satisfies ReplyRule[]);

// --- evaluation ----------------------------------------------------------------------------------

function factsOf(stage: SmtpStage, reply: SmtpReply): ReplyFacts {
  const enhanced = reply.enhanced ?? '';
  let text = '';
  for (let i = 0; i < reply.lines.length; i++) {
    let line = reply.lines[i] as string;
    // Continuation lines repeat the code ("550-5.1.1 …"); drop it so phrases read across lines.
    if (i > 0 && enhanced !== '' && line.startsWith(enhanced)) line = line.slice(enhanced.length);
    text += i === 0 ? line : ' ' + line;
  }
  return {
    stage,
    code: reply.code,
    cls: Math.floor(reply.code / 100),
    enhanced,
    text: text.toLowerCase().replace(/\s+/g, ' ').trim(),
  };
}

function holds(c: Conditions, f: ReplyFacts): boolean {
  return (
    (c.stages === undefined || c.stages.includes(f.stage)) &&
    (c.classes === undefined || c.classes.includes(f.cls)) &&
    (c.codes === undefined || c.codes.includes(f.code)) &&
    (c.enhanced === undefined || c.enhanced.test(f.enhanced)) &&
    (c.text === undefined || c.text.test(f.text))
  );
}

function excluded(u: ReplyRule['unless'], f: ReplyFacts): boolean {
  if (u === undefined) return false;
  return (u.enhanced !== undefined && u.enhanced.test(f.enhanced)) || (u.text !== undefined && u.text.test(f.text));
}

/** Classify a reply and say which rule decided (for logs and debugging). */
export function explainReply(stage: SmtpStage, reply: string | SmtpReply): ReplyExplanation {
  const parsed = typeof reply === 'string' ? parseReply(reply) : reply;
  const facts = factsOf(stage, parsed);
  for (const rule of REPLY_RULES) {
    if (holds(rule.when, facts) && !excluded(rule.unless, facts)) {
      return { status: rule.then.status, reason: rule.then.reason, rule: rule.id, why: rule.why, reply: parsed };
    }
  }
  // Unreachable while the table ends with catch-alls for every class; kept total on purpose.
  return { ...CONNECTION_FAILED, rule: 'none', why: 'No rule matched.', reply: parsed };
}

/**
 * Classify a server reply at a stage into the listwash vocabulary (see src/verdict.ts): status +
 * reason, where reason may also be a connection signal `rate_limited` or `too_many_recipients`
 * (status `unknown`). At connect / ehlo / mail a 2xx is `deliverable/accepted`, meaning "go on".
 */
export function classifyReply(stage: SmtpStage, reply: string | SmtpReply): ReplyClassification {
  const { status, reason } = explainReply(stage, reply);
  return { status, reason };
}
