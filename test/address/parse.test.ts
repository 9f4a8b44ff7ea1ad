import { describe, expect, it } from 'vitest';
import { findControlChar, parseAddress, SYNTAX_DETAILS, type AddressResult, type SyntaxDetail } from '../../src/address/index.js';

function expectValid(r: AddressResult) {
  if (!r.ok) throw new Error(`expected valid, got ${r.detail}: ${r.message}`);
  return r;
}

function expectInvalid(r: AddressResult) {
  if (r.ok) throw new Error(`expected invalid, got ${r.normalized}`);
  return r;
}

const hasCrLfNul = (s: string): boolean => s.includes('\r') || s.includes('\n') || s.includes('\u0000');

const l64 = 'a'.repeat(64);
const label63 = 'b'.repeat(63);
/** A domain of exactly `len` octets made of 63-octet labels (plus a shorter last one), ending in `.com`. */
function domainOfLength(len: number): string {
  const labels: string[] = [];
  let remaining = len - 4; // ".com"
  while (remaining > 0) {
    const take = Math.min(63, remaining - (labels.length > 0 ? 1 : 0));
    if (labels.length > 0) remaining -= 1; // the dot before this label
    labels.push('d'.repeat(take));
    remaining -= take;
  }
  return `${labels.join('.')}.com`;
}

describe('parseAddress: valid addresses', () => {
  const cases: Array<[string, string]> = [
    ['john@example.com', 'john@example.com'],
    ['John.Doe@Example.COM', 'John.Doe@example.com'],
    ['a.b.c@x.org', 'a.b.c@x.org'],
    ["!#$%&'*+-/=?^_`{|}~@x.com", "!#$%&'*+-/=?^_`{|}~@x.com"],
    ['user+tag@sub.example.co.uk', 'user+tag@sub.example.co.uk'],
    ['"john doe"@example.com', '"john doe"@example.com'],
    ['"a\\"b"@x.com', '"a\\"b"@x.com'],
    ['"a\\\\b"@x.com', '"a\\\\b"@x.com'],
    ['"a@b<c>"@x.com', '"a@b<c>"@x.com'],
    ['"Quoted.Case"@X.com', '"Quoted.Case"@x.com'],
    ['a@x.com.', 'a@x.com'],
    ['a@my-host.example.com', 'a@my-host.example.com'],
    ['a@123.example', 'a@123.example'],
    ['a@x.xn--p1ai', 'a@x.xn--p1ai'],
    [`${l64}@x.com`, `${l64}@x.com`],
    [`a@${label63}.com`, `a@${label63}.com`],
  ];
  it.each(cases)('%s → %s', (input, normalized) => {
    const r = expectValid(parseAddress(input));
    expect(r.normalized).toBe(normalized);
    expect(r.input).toBe(input);
    expect(`${r.local}@${r.domain}`).toBe(r.normalized);
  });

  it('keeps the local part case and lower-cases the domain', () => {
    const r = expectValid(parseAddress('MiXeD.Case@ExAmPlE.CoM'));
    expect(r.local).toBe('MiXeD.Case');
    expect(r.domain).toBe('example.com');
    expect(r.domainUnicode).toBe('example.com');
  });

  it('keeps a quoted local part quoted', () => {
    const r = expectValid(parseAddress('"john doe"@example.com'));
    expect(r.local).toBe('"john doe"');
    expect(r.normalized).toBe('"john doe"@example.com');
  });

  it('accepts an address of exactly 254 octets and rejects 255', () => {
    const domain252 = domainOfLength(252);
    expect(domain252.length).toBe(252);
    const ok = `a@${domain252}`;
    expect(ok.length).toBe(254);
    expectValid(parseAddress(ok));
    const tooLong = expectInvalid(parseAddress(`ab@${domain252}`));
    expect(tooLong.detail).toBe('address_too_long');
  });

  it('counts the local part in UTF-8 octets', () => {
    // 32 × 'é' is 64 octets; 33 × is 66
    expectValid(parseAddress(`${'é'.repeat(32)}@x.com`));
    expect(expectInvalid(parseAddress(`${'é'.repeat(33)}@x.com`)).detail).toBe('local_too_long');
  });

  it('flags an SMTPUTF8 local part, but not an IDN domain alone', () => {
    const utf8 = expectValid(parseAddress('jörg@example.com'));
    expect(utf8.flags.smtputf8).toBe(true);
    expect(utf8.normalized).toBe('jörg@example.com');
    expect(expectValid(parseAddress('joerg@bücher.de')).flags.smtputf8).toBe(false);
    expect(expectValid(parseAddress('"jörg x"@example.com')).flags.smtputf8).toBe(true);
    expect(expectValid(parseAddress('用户@例子.广告')).flags.smtputf8).toBe(true);
  });
});

describe('parseAddress: invalid addresses (one case per detail code at least)', () => {
  const cases: Array<[string, SyntaxDetail]> = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['<>', 'empty'],
    ['mailto:', 'empty'],
    ['john.example.com', 'no_at'],
    ['"john@x.com"', 'no_at'],
    ['@x.com', 'empty_local'],
    ['""@x.com', 'empty_local'],
    ['john@', 'empty_domain'],
    ['john@.', 'empty_domain'],
    [`${l64}a@x.com`, 'local_too_long'],
    [`a@${domainOfLength(256)}`, 'domain_too_long'],
    [`${'a'.repeat(10)}@${domainOfLength(245)}`, 'address_too_long'],
    ['.john@x.com', 'dot_rule'],
    ['john.@x.com', 'dot_rule'],
    ['jo..hn@x.com', 'dot_rule'],
    ['jo hn@x.com', 'bad_char'],
    ['jo<hn@x.com', 'bad_char'],
    ['jo>hn@x.com', 'bad_char'],
    ['a@b@x.com', 'bad_char'],
    ['jo,hn@x.com', 'bad_char'],
    ['jo(hn)@x.com', 'bad_char'],
    ['jo"hn@x.com', 'bad_char'],
    ['jo\\hn@x.com', 'bad_char'],
    ['"jo"hn@x.com', 'bad_char'],
    ['😀@x.com', 'bad_char'],
    ['jo\u3000hn@x.com', 'bad_char'],
    ['John <john@x.com>', 'bad_char'],
    ['<john@x.com', 'bad_char'],
    ['jo\thn@x.com', 'control_char'],
    ['jo\u007fhn@x.com', 'control_char'],
    ['jo\u0085hn@x.com', 'control_char'],
    ['jo\u2028hn@x.com', 'control_char'],
    ['john@x_y.com', 'bad_domain_label'],
    ['john@-x.com', 'bad_domain_label'],
    ['john@x-.com', 'bad_domain_label'],
    ['john@x..com', 'bad_domain_label'],
    ['john@.x.com', 'bad_domain_label'],
    ['john@x.com..', 'bad_domain_label'],
    ['john@x y.com', 'bad_domain_label'],
    ['john@x>.com', 'bad_domain_label'],
    ['john@-ü.de', 'bad_domain_label'],
    ['john@ü_x.de', 'bad_domain_label'],
    [`john@${'c'.repeat(64)}.com`, 'label_too_long'],
    ['john@localhost', 'single_label_domain'],
    ['john@com', 'single_label_domain'],
    ['john@1.2.3.4', 'numeric_tld'],
    ['john@example.123', 'numeric_tld'],
    ['john@[1.2.3.4]', 'address_literal'],
    ['john@[IPv6:::1]', 'address_literal'],
    ['"john@x.com', 'unterminated_quote'],
    ['"john\\"@x.com', 'unterminated_quote'],
    ['"john\\', 'unterminated_quote'],
    ['john@xn--zz.de', 'bad_idn'],
    ['john@ü\u3000x.de', 'bad_idn'],
  ];
  it.each(cases)('%j → %s', (input, detail) => {
    const r = expectInvalid(parseAddress(input));
    expect(r.detail).toBe(detail);
    expect(r.reason).toBe('invalid_syntax');
    expect(r.input).toBe(input);
    expect(r.message.length).toBeGreaterThan(0);
    expect(findControlChar(r.message)).toBe(-1);
  });

  it('covers every detail code', () => {
    const covered = new Set(cases.map(([, d]) => d));
    expect(SYNTAX_DETAILS.filter((d) => !covered.has(d))).toEqual([]);
  });

  it('rejects 65-octet local parts but accepts 64', () => {
    expectValid(parseAddress(`${l64}@x.com`));
    expect(expectInvalid(parseAddress(`${l64}b@x.com`)).detail).toBe('local_too_long');
  });

  it('measures the domain limit on the ASCII form (256 is too long)', () => {
    expect(domainOfLength(256).length).toBe(256);
    expect(expectInvalid(parseAddress(`a@${domainOfLength(256)}`)).detail).toBe('domain_too_long');
    // 255 octets is a valid domain length, but the whole address is then over 254
    expect(expectInvalid(parseAddress(`a@${domainOfLength(255)}`)).detail).toBe('address_too_long');
  });
});

describe('parseAddress: SMTP command injection attempts', () => {
  const attempts = [
    'a@b.com\r\nDATA',
    'a@b.com\nRCPT TO:<victim@x.com>',
    'a@b.com\r',
    'a@b.com\n',
    '\r\na@b.com',
    '"a\r\nb"@x.com',
    '"a\\\r\nb"@x.com',
    '"a\u0000b"@x.com',
    'a\u0000@b.com',
    'a@b.com\u0000',
    'a@b\r\n.com',
    '<a@b.com>\r\nQUIT',
    'mailto:a@b.com?subject=x\r\nDATA',
    'a@bü.de\r\nDATA',
  ];
  it.each(attempts)('%j is rejected as control_char', (input) => {
    const r = expectInvalid(parseAddress(input));
    expect(r.detail).toBe('control_char');
    expect(r.suggestion).toBeNull();
  });

  it('never lets CR, LF or NUL into a normalised address, nor <, > or whitespace outside quotes', () => {
    const specials = ['\r', '\n', '\u0000', '"', '\\', '<', '>', ' ', '@', '.', 'a', 'ü'];
    let checked = 0;
    for (const a of specials) {
      for (const b of specials) {
        for (const tpl of [`x${a}${b}@y.com`, `"x${a}${b}"@y.com`, `x@y${a}${b}.com`, `${a}x@y.com${b}`]) {
          const r = parseAddress(tpl);
          if (hasCrLfNul(tpl)) expect(r.ok === false && r.detail).toBe('control_char');
          if (!r.ok) continue;
          checked++;
          expect(hasCrLfNul(r.normalized)).toBe(false);
          const outsideQuotes = r.local.startsWith('"') ? r.domain : r.normalized;
          expect(outsideQuotes).not.toMatch(/[<>\s]/);
        }
      }
    }
    expect(checked).toBeGreaterThan(20); // the loop did look at valid results
  });
});

describe('parseAddress: never throws', () => {
  it.each([
    'a'.repeat(100_000),
    `${'a'.repeat(100_000)}@x.com`,
    `a@${'x.'.repeat(50_000)}com`,
    '@'.repeat(1000),
    '"'.repeat(1001),
    '\\'.repeat(1000),
    '\ud800@x.com',
    'a@\udfff.com',
  ])('handles %#', (input) => {
    const r = parseAddress(input);
    expect(r.ok).toBe(false);
  });

  it.each([undefined, null, {}, { toString: 0 }, { toString: () => 'a@b.com' }, [], Symbol('x')])('treats a non-string value (%#) as empty, without stringifying it', (input) => {
    const r = parseAddress(input as unknown as string);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.detail).toBe('empty');
  });

  it('reads a number as its text', () => {
    expect(parseAddress(42 as unknown as string)).toMatchObject({ ok: false, input: '42', detail: 'no_at' });
  });
});

describe('parseAddress: flags and suggestions in the result', () => {
  it('reports role, disposable and free flags', () => {
    expect(expectValid(parseAddress('info@gmail.com')).flags).toEqual({ role: true, disposable: false, free: true, smtputf8: false });
    expect(expectValid(parseAddress('jane@mailinator.com')).flags).toEqual({ role: false, disposable: true, free: false, smtputf8: false });
    expect(expectValid(parseAddress('jane@acme-widgets.com')).flags).toEqual({ role: false, disposable: false, free: false, smtputf8: false });
  });

  it('suggests a full address for a domain typo, keeping the local part', () => {
    expect(expectValid(parseAddress('Jane.Doe@gmial.com')).suggestion).toBe('Jane.Doe@gmail.com');
    expect(expectValid(parseAddress('jane@gmail.com')).suggestion).toBeNull();
  });

  it('suggests a repair for an invalid but repairable domain', () => {
    expect(expectInvalid(parseAddress('jane@gmail,com')).suggestion).toBe('jane@gmail.com');
    expect(expectInvalid(parseAddress('jane@gmail')).suggestion).toBe('jane@gmail.com');
    expect(expectInvalid(parseAddress('jane@gmail .com')).suggestion).toBe('jane@gmail.com');
    expect(expectInvalid(parseAddress('jane@localhost')).suggestion).toBeNull();
    expect(expectInvalid(parseAddress('ja ne@gmail,com')).suggestion).toBeNull();
  });
});
