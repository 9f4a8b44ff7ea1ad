/**
 * RFC 5321 syntax of an address usable in `RCPT TO:<…>` (a Mailbox: Local-part "@" Domain), not the RFC 5322 zoo:
 * no comments, no folding whitespace, no obsolete forms, no address literals. SMTPUTF8 (RFC 6531) local parts with
 * non-ASCII letters are accepted and reported.
 *
 * The checks here are pure and work on already unwrapped text (see `normalize.ts`); domains are checked in their
 * ASCII (punycode) form. Every rejection carries a stable {@link SyntaxDetail} code.
 */

/**
 * Why an address is syntactically unusable. These strings are stable (they end up in reports): never rename one.
 * - `empty`: nothing but whitespace.
 * - `no_at`: no `@` separating local part and domain.
 * - `empty_local` / `empty_domain`: nothing before / after the `@` (an empty quoted local part `""` counts too).
 * - `local_too_long`: local part over 64 octets (UTF-8). `domain_too_long`: domain over 255 octets (ASCII form).
 *   `address_too_long`: `local@domain` over 254 octets.
 * - `dot_rule`: unquoted local part starts or ends with `.`, or contains `..`.
 * - `bad_char`: a character not allowed in the local part (`<`, `>`, whitespace, `@`, `"`, `\`, `,`, … outside
 *   quotes; a non-letter non-ASCII character; text after a closing quote).
 * - `control_char`: a control character anywhere (CR, LF and NUL included, even inside quotes).
 * - `bad_domain_label`: an empty label, a character other than letter/digit/hyphen, or a leading/trailing hyphen.
 * - `label_too_long`: a domain label over 63 octets.
 * - `single_label_domain`: a domain without a dot (not deliverable on the internet).
 * - `numeric_tld`: the last label is all digits (a dotted IP without brackets, or junk).
 * - `address_literal`: `[1.2.3.4]` / `[IPv6:…]` domain; we never probe IPs given by users.
 * - `unterminated_quote`: a quoted local part without its closing quote.
 * - `bad_idn`: an internationalised domain that cannot be converted to ASCII (IDNA), or an invalid `xn--` label.
 */
export type SyntaxDetail =
  | 'empty'
  | 'no_at'
  | 'empty_local'
  | 'empty_domain'
  | 'local_too_long'
  | 'domain_too_long'
  | 'address_too_long'
  | 'dot_rule'
  | 'bad_char'
  | 'control_char'
  | 'bad_domain_label'
  | 'label_too_long'
  | 'single_label_domain'
  | 'numeric_tld'
  | 'address_literal'
  | 'unterminated_quote'
  | 'bad_idn';

/** Every {@link SyntaxDetail}, for exhaustive tests and documentation. */
export const SYNTAX_DETAILS: readonly SyntaxDetail[] = [
  'empty',
  'no_at',
  'empty_local',
  'empty_domain',
  'local_too_long',
  'domain_too_long',
  'address_too_long',
  'dot_rule',
  'bad_char',
  'control_char',
  'bad_domain_label',
  'label_too_long',
  'single_label_domain',
  'numeric_tld',
  'address_literal',
  'unterminated_quote',
  'bad_idn',
];

/** Size limits in octets (RFC 5321 §4.5.3.1 and the RFC 3696 erratum for the whole path). */
export const ADDRESS_LIMITS = Object.freeze({
  localOctets: 64,
  domainOctets: 255,
  labelOctets: 63,
  addressOctets: 254,
});

/** A failed check: the stable code and a human-readable message (ASCII, no raw control characters). */
export interface SyntaxFailure {
  ok: false;
  detail: SyntaxDetail;
  message: string;
}

/** Build a {@link SyntaxFailure}. */
export function syntaxFailure(detail: SyntaxDetail, message: string): SyntaxFailure {
  return { ok: false, detail, message };
}

/** Describe one character for a message: printable ASCII quoted, anything else as `U+XXXX`. */
export function describeChar(codePoint: number): string {
  if (codePoint > 0x20 && codePoint < 0x7f) return `'${String.fromCharCode(codePoint)}'`;
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Whether a UTF-16 code unit is a control character: C0, DEL, C1, or the Unicode line/paragraph separators. */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/**
 * Index of the first control character in `s` (CR, LF, NUL, TAB, any C0/C1, DEL, U+2028/2029), or -1.
 * Such a character can never be part of an address we put on an SMTP command line.
 */
export function findControlChar(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (isControl(s.charCodeAt(i))) return i;
  }
  return -1;
}

/** RFC 5322 atext, ASCII part: letters, digits and ``!#$%&'*+-/=?^_`{|}~``. Indexed by char code. */
const ATEXT: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of "!#$%&'*+-/=?^_`{|}~") t[ch.charCodeAt(0)] = 1;
  return t;
})();

/** Non-ASCII characters accepted in a local part (SMTPUTF8): letters, combining marks, digits of any script. */
const UNICODE_LOCAL_CHAR = /^[\p{L}\p{M}\p{N}]$/u;

/** Whether a non-ASCII code point may appear in a local part. Lone surrogates and symbols may not. */
function isAllowedNonAscii(codePoint: number): boolean {
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return false;
  return UNICODE_LOCAL_CHAR.test(String.fromCodePoint(codePoint));
}

/** The two halves of an address, split at the `@` that ends the local part. */
export interface AddressParts {
  ok: true;
  /** Local part exactly as written (with its quotes if quoted). */
  local: string;
  /** Everything after the `@`, unchecked. */
  domain: string;
  /** Whether the local part is a quoted string. */
  quoted: boolean;
}

/**
 * Index of the closing quote of a quoted string starting at index 0, honouring `\` escapes, or -1 if it is never
 * closed (including a trailing lone backslash).
 */
function closingQuoteIndex(s: string): number {
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      i++; // skip the escaped character (checked later)
      continue;
    }
    if (c === 0x22 /* " */) return i;
  }
  return -1;
}

/**
 * Split an address at the `@` that ends its local part. A local part starting with `"` is a quoted string and
 * ends at its closing quote (which must be followed by `@`); otherwise the last `@` splits, so an `@` in an unquoted
 * local part is reported by {@link checkLocalPart}.
 */
export function splitAddress(s: string): AddressParts | SyntaxFailure {
  if (s.charCodeAt(0) === 0x22) {
    const end = closingQuoteIndex(s);
    if (end < 0) return syntaxFailure('unterminated_quote', 'the quoted local part has no closing quote');
    if (end + 1 === s.length) return syntaxFailure('no_at', 'no @ after the quoted local part');
    if (s.charCodeAt(end + 1) !== 0x40) {
      return syntaxFailure('bad_char', `unexpected ${describeChar(s.codePointAt(end + 1) ?? 0)} after the closing quote`);
    }
    return { ok: true, local: s.slice(0, end + 1), domain: s.slice(end + 2), quoted: true };
  }
  const at = s.lastIndexOf('@');
  if (at < 0) return syntaxFailure('no_at', 'no @ in the address');
  return { ok: true, local: s.slice(0, at), domain: s.slice(at + 1), quoted: false };
}

/** A local part that passed {@link checkLocalPart}. */
export interface LocalPartInfo {
  ok: true;
  /** Octets on the wire (UTF-8), quotes and backslashes included. */
  octets: number;
  /** Whether it contains non-ASCII characters (the session must use SMTPUTF8). */
  smtputf8: boolean;
}

/**
 * A non-ASCII character of a local part at `i` (first UTF-16 unit `c`): its UTF-8 octets and UTF-16 units,
 * or why it is not allowed (control characters; anything but letters, marks and digits).
 */
function nonAsciiChar(local: string, i: number, c: number): SyntaxFailure | { octets: number; units: number } {
  const cp = local.codePointAt(i) ?? c;
  if (isControl(c)) return syntaxFailure('control_char', `control character ${describeChar(c)} in the local part`);
  if (!isAllowedNonAscii(cp)) return syntaxFailure('bad_char', `${describeChar(cp)} is not allowed in the local part`);
  if (cp > 0xffff) return { octets: 4, units: 2 };
  return { octets: cp < 0x800 ? 2 : 3, units: 1 };
}

/**
 * Check a local part as it will appear in `RCPT TO`: a dot-string of atext (plus non-ASCII letters) with no
 * leading, trailing or doubled dot, or a quoted string of printable ASCII / non-ASCII letters with `\"` and `\\`
 * style escapes. At most 64 octets. The caller has already rejected control characters ({@link findControlChar}),
 * but they are rejected here too so this function is safe on its own.
 */
export function checkLocalPart(local: string, quoted: boolean): LocalPartInfo | SyntaxFailure {
  let nonAscii = false;
  let octets = 0;
  if (quoted) {
    if (local.length <= 2) return syntaxFailure('empty_local', 'the quoted local part is empty');
    octets = 2; // the quotes
    const end = local.length - 1;
    for (let i = 1; i < end; i++) {
      let c = local.charCodeAt(i);
      if (c === 0x5c /* \ */) {
        octets++;
        i++;
        c = local.charCodeAt(i);
        // quoted-pairSMTP = "\" %d32-126
        if (isControl(c)) return syntaxFailure('control_char', `control character ${describeChar(c)} in the local part`);
        if (c < 0x20 || c > 0x7e) return syntaxFailure('bad_char', `${describeChar(c)} cannot be escaped in a quoted local part`);
        octets++;
        continue;
      }
      if (c < 0x80) {
        if (isControl(c)) return syntaxFailure('control_char', `control character ${describeChar(c)} in the local part`);
        if (c === 0x22) return syntaxFailure('bad_char', 'an unescaped quote inside the quoted local part');
        octets++;
        continue;
      }
      const ch = nonAsciiChar(local, i, c);
      if ('ok' in ch) return ch;
      nonAscii = true;
      octets += ch.octets;
      i += ch.units - 1;
    }
  } else {
    if (local.length === 0) return syntaxFailure('empty_local', 'nothing before the @');
    let prevDot = true; // a dot at index 0 is a leading dot
    for (let i = 0; i < local.length; i++) {
      const c = local.charCodeAt(i);
      if (c === 0x2e /* . */) {
        if (prevDot) {
          return syntaxFailure('dot_rule', i === 0 ? 'the local part starts with a dot' : 'the local part contains ".."');
        }
        prevDot = true;
        octets++;
        continue;
      }
      prevDot = false;
      if (c < 0x80) {
        if (ATEXT[c] === 1) {
          octets++;
          continue;
        }
        if (isControl(c)) return syntaxFailure('control_char', `control character ${describeChar(c)} in the local part`);
        return syntaxFailure('bad_char', `${describeChar(c)} is not allowed in an unquoted local part`);
      }
      const ch = nonAsciiChar(local, i, c);
      if ('ok' in ch) return ch;
      nonAscii = true;
      octets += ch.octets;
      i += ch.units - 1;
    }
    if (prevDot) return syntaxFailure('dot_rule', 'the local part ends with a dot');
  }
  if (octets > ADDRESS_LIMITS.localOctets) {
    return syntaxFailure('local_too_long', `the local part is ${octets} octets (limit ${ADDRESS_LIMITS.localOctets})`);
  }
  return { ok: true, octets, smtputf8: nonAscii };
}

/** Whether a char code is an ASCII letter or digit. */
function isLetterDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
}

/** A domain that passed {@link checkAsciiDomain}. */
export interface DomainInfo {
  ok: true;
  /** Number of labels (at least 2). */
  labels: number;
}

/**
 * Check an ASCII domain (already lower-cased or not, trailing dot already removed): labels of letters, digits and
 * hyphens, no leading/trailing hyphen, each at most 63 octets, at least two labels, the last not all digits, at most
 * 255 octets in all. A bracketed address literal is rejected as `address_literal`.
 */
export function checkAsciiDomain(domain: string): DomainInfo | SyntaxFailure {
  if (domain.length === 0) return syntaxFailure('empty_domain', 'nothing after the @');
  if (domain.charCodeAt(0) === 0x5b /* [ */) {
    return syntaxFailure('address_literal', 'address literals ([1.2.3.4]) are not accepted');
  }
  if (domain.length > ADDRESS_LIMITS.domainOctets) {
    return syntaxFailure('domain_too_long', `the domain is ${domain.length} octets (limit ${ADDRESS_LIMITS.domainOctets})`);
  }
  let labels = 0;
  let start = 0;
  let allDigits = true;
  for (let i = 0; i <= domain.length; i++) {
    const c = i < domain.length ? domain.charCodeAt(i) : 0x2e;
    if (c === 0x2e /* . */) {
      const len = i - start;
      if (len === 0) return syntaxFailure('bad_domain_label', 'the domain has an empty label');
      if (len > ADDRESS_LIMITS.labelOctets) {
        return syntaxFailure('label_too_long', `a domain label is ${len} octets (limit ${ADDRESS_LIMITS.labelOctets})`);
      }
      if (domain.charCodeAt(start) === 0x2d || domain.charCodeAt(i - 1) === 0x2d) {
        return syntaxFailure('bad_domain_label', 'a domain label starts or ends with a hyphen');
      }
      labels++;
      if (i < domain.length) allDigits = true;
      start = i + 1;
      continue;
    }
    if (c === 0x2d /* - */) {
      allDigits = false;
      continue;
    }
    if (!isLetterDigit(c)) {
      if (isControl(c)) return syntaxFailure('control_char', `control character ${describeChar(c)} in the domain`);
      const cp = domain.codePointAt(i) ?? c;
      return syntaxFailure('bad_domain_label', `${describeChar(cp)} is not allowed in a domain`);
    }
    if (c > 0x39) allDigits = false;
  }
  if (labels < 2) return syntaxFailure('single_label_domain', 'the domain has a single label (no dot)');
  if (allDigits) return syntaxFailure('numeric_tld', 'the top-level label is all digits');
  return { ok: true, labels };
}
