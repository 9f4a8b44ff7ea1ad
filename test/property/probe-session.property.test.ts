/**
 * What the prober writes, whatever the server answers: `ProbeSession` against a scripted loopback server that
 * records every byte, with generated addresses (any that `parseAddress` accepts, normalised) and generated replies.
 * Every line the client sends is one of the allowed commands, ends with CRLF, names only the addresses asked for —
 * never DATA or BDAT, no address turning into a second command, no extra lines.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/address/index.js';
import { classifyReply } from '../../src/smtp/classify.js';
import { ProbeSession, type RcptRequest } from '../../src/smtp/probe-session.js';
import { parseReply } from '../../src/smtp/reply.js';
import { addressish, replyWithCode, smtpReplyLines } from './arbitraries.js';
import { RecordingSmtpServer, type Recording, type ServerScript } from './recording-smtp-server.js';

const HELO = 'probe.listwash.test';
const MAIL_FROM = 'probe@listwash.test';

/** Addresses the prober may be given: anything `parseAddress` accepts, as the pipeline hands them over. */
const request: fc.Arbitrary<RcptRequest | null> = addressish.map((raw) => {
  const a = parseAddress(raw);
  return a.ok ? { address: a.normalized, smtputf8: a.flags.smtputf8 } : null;
});
const requests: fc.Arbitrary<RcptRequest[]> = fc
  .uniqueArray(request, { minLength: 1, maxLength: 8, selector: (r) => r?.address ?? '' })
  .map((rs) => rs.filter((r): r is RcptRequest => r !== null))
  .filter((rs) => rs.length > 0);

const ehloKeywords = fc.subarray(['PIPELINING', 'STARTTLS', 'SMTPUTF8', 'SIZE 10485760', '8BITMIME', 'CHUNKING', 'ENHANCEDSTATUSCODES', 'X-JUNK ü']);

/** Any reply, or a common one for the verb. */
function replyFor(common: readonly string[]): fc.Arbitrary<string[]> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...common).map((r) => [r]) }, { weight: 2, arbitrary: smtpReplyLines });
}

const script: fc.Arbitrary<ServerScript> = fc.record({
  banner: fc.oneof({ weight: 10, arbitrary: fc.constant(['220 mx.test ESMTP']) }, { weight: 1, arbitrary: smtpReplyLines }),
  ehlo: fc.array(fc.oneof({ weight: 10, arbitrary: ehloKeywords.map((k) => (k.length === 0 ? ['250 mx.test'] : ['250-mx.test', ...k.map((w, i) => `250${i === k.length - 1 ? ' ' : '-'}${w}`)])) }, { weight: 1, arbitrary: smtpReplyLines }), { minLength: 1, maxLength: 2 }),
  helo: fc.array(replyFor(['250 mx.test', '550 no']), { minLength: 1, maxLength: 2 }),
  // A 220 to STARTTLS would start a TLS handshake this plain-text recorder cannot take part in.
  starttls: fc.array(fc.oneof(replyFor(['454 4.7.0 TLS not available', '502 5.5.2 no']), replyWithCode(454)).filter((r) => parseReply(r.join('\n')).code !== 220), { minLength: 1, maxLength: 2 }),
  mail: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(['250 2.1.0 Ok']) }, { weight: 1, arbitrary: replyFor(['550 5.7.1 sender rejected', '451 4.3.0 try later', '421 4.7.0 bye']) }), { minLength: 1, maxLength: 3 }),
  rcpt: fc.array(replyFor(['250 2.1.5 Ok', '550 5.1.1 <x@y.test>: User unknown', '450 4.7.1 Greylisted', '452 4.5.3 Too many recipients', '552 5.2.2 Mailbox full', '421 4.7.0 Too many connections']), { minLength: 1, maxLength: 8 }),
  rset: fc.array(replyFor(['250 2.0.0 Ok', '421 4.7.0 bye']), { minLength: 1, maxLength: 2 }),
  quit: fc.constant([['221 2.0.0 Bye']]),
});

/** The command lines of a recording; fails the test on a line not ended by CRLF or holding a bare CR or LF. */
function commandLines(r: Recording): string[] {
  const text = r.bytes.toString('utf8');
  if (text === '') return [];
  expect(text.endsWith('\r\n'), `ends with CRLF: ${JSON.stringify(text.slice(-20))}`).toBe(true);
  const lines = text.slice(0, -2).split('\r\n');
  for (const l of lines) expect(/[\r\n\0]/.test(l), `bare CR/LF/NUL in ${JSON.stringify(l)}`).toBe(false);
  return lines;
}

/** Which allowed command a line is, or null. */
function commandOf(line: string, addresses: ReadonlySet<string>): string | null {
  if (line === `EHLO ${HELO}` || line === `HELO ${HELO}`) return 'greet';
  if (line === 'STARTTLS' || line === 'RSET' || line === 'QUIT') return line;
  if (line === `MAIL FROM:<${MAIL_FROM}>` || line === `MAIL FROM:<${MAIL_FROM}> SMTPUTF8`) return 'MAIL';
  const rcpt = /^RCPT TO:<(.*)>$/s.exec(line);
  if (rcpt && addresses.has(rcpt[1] as string)) return 'RCPT';
  return null;
}

let server: RecordingSmtpServer;

beforeAll(async () => {
  server = await RecordingSmtpServer.start();
});

afterAll(async () => {
  await server?.stop();
});

describe('ProbeSession, whatever the server answers', () => {
  it('writes only well-formed allowed commands, CRLF-ended, for the addresses asked — never DATA/BDAT, no extra lines', { timeout: 120_000 }, async () => {
    const seen = { sessions: 0, withRcpt: 0, quotedOrUtf8: 0 };
    await fc.assert(
      fc.asyncProperty(requests, script, fc.integer({ min: 1, max: 4 }), async (reqs, sc, rcptPerTransaction) => {
        const recording = server.expect(sc);
        const opts = { address: '127.0.0.1', port: server.port, serverName: 'mx.test', heloName: HELO, mailFrom: MAIL_FROM, rcptPerTransaction, connectTimeoutMs: 2000, bannerTimeoutMs: 2000, commandTimeoutMs: 2000, sessionTimeoutMs: 10_000 };
        const opened = await ProbeSession.open(opts);
        if (opened.ok) {
          const outcomes = await opened.session.verify(reqs);
          expect(outcomes.map((o) => o.address)).toEqual(reqs.map((r) => r.address));
          await opened.session.quit();
        }
        const rec = await recording;
        const addresses = new Set(reqs.map((r) => r.address));
        const lines = commandLines(rec);
        const kinds = lines.map((l) => commandOf(l, addresses));
        seen.sessions++;
        if (kinds.includes('RCPT')) seen.withRcpt++;
        if (lines.some((l) => /^RCPT TO:<("|[^>]*[^\x20-\x7e])/.test(l))) seen.quotedOrUtf8++;
        expect(kinds.map((k, i) => (k === null ? lines[i] : null)).filter((l) => l !== null), 'lines that are not allowed commands').toEqual([]);
        expect(lines.some((l) => /^(DATA|BDAT)\b/i.test(l))).toBe(false);
        // QUIT at most once, and nothing after it.
        expect(kinds.filter((k) => k === 'QUIT').length).toBeLessThanOrEqual(1);
        if (kinds.includes('QUIT')) expect(kinds.at(-1)).toBe('QUIT');
        // No RCPT outside a transaction; no more RCPTs than addresses, but for the retries a recipient limit asks for.
        const firstRcpt = kinds.indexOf('RCPT');
        if (firstRcpt !== -1) expect(kinds.slice(0, firstRcpt)).toContain('MAIL');
        const limitReplies = rec.rcptReplies.filter((r) => classifyReply('rcpt', r.join('\n')).reason === 'too_many_recipients').length;
        expect(kinds.filter((k) => k === 'RCPT').length).toBeLessThanOrEqual(reqs.length + limitReplies);
        // One greeting per greeting the session needed (EHLO, maybe HELO), before anything else.
        expect(kinds.filter((k) => k === 'greet').length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 150 },
    );
    // The runs reached the RCPT stage often, with quoted and non-ASCII addresses among them.
    expect(seen.withRcpt).toBeGreaterThan(seen.sessions / 3);
    expect(seen.quotedOrUtf8).toBeGreaterThan(5);
  });
});
