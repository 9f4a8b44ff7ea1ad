/**
 * The stored form of a verdict: what a server sent is kept readable — control characters that would make
 * report.csv unreadable (NUL above all: listwash refuses NUL bytes in its input) become visible stand-ins.
 */
import { describe, expect, it } from 'vitest';
import { decodeVerdict, encodeVerdict, printableText, splitStored } from '../../src/pipeline/result-codec.js';
import { verdict } from '../../src/verdict.js';

describe('printableText', () => {
  it('turns NUL and the other C0 controls (not TAB, CR, LF) and DEL into Control Pictures', () => {
    expect(printableText('550 5.1.1 no\u0000such\u0007user\u001b[0m\u007f')).toBe('550 5.1.1 no␀such␇user␛[0m␡');
    expect(printableText('a\tb\r\nc\rd\ne')).toBe('a\tb\r\nc\rd\ne');
    for (let c = 0; c < 0x20; c++) {
      const out = printableText(`x${String.fromCharCode(c)}y`);
      if (c === 0x09 || c === 0x0a || c === 0x0d) expect(out).toBe(`x${String.fromCharCode(c)}y`);
      else expect(out).toBe(`x${String.fromCharCode(0x2400 + c)}y`);
    }
  });

  it('keeps text without controls as it is, up to the limit, without cutting a character in two', () => {
    expect(printableText('250 2.1.5 Ok — ✓ 😀')).toBe('250 2.1.5 Ok — ✓ 😀');
    expect(printableText('x'.repeat(600))).toHaveLength(500);
    const cut = printableText('x'.repeat(499) + '😀tail');
    expect(cut).toBe('x'.repeat(499));
  });
});

describe('encodeVerdict', () => {
  it('stores a reply with NUL bytes as visible text, and the host name likewise', () => {
    const v = verdict('mailbox_not_found', { mxHost: 'mx\u0000.test', smtpCode: 550, enhancedCode: '5.1.1', smtpReply: '550 5.1.1 no\u0000such user' });
    const back = decodeVerdict(encodeVerdict(v));
    expect(back.smtpReply).toBe('550 5.1.1 no␀such user');
    expect(back.mxHost).toBe('mx␀.test');
    expect(encodeVerdict(v)).not.toMatch(/\\u0000/);
  });
});

describe('the verification time of a stored verdict', () => {
  const v = verdict('accepted', { mxHost: 'mx.test', smtpCode: 250, smtpReply: '250 2.1.5 Ok', catchAll: false });

  it('goes in front of the verdict, so equal verdicts verified at different times share their JSON part', () => {
    const a = encodeVerdict(v, 1_764_900_000_000);
    const b = encodeVerdict(v, 1_764_900_000_123);
    expect(a).toBe(`1764900000000 ${encodeVerdict(v)}`);
    expect(splitStored(a)).toEqual({ verifiedAt: 1_764_900_000_000, body: encodeVerdict(v) });
    expect(splitStored(b).body).toBe(splitStored(a).body);
    expect(decodeVerdict(a)).toEqual(v);
  });

  it('is absent from a verdict stored without one (as before)', () => {
    expect(splitStored(encodeVerdict(v))).toEqual({ verifiedAt: null, body: encodeVerdict(v) });
    expect(decodeVerdict(encodeVerdict(v))).toEqual(v);
  });

  it('must be a number', () => {
    expect(() => splitStored(`soon ${encodeVerdict(v)}`)).toThrow('stored verdict has a bad verification time "soon"');
  });
});
