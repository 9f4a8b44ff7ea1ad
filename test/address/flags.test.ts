import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addressFlags, isDisposableDomain, isFreeDomain, isRoleLocalPart } from '../../src/address/index.js';

const require = createRequire(import.meta.url);
const roleList = require('role-based-email-addresses') as string[];
const disposableList = new Set(require('disposable-email-domains') as string[]);
const freemailDisposable = new Set(readFileSync(require.resolve('freemail/data/disposable.txt'), 'utf8').split('\n'));
const freeList = new Set(readFileSync(require.resolve('freemail/data/free.txt'), 'utf8').split('\n'));

describe('the installed lists contain the entries these tests rely on', () => {
  it('role list', () => {
    for (const r of ['info', 'admin', 'sales', 'support', 'noreply', 'postmaster']) expect(roleList).toContain(r);
    expect(roleList).not.toContain('jane');
  });
  it('disposable lists', () => {
    expect(disposableList.has('mailinator.com')).toBe(true);
    expect(freemailDisposable.has('mailinator.com')).toBe(true);
    expect(disposableList.has('gmail.com')).toBe(false);
    expect(disposableList.has('acme-mailinator-fans.de') || freemailDisposable.has('acme-mailinator-fans.de')).toBe(false);
    expect(disposableList.has('edu.pl')).toBe(true);
  });
  it('free list', () => {
    for (const d of ['gmail.com', 'yahoo.com', 'web.de']) expect(freeList.has(d)).toBe(true);
    expect(freeList.has('mailinator.com')).toBe(false);
  });
});

describe('isRoleLocalPart', () => {
  it.each([
    ['info', true],
    ['INFO', true],
    ['Sales', true],
    ['support+eu', true],
    ['noreply', true],
    ['no-reply', true],
    ['"info"', true],
    ['"Admin"', true],
    ['jane', false],
    ['jane+info', false],
    ['+info', false],
    ['information.desk.jane', false],
  ])('%s → %s', (local, expected) => {
    expect(isRoleLocalPart(local)).toBe(expected);
  });
});

describe('isDisposableDomain', () => {
  it.each([
    ['mailinator.com', true],
    ['sub.mailinator.com', true],
    ['a.b.mailinator.com', true],
    ['yopmail.com', true],
    ['gmail.com', false],
    ['example.com', false],
    ['acme-mailinator-fans.de', false],
    ['mailinator.com.example.org', false],
    ['com', false],
    // registry suffixes from the lists: only the exact domain counts, not the institutions below it
    ['edu.pl', true],
    ['uw.edu.pl', false],
  ])('%s → %s', (domain, expected) => {
    expect(isDisposableDomain(domain)).toBe(expected);
  });

  it('includes IDN entries of the lists in punycode form', () => {
    // the disposable list has 'gmaıl.net' (dotless i); it must match the ASCII form parseAddress produces
    expect(disposableList.has('gmaıl.net')).toBe(true);
    expect(isDisposableDomain('xn--gmal-nza.net')).toBe(true);
  });
});

describe('isFreeDomain', () => {
  it.each([
    ['gmail.com', true],
    ['yahoo.com', true],
    ['web.de', true],
    ['mailinator.com', false],
    ['example.com', false],
    ['mail.gmail.com', false],
  ])('%s → %s', (domain, expected) => {
    expect(isFreeDomain(domain)).toBe(expected);
  });
});

describe('addressFlags', () => {
  it('combines the flags', () => {
    expect(addressFlags('Info', 'gmail.com', false)).toEqual({ role: true, disposable: false, free: true, smtputf8: false });
    expect(addressFlags('jane', 'mailinator.com', true)).toEqual({ role: false, disposable: true, free: false, smtputf8: true });
  });
});
