/**
 * Normalisation of address text: unwrapping what CRM exports put around addresses, and the domain's ASCII
 * (punycode) and Unicode forms. The local part is never changed: providers may treat it case-sensitively.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { checkAsciiDomain, syntaxFailure, describeChar, type SyntaxFailure } from './syntax.js';

/**
 * Whether a UTF-16 code unit is whitespace we trim around an address: space, tab, NBSP, the Unicode space
 * separators, zero-width space and the BOM. CR and LF are deliberately NOT trimmed: a line break is never
 * accepted anywhere in an address (see `findControlChar`).
 */
function isTrimmable(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0x09 ||
    c === 0xa0 ||
    c === 0xfeff ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200b) ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** `s` without surrounding whitespace (see {@link isTrimmable}); CR/LF are kept. */
export function trimAddressSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isTrimmable(s.charCodeAt(start))) start++;
  while (end > start && isTrimmable(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Whether `s` starts with `mailto:` in any case. */
function hasMailtoPrefix(s: string): boolean {
  return s.length >= 7 && s.charCodeAt(6) === 0x3a /* : */ && s.slice(0, 7).toLowerCase() === 'mailto:';
}

/**
 * Strip what commonly surrounds an address in CRM exports: whitespace, one `mailto:` prefix (and its `?subject=…`
 * header fields, RFC 6068) and one pair of angle brackets, in either nesting order (`<mailto:a@b>`, `mailto:<a@b>`).
 * Everything else is left as is: percent-encoding in mailto URIs is not decoded.
 */
export function unwrapAddress(input: string): string {
  let s = trimAddressSpace(input);
  let mailto = false;
  let angle = false;
  for (;;) {
    if (!mailto && hasMailtoPrefix(s)) {
      mailto = true;
      s = s.slice(7);
      const q = s.indexOf('?');
      if (q >= 0) s = s.slice(0, q);
      s = trimAddressSpace(s);
    } else if (!angle && s.length >= 2 && s.charCodeAt(0) === 0x3c /* < */ && s.charCodeAt(s.length - 1) === 0x3e /* > */) {
      angle = true;
      s = trimAddressSpace(s.slice(1, -1));
    } else {
      return s;
    }
  }
}

/** A domain in both forms, validated. */
export interface NormalizedDomain {
  ok: true;
  /** Lower-case ASCII form (IDN labels as `xn--…`), no trailing dot: what DNS and `RCPT TO` use. */
  ascii: string;
  /** Lower-case Unicode form for display (equal to `ascii` unless a label is an IDN). */
  unicode: string;
}

/** Whether `s` contains any non-ASCII code unit. */
function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/** Whether some label of a lower-case ASCII domain is an IDN (`xn--` A-label). */
function hasALabel(ascii: string): boolean {
  return ascii.startsWith('xn--') || ascii.includes('.xn--');
}

/**
 * Pre-check the ASCII characters of a Unicode domain before IDNA conversion, so that hyphen and character rules
 * apply to what the user wrote (the punycode form of `-ü.de` would otherwise look valid).
 */
function checkUnicodeLabels(lower: string): SyntaxFailure | null {
  let start = 0;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === start) return syntaxFailure('bad_domain_label', 'the domain has an empty label');
      if (lower.charCodeAt(start) === 0x2d || lower.charCodeAt(i - 1) === 0x2d) {
        return syntaxFailure('bad_domain_label', 'a domain label starts or ends with a hyphen');
      }
      start = i + 1;
      continue;
    }
    if (c < 0x80 && c !== 0x2d && !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) {
      return syntaxFailure('bad_domain_label', `${describeChar(c)} is not allowed in a domain`);
    }
  }
  return null;
}

/**
 * Validate and normalise the domain part of an address: drop one trailing dot, lower-case, convert an IDN to
 * punycode with `domainToASCII` (UTS #46 mapping, so full-width letters and ideographic dots are folded), then check
 * the ASCII form with `checkAsciiDomain`. `xn--` labels written by the user must decode (else `bad_idn`).
 */
export function normalizeDomain(domain: string): NormalizedDomain | SyntaxFailure {
  if (domain.charCodeAt(0) === 0x5b /* [ */) {
    return syntaxFailure('address_literal', 'address literals ([1.2.3.4]) are not accepted');
  }
  let d = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (!hasNonAscii(d)) {
    const ascii = d.toLowerCase();
    const check = checkAsciiDomain(ascii);
    if (!check.ok) return check;
    if (!hasALabel(ascii)) return { ok: true, ascii, unicode: ascii };
    if (domainToASCII(ascii) !== ascii) return syntaxFailure('bad_idn', 'the domain has an invalid xn-- label');
    return { ok: true, ascii, unicode: domainToUnicode(ascii) };
  }
  d = d.toLowerCase();
  if (d.length === 0) return syntaxFailure('empty_domain', 'nothing after the @');
  const pre = checkUnicodeLabels(d);
  if (pre) return pre;
  let ascii = domainToASCII(d);
  if (ascii === '') return syntaxFailure('bad_idn', 'the internationalised domain cannot be converted to ASCII');
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1); // an ideographic full stop at the end maps to '.'
  const check = checkAsciiDomain(ascii);
  if (!check.ok) return check;
  return { ok: true, ascii, unicode: domainToUnicode(ascii) };
}

/**
 * Key under which two rows are the same address: the local part exactly as given (case kept: providers may be
 * case-sensitive; whether to fold is the pipeline's decision) + `@` + the lower-case ASCII domain.
 */
export function dedupKey(addr: { readonly local: string; readonly domain: string }): string {
  return `${addr.local}@${addr.domain.toLowerCase()}`;
}
