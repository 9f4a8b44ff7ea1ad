import { describe, expect, it } from 'vitest';
import { createDomainSuggester, editDistance, repairDomain, suggestDomain } from '../../src/address/typos.js';
import { isFreeDomain } from '../../src/address/flags.js';

describe('suggestDomain: typos of popular providers', () => {
  it.each([
    ['gmial.com', 'gmail.com'],
    ['gmai.com', 'gmail.com'],
    ['gamil.com', 'gmail.com'],
    ['gnail.com', 'gmail.com'],
    ['gmail.con', 'gmail.com'],
    ['gmail.co', 'gmail.com'],
    ['gmail.om', 'gmail.com'],
    ['gmaill.con', 'gmail.com'],
    ['hotmial.com', 'hotmail.com'],
    ['hotamil.com', 'hotmail.com'],
    ['yaho.com', 'yahoo.com'],
    ['yahooo.com', 'yahoo.com'],
    ['yhaoo.com', 'yahoo.com'],
    ['outlok.com', 'outlook.com'],
    ['iclod.com', 'icloud.com'],
    ['icloud.co', 'icloud.com'],
    ['aol.co', 'aol.com'],
    ['comcast.ner', 'comcast.net'],
    ['yaho.co.uk', 'yahoo.co.uk'],
    ['yaho.fr', 'yahoo.fr'],
  ])('%s → %s', (typo, fixed) => {
    expect(suggestDomain(typo)).toBe(fixed);
  });
});

describe('suggestDomain: misspelt TLDs of any domain', () => {
  it.each([
    ['acme.con', 'acme.com'],
    ['acme.cmo', 'acme.com'],
    ['acme.comm', 'acme.com'],
    ['acme.nte', 'acme.net'],
  ])('%s → %s', (typo, fixed) => {
    expect(suggestDomain(typo)).toBe(fixed);
  });
});

describe('suggestDomain: no suggestion', () => {
  it.each([
    // popular / free providers themselves
    'gmail.com',
    'yahoo.com',
    'hotmail.com',
    'ymail.com',
    'gmx.net',
    'web.de',
    'mail.com',
    'email.com',
    'protonmail.ch',
    'libero.it',
    'yahoo.co',
    // real domains near popular ones (short names are never rewritten, real TLDs are kept)
    'ibm.com',
    'sap.com',
    'bt.com',
    'mic.com',
    'love.com',
    'mall.com',
    'company.pt',
    'acme.cm',
    'example.com',
    'uni-bonn.de',
    'mail.example.com',
    'x.co.com',
    'gmail.com.br',
    // disposable domains two edits from a provider
    'yopmail.com',
    // garbage the suggester must not touch
    '',
    'ex ample.com',
    'ü.de',
  ])('%j → null', (domain) => {
    expect(suggestDomain(domain)).toBeNull();
  });

  it('treats the free list as known', () => {
    expect(isFreeDomain('mail.com')).toBe(true);
    expect(suggestDomain('mail.com')).toBeNull();
  });

  it('never returns the input itself', () => {
    for (const d of ['gmail.com', 'gmial.com', 'acme.con', 'yaho.com', 'x.y']) expect(suggestDomain(d)).not.toBe(d);
  });
});

describe('createDomainSuggester', () => {
  it('honours custom popular domains', () => {
    const s = createDomainSuggester({ popularDomains: ['corpmail.example'] });
    expect(s('corpmial.example')).toBe('corpmail.example');
    expect(s('gmial.com')).toBeNull();
  });

  it('honours isKnownDomain', () => {
    const s = createDomainSuggester({ isKnownDomain: (d) => d === 'gmial.com' });
    expect(s('gmial.com')).toBeNull();
    expect(s('gnail.com')).toBe('gmail.com');
  });

  it('gives the same answers with a tiny cache across evictions', () => {
    const s = createDomainSuggester({ cacheSize: 2 });
    const domains = ['gmial.com', 'acme.com', 'hotmial.com', 'example.org', 'gmial.com', 'yaho.com', 'acme.com'];
    const first = domains.map((d) => s(d));
    const second = domains.map((d) => s(d));
    expect(first).toEqual(['gmail.com', null, 'hotmail.com', null, 'gmail.com', 'yahoo.com', null]);
    expect(second).toEqual(first);
  });

  it('works without a cache', () => {
    const s = createDomainSuggester({ cacheSize: 0 });
    expect(s('gmial.com')).toBe('gmail.com');
    expect(s('gmial.com')).toBe('gmail.com');
  });
});

describe('repairDomain', () => {
  it.each([
    ['gmail,com', 'gmail.com'],
    ['gmail .com', 'gmail.com'],
    ['gmail..com', 'gmail.com'],
    ['gmail', 'gmail.com'],
    ['hotmail', 'hotmail.com'],
    ['gmailcom', 'gmail.com'],
    ['gmial,com', 'gmail.com'],
    ['acme,de', 'acme.de'],
    ['acme', null],
    ['localhost', null],
    ['ex_ample.com', null],
    ['', null],
  ])('%j → %j', (raw, expected) => {
    expect(repairDomain(raw)).toBe(expected);
  });
});

describe('editDistance (optimal string alignment)', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['gmail.com', 'gmail.com', 0],
    ['gmial.com', 'gmail.com', 1],
    ['gmai.com', 'gmail.com', 1],
    ['gmail.con', 'gmail.com', 1],
    ['gmaill.con', 'gmail.com', 2],
    ['ibm.com', 'aim.com', 2],
    ['ca', 'abc', 3],
  ])('%j vs %j = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('caps the result at max + 1', () => {
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
    expect(editDistance('gmial.com', 'gmail.com', 2)).toBe(1);
  });
});

describe('special-use TLDs', () => {
  it('never rewrites .test / .example / .invalid / .localhost domains to a delegated TLD', () => {
    for (const d of ['acme.test', 'catchall.test', 'mailboxes.example', 'nowhere.invalid', 'box.localhost']) expect(suggestDomain(d), d).toBeNull();
    expect(suggestDomain('gmial.com')).toBe('gmail.com');
  });
});
