/**
 * Address flags from bundled lists: role accounts (`role-based-email-addresses`), disposable domains
 * (`disposable-email-domains` index + wildcard list, and `freemail`'s disposable list) and free mailbox providers
 * (`freemail`'s free list). Each list is loaded once, on first use, into a Set.
 *
 * Loading reads files of installed packages; if that fails (a broken install) the error propagates — it is a
 * deployment fault, not a property of an address.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { domainToASCII } from 'node:url';
import type { AddressFlags } from './types.js';

const require = createRequire(import.meta.url);

/**
 * Entries of the disposable lists that are registry suffixes (other people's domains live below them), so only the
 * exact domain counts, not its subdomains. `edu.pl` would otherwise flag every Polish university.
 */
const NO_SUBDOMAIN_RULE: ReadonlySet<string> = new Set(['edu.pl', 'my.id', 'web.id', 'za.com']);

/** Lower-case ASCII domain characters. */
const DOMAIN_CHARS = /^[a-z0-9.-]+$/;

/** Narrow a loaded JSON/CJS value to a string list, or fail loudly naming its source. */
function asStringList(value: unknown, source: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new TypeError(`${source} did not load as a list of strings; is the package installed correctly?`);
  }
  return value;
}

/** Lines of a text file shipped in a package (resolved through Node's module resolution). */
function packageTextLines(specifier: string): string[] {
  return readFileSync(require.resolve(specifier), 'utf8').split('\n');
}

/**
 * Add domain-list entries to `set` as lower-case ASCII: trimmed, IDN entries converted to punycode, comments,
 * blanks and junk lines (no dot, stray characters such as `404: not found`) skipped.
 */
function addDomains(set: Set<string>, entries: Iterable<string>): void {
  for (const raw of entries) {
    let d = raw.trim().toLowerCase();
    if (d === '' || d.startsWith('#')) continue;
    if (!DOMAIN_CHARS.test(d)) {
      d = domainToASCII(d);
      if (d === '' || !DOMAIN_CHARS.test(d)) continue;
    }
    if (!d.includes('.')) continue;
    set.add(d);
  }
}

let roleSet: Set<string> | undefined;
let disposableSet: Set<string> | undefined;
let freeSet: Set<string> | undefined;

/** Role local parts, lower-case. */
function roles(): Set<string> {
  if (!roleSet) {
    const list = asStringList(require('role-based-email-addresses'), 'role-based-email-addresses');
    roleSet = new Set(list.map((r) => r.trim().toLowerCase()).filter((r) => r !== ''));
  }
  return roleSet;
}

/** Disposable domains, lower-case ASCII. */
function disposables(): Set<string> {
  if (!disposableSet) {
    const set = new Set<string>();
    addDomains(set, asStringList(require('disposable-email-domains'), 'disposable-email-domains'));
    addDomains(set, asStringList(require('disposable-email-domains/wildcard.json'), 'disposable-email-domains/wildcard.json'));
    addDomains(set, packageTextLines('freemail/data/disposable.txt'));
    disposableSet = set;
  }
  return disposableSet;
}

/** Free mailbox provider domains, lower-case ASCII. */
function frees(): Set<string> {
  if (!freeSet) {
    const set = new Set<string>();
    addDomains(set, packageTextLines('freemail/data/free.txt'));
    freeSet = set;
  }
  return freeSet;
}

/** Load every list now instead of on first use (e.g. at worker start, to keep the first batch fast). */
export function preloadAddressLists(): void {
  roles();
  disposables();
  frees();
}

/**
 * Unquote a quoted local part (`"a\"b"` → `a"b`); an unquoted one is returned as is.
 * Expects a local part that passed syntax checks.
 */
export function unquoteLocalPart(local: string): string {
  if (local.length < 2 || local.charCodeAt(0) !== 0x22) return local;
  const inner = local.slice(1, -1);
  return inner.includes('\\') ? inner.replace(/\\(.)/gsu, '$1') : inner;
}

/**
 * Whether a local part names a role (info, admin, sales, noreply, …) rather than a person. Compared lower-cased,
 * unquoted, and also with a `+tag` removed (`support+eu` is a role).
 */
export function isRoleLocalPart(local: string): boolean {
  const set = roles();
  const l = unquoteLocalPart(local).toLowerCase();
  if (set.has(l)) return true;
  const plus = l.indexOf('+');
  return plus > 0 && set.has(l.slice(0, plus));
}

/**
 * Whether a lower-case ASCII domain belongs to a disposable-mail service: listed itself, or a subdomain of a listed
 * domain (`x.mailinator.com`), except below the registry suffixes in {@link NO_SUBDOMAIN_RULE}.
 */
export function isDisposableDomain(domain: string): boolean {
  const set = disposables();
  if (set.has(domain)) return true;
  let d = domain;
  for (;;) {
    const dot = d.indexOf('.');
    if (dot < 0) return false;
    d = d.slice(dot + 1);
    if (d.indexOf('.') < 0) return false; // never look a bare TLD up
    if (set.has(d)) return !NO_SUBDOMAIN_RULE.has(d);
  }
}

/** Whether a lower-case ASCII domain is a free mailbox provider (exact match: gmail.com, web.de, …). */
export function isFreeDomain(domain: string): boolean {
  return frees().has(domain);
}

/**
 * All flags of a syntactically valid address.
 * @param local local part as given (quoted form allowed)
 * @param domain lower-case ASCII domain
 * @param smtputf8 whether the local part needs SMTPUTF8 (from the syntax check)
 */
export function addressFlags(local: string, domain: string, smtputf8: boolean): AddressFlags {
  return {
    role: isRoleLocalPart(local),
    disposable: isDisposableDomain(domain),
    free: isFreeDomain(domain),
    smtputf8,
  };
}
