import { describe, expect, it } from 'vitest';
import { ADDRESS_LIMITS, checkAsciiDomain, checkLocalPart, findControlChar, splitAddress } from '../../src/address/index.js';

describe('splitAddress', () => {
  it.each([
    ['a@b.com', 'a', 'b.com', false],
    ['a@b@c.com', 'a@b', 'c.com', false],
    ['"a@b"@c.com', '"a@b"', 'c.com', true],
    ['"a\\"@b"@c.com', '"a\\"@b"', 'c.com', true],
    ['"a"@', '"a"', '', true],
  ])('%j → %j @ %j', (input, local, domain, quoted) => {
    expect(splitAddress(input)).toEqual({ ok: true, local, domain, quoted });
  });

  it.each([
    ['abc', 'no_at'],
    ['"a@b"', 'no_at'],
    ['"a@b.com', 'unterminated_quote'],
    ['"a"b@c.com', 'bad_char'],
  ])('%j fails with %s', (input, detail) => {
    const r = splitAddress(input);
    expect(r.ok === false && r.detail).toBe(detail);
  });
});

describe('checkLocalPart', () => {
  it.each([
    ['john', false, 4, false],
    ['"john doe"', true, 10, false],
    ['"a\\"b"', true, 6, false],
    ['jörg', false, 5, true],
    ['名前', false, 6, true],
    ['𝒳', false, 4, true], // U+1D4B3, a letter outside the BMP
  ])('%j (quoted %s) is %i octets, smtputf8 %s', (local, quoted, octets, smtputf8) => {
    expect(checkLocalPart(local, quoted)).toEqual({ ok: true, octets, smtputf8 });
  });

  it.each([
    ['', false, 'empty_local'],
    ['""', true, 'empty_local'],
    ['a\rb', false, 'control_char'],
    ['"a\rb"', true, 'control_char'],
    ['"a\\\u0000"', true, 'control_char'],
    ['"a\\é"', true, 'bad_char'],
    ['a b', false, 'bad_char'],
    ['a..b', false, 'dot_rule'],
    ['x'.repeat(ADDRESS_LIMITS.localOctets + 1), false, 'local_too_long'],
    [`"${'x'.repeat(ADDRESS_LIMITS.localOctets - 1)}"`, true, 'local_too_long'],
  ])('%j (quoted %s) fails with %s', (local, quoted, detail) => {
    const r = checkLocalPart(local, quoted);
    expect(r.ok === false && r.detail).toBe(detail);
  });
});

describe('checkAsciiDomain', () => {
  it.each(['a.b', 'EXAMPLE.COM', 'a-b.c-d.ef', '1a.com', 'xn--bcher-kva.de'])('%s is valid', (d) => {
    expect(checkAsciiDomain(d).ok).toBe(true);
  });

  it.each([
    ['', 'empty_domain'],
    ['[::1]', 'address_literal'],
    ['a', 'single_label_domain'],
    ['a.1', 'numeric_tld'],
    ['a..b', 'bad_domain_label'],
    ['a.b.', 'bad_domain_label'],
    ['a_b.c', 'bad_domain_label'],
    ['a.b\n', 'control_char'],
    [`${'x'.repeat(64)}.com`, 'label_too_long'],
  ])('%j fails with %s', (d, detail) => {
    const r = checkAsciiDomain(d);
    expect(r.ok === false && r.detail).toBe(detail);
  });
});

describe('findControlChar', () => {
  it.each([
    ['abc', -1],
    ['a\rb', 1],
    ['\n', 0],
    ['ab\u0000', 2],
    ['a\u0085', 1],
    ['a\u2029', 1],
    ['é ü', -1],
  ])('%j → %i', (s, idx) => {
    expect(findControlChar(s)).toBe(idx);
  });
});
