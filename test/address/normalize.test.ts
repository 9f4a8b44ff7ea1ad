import { describe, expect, it } from 'vitest';
import { dedupKey, normalizeDomain, parseAddress, unwrapAddress } from '../../src/address/index.js';

describe('unwrapAddress', () => {
  it.each([
    ['  a@b.com  ', 'a@b.com'],
    ['\ta@b.com\t', 'a@b.com'],
    ['\u00a0a@b.com\ufeff', 'a@b.com'],
    ['<a@b.com>', 'a@b.com'],
    [' < a@b.com > ', 'a@b.com'],
    ['mailto:a@b.com', 'a@b.com'],
    ['MAILTO:a@b.com', 'a@b.com'],
    ['mailto:a@b.com?subject=Hello&body=x', 'a@b.com'],
    ['<mailto:a@b.com>', 'a@b.com'],
    ['mailto:<a@b.com>', 'a@b.com'],
    ['<<a@b.com>>', '<a@b.com>'],
    ['a@b.com\r\n', 'a@b.com\r\n'],
    ['John <a@b.com>', 'John <a@b.com>'],
    ['<a@b.com', '<a@b.com'],
  ])('%j → %j', (input, expected) => {
    expect(unwrapAddress(input)).toBe(expected);
  });
});

describe('normalizeDomain', () => {
  it.each([
    ['Example.COM', 'example.com', 'example.com'],
    ['example.com.', 'example.com', 'example.com'],
    ['bücher.de', 'xn--bcher-kva.de', 'bücher.de'],
    ['BÜCHER.DE', 'xn--bcher-kva.de', 'bücher.de'],
    ['XN--BCHER-KVA.de', 'xn--bcher-kva.de', 'bücher.de'],
    ['straße.de', 'xn--strae-oqa.de', 'straße.de'],
    ['例子.广告', 'xn--fsqu00a.xn--4rr70v', '例子.广告'],
    ['ｅｘａｍｐｌｅ．ｃｏｍ', 'example.com', 'example.com'],
    ['bücher.de。', 'xn--bcher-kva.de', 'bücher.de'],
  ])('%s → %s (%s)', (input, ascii, unicode) => {
    const r = normalizeDomain(input);
    expect(r).toEqual({ ok: true, ascii, unicode });
  });

  it.each([
    ['[1.2.3.4]', 'address_literal'],
    ['', 'empty_domain'],
    ['xn--zz.de', 'bad_idn'],
    ['-bücher.de', 'bad_domain_label'],
    ['bücher-.de', 'bad_domain_label'],
    ['bü cher.de', 'bad_domain_label'],
    ['bücher..de', 'bad_domain_label'],
    ['bücher', 'single_label_domain'],
  ])('%j is rejected as %s', (input, detail) => {
    const r = normalizeDomain(input);
    expect(r.ok === false && r.detail).toBe(detail);
  });
});

describe('IDN addresses', () => {
  it('converts user@bücher.de to punycode and keeps the Unicode form', () => {
    const r = parseAddress('jane@bücher.de');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.domain).toBe('xn--bcher-kva.de');
    expect(r.domainUnicode).toBe('bücher.de');
    expect(r.normalized).toBe('jane@xn--bcher-kva.de');
    expect(r.flags.smtputf8).toBe(false);
  });
});

describe('dedupKey', () => {
  it('keeps the local part as given and lower-cases the ASCII domain', () => {
    expect(dedupKey({ local: 'John.Doe', domain: 'Example.COM' })).toBe('John.Doe@example.com');
  });

  it('maps case-variant domains and IDN spellings of one address to the same key', () => {
    const keys = ['Jane@EXAMPLE.com', 'Jane@example.com.', '<Jane@example.COM>', 'mailto:Jane@Example.com'].map((a) => {
      const r = parseAddress(a);
      if (!r.ok) throw new Error(`unexpected invalid ${a}`);
      return dedupKey(r);
    });
    expect(new Set(keys)).toEqual(new Set(['Jane@example.com']));
    const idn = [parseAddress('x@bücher.de'), parseAddress('x@XN--BCHER-KVA.DE')].map((r) => (r.ok ? dedupKey(r) : null));
    expect(idn).toEqual(['x@xn--bcher-kva.de', 'x@xn--bcher-kva.de']);
  });

  it('keeps case-different local parts apart', () => {
    const a = parseAddress('Jane@example.com');
    const b = parseAddress('jane@example.com');
    expect(a.ok && b.ok && dedupKey(a) !== dedupKey(b)).toBe(true);
  });
});
